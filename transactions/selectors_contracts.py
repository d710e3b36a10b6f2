"""Reads of trade contracts, restricted to what the user may see: cooperative staff and city
administrators their divisions, investors their own organization's contracts."""

from decimal import Decimal

from django.db.models import Q, Sum

from directory.permissions import Capability, is_division_scoped, memberships_with
from directory.selectors import within_reach

from .models import Listing, ListingStatus, Movement, MovementKind, Posting, TradeContract, TradeContractItem


def investor_organizations(user):
    return [m.organization_id for m in memberships_with(user, Capability.TRADE) if not is_division_scoped(m)]


def contracts_for(user):
    if not user.is_authenticated:
        return TradeContract.objects.none()
    q = within_reach(user, "division__code", Capability.MANAGE_TRADING)
    own = investor_organizations(user)
    if own:
        q |= Q(investor_id__in=own)
    return TradeContract.objects.filter(q).select_related("investor", "cooperative", "division", "listing")


def sold_listings_for(user):
    """SOLD listings without a contract that the user may put under contract."""
    return (
        Listing.objects.filter(within_reach(user, "division__code", Capability.MANAGE_TRADING))
        .filter(status=ListingStatus.SOLD, contract__isnull=True)
        .select_related("division", "winning_bid__application__investor")
    )


def contract_items(contract):
    return (
        TradeContractItem.objects.filter(contract=contract)
        .select_related("asset__resource_type", "asset__division", "lease__holder", "right__holder")
        .defer("asset__geometry", "asset__division__boundary")
        .order_by("asset__code")
    )


def contract_movements(contract):
    return (
        Movement.objects.filter(trade_contract=contract)
        .select_related("recorded_by")
        .prefetch_related("postings__account__party__organization", "postings__account__party__person")
        .order_by("pk")
    )


def assets_with_valuation(items):
    """[(item, latest accepted GEP or None)] for the contract's printable assets table."""
    from valuation.selectors import latest_asset_valuation

    return [(item, latest_asset_valuation(item.asset)) for item in items]


def applied_deposit(contract):
    """The winner's deposit turned into price at signing (0 when none was applied)."""
    total = Posting.objects.filter(
        movement__trade_contract=contract, movement__kind=MovementKind.DEPOSIT_APPLIED, amount__gt=0
    ).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")
