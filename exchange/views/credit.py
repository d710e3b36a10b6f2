"""Credit consents and credit exports (being written: this module is replaced by its area's work)."""

urlpatterns = []
