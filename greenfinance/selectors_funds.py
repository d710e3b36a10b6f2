"""Reads of green bonds and funds, restricted to what the user may see: the green-finance desk
(cooperative staff, city administrators) and auditors (oversight) see the funds of their
divisions. Balances come from the ledger (postings with the fund's number as sub-account).

The fund register also lists finance's risk compensation funds (风险补偿基金, kept by the loan
desk in `finance`) as read-only rows linking to their own pages, so that it shows every fund the
cooperative uses without recording any of them twice."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.permissions import Capability
from directory.selectors import within_reach
from finance.models import Loan, LoanStatus
from finance.selectors_risk import funds_for as risk_funds_for
from finance.selectors_risk import with_balance as with_risk_balance
from projects.models import KeyProject, ProjectStatus
from transactions.models import AccountKind, Posting

from .models import FundCommitment, FundKind, FundMovement, FundMovementKind, FundStatus, GreenFund

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)


def _reach(user, field):
    return within_reach(user, field, Capability.MANAGE_GREEN_FINANCE) | within_reach(
        user, field, Capability.VIEW_OVERSIGHT
    )


def funds_for(user):
    if not user.is_authenticated:
        return GreenFund.objects.none()
    return (
        GreenFund.objects.filter(_reach(user, "division__code"))
        .select_related("manager", "division", "created_by")
        .defer("division__boundary")
    )


def _account_total(kind):
    total = (
        Posting.objects.filter(account__kind=kind, account__sub_account=OuterRef("number"))
        .values("account__sub_account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def with_balances(queryset):
    """Funds annotated with `cash` and `deployed` (ledger balances) and `committed` (one subquery
    each, whatever the number of funds)."""
    committed = (
        FundCommitment.objects.filter(fund=OuterRef("pk"))
        .values("fund")
        .annotate(t=Sum("amount"))
        .values("t")
    )
    return queryset.annotate(
        cash=_account_total(AccountKind.GREEN_FUND_CASH),
        deployed=_account_total(AccountKind.GREEN_FUND_DEPLOYED),
        committed=Coalesce(Subquery(committed, output_field=MONEY), Value(ZERO), output_field=MONEY),
    )


def movements_for(user):
    if not user.is_authenticated:
        return FundMovement.objects.none()
    return FundMovement.objects.filter(_reach(user, "fund__division__code")).select_related(
        "fund",
        "counterparty__organization",
        "counterparty__person",
        "project",
        "loan",
        "reverses",
        "reversed_by",
        "recorded_by",
    )


def journal(fund):
    """[(movement, running cash)] of the fund, oldest first, and the end-of-day cash series
    [(day, balance)] for the chart (one query)."""
    movements = (
        FundMovement.objects.filter(fund=fund)
        .select_related(
            "counterparty__organization",
            "counterparty__person",
            "project",
            "loan",
            "reverses",
            "reversed_by",
            "recorded_by",
        )
        .order_by("occurred_on", "pk")
    )
    rows, series, running = [], {}, ZERO
    for movement in movements:
        running += movement.cash_effect
        rows.append((movement, running))
        series[movement.occurred_on.isoformat()] = str(running)
    return rows, list(series.items())


def period_rows(fund, start, end):
    """(opening cash, [(movement, running cash)], closing cash) for a statement from `start` to
    `end` (both inclusive)."""
    rows, _series = journal(fund)
    opening = ZERO
    inside = []
    for movement, running in rows:
        if movement.occurred_on < start:
            opening = running
        elif movement.occurred_on <= end:
            inside.append((movement, running))
    closing = inside[-1][1] if inside else opening
    return opening, inside, closing


def open_drawdowns(fund):
    """The fund's drawdowns that have not been reversed (returns and write-offs name one)."""
    return (
        FundMovement.objects.filter(fund=fund, kind=FundMovementKind.DRAWDOWN, reversed_by__isnull=True)
        .select_related("counterparty__organization", "counterparty__person", "project", "loan")
        .order_by("occurred_on", "pk")
    )


