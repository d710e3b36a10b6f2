"""Settlement pages: the ledger (movements, balances, party statements), investor payments,
schedule payouts and revenue distributions. Thin views over selectors_ledger and the services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.models import Party
from directory.permissions import Capability, can
from directory.selectors import within_reach
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView
from tmcs.web import run_service

from ..forms.settlement import (
    DistributionFilter,
    DistributionForm,
    MovementFilter,
    PaymentForm,
    PayoutForm,
    ReverseForm,
    SchedulePayForm,
)
from ..models import (
    CollectionContract,
    InstallmentStatus,
    Movement,
    ScheduledPayment,
    ScheduleStatus,
    TradeContract,
)
from ..selectors_ledger import balance_table, distributions_for, movements_for, party_statement
from ..services import distribution as distribution_services
from ..services import settlement as settlement_services


def url_of(obj):
    """The page of a linked record, or "" while its area has no page yet."""
    if isinstance(obj, Movement):
        return reverse("transactions:movement-detail", args=[obj.pk])
    try:
        return obj.get_absolute_url() if obj is not None else ""
    except (NoReverseMatch, AttributeError):
        return ""


class _Link:
    """A cell rendered as a link on the page and as plain text in the XLSX export."""

    def __init__(self, url, text):
        self.url, self.text = url, str(text)

    def __html__(self):
        return format_html('<a href="{}">{}</a>', self.url, self.text)

    def __str__(self):
        return self.text


class MovementColumn(Column):
    def value(self, obj):
        return _Link(reverse("transactions:movement-detail", args=[obj.pk]), f"#{obj.pk}")


class MovementListView(ObjectListView):
    title = gettext_lazy("记账凭证")
    filterset_class = MovementFilter
    export_name = "movements"
    default_sort = ("-occurred_on", "-pk")
    columns = [
        MovementColumn(gettext_lazy("凭证号"), "pk", sort="pk"),
        Column(gettext_lazy("业务日期"), "occurred_on", sort="occurred_on"),
        Column(gettext_lazy("业务类型"), "get_kind_display", sort="kind"),
        Column(gettext_lazy("摘要"), "memo"),
        Column(gettext_lazy("金额（元）"), "total", sort="total"),
        Column(gettext_lazy("银行流水号/凭证号"), "reference"),
        Column(gettext_lazy("记账人"), "recorded_by"),
    ]

    def get_queryset(self):
        return movements_for(self.request.user)


def movement_detail(request, pk):
    movement = get_object_or_404(movements_for(request.user), pk=pk)
    division = settlement_services.division_of(movement)
    links = [
        (label, obj, url_of(obj))
        for label, obj in (
            (_("交易合同"), movement.trade_contract),
            (_("收储合同"), movement.collection_contract),
            (_("挂牌项目"), movement.listing),
            (_("收益分配"), movement.distribution),
            (_("冲正的凭证"), movement.reverses),
        )
        if obj is not None
    ]
    context = {
        "movement": movement,
        "postings": movement.postings.select_related(
            "account__party__person", "account__party__organization"
        ),
        "links": links,
        "reversed_by": getattr(movement, "reversed_by", None),
        "reverse_form": ReverseForm()
        if division is not None and can(request.user, Capability.MANAGE_TRADING, division=division)
        else None,
    }
    return render(request, "transactions/ledger/movement_detail.html", context)


@require_POST
def movement_reverse(request, pk):
    movement = get_object_or_404(movements_for(request.user), pk=pk)
    form = ReverseForm(request.POST)
    if form.is_valid():
        reversal = run_service(
            request,
            lambda: settlement_services.reverse_movement(
                actor=request.user, movement=movement, reason=form.cleaned_data["reason"]
            ),
            success=_("凭证已冲正。"),
        )
        if reversal is not None:
            return redirect("transactions:movement-detail", reversal.pk)
    else:
        messages.error(request, _("请填写冲正原因。"))
    return redirect("transactions:movement-detail", movement.pk)


def balances(request):
    rows, totals = balance_table(request.user)
    return render(request, "transactions/ledger/balances.html", {"rows": rows, "totals": totals})


def statement(request, pk):
    party = get_object_or_404(Party.objects.select_related("person", "organization"), pk=pk)
    postings = list(party_statement(request.user, party))
    if not postings:
        raise PermissionDenied(_("没有可查看的该主体台账。"))
    return render(request, "transactions/ledger/statement.html", {"party": party, "postings": postings})


# --- distributions ---------------------------------------------------------------------------


class DistributionListView(ObjectListView):
    title = gettext_lazy("收益分配")
    filterset_class = DistributionFilter
    export_name = "distributions"
    default_sort = ("-period_end", "-pk")
    columns = [
        Column(gettext_lazy("收储合同"), "contract.number", sort="contract__number", link=True),
        Column(gettext_lazy("分配类型"), "get_kind_display", sort="kind"),
        Column(gettext_lazy("期间起"), "period_start", sort="period_start"),
        Column(gettext_lazy("期间止（不含）"), "period_end", sort="period_end"),
        Column(gettext_lazy("期间收入（元）"), "income", sort="income"),
        Column(gettext_lazy("分配总额（元）"), "amount", sort="amount"),
        Column(gettext_lazy("经办人"), "created_by"),
    ]

    def get_queryset(self):
        return distributions_for(self.request.user)


def distribution_detail(request, pk):
    distribution = get_object_or_404(distributions_for(request.user), pk=pk)
    may_pay = can(request.user, Capability.MANAGE_TRADING, division=distribution.contract.division)
    paid = distribution_services.is_paid(distribution)
    context = {
        "distribution": distribution,
        "contract_url": url_of(distribution.contract),
        "lines": distribution.lines.select_related(
            "beneficiary__party__person", "beneficiary__party__organization"
        ).order_by("pk"),
        "calc": distribution.calculation,
        "movements": distribution.movements.order_by("pk"),
        "paid": paid,
        "pay_form": PayoutForm() if may_pay and not paid and distribution.amount else None,
    }
    return render(request, "transactions/settlement/distribution_detail.html", context)


def _managed(user, queryset):
    return queryset.filter(within_reach(user, "division__code", Capability.MANAGE_TRADING))


def _form_page(request, template, form, context, *, submitted):
    return render(request, template, {"form": form, **context}, status=400 if submitted else 200)


def distribution_create(request):
    if not can(request.user, Capability.MANAGE_TRADING):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    contract = get_object_or_404(
        _managed(request.user, CollectionContract.objects.all()), pk=request.GET.get("contract") or 0
    )
    kind = distribution_services.KIND_FOR_MODEL.get(contract.revenue_model, (None,))[0]
    form = DistributionForm(request.POST or None, initial={"kind": kind})
    if request.method == "POST" and form.is_valid():
        try:
            distribution = distribution_services.declare_distribution(
                actor=request.user, contract=contract, **form.cleaned_data
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
        else:
            messages.success(request, _("收益分配已确认。"))
            return redirect(distribution)
    return _form_page(
        request,
        "transactions/settlement/distribution_form.html",
        form,
        {"contract": contract, "contract_url": url_of(contract)},
        submitted=request.method == "POST",
    )


@require_POST
def distribution_pay(request, pk):
    distribution = get_object_or_404(distributions_for(request.user), pk=pk)
    form = PayoutForm(request.POST)
    if form.is_valid():
        run_service(
            request,
            lambda: distribution_services.pay_distribution(
                actor=request.user, distribution=distribution, **form.cleaned_data
            ),
            success=_("收益已支付。"),
        )
    else:
        messages.error(request, _("请填写支付日期和银行流水号。"))
    return redirect(distribution)


# --- payments --------------------------------------------------------------------------------


def payment_create(request):
    if not can(request.user, Capability.MANAGE_TRADING):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    contract = get_object_or_404(
        _managed(request.user, TradeContract.objects.select_related("investor")),
        pk=request.GET.get("contract") or 0,
    )
    installments = list(contract.installments.order_by("due_date", "sequence"))
    open_statuses = (InstallmentStatus.DUE, InstallmentStatus.PARTLY_PAID)
    outstanding = sum(i.outstanding for i in installments if i.status in open_statuses)
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            movement = settlement_services.record_investor_payment(
                actor=request.user, contract=contract, **form.cleaned_data
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
        else:
            messages.success(request, _("收款已登记。"))
            return redirect("transactions:movement-detail", movement.pk)
    context = {
        "contract": contract,
        "contract_url": url_of(contract),
        "installments": installments,
        "outstanding": outstanding,
    }
    return _form_page(
        request,
        "transactions/settlement/payment_form.html",
        form,
        context,
        submitted=request.method == "POST",
    )


def schedule_pay(request):
    if not can(request.user, Capability.MANAGE_TRADING):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    contracts = _managed(request.user, CollectionContract.objects.all())
    contract = None
    if request.GET.get("contract"):
        contract = get_object_or_404(contracts, pk=request.GET["contract"])
    form = SchedulePayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lines = settlement_services.pay_scheduled_payments(
                actor=request.user, contract=contract, **form.cleaned_data
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            messages.error(request, str(exc.detail))
        else:
            if lines:
                total = sum(line.amount for line in lines)
                messages.success(
                    request, _("已支付 %(n)s 笔，共 %(total)s 元。") % {"n": len(lines), "total": total}
                )
            else:
                messages.info(request, _("没有到期待付的款项。"))
            return redirect(request.get_full_path())
    due = ScheduledPayment.objects.filter(status=ScheduleStatus.DUE, contract__in=contracts)
    if contract:
        due = due.filter(contract=contract)
    due = list(
        due.select_related(
            "contract", "beneficiary__party__person", "beneficiary__party__organization"
        ).order_by("due_date", "contract_id", "pk")[:200]
    )
    context = {"contract": contract, "due": due, "due_total": sum(line.amount for line in due)}
    return _form_page(
        request,
        "transactions/settlement/schedule_pay.html",
        form,
        context,
        submitted=request.method == "POST",
    )


urlpatterns = [
    path("settlement/movements/", MovementListView.as_view(), name="movement-list"),
    path("settlement/movements/<int:pk>/", movement_detail, name="movement-detail"),
    path("settlement/movements/<int:pk>/reverse/", movement_reverse, name="movement-reverse"),
    path("settlement/balances/", balances, name="ledger-balances"),
    path("settlement/parties/<int:pk>/", statement, name="party-statement"),
    path("settlement/distributions/", DistributionListView.as_view(), name="distribution-list"),
    path("settlement/distributions/new/", distribution_create, name="distribution-create"),
    path("settlement/distributions/<int:pk>/", distribution_detail, name="distribution-detail"),
    path("settlement/distributions/<int:pk>/pay/", distribution_pay, name="distribution-pay"),
    path("settlement/payments/new/", payment_create, name="payment-create"),
    path("settlement/schedule/pay/", schedule_pay, name="schedule-pay"),
]
