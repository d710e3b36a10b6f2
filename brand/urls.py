"""Brand pages for staff and producers (mounted at /brand/)."""

from .views import batches, labels, licences, overview, sales

app_name = "brand"

urlpatterns = [
    *overview.urlpatterns,
    *licences.urlpatterns,
    *batches.urlpatterns,
    *sales.urlpatterns,
    *labels.urlpatterns,
]
