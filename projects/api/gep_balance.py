"""`/api/v1/projects/` endpoints of the gep_balance area (built by its engineer)."""


def register(router):
    pass
