"""Pages of the red_lines area (built by its engineer)."""

urlpatterns = []
