"""Project pages without login (mounted at /showcase/): the investment-promotion showcase."""

from .views import projects

app_name = "projects-public"

urlpatterns = [*projects.public_urlpatterns]
