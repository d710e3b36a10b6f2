"""Reads of risk funds, risk-sharing schemes and defaults, restricted to what the user may see:
cooperative staff and city administrators their divisions (loan desk reach); a bank the schemes of
its own products, the funds behind them, and the defaults of its own loans only."""

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from directory.permissions import Capability
from directory.selectors import within_reach
from transactions.models import AccountKind, Movement, Posting

from .models import (
    Disposal,
    Loan,
    LoanDefault,
    LossAllocation,
    Pledge,
    PledgeStatus,
    Repayment,
    RepaymentKind,
    RiskCompensationFund,
    RiskShare,
    RiskSharingScheme,
)
from .services.common import acting_bank
from .services.risk import manager_party


def _desk(user, field):
    return within_reach(user, field, Capability.MANAGE_LOANS)


def schemes_for(user):
    if not user.is_authenticated:
        return RiskSharingScheme.objects.none()
    q = _desk(user, "division__code")
    bank = acting_bank(user)
    if bank is not None:
        q |= Q(pk__in=RiskSharingScheme.objects.filter(products__bank=bank).values("pk"))
    return (
        RiskSharingScheme.objects.filter(q)
        .select_related("division", "fund__manager")
        .defer("division__boundary")
        .prefetch_related(
            Prefetch("shares", RiskShare.objects.select_related("party__organization", "party__person"))
        )
    )


def funds_for(user):
    if not user.is_authenticated:
        return RiskCompensationFund.objects.none()
    q = _desk(user, "division__code")
    bank = acting_bank(user)
    if bank is not None:
        q |= Q(pk__in=RiskSharingScheme.objects.filter(products__bank=bank).values("fund"))
    return (
        RiskCompensationFund.objects.filter(q)
        .select_related("manager", "division")
        .defer("division__boundary")
    )


def with_balance(queryset):
    """Funds annotated with `balance`: the sum of their ledger account's postings (one subquery)."""
    total = (
        Posting.objects.filter(
            account__kind=AccountKind.RISK_FUND, account__party__organization=OuterRef("manager")
        )
        .values("account__party__organization")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    return queryset.annotate(
        balance=Coalesce(Subquery(total, output_field=money), Value(Decimal("0.00")), output_field=money)
    )


def fund_postings(fund):
    """[(posting, running balance)] of the fund's account, oldest first."""
    party = manager_party(fund)
    if party is None:
        return []
    postings = (
        Posting.objects.filter(account__kind=AccountKind.RISK_FUND, account__party=party)
        .select_related("movement__recorded_by")
        .order_by("movement__occurred_on", "movement_id", "pk")
    )
    running, rows = Decimal("0.00"), []
    for posting in postings:
        running += posting.amount
        rows.append((posting, running))
    return rows


def defaults_for(user):
    if not user.is_authenticated:
        return LoanDefault.objects.none()
    q = _desk(user, "loan__division__code")
    bank = acting_bank(user)
    if bank is not None:
        q |= Q(loan__bank=bank)
    return with_repaid_after(LoanDefault.objects.filter(q)).select_related(
        "loan__bank", "loan__borrower__person", "loan__borrower__organization", "loan__product", "declared_by"
    )


def with_repaid_after(queryset):
    """Defaults annotated with `repaid_after`: the borrower's repayments recorded after the
    declaration (what finance.services.defaults.remaining_claim would otherwise query per row)."""
    later = (
        Repayment.objects.filter(loan_id=OuterRef("loan_id"), recorded_at__gt=OuterRef("created_at"))
        .exclude(kind=RepaymentKind.DISPOSAL)
        .values("loan_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=16, decimal_places=2)
    return queryset.annotate(
        repaid_after=Coalesce(Subquery(later, output_field=money), Value(Decimal("0.00")), output_field=money)
    )


def loans_for_defaults(user):
    """Loans the user may see here: the loan desk's within reach, a bank's own (to be told it
    may not declare rather than that the loan does not exist)."""
    if not user.is_authenticated:
        return Loan.objects.none()
    q = _desk(user, "division__code")
    bank = acting_bank(user)
    if bank is not None:
        q |= Q(bank=bank)
    return Loan.objects.filter(q).select_related(
        "bank", "borrower__person", "borrower__organization", "product", "division", "default"
    )


def default_disposals(default):
    return (
        Disposal.objects.filter(default=default)
        .select_related("executed_by")
        .prefetch_related(
            Prefetch(
                "allocations",
                LossAllocation.objects.select_related("party__organization", "party__person"),
            )
        )
        .order_by("pk")
    )


def default_pledges(default):
    """The loan's pledges: active ones can be bought back, enforced ones were."""
    return (
        Pledge.objects.filter(application_id=default.loan.application_id)
        .exclude(status=PledgeStatus.RELEASED)
        .select_related("right__asset", "right__holder__person", "right__holder__organization")
        .defer("right__asset__geometry")
        .order_by("rank", "pk")
    )


def disposal_movements(default):
    numbers = Disposal.objects.filter(default=default).values("number")
    return (
        Movement.objects.filter(reference__in=numbers)
        .select_related("recorded_by")
        .prefetch_related("postings__account__party__organization", "postings__account__party__person")
        .order_by("pk")
    )
