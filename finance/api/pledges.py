"""API: pledges (being written)."""


def register(router):
    pass
