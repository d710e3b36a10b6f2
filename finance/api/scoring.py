"""API: scoring (being written)."""


def register(router):
    pass
