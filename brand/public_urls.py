"""The public trace page of a batch, no login (mounted at /trace/): opened from the QR code."""

from .views import public

app_name = "brand-public"

urlpatterns = [*public.urlpatterns]
