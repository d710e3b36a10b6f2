"""`/api/v1/finance/`: one router; each area's module registers its viewsets. Banks and
cooperative staff use the same endpoints; the selectors give a bank only its own business."""

from rest_framework.routers import DefaultRouter

from . import applications, collateral, loans, pledges, products, risk, scoring

router = DefaultRouter()
for area in (products, scoring, applications, collateral, pledges, loans, risk):
    area.register(router)

urlpatterns = router.urls
