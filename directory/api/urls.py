from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import DivisionViewSet, MeView

router = SimpleRouter()
router.register("divisions", DivisionViewSet, basename="division")

urlpatterns = [path("me/", MeView.as_view(), name="me"), *router.urls]
