from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("runs", views.RunViewSet, basename="run")
router.register("parameter-sets", views.ParameterSetViewSet, basename="parameter-set")

urlpatterns = [
    path("runs/<int:pk>/results/", views.RunResultsView.as_view(), name="run-results"),
    path("runs/<int:pk>/rollups/", views.RunRollupsView.as_view(), name="run-rollups"),
    path("assets/<str:code>/valuation/", views.AssetValuationView.as_view(), name="asset-valuation"),
    *router.urls,
]
