from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from .views import ApiRootView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("directory/", include(("directory.api.urls", "directory-api"))),
    path("resources/", include(("resources.api.urls", "resources-api"))),
    path("valuation/", include(("valuation.api.urls", "valuation-api"))),
    path("transactions/", include(("transactions.api.urls", "transactions-api"))),
    path("finance/", include(("finance.api.urls", "finance-api"))),
    path("projects/", include(("projects.api.urls", "projects-api"))),
    path("greenfinance/", include(("greenfinance.api.urls", "greenfinance-api"))),
    path("exchange/", include(("exchange.api.urls", "exchange-api"))),
    path("brand/", include(("brand.api.urls", "brand-api"))),
    path("journal/", include(("journal.api.urls", "journal-api"))),
]
