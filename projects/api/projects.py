"""`/api/v1/projects/` endpoints of the projects area (built by its engineer)."""


def register(router):
    pass
