"""Brand pages for staff and producers (mounted at /brand/)."""

from .views import batches, licences, overview

app_name = "brand"

urlpatterns = [*overview.urlpatterns, *licences.urlpatterns, *batches.urlpatterns]
