"""Web views: applications (being written)."""

urlpatterns = []
public_urlpatterns = []
