from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("", views.index, name="index"),
    path("map.geojson", views.asset_map, name="asset-map"),
    path("tiles/<int:z>/<int:x>/<int:y>.mvt", views.asset_tile, name="asset-tile"),
    path("assets/new/", views.asset_create, name="asset-create"),
    path("assets/<int:pk>/", views.asset_detail, name="asset-detail"),
    path("assets/<int:pk>/transition/", views.asset_transition, name="asset-transition"),
    path("assets/<int:pk>/rights/", views.right_create, name="right-create"),
    path("rights/<int:pk>/end/", views.right_end, name="right-end"),
    path("assets/<int:pk>/observations/", views.observation_create, name="observation-create"),
    path("assets/<int:pk>/register/", views.registration_submit, name="registration-submit"),
    path("registrations/", views.RegistrationListView.as_view(), name="registration-list"),
    path("registrations/<int:pk>/", views.registration_detail, name="registration-detail"),
    path("registrations/<int:pk>/review/", views.registration_review, name="registration-review"),
    path(
        "registrations/<int:pk>/certificate.pdf",
        views.registration_certificate,
        name="registration-certificate",
    ),
    path("objections/<int:pk>/resolve/", views.objection_resolve, name="objection-resolve"),
    path("listings/", views.ListingListView.as_view(), name="listing-list"),
    path("listings/new/", views.listing_create, name="listing-create"),
    path("listings/<int:pk>/", views.listing_detail, name="listing-detail"),
    path("listings/<int:pk>/<slug:action>/", views.listing_action, name="listing-action"),
    path("listing-photos/<int:pk>/", views.listing_photo, name="listing-photo"),
]
