"""`/api/v1/journal/`: public entries, checkpoints, receipts and verification."""

from rest_framework.routers import DefaultRouter

from . import entries

router = DefaultRouter()
entries.register(router)

urlpatterns = router.urls
