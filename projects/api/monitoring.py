"""`/api/v1/projects/` endpoints of the monitoring area (built by its engineer)."""


def register(router):
    pass
