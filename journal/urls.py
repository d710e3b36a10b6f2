"""Staff pages of the journal (mounted at /journal/): entries with their internal detail."""

from .views import staff

app_name = "journal"

urlpatterns = [*staff.urlpatterns]
