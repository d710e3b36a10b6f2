"""Web views: scoring (being written)."""

urlpatterns = []
public_urlpatterns = []