def fundable_projects(fund):
    """Admitted key projects inside the fund's division."""
    return (
        KeyProject.objects.filter(
            status=ProjectStatus.ADMITTED, division__code__startswith=fund.division.prefix
        )
        .select_related("owner")
        .order_by("number")
    )


def fundable_loans(fund):
    """Active loans inside the fund's division."""
    return (
        Loan.objects.filter(status=LoanStatus.ACTIVE, division__code__startswith=fund.division.prefix)
        .select_related("borrower__organization", "borrower__person", "bank")
        .order_by("number")
    )


# --- the register: green funds and finance's risk compensation funds ---------------------------


@dataclass
class RegisterRow:
    """One line of the fund register, whichever app keeps the fund."""

    number: str
    name: str
    kind: str
    kind_label: str
    manager: str
    manager_id: int
    division: str
    division_code: str
    size: Decimal | None
    committed: Decimal | None
    cash: Decimal
    deployed: Decimal | None
    status: str
    status_label: str
    issue_date: object
    url: str
    source_app: str  # "greenfinance" or "finance"

    def get_absolute_url(self):
        return self.url

    @property
    def source_label(self):
        if self.source_app == "finance":
            return _("贷款风险分担（只读）")
        return _("绿色金融")


def register_rows(user, *, kind=None, status=None, manager=None, division=None, q=None):
    """Every fund the user may see, green funds first-class and finance's risk compensation funds
    read-only (they are ACTIVE while they exist); filters apply to both (two queries)."""
    green = with_balances(funds_for(user))
    risk = with_risk_balance(risk_funds_for(user)) if user.is_authenticated else None
    if kind:
        green = green.filter(kind=kind)
        if kind != FundKind.RISK_COMPENSATION:
            risk = None
    if status:
        green = green.filter(status=status)
        if status != FundStatus.ACTIVE:
            risk = None
    if manager is not None:
        green = green.filter(manager=manager)
        risk = risk.filter(manager=manager) if risk is not None else None
    if division is not None:
        green = green.filter(division__code__startswith=division.prefix)
        risk = risk.filter(division__code__startswith=division.prefix) if risk is not None else None
    if q:
        green = green.filter(Q(name__icontains=q) | Q(number__icontains=q) | Q(manager__name__icontains=q))
        risk = risk.filter(Q(name__icontains=q) | Q(manager__name__icontains=q)) if risk is not None else None
    rows = [
        RegisterRow(
            number=fund.number,
            name=fund.name,
            kind=fund.kind,
            kind_label=str(fund.get_kind_display()),
            manager=fund.manager.name,
            manager_id=fund.manager_id,
            division=fund.division.name,
            division_code=fund.division.code,
            size=fund.size,
            committed=fund.committed,
            cash=fund.cash,
            deployed=fund.deployed,
            status=fund.status,
            status_label=str(fund.get_status_display()),
            issue_date=fund.issue_date,
            url=fund.get_absolute_url(),
            source_app="greenfinance",
        )
        for fund in green
    ]
    for fund in risk if risk is not None else ():
        rows.append(
            RegisterRow(
                number="",
                name=fund.name,
                kind=FundKind.RISK_COMPENSATION,
                kind_label=str(FundKind.RISK_COMPENSATION.label),
                manager=fund.manager.name,
                manager_id=fund.manager_id,
                division=fund.division.name,
                division_code=fund.division.code,
                size=None,
                committed=None,
                cash=fund.balance,
                deployed=None,
                status=FundStatus.ACTIVE,
                status_label=str(FundStatus.ACTIVE.label),
                issue_date=timezone.localtime(fund.created_at).date(),
                url=reverse("finance:fund-detail", args=[fund.pk]),
                source_app="finance",
            )
        )
    return rows
