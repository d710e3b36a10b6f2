"""Reads of the loan book, restricted to what the user may see: cooperative staff (and city
administrators) the loans of their divisions, a bank's officers their own bank's loans only.

`with_delinquency` adds what the lists sort and filter by, in SQL (one query for any number of
loans): outstanding principal, the oldest unpaid due date, days past due and the bucket. It
agrees with `finance.services.loans.position` for today (an installment is unpaid until its
`settled_on` is set)."""

import datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from directory.models import Organization
from directory.permissions import Capability, is_division_scoped, memberships_with
from directory.selectors import within_reach

from .models import (
    ApplicationStatus,
    DelinquencyBucket,
    DelinquencySnapshot,
    Installment,
    Loan,
    LoanApplication,
    RepaymentLine,
)
from .services.loans import BUCKET_ORDER, OPEN_STATUSES, with_schedule

MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Value(0, output_field=MONEY)


def bank_organizations(user):
    """Ids of the banks the user works for (organization-scoped lending memberships)."""
    return [m.organization_id for m in memberships_with(user, Capability.LEND) if not is_division_scoped(m)]


def loans_for(user):
    if not user.is_authenticated:
        return Loan.objects.none()
    q = within_reach(user, "division__code", Capability.MANAGE_LOANS)
    own = bank_organizations(user)
    if own:
        q |= Q(bank_id__in=own)
    return Loan.objects.filter(q)


def _sum_of(expression, **filters):
    return Coalesce(
        Subquery(
            Installment.objects.filter(loan=OuterRef("pk"), **filters)
            .values("loan")
            .annotate(total=Sum(expression))
            .values("total"),
            output_field=MONEY,
        ),
        ZERO,
    )


def with_delinquency(queryset, as_of=None):
    as_of = as_of or timezone.localdate()
    unpaid_due = {"settled_on__isnull": True, "due_date__lt": as_of}
    oldest = Subquery(
        Installment.objects.filter(loan=OuterRef("pk"), **unpaid_due)
        .order_by("due_date")
        .values("due_date")[:1]
    )
    # date − date is a whole number of days in PostgreSQL
    days = Func(Value(as_of), F("oldest_unpaid_due"), template="(%(expressions)s)", arg_joiner=" - ")
    thresholds = [
        (90, DelinquencyBucket.DPD_90_PLUS),
        (60, DelinquencyBucket.DPD_61_90),
        (30, DelinquencyBucket.DPD_31_60),
    ]
    return queryset.annotate(
        outstanding=F("principal") - _sum_of("principal_paid"),
        overdue_principal=_sum_of(F("principal_due") - F("principal_paid"), **unpaid_due),
        oldest_unpaid_due=oldest,
    ).annotate(
        days_past_due=Coalesce(days, Value(0), output_field=IntegerField()),
        bucket=Case(
            When(oldest_unpaid_due__isnull=True, then=Value(DelinquencyBucket.CURRENT)),
            *[
                When(oldest_unpaid_due__lt=as_of - datetime.timedelta(days=limit), then=Value(bucket))
                for limit, bucket in thresholds
            ],
            default=Value(DelinquencyBucket.DPD_1_30),
            output_field=CharField(),
        ),
    )


def loan_list(user, as_of=None):
    return with_delinquency(
        loans_for(user).select_related(
            "bank", "borrower__person", "borrower__organization", "product", "division", "application"
        ),
        as_of,
    ).defer("division__boundary")


def loan_detail(user):
    return with_schedule(
        loans_for(user).select_related(
            "bank",
            "borrower__person",
            "borrower__organization",
            "product",
            "division",
            "application",
            "recorded_by",
        )
    ).defer("division__boundary")


def loan_repayments(loan):
    return (
        loan.repayments.select_related("recorded_by")
        .prefetch_related(Prefetch("lines", RepaymentLine.objects.select_related("installment")))
        .order_by("paid_on", "pk")
    )


def loan_snapshots(loan, limit=365):
    return list(DelinquencySnapshot.objects.filter(loan=loan).order_by("-as_of")[:limit])[::-1]


def disbursable_applications(user):
    """BANK_APPROVED applications the user may book a disbursement for."""
    if not user.is_authenticated:
        return LoanApplication.objects.none()
    q = within_reach(user, "division__code", Capability.MANAGE_LOANS)
    own = bank_organizations(user)
    if own:
        q |= Q(product__bank_id__in=own)
    return (
        LoanApplication.objects.filter(q, status=ApplicationStatus.BANK_APPROVED)
        .select_related("product__bank", "applicant__person", "applicant__organization", "division")
        .defer("division__boundary")
    )


def visible_banks(user):
    return Organization.objects.filter(pk__in=loans_for(user).values("bank")).order_by("name")


def delinquency_summary(user, as_of=None):
    """Open loans per bucket: [{bucket, label, count, outstanding, overdue_principal}] in bucket
    order (every bucket listed, zero when empty), plus the totals row last."""
    rows = (
        with_delinquency(loans_for(user).filter(status__in=OPEN_STATUSES), as_of)
        .order_by()
        .values("bucket")
        .annotate(count=Count("pk"), balance=Sum("outstanding"), overdue=Sum("overdue_principal"))
    )
    found = {row["bucket"]: row for row in rows}
    summary = []
    for bucket in BUCKET_ORDER:
        row = found.get(bucket, {})
        summary.append(
            {
                "bucket": bucket,
                "label": DelinquencyBucket(bucket).label,
                "count": row.get("count", 0),
                "outstanding": row.get("balance") or 0,
                "overdue_principal": row.get("overdue") or 0,
            }
        )
    return summary
