"""Dataset exchange API (being written: this module is replaced by its area's work)."""


def register(router):
    """Register this area's viewsets on the app router."""
