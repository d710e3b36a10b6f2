def register(router):
    """Add this area's viewsets to the transactions API router."""
