"""Web views of the finance desk, one module per area; each module exports `urlpatterns`
(and `public_urlpatterns` for pages without login, such as the pledge certificate check)."""
