"""Pages of the performance area (built by its engineer)."""

urlpatterns = []
