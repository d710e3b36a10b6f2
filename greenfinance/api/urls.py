"""`/api/v1/greenfinance/`: one router; each area's module registers its viewsets."""

from rest_framework.routers import DefaultRouter

from . import funds, insurance

router = DefaultRouter()
for area in (insurance, funds):
    area.register(router)

urlpatterns = router.urls
