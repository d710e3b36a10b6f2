"""API: collateral (being written)."""


def register(router):
    pass
