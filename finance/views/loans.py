"""Web views: loans (being written)."""

urlpatterns = []
public_urlpatterns = []
