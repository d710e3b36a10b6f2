"""`/api/v1/brand/`: one router; each area's module registers its viewsets."""

from rest_framework.routers import DefaultRouter

from . import batches, licences, sales, trace

router = DefaultRouter()
for area in (licences, batches, sales, trace):
    area.register(router)

urlpatterns = router.urls
