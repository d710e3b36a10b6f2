"""Green finance front page (being written: this module is replaced by its area's work)."""

urlpatterns = []
