"""`/api/v1/projects/`: one router; each area's module registers its viewsets."""

from rest_framework.routers import DefaultRouter

from . import dashboard, gep_balance, monitoring, performance, projects, red_lines

router = DefaultRouter()
for area in (projects, gep_balance, red_lines, performance, monitoring, dashboard):
    area.register(router)

urlpatterns = router.urls
