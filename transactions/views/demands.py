"""Investor demand pages: investors post and follow their own, trading staff see those in reach
with the matched packages and assets."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from ..forms.demands import DemandFilter, DemandForm
from ..models import DemandStatus
from ..services import demands as services


class DemandListView(ObjectListView):
    title = gettext_lazy("投资需求")
    filterset_class = DemandFilter
    export_name = "demands"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("用途"), "intended_use", sort="intended_use", link=True),
        Column(gettext_lazy("投资主体"), "investor.name", sort="investor__name"),
        Column(gettext_lazy("资源类型"), "resource_type.name", sort="resource_type__code"),
        Column(gettext_lazy("意向区域"), "division.name", sort="division__code"),
        Column(gettext_lazy("最小面积（m²）"), "min_area_m2", sort="min_area_m2"),
        Column(gettext_lazy("最大面积（m²）"), "max_area_m2", sort="max_area_m2"),
        Column(gettext_lazy("预算上限（元）"), "budget", sort="budget"),
        Column(gettext_lazy("意向年限"), "term_years", sort="term_years"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("发布时间"), "created_at", sort="created_at"),
    ]

    def get_queryset(self):
        return services.demands_for(self.request.user)

    def get_create_url(self):
        return reverse("transactions:demand-create") if can(self.request.user, Capability.TRADE) else None


def demand_create(request):
    if not can(request.user, Capability.TRADE):
        raise PermissionDenied(_("只有审核通过的投资主体可以发布需求。"))
    form = DemandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            demand = services.post_demand(actor=request.user, **form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("需求已发布，系统将为您匹配可供资源。"))
            return redirect(demand)
    return render(
        request,
        "transactions/demands/demand_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def demand_detail(request, pk):
    demand = get_object_or_404(services.demands_for(request.user), pk=pk)
    is_owner = can(request.user, Capability.TRADE, organization=demand.investor)
    matches = list(services.matches_of(demand))
    public = services.public_links(matches) if is_owner else {}
    context = {
        "demand": demand,
        "matches": [(m, public.get(m.pk), "" if is_owner else _staff_link(m)) for m in matches],
        "is_owner": is_owner,
        "may_close": is_owner and demand.status == DemandStatus.OPEN,
    }
    return render(request, "transactions/demands/demand_detail.html", context)


def _staff_link(match):
    if match.package_id:
        return services.page_url("transactions:package-detail", match.package_id)
    return match.asset.get_absolute_url()


@require_POST
def demand_close(request, pk):
    demand = get_object_or_404(services.demands_for(request.user), pk=pk)
    run_service(
        request,
        lambda: services.close_demand(actor=request.user, demand=demand),
        success=_("需求已关闭。"),
    )
    return redirect(demand)


urlpatterns = [
    path("demands/", DemandListView.as_view(), name="demand-list"),
    path("demands/new/", demand_create, name="demand-create"),
    path("demands/<int:pk>/", demand_detail, name="demand-detail"),
    path("demands/<int:pk>/close/", demand_close, name="demand-close"),
]
