"""`/api/v1/projects/` endpoints of the performance area (built by its engineer)."""


def register(router):
    pass
