"""Reads of the ledger and the distributions, restricted to what the user may see.

Division-scoped staff (cooperative staff, city admins, auditors) see movements linked to contracts
and listings in their reach; village clerks see those of their village's collection contracts;
investors see only movements that touch their own organization's accounts."""

from decimal import Decimal

from django.db.models import F, Q, Sum, Window

from directory.models import Role
from directory.permissions import Capability, is_division_scoped, memberships_with

from .models import AccountKind, Distribution, Movement, Posting

# Every way a movement points at a division; a reversal is seen where the original is.
_LINKS = (
    "trade_contract__division__code",
    "collection_contract__division__code",
    "listing__division__code",
    "application__listing__division__code",
    "distribution__contract__division__code",
)
_VILLAGE_LINKS = ("collection_contract__division__code", "distribution__contract__division__code")


def _prefix_q(fields, prefixes):
    q = Q(pk__in=[])
    for prefix in prefixes:
        for field in fields:
            q |= Q(**{f"{field}__startswith": prefix}) | Q(**{f"reverses__{field}__startswith": prefix})
    return q


def _reach(user):
    """(full prefixes, village-only prefixes, investor organization ids)."""
    full, village, own = set(), set(), set()
    for membership in memberships_with(user, Capability.VIEW):
        if not is_division_scoped(membership):
            if membership.role == Role.INVESTOR:
                own.add(membership.organization_id)
        elif membership.role == Role.VILLAGE_CLERK:
            village.add(membership.organization.division.prefix)
        else:
            full.add(membership.organization.division.prefix)
    return full, village, own


def movements_for(user):
    if not user.is_authenticated:
        return Movement.objects.none()
    if user.is_superuser:
        visible = Movement.objects.all()
    else:
        full, village, own = _reach(user)
        q = _prefix_q(_LINKS, full) | _prefix_q(_VILLAGE_LINKS, village)
        if own:
            q |= Q(pk__in=Posting.objects.filter(account__party__organization__in=own).values("movement"))
        visible = Movement.objects.filter(pk__in=Movement.objects.filter(q).values("pk"))
    return visible.select_related(
        "recorded_by", "trade_contract", "collection_contract", "distribution", "listing", "reverses"
    ).annotate(total=Sum("postings__amount", filter=Q(postings__amount__gt=0)))


def postings_for(user):
    """Postings of the visible movements; an investor sees only the lines on their own accounts."""
    postings = Posting.objects.filter(movement__in=movements_for(user).values("pk"))
    if user.is_authenticated and not user.is_superuser:
        full, village, own = _reach(user)
        if not full and not village:
            postings = postings.filter(account__party__organization__in=own)
    return postings


def balances(user):
    """Per party: the balance of each account kind, from the postings the user may see (one
    query), plus the totals. Credit balances (payable, deposits held) are shown as positive."""
    rows = (
        postings_for(user)
        .values("account__party", "account__kind")
        .annotate(total=Sum("amount"))
        .values_list("account__party", "account__kind", "total")
    )
    by_party = {}
    for party_id, kind, total in rows:
        by_party.setdefault(party_id, {})[kind] = total
    return by_party


def balance_table(user):
    """Rows for the balances page/API: party, payable, receivable, deposits held, cash, with totals."""
    from directory.models import Party

    by_party = balances(user)
    parties = Party.objects.filter(pk__in=by_party).select_related("person", "organization").order_by("pk")
    zero = Decimal("0.00")
    rows = []
    for party in parties:
        kinds = by_party[party.pk]
        rows.append(
            {
                "party": party,
                "payable": -kinds.get(AccountKind.PAYABLE, zero),
                "receivable": kinds.get(AccountKind.RECEIVABLE, zero),
                "deposit_held": -kinds.get(AccountKind.DEPOSIT_HELD, zero),
                "cash": kinds.get(AccountKind.CASH, zero),
            }
        )
    totals = {
        key: sum((row[key] for row in rows), zero)
        for key in ("payable", "receivable", "deposit_held", "cash")
    }
    return rows, totals


def party_statement(user, party):
    """The party's postings the user may see, oldest first, each with the running balance of its
    account (window function: one query)."""
    return (
        postings_for(user)
        .filter(account__party=party)
        .select_related("movement", "account")
        .annotate(
            running=Window(
                Sum("amount"),
                partition_by=[F("account__kind")],
                order_by=[F("movement__occurred_on").asc(), F("movement_id").asc(), F("pk").asc()],
            )
        )
        .order_by("movement__occurred_on", "movement_id", "pk")
    )


def distributions_for(user):
    if not user.is_authenticated:
        return Distribution.objects.none()
    qs = Distribution.objects.select_related("contract", "created_by")
    if user.is_superuser:
        return qs
    full, village, _own = _reach(user)
    q = Q(pk__in=[])
    for prefix in full | village:
        q |= Q(contract__division__code__startswith=prefix)
    return qs.filter(q)
