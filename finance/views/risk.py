"""Risk sharing and default disposal pages: risk compensation funds (list, detail with the fund's
ledger movements, create, contribute), risk-sharing schemes (list, detail, create), and defaults
(list, declare from a loan, detail with the disposal steps, buy-back, loss compensation)."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import AccessChannel
from directory.permissions import Capability, can
from directory.services import log_person_reads
from tmcs.audit import client_ip
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from ..forms.risk import (
    BuyBackForm,
    CompensateForm,
    ContributionForm,
    DeclareForm,
    DefaultFilter,
    FundFilter,
    FundForm,
    SchemeFilter,
    SchemeForm,
)
from ..models import DefaultStatus, LoanStatus, PledgeStatus
from ..selectors_risk import (
    default_disposals,
    default_pledges,
    defaults_for,
    disposal_movements,
    fund_postings,
    funds_for,
    loans_for_defaults,
    schemes_for,
    with_balance,
)
from ..services import defaults as default_services
from ..services import risk as services

EXAMPLE_LOSS = Decimal("100000.00")


def _log_bank_reads(request, parties):
    """Borrowers' and holders' names shown to a bank are logged (PIPL); staff reads are not
    (log_person_reads skips division-scoped users)."""
    persons = list({p.person_id: p.person for p in parties if p is not None and p.person_id}.values())
    if persons:
        log_person_reads(
            actor=request.user, persons=persons, channel=AccessChannel.WEB, ip=client_ip(request)
        )


def _may_manage(user, division):
    return can(user, Capability.MANAGE_LOANS, division=division)


def _form_page(request, form, title, action, *, back, template, **extra):
    """Run `action(cleaned_data)` on a valid POST; a refusal's field errors go back in place."""
    if request.method == "POST" and form.is_valid():
        try:
            return action(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
            for name in form.errors:
                if name in form.fields:
                    widget = form.fields[name].widget
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
            messages.error(request, str(exc.detail))
    return render(request, template, {"form": form, "title": title, "back": back, **extra})


# --- funds ------------------------------------------------------------------------------------


class FundListView(ObjectListView):
    title = gettext_lazy("风险补偿基金")
    filterset_class = FundFilter
    export_name = "risk-funds"
    default_sort = ("name", "pk")
    columns = [
        Column(gettext_lazy("基金名称"), "name", sort="name", link=True),
        Column(gettext_lazy("管理机构"), "manager.name", sort="manager__name"),
        Column(gettext_lazy("覆盖区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("余额（元）"), "balance", sort="balance"),
        Column(gettext_lazy("设立依据"), "source"),
    ]

    def get_queryset(self):
        return with_balance(funds_for(self.request.user))

    def get_create_url(self):
        return reverse("finance:fund-create") if can(self.request.user, Capability.MANAGE_LOANS) else None


def fund_detail(request, pk):
    fund = get_object_or_404(funds_for(request.user), pk=pk)
    postings = fund_postings(fund)
    return render(
        request,
        "finance/risk/fund_detail.html",
        {
            "fund": fund,
            "balance": services.fund_balance(fund),
            "postings": postings,
            "contributed": sum((p.amount for p, _b in postings if p.amount > 0), Decimal("0.00")),
            "paid_out": -sum((p.amount for p, _b in postings if p.amount < 0), Decimal("0.00")),
            "schemes": schemes_for(request.user).filter(fund=fund).order_by("name"),
            "may_manage": _may_manage(request.user, fund.division),
        },
    )


def fund_create(request):
    if not can(request.user, Capability.MANAGE_LOANS):
        raise PermissionDenied

    def create(data):
        fund = services.create_fund(actor=request.user, **data)
        messages.success(request, _("风险补偿基金已设立：%(name)s") % {"name": fund.name})
        return redirect("finance:fund-detail", fund.pk)

    return _form_page(
        request,
        FundForm(request.POST or None, user=request.user),
        _("设立风险补偿基金"),
        create,
        back=reverse("finance:fund-list"),
        template="finance/risk/form.html",
    )


def fund_contribute(request, pk):
    fund = get_object_or_404(funds_for(request.user), pk=pk)
    if not _may_manage(request.user, fund.division):
        raise PermissionDenied

    def contribute(data):
        token = data.pop("token")
        services.contribute(actor=request.user, fund=fund, idempotency_key=f"web:{token}", **data)
        messages.success(request, _("出资已入账：%(amount)s 元") % {"amount": data["amount"]})
        return redirect("finance:fund-detail", fund.pk)

    return _form_page(
        request,
        ContributionForm(request.POST or None),
        _("基金出资：%(name)s") % {"name": fund.name},
        contribute,
        back=reverse("finance:fund-detail", args=[fund.pk]),
        template="finance/risk/form.html",
        fund=fund,
        balance=services.fund_balance(fund),
    )


# --- schemes ----------------------------------------------------------------------------------


class SchemeListView(ObjectListView):
    title = gettext_lazy("风险分担方案")
    filterset_class = SchemeFilter
    export_name = "risk-schemes"
    default_sort = ("-created_at", "-pk")
    columns = [
        Column(gettext_lazy("方案名称"), "name", sort="name", link=True),
        Column(gettext_lazy("适用区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("风险补偿基金"), "fund.name", sort="fund__name"),
        Column(gettext_lazy("依据"), "source"),
        Column(gettext_lazy("启用"), "is_active", sort="is_active"),
    ]

    def get_queryset(self):
        return schemes_for(self.request.user)

    def get_create_url(self):
        return reverse("finance:scheme-create") if can(self.request.user, Capability.MANAGE_LOANS) else None


def scheme_detail(request, pk):
    scheme = get_object_or_404(schemes_for(request.user), pk=pk)
    shares = list(scheme.shares.all())
    return render(
        request,
        "finance/risk/scheme_detail.html",
        {
            "scheme": scheme,
            "shares": shares,
            "total": sum((s.share for s in shares), Decimal(0)),
            "example_loss": EXAMPLE_LOSS,
            "example": services.split_loss(scheme, EXAMPLE_LOSS) if shares else [],
            "products": scheme.products.select_related("bank").order_by("bank__name", "code"),
        },
    )


def scheme_create(request):
    if not can(request.user, Capability.MANAGE_LOANS):
        raise PermissionDenied
    form = SchemeForm(request.POST or None, user=request.user)

    def create(data):
        scheme = services.create_scheme(
            actor=request.user,
            name=data["name"],
            division=data["division"],
            fund=data["fund"],
            source=data["source"],
            shares=form.shares(),
        )
        messages.success(request, _("风险分担方案已创建：%(name)s") % {"name": scheme.name})
        return redirect("finance:scheme-detail", scheme.pk)

    return _form_page(
        request,
        form,
        _("新建风险分担方案"),
        create,
        back=reverse("finance:scheme-list"),
        template="finance/risk/form.html",
        scheme_help=True,
    )


# --- defaults ---------------------------------------------------------------------------------


class DefaultListView(ObjectListView):
    title = gettext_lazy("违约处置")
    filterset_class = DefaultFilter
    export_name = "loan-defaults"
    default_sort = ("-declared_on", "-pk")
    columns = [
        Column(gettext_lazy("借据编号"), "loan.number", sort="loan__number", link=True),
        Column(gettext_lazy("贷款银行"), "loan.bank.name", sort="loan__bank__name"),
        Column(gettext_lazy("借款人"), "loan.borrower"),
        Column(gettext_lazy("认定日期"), "declared_on", sort="declared_on"),
        Column(gettext_lazy("违约时债权（元）"), "claim"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
    ]

    def get_queryset(self):
        return defaults_for(self.request.user)

    def get_extra_context(self):
        context = super().get_extra_context()
        _log_bank_reads(self.request, [default.loan.borrower for default in self.shown])
        return context


def default_declare(request):
    loan = get_object_or_404(loans_for_defaults(request.user), pk=request.GET.get("loan") or 0)
    if not _may_manage(request.user, loan.division):
        raise PermissionDenied
    if hasattr(loan, "default"):
        return redirect("finance:default-detail", loan.default.pk)
    position = default_services.claim_position(loan, timezone.localdate())

    def declare(data):
        default = default_services.declare_default(actor=request.user, loan=loan, **data)
        messages.success(request, _("已认定违约：%(number)s") % {"number": loan.number})
        return redirect("finance:default-detail", default.pk)

    return _form_page(
        request,
        DeclareForm(request.POST or None),
        _("认定违约：%(number)s") % {"number": loan.number},
        declare,
        back=loan.get_absolute_url(),
        template="finance/defaults/form.html",
        loan=loan,
        position=position,
        not_active=loan.status != LoanStatus.ACTIVE,
    )


def default_detail(request, pk):
    default = get_object_or_404(defaults_for(request.user), pk=pk)
    loan = default.loan
    disposals = list(default_disposals(default))
    pledges = list(default_pledges(default))
    remaining = default_services.remaining_claim(default)
    _log_bank_reads(request, [loan.borrower, *(p.right.holder for p in pledges)])
    open_ = default.status == DefaultStatus.DECLARED
    may_manage = _may_manage(request.user, loan.division)
    return render(
        request,
        "finance/defaults/detail.html",
        {
            "default": default,
            "loan": loan,
            "loan_url": loan.get_absolute_url(),
            "disposals": disposals,
            "buy_backs": [d for d in disposals if d.method == "buy_back"],
            "compensation": next((d for d in disposals if d.method == "risk_compensation"), None),
            "pledges": pledges,
            "remaining": remaining,
            "remaining_total": sum(remaining.values(), Decimal("0.00")),
            "movements": disposal_movements(default),
            "may_buy_back": may_manage and open_ and any(p.status == PledgeStatus.ACTIVE for p in pledges),
            "may_compensate": may_manage
            and open_
            and not any(p.status == PledgeStatus.ACTIVE for p in pledges),
        },
    )


def _managed_default(request, pk):
    default = get_object_or_404(defaults_for(request.user), pk=pk)
    if not _may_manage(request.user, default.loan.division):
        raise PermissionDenied
    return default


def default_buy_back(request, pk):
    default = _managed_default(request, pk)
    initial = {"pledge": request.GET.get("pledge")} if request.GET.get("pledge") else {}

    def buy_back(data):
        disposal = default_services.buy_back(actor=request.user, default=default, **data)
        messages.success(request, _("回购已完成：%(number)s") % {"number": disposal.number})
        return redirect("finance:default-detail", default.pk)

    remaining = default_services.remaining_claim(default)
    return _form_page(
        request,
        BuyBackForm(request.POST or None, default=default, initial=initial),
        _("合作社回购：%(number)s") % {"number": default.loan.number},
        buy_back,
        back=reverse("finance:default-detail", args=[default.pk]),
        template="finance/defaults/form.html",
        default=default,
        loan=default.loan,
        remaining=remaining,
        remaining_total=sum(remaining.values(), Decimal("0.00")),
    )


def default_compensate(request, pk):
    default = _managed_default(request, pk)
    remaining = default_services.remaining_claim(default)
    loss = sum(remaining.values(), Decimal("0.00"))
    scheme = default.loan.product.risk_scheme

    def compensate(data):
        disposal = default_services.compensate_loss(actor=request.user, default=default, **data)
        messages.success(request, _("损失分担已完成，违约处置结案：%(number)s") % {"number": disposal.number})
        return redirect("finance:default-detail", default.pk)

    return _form_page(
        request,
        CompensateForm(request.POST or None),
        _("风险分担代偿：%(number)s") % {"number": default.loan.number},
        compensate,
        back=reverse("finance:default-detail", args=[default.pk]),
        template="finance/defaults/form.html",
        default=default,
        loan=default.loan,
        remaining=remaining,
        remaining_total=loss,
        scheme=scheme,
        compensating=True,
        preview=services.split_loss(scheme, loss) if scheme is not None and loss > 0 else [],
    )


def fund_list(request):
    return FundListView.as_view()(request)


def scheme_list(request):
    return SchemeListView.as_view()(request)


def default_list(request):
    return DefaultListView.as_view()(request)


urlpatterns = [
    path("risk/funds/", fund_list, name="fund-list"),
    path("risk/funds/new/", fund_create, name="fund-create"),
    path("risk/funds/<int:pk>/", fund_detail, name="fund-detail"),
    path("risk/funds/<int:pk>/contribute/", fund_contribute, name="fund-contribute"),
    path("risk/schemes/", scheme_list, name="scheme-list"),
    path("risk/schemes/new/", scheme_create, name="scheme-create"),
    path("risk/schemes/<int:pk>/", scheme_detail, name="scheme-detail"),
    path("defaults/", default_list, name="default-list"),
    path("defaults/declare/", default_declare, name="default-declare"),
    path("defaults/<int:pk>/", default_detail, name="default-detail"),
    path("defaults/<int:pk>/buy-back/", default_buy_back, name="default-buy-back"),
    path("defaults/<int:pk>/compensate/", default_compensate, name="default-compensate"),
]
public_urlpatterns = []
