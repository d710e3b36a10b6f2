"""Pages of the gep_balance area (built by its engineer)."""

urlpatterns = []
