"""`/api/v1/projects/` endpoints of the dashboard area (built by its engineer)."""


def register(router):
    pass
