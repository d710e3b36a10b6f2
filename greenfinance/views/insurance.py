"""Green insurance: policies, claims, payouts (being written: this module is replaced by its area's work)."""

urlpatterns = []
