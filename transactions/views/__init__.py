"""Web views of the trading desk, one module per area; each module exports `urlpatterns`."""
