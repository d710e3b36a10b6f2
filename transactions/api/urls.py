"""`/api/v1/transactions/`: one router; each area's module registers its viewsets."""

from rest_framework.routers import DefaultRouter

from . import (
    auctions,
    collection,
    contracts,
    demands,
    investors,
    listings,
    packages,
    savings,
    settlement,
    units,
)

router = DefaultRouter()
for area in (
    collection,
    packages,
    investors,
    listings,
    auctions,
    contracts,
    settlement,
    units,
    demands,
    savings,
):
    area.register(router)

urlpatterns = router.urls
