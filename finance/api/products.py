"""API: products (being written)."""


def register(router):
    pass
