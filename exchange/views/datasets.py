"""Dataset import/export pages and exchange logs (being written: this module is replaced by its area's work)."""

urlpatterns = []
