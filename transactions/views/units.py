"""Eco-indicator unit pages: issuances, issue/transfer/retire forms (staff record them), a party's
holdings, and the public serial check."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import Party
from directory.permissions import Capability, can, memberships_with
from resources.models import Right, RightStatus
from resources.selectors import assets_for
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from ..forms.units import HoldingsForm, IssuanceFilter, IssueForm, RetireForm, TransferForm
from ..selectors_units import (
    blocks_of,
    issuances_for,
    parties_for_units,
    public_name,
    serial_status,
    transfers_for,
    unit_holdings,
)
from ..services import units as services


class IssuanceListView(ObjectListView):
    title = gettext_lazy("生态指标签发")
    filterset_class = IssuanceFilter
    export_name = "unit-issuances"
    default_sort = ("-issued_at", "-pk")
    columns = [
        Column(gettext_lazy("序列号前缀"), "serial_prefix", sort="serial_prefix", link=True),
        Column(gettext_lazy("类型"), "get_kind_display", sort="kind"),
        Column(gettext_lazy("年份"), "vintage_year", sort="vintage_year"),
        Column(gettext_lazy("数量"), "quantity", sort="quantity"),
        Column(gettext_lazy("来源资源"), "right.asset.code", sort="right__asset__code"),
        Column(gettext_lazy("所在区划"), "right.asset.division.name", sort="right__asset__division__code"),
        Column(gettext_lazy("核算方法学/依据"), "methodology"),
        Column(gettext_lazy("签发时间"), "issued_at", sort="issued_at"),
    ]

    def get_queryset(self):
        return issuances_for(self.request.user)


def _issuance_for_staff(request, pk):
    issuance = get_object_or_404(issuances_for(request.user), pk=pk)
    if not can(request.user, Capability.MANAGE_TRADING, division=issuance.right.asset.division):
        raise PermissionDenied(_("您没有权限办理该批指标的业务。"))
    return issuance


def issuance_detail(request, pk):
    issuance = get_object_or_404(issuances_for(request.user), pk=pk)
    transfers = transfers_for(request.user).filter(issuance=issuance).order_by("recorded_at", "pk")
    # An investor sees the issuance because it holds units: other holders' names stay masked.
    name = str if can(request.user, Capability.VIEW, division=issuance.right.asset.division) else public_name
    context = {
        "issuance": issuance,
        "asset": issuance.right.asset,
        "blocks": [(block, name(block.owner)) for block in blocks_of(issuance)],
        "transfers": [
            (t, name(t.from_party) if t.from_party else "—", name(t.to_party) if t.to_party else "—")
            for t in transfers
        ],
        "may_manage": can(request.user, Capability.MANAGE_TRADING, division=issuance.right.asset.division),
    }
    return render(request, "transactions/units/issuance_detail.html", context)


def _form_page(request, form, action, *, title, success, back, context=None):
    """GET shows the form; a valid POST calls the service and redirects; field errors stay in place."""
    if request.method == "POST" and form.is_valid():
        try:
            result = action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
        else:
            messages.success(request, success)
            return redirect(result)
    status = 400 if request.method == "POST" else 200
    page = {"form": form, "title": title, "back": back, **(context or {})}
    return render(request, "transactions/units/form.html", page, status=status)


def issue(request):
    rights = Right.objects.filter(
        asset__in=assets_for(request.user),
        kind__in=list(services.UNIT_KIND_OF_RIGHT),
        status=RightStatus.ACTIVE,
    ).select_related("asset__division", "asset__resource_type", "holder__person", "holder__organization")
    right = get_object_or_404(rights, pk=request.POST.get("right") or request.GET.get("right") or 0)
    if not can(request.user, Capability.MANAGE_TRADING, division=right.asset.division):
        raise PermissionDenied(_("您没有权限在该区划签发指标。"))
    form = IssueForm(request.POST or None, rights=rights, initial={"right": right.pk})
    return _form_page(
        request,
        form,
        lambda data: services.issue_units(actor=request.user, **data),
        title=_("签发生态指标"),
        success=_("指标已签发。"),
        back=right.asset.get_absolute_url(),
        context={"right": right},
    )


def transfer(request, pk):
    issuance = _issuance_for_staff(request, pk)
    form = TransferForm(request.POST or None, issuance=issuance, parties=parties_for_units(request.user))
    return _form_page(
        request,
        form,
        lambda data: services.transfer_units(actor=request.user, issuance=issuance, **data)[0].issuance,
        title=_("登记指标转让：%(prefix)s") % {"prefix": issuance.serial_prefix},
        success=_("转让已登记。"),
        back=issuance.get_absolute_url(),
        context={"issuance": issuance},
    )


def retire(request, pk):
    issuance = _issuance_for_staff(request, pk)
    form = RetireForm(request.POST or None, issuance=issuance)
    return _form_page(
        request,
        form,
        lambda data: services.retire_units(actor=request.user, issuance=issuance, **data)[0].issuance,
        title=_("登记指标注销：%(prefix)s") % {"prefix": issuance.serial_prefix},
        success=_("注销已登记。"),
        back=issuance.get_absolute_url(),
        context={"issuance": issuance},
    )


def holdings(request):
    """A party's units: staff pick any party within reach; an investor sees its own organization."""
    own = [m.organization_id for m in memberships_with(request.user, Capability.TRADE)]
    parties = Party.objects.filter(Q(pk__in=parties_for_units(request.user)) | Q(organization_id__in=own))
    form = HoldingsForm(request.GET or None, parties=parties.select_related("person", "organization"))
    party = form.cleaned_data["party"] if form.is_bound and form.is_valid() else None
    rows = list(unit_holdings(party)) if party else []
    return render(
        request,
        "transactions/units/holdings.html",
        {"form": form, "party": party, "rows": rows, "party_name": str(party) if party else ""},
    )


@login_not_required
def serial_check(request, serial_prefix, serial):
    status = serial_status(serial_prefix, serial)
    context = {"status": status, "prefix": serial_prefix, "serial": serial}
    if status:
        context["asset"] = status.issuance.right.asset
    return render(request, "transactions/units/serial.html", context, status=200 if status else 404)


urlpatterns = [
    path("units/", IssuanceListView.as_view(), name="issuance-list"),
    path("units/issue/", issue, name="issuance-create"),
    path("units/holdings/", holdings, name="unit-holdings"),
    path("units/<int:pk>/", issuance_detail, name="issuance-detail"),
    path("units/<int:pk>/transfer/", transfer, name="unit-transfer"),
    path("units/<int:pk>/retire/", retire, name="unit-retire"),
]

public_urlpatterns = [
    path("units/<str:serial_prefix>/<int:serial>/", serial_check, name="unit-serial"),
]
