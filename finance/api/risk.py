"""API: risk (being written)."""


def register(router):
    pass
