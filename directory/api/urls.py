from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("divisions", views.DivisionViewSet, basename="division")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("persons", views.PersonViewSet, basename="person")
router.register("users", views.UserViewSet, basename="user")
router.register("api-clients", views.ApiClientViewSet, basename="api-client")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [path("me/", views.MeView.as_view(), name="me"), *router.urls]
