from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("", views.index, name="index"),
    path("map.geojson", views.asset_map, name="asset-map"),
    path("assets/new/", views.asset_create, name="asset-create"),
    path("assets/<int:pk>/", views.asset_detail, name="asset-detail"),
    path("assets/<int:pk>/transition/", views.asset_transition, name="asset-transition"),
    path("assets/<int:pk>/rights/", views.right_create, name="right-create"),
    path("rights/<int:pk>/end/", views.right_end, name="right-end"),
]
