"""API: loans (being written)."""


def register(router):
    pass
