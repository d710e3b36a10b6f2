"""Pages of the dashboard area (built by its engineer)."""

urlpatterns = []
