"""Web views: risk (being written)."""

urlpatterns = []
public_urlpatterns = []
