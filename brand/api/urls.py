"""`/api/v1/brand/`: one router; each area's module registers its viewsets."""

from rest_framework.routers import DefaultRouter

from . import batches, licences

router = DefaultRouter()
for area in (licences, batches):
    area.register(router)

urlpatterns = router.urls
