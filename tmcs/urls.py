from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from resources import public_views as resources_public

from . import views

admin.site.site_header = "TMCS 两山合作社平台管理后台"
admin.site.site_title = "TMCS 管理后台"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("system/", views.system_status, name="system-status"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("tmcs.api.urls")),
    path("directory/", include("directory.urls")),
    path("resources/", include("resources.urls")),
    path("notices/", resources_public.notice_board, name="public-notices"),
    path("notices/<int:pk>/", resources_public.notice_detail, name="public-notice"),
    path("verify/<str:code>/", resources_public.verify_certificate, name="verify-certificate"),
    path("valuation/", include("valuation.urls")),
    path("transactions/", include("transactions.urls")),
    path("trading/", include("transactions.public_urls")),
    path("finance/", include("finance.urls")),
    path("finance-check/", include("finance.public_urls")),
    path("projects/", include("projects.urls")),
    path("showcase/", include("projects.public_urls")),
    path("greenfinance/", include("greenfinance.urls")),
    path("exchange/", include("exchange.urls")),
    path("brand/", include("brand.urls")),
    path("trace/", include("brand.public_urls")),
    path("journal/", include("journal.urls")),
    path("ledger/", include("journal.public_urls")),
]

handler403 = "tmcs.views.permission_denied"
handler404 = "tmcs.views.page_not_found"
handler500 = "tmcs.views.server_error"
