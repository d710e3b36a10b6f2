"""Web views: pledges (being written)."""

urlpatterns = []
public_urlpatterns = []
