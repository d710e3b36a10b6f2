"""Web views: products (being written)."""

urlpatterns = []
public_urlpatterns = []
