"""API: applications (being written)."""


def register(router):
    pass
