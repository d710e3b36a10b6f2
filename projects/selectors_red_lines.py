"""Reads of the red lines and the cooperative's books, restricted to what the user may see: staff,
city administrators and auditors (VIEW_OVERSIGHT) see the cooperatives in their division subtree,
their readings, thresholds and equity stakes."""

from django.db.models import Q

from directory.models import Organization, OrganizationKind
from directory.permissions import Capability
from directory.selectors import within_reach
from transactions.models import Movement, MovementKind, Posting

from .models import Borrowing, EquityStake, RedLine, RedLineReading
from .services.books import cooperative_party

BOOK_MOVEMENTS = (
    MovementKind.CAPITAL_CONTRIBUTION,
    MovementKind.BORROWING,
    MovementKind.BORROWING_REPAYMENT,
    MovementKind.EQUITY_INVESTMENT,
    MovementKind.EQUITY_DISPOSAL,
)


def cooperatives_for(user, capability=Capability.VIEW_OVERSIGHT):
    """Cooperatives whose division lies in the user's reach for `capability`."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return (
        Organization.objects.filter(within_reach(user, "division__code", capability))
        .filter(kind=OrganizationKind.COOPERATIVE)
        .select_related("division")
        .defer("division__boundary")
        .order_by("division__code", "pk")
    )


def readings_for(user):
    return RedLineReading.objects.filter(cooperative__in=cooperatives_for(user).values("pk")).select_related(
        "cooperative"
    )


def latest_readings(cooperative_ids):
    """{(cooperative_id, key): the latest reading} (one query)."""
    rows = (
        RedLineReading.objects.filter(cooperative_id__in=list(cooperative_ids))
        .order_by("cooperative_id", "key", "-as_of")
        .distinct("cooperative_id", "key")
    )
    return {(r.cooperative_id, r.key): r for r in rows}


def history(cooperative, since):
    """{key: [(as_of, value, status, limit, warning)]} of readings from `since` (one query)."""
    out = {}
    rows = (
        RedLineReading.objects.filter(cooperative=cooperative, as_of__gte=since)
        .order_by("key", "as_of")
        .values_list("key", "as_of", "value", "status", "limit", "warning")
    )
    for key, *row in rows:
        out.setdefault(key, []).append(row)
    return out


def thresholds_for(user):
    """Platform defaults and the overrides of cooperatives in reach."""
    return (
        RedLine.objects.filter(
            Q(cooperative__isnull=True) | Q(cooperative__in=cooperatives_for(user).values("pk"))
        )
        .select_related("cooperative__division", "updated_by")
        .defer("cooperative__division__boundary")
        .order_by("cooperative__division__code", "cooperative_id", "key")
    )


def stakes_for(user):
    return EquityStake.objects.filter(cooperative__in=cooperatives_for(user).values("pk")).select_related(
        "cooperative", "investee", "movement", "disposal_movement", "created_by"
    )


def book_movements(cooperative, limit=50):
    """The latest capital, borrowing and equity movements of the cooperative, newest first."""
    party = cooperative_party(cooperative)
    if party is None:
        return Movement.objects.none()
    mine = Posting.objects.filter(account__party=party).values("movement")
    return (
        Movement.objects.filter(kind__in=BOOK_MOVEMENTS, pk__in=mine)
        .select_related("recorded_by")
        .order_by("-occurred_on", "-pk")[:limit]
    )


def borrowings_of(cooperative, limit=50):
    """The cooperative's latest borrowings and repayments with their lender and movement (a
    reversed movement shows as such), newest first (one query)."""
    return (
        Borrowing.objects.filter(cooperative=cooperative)
        .select_related("lender", "movement__reversed_by", "created_by")
        .order_by("-occurred_on", "-pk")[:limit]
    )
