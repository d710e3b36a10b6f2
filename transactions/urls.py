from .views import (
    auctions,
    collection,
    contracts,
    demands,
    investors,
    listings,
    overview,
    packages,
    savings,
    settlement,
    units,
)

app_name = "transactions"

urlpatterns = [
    *overview.urlpatterns,
    *collection.urlpatterns,
    *packages.urlpatterns,
    *investors.urlpatterns,
    *listings.urlpatterns,
    *auctions.urlpatterns,
    *contracts.urlpatterns,
    *settlement.urlpatterns,
    *units.urlpatterns,
    *demands.urlpatterns,
    *savings.urlpatterns,
]
