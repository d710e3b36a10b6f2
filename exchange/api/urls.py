"""`/api/v1/exchange/`: one router; each area's module registers its viewsets."""

from rest_framework.routers import DefaultRouter

from . import credit, datasets

router = DefaultRouter()
for area in (datasets, credit):
    area.register(router)

urlpatterns = router.urls
