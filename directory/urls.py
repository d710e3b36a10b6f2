from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("", views.index, name="index"),
    path("divisions/import/", views.division_import, name="division-import"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization-list"),
    path("organizations/new/", views.organization_create, name="organization-create"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization-detail"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization-edit"),
    path("persons/", views.PersonListView.as_view(), name="person-list"),
    path("persons/new/", views.person_create, name="person-create"),
    path("persons/<int:pk>/", views.person_detail, name="person-detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("persons/<int:pk>/reveal/", views.person_reveal, name="person-reveal"),
    path("persons/<int:pk>/grants/", views.person_grant, name="person-grant"),
    path("grants/<int:pk>/revoke/", views.grant_revoke, name="grant-revoke"),
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/new/", views.user_create, name="user-create"),
    path("users/<int:pk>/", views.user_detail, name="user-detail"),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership-end"),
    path("api-clients/", views.api_clients, name="api-clients"),
    path("api-clients/<int:pk>/revoke/", views.api_client_revoke, name="api-client-revoke"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox-read"),
]
