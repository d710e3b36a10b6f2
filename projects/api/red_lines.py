"""`/api/v1/projects/` endpoints of the red_lines area (built by its engineer)."""


def register(router):
    pass
