"""Web pages of the projects app, one module per area; each exports `urlpatterns`."""
