"""Finance pages without login (mounted at /finance-check/): pledge certificate verification."""

from .views import pledges

app_name = "finance-public"

urlpatterns = [*pledges.public_urlpatterns]
