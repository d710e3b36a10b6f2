"""Pages of the monitoring area (built by its engineer)."""

urlpatterns = []
