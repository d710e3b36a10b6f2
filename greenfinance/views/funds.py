"""Green bonds and funds (being written: this module is replaced by its area's work)."""

urlpatterns = []
