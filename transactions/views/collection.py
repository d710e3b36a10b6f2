"""流转收储 pages: list, create/edit drafts, detail with sign / terminate / renew, and the printable
contract. Staff with MANAGE_TRADING act; village clerks read their village's contracts."""

import datetime
from decimal import Decimal
from fractions import Fraction

from django.contrib import messages
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
from tmcs.web import run_service

from .._money import CENT
from ..forms.collection import CollectionContractFilter, CollectionContractForm, RenewForm, TerminateForm
from ..models import ContractStatus, RevenueModel
from ..pdf import amount_in_words, render_pdf
from ..selectors_collection import collection_contracts_for, contract_detail
from ..services import collection as services

FORM_FIELDS = (
    "division",
    "grantor",
    "source_right_kind",
    "granted_right_kind",
    "start_date",
    "end_date",
    "revenue_model",
    "annual_amount",
    "dividend_rate",
    "payment_frequency",
    "first_payment_date",
    "obligations",
)


class CollectionListView(ObjectListView):
    title = gettext_lazy("流转收储合同")
    filterset_class = CollectionContractFilter
    export_name = "collection-contracts"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("合同编号"), "number", sort="number", link=True),
        Column(gettext_lazy("出让方"), "grantor"),
        Column(gettext_lazy("所在区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("收益模式"), "get_revenue_model_display", sort="revenue_model"),
        Column(gettext_lazy("年度租金/保底金额（元）"), "annual_amount", sort="annual_amount"),
        Column(gettext_lazy("起始日"), "start_date", sort="start_date"),
        Column(gettext_lazy("截止日（不含）"), "end_date", sort="end_date"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return collection_contracts_for(self.request.user)

    def get_create_url(self):
        may = can(self.request.user, Capability.MANAGE_TRADING)
        return reverse("transactions:collection-create") if may else None


def _visible(request, pk):
    return get_object_or_404(collection_contracts_for(request.user), pk=pk)


def _form_page(request, form, contract=None):
    title = (
        _("修改收储合同草稿 %(number)s") % {"number": contract.number} if contract else _("新建流转收储合同")
    )
    return render(
        request,
        "transactions/collection/form.html",
        {"form": form, "title": title, "contract": contract},
        status=400 if request.method == "POST" else 200,
    )


def _save(request, form, action, success):
    """Call the service; its field errors go next to the fields, the rest above the form."""
    try:
        contract = action()
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    except DomainError as exc:
        form.add_service_errors(exc)
        if "assets" in exc.fields:
            form.add_error("asset_codes", " ".join(str(m) for m in exc.fields["assets"]))
        messages.error(request, str(exc.detail))
        return None
    messages.success(request, success)
    return contract


def collection_create(request):
    if not can(request.user, Capability.MANAGE_TRADING):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    form = CollectionContractForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        contract = _save(
            request,
            form,
            lambda: services.create_collection_contract(actor=request.user, **form.cleaned_data),
            _("收储合同草稿已保存。"),
        )
        if contract:
            return redirect(contract)
    return _form_page(request, form)


def collection_edit(request, pk):
    contract = _visible(request, pk)
    if not can(request.user, Capability.MANAGE_TRADING, division=contract.division):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    if contract.status != ContractStatus.DRAFT:
        messages.error(request, _("只有草稿状态的合同可以修改或删除。"))
        return redirect(contract)
    initial = {f: getattr(contract, f) for f in FORM_FIELDS}
    initial["asset_codes"] = "\n".join(contract.items.values_list("asset__code", flat=True))
    form = CollectionContractForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("division")  # a draft stays in its division
        saved = _save(
            request,
            form,
            lambda: services.update_collection_contract(actor=request.user, contract=contract, **data),
            _("收储合同草稿已更新。"),
        )
        if saved:
            return redirect(saved)
    return _form_page(request, form, contract)


def _expected_yearly(contract, beneficiary):
    if contract.revenue_model == RevenueModel.SHARE_DIVIDEND:
        return None
    share = Fraction(beneficiary.share_numerator, beneficiary.share_denominator)
    exact = Fraction(str(contract.annual_amount)) * share
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(CENT)


def collection_detail(request, pk):
    contract = _visible(request, pk)
    items, beneficiaries, schedule = contract_detail(contract)
    may_manage = can(request.user, Capability.MANAGE_TRADING, division=contract.division)
    status = contract.status
    context = {
        "contract": contract,
        "items": items,
        "total_area_m2": sum((i.asset.area_m2 or 0 for i in items), Decimal(0)),
        "beneficiaries": [(b, _expected_yearly(contract, b)) for b in beneficiaries],
        "schedule": schedule,
        "schedule_total": sum((line.amount for line in schedule), Decimal("0.00")),
        "may_manage": may_manage,
        "may_sign": may_manage and status == ContractStatus.DRAFT,
        "may_terminate": may_manage and status == ContractStatus.SIGNED,
        "may_renew": may_manage
        and status in (ContractStatus.SIGNED, ContractStatus.EXPIRED)
        and not hasattr(contract, "renewal"),
        "terminate_form": TerminateForm(),
        "renew_form": RenewForm(),
    }
    return render(request, "transactions/collection/detail.html", context)


@require_POST
def collection_action(request, pk, action):
    contract = _visible(request, pk)
    actor = request.user
    if action == "sign":
        run_service(
            request,
            lambda: services.sign_collection_contract(actor=actor, contract=contract),
            success=_("收储合同已签订，合作社权利已登记。"),
        )
    elif action == "delete":
        deleted = run_service(
            request,
            lambda: services.delete_draft_collection_contract(actor=actor, contract=contract),
            success=_("收储合同草稿已删除。"),
        )
        if deleted:
            return redirect("transactions:collection-list")
    elif action == "terminate":
        form = TerminateForm(request.POST)
        if form.is_valid():
            run_service(
                request,
                lambda: services.terminate_collection_contract(
                    actor=actor, contract=contract, **form.cleaned_data
                ),
                success=_("收储合同已解除。"),
            )
        else:
            messages.error(request, _("请填写解除原因和有效的解除生效日。"))
    elif action == "renew":
        form = RenewForm(request.POST)
        if form.is_valid():
            renewal = run_service(
                request,
                lambda: services.renew_collection_contract(
                    actor=actor, contract=contract, **form.cleaned_data
                ),
                success=_("续签合同草稿已生成，请核对后签订。"),
            )
            if renewal:
                return redirect(renewal)
        else:
            messages.error(request, _("请填写有效的续签截止日。"))
    else:
        raise Http404
    return redirect(contract)


def _term_text(start, end):
    years = 0
    while services.add_months(start, 12 * (years + 1)) <= end:
        years += 1
    days = (end - services.add_months(start, 12 * years)).days
    parts = [_("%(n)s 年") % {"n": years}] if years else []
    if days:
        parts.append(_("%(n)s 天") % {"n": days})
    return " ".join(parts)


def collection_pdf(request, pk):
    contract = _visible(request, pk)
    items, beneficiaries, schedule = contract_detail(contract)
    periods = (
        services.schedule_periods(contract) if schedule or contract.status == ContractStatus.DRAFT else []
    )
    if contract.revenue_model == RevenueModel.SHARE_DIVIDEND:
        periods = []
    term_total = sum((p[3] for p in periods), Decimal("0.00"))
    context = {
        "contract": contract,
        "items": items,
        "total_area_mu": sum((i.asset.area_mu or 0 for i in items), Decimal(0)),
        "last_day": contract.end_date - datetime.timedelta(days=1),
        "term_text": _term_text(contract.start_date, contract.end_date),
        "beneficiaries": [(b, _expected_yearly(contract, b)) for b in beneficiaries],
        "periods": periods,
        "term_total": term_total,
        "annual_words": amount_in_words(contract.annual_amount),
        "term_total_words": amount_in_words(term_total),
        "dividend_percent": (contract.dividend_rate * 100).normalize(),
        "grantor": contract.grantor.person or contract.grantor.organization,
        "grantor_is_person": contract.grantor.person_id is not None,
    }
    response = HttpResponse(
        render_pdf("transactions/pdf/collection_contract.html", context), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="collection-{contract.number}.pdf"'
    return response


urlpatterns = [
    path("collection/", CollectionListView.as_view(), name="collection-list"),
    path("collection/new/", collection_create, name="collection-create"),
    path("collection/<int:pk>/", collection_detail, name="collection-detail"),
    path("collection/<int:pk>/edit/", collection_edit, name="collection-edit"),
    path("collection/<int:pk>/contract.pdf", collection_pdf, name="collection-pdf"),
    path("collection/<int:pk>/<slug:action>/", collection_action, name="collection-action"),
]
