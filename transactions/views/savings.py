"""Savings slips (生态资源储蓄单): the staff list, detail (income right, pledge status, history),
issuing from a savings contract, cancelling, the printed slip (PDF with a verification code and QR
code), and the public check page the QR code points to (no login, no personal data)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from ..forms.savings import CancelSlipForm, SlipCheckForm, SlipFilter
from ..models import SlipStatus
from ..pdf import render_pdf
from ..selectors_collection import collection_contracts_for
from ..selectors_savings import (
    holder_display,
    is_pledged,
    slip_document_context,
    slip_for_check,
    slip_history,
    slip_securities,
    slips_for,
    verification_url,
    visible_slip,
)
from ..services import savings as services


class SlipListView(ObjectListView):
    title = gettext_lazy("生态资源储蓄单")
    filterset_class = SlipFilter
    export_name = "savings-slips"
    default_sort = ("-issued_at", "-pk")
    columns = [
        Column(gettext_lazy("储蓄单号"), "number", sort="number", link=True),
        Column(gettext_lazy("储户"), "holder"),
        Column(gettext_lazy("资源编号"), "asset.code", sort="asset__code"),
        Column(gettext_lazy("资源类型"), "asset.resource_type.name"),
        Column(gettext_lazy("收储合同"), "contract.number", sort="contract__number"),
        Column(gettext_lazy("所在区划"), "contract.division.name", sort="contract__division__code"),
        Column(
            gettext_lazy("每年保底收益（元）"), "guaranteed_annual_amount", sort="guaranteed_annual_amount"
        ),
        Column(gettext_lazy("储蓄起始日"), "start_date", sort="start_date"),
        Column(gettext_lazy("储蓄截止日（不含）"), "end_date", sort="end_date"),
        Column(gettext_lazy("已质押"), "is_pledged", sort="is_pledged"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return slips_for(self.request.user)


def _get_slip(request, pk):
    slip = visible_slip(request.user, pk)
    if slip is None:
        raise Http404
    return slip


def _detail(request, slip, cancel_form=None, status=200):
    may_cancel = slip.status == SlipStatus.ACTIVE and can(
        request.user, Capability.MANAGE_TRADING, division=slip.contract.division
    )
    securities = slip_securities(slip)
    return render(
        request,
        "transactions/savings/detail.html",
        {
            "slip": slip,
            "right": slip.income_right,
            "securities": securities,
            "active_security": next((s for s in securities if s.status == "active"), None),
            "history": slip_history(slip)[:100],
            "may_cancel": may_cancel,
            "cancel_form": cancel_form or (CancelSlipForm() if may_cancel else None),
            "verification_url": verification_url(slip),
        },
        status=status,
    )


def slip_detail(request, pk):
    return _detail(request, _get_slip(request, pk))


@require_POST
def slip_cancel(request, pk):
    slip = _get_slip(request, pk)
    if not can(request.user, Capability.MANAGE_TRADING, division=slip.contract.division):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    form = CancelSlipForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_slip(actor=request.user, slip=slip, reason=form.cleaned_data["reason"])
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
        else:
            messages.success(request, _("储蓄单 %(number)s 已注销。") % {"number": slip.number})
            return redirect("transactions:slip-detail", slip.pk)
    return _detail(request, _get_slip(request, pk), cancel_form=form, status=400)


@require_POST
def slips_issue(request, pk):
    """The “issue slips” button of a savings collection contract."""
    contract = get_object_or_404(collection_contracts_for(request.user), pk=pk)
    before = set(contract.savings_slips.values_list("pk", flat=True))
    try:
        slips = services.issue_slips(actor=request.user, contract=contract)
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect(contract)
    new = [slip for slip in slips if slip.pk not in before]
    if new:
        messages.success(request, _("已签发 %(n)s 张储蓄单。") % {"n": len(new)})
    else:
        messages.info(request, _("本合同的储蓄单均已签发，未重复签发。"))
    return redirect(reverse("transactions:slip-list") + "?" + urlencode({"contract": contract.number}))


def slip_pdf(request, pk):
    slip = _get_slip(request, pk)
    content = render_pdf("transactions/savings/pdf/slip.html", slip_document_context(slip))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{slip.number}.pdf"'
    return response


# --- public check ---------------------------------------------------------------------------------


def _check_page(request, slip, form, *, asked):
    context = {"form": form, "slip": slip, "asked": asked}
    if slip is not None:
        context["holder"] = holder_display(slip)
        context["pledged"] = is_pledged(slip)
    return render(
        request, "transactions/savings/check.html", context, status=404 if asked and slip is None else 200
    )


@login_not_required
def slip_check_form(request):
    """Type the number and the code printed on a slip (no QR scanner at hand)."""
    form = SlipCheckForm(request.GET or None)
    if not form.is_bound:
        return _check_page(request, None, form, asked=False)
    slip = None
    if form.is_valid():
        slip = slip_for_check(form.cleaned_data["code"], number=form.cleaned_data["number"])
    return _check_page(request, slip, form, asked=True)


@login_not_required
def slip_check(request, code):
    slip = slip_for_check(code)
    return _check_page(request, slip, SlipCheckForm(), asked=True)


urlpatterns = [
    path("slips/", SlipListView.as_view(), name="slip-list"),
    path("slips/<int:pk>/", slip_detail, name="slip-detail"),
    path("slips/<int:pk>/cancel/", slip_cancel, name="slip-cancel"),
    path("slips/<int:pk>/slip.pdf", slip_pdf, name="slip-pdf"),
    path("slips/contract/<int:pk>/issue/", slips_issue, name="slip-issue"),
]

public_urlpatterns = [
    path("slip-check/", slip_check_form, name="slip-check-form"),
    path("slip-check/<str:code>/", slip_check, name="slip-check"),
]
