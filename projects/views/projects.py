"""Pages of the projects area (built by its engineer)."""

urlpatterns = []
public_urlpatterns = []  # the investment-promotion showcase, no login (mounted at /showcase/)
