"""Pages anyone can open without signing in (listings in 公示, auction results, investor sign-up);
each area's module exports `public_urlpatterns`."""

from .views import auctions, investors, listings, savings, units

urlpatterns = [
    *listings.public_urlpatterns,
    *auctions.public_urlpatterns,
    *investors.public_urlpatterns,
    *units.public_urlpatterns,
    *savings.public_urlpatterns,
]
