"""Reads for resource packages and investor registrations, restricted to what the user may see."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, Sum

from directory.permissions import Capability, memberships_with
from directory.selectors import within_reach
from resources.models import SQ_M_PER_HECTARE, SQ_M_PER_MU, Asset
from valuation.models import AssetResult

from .models import (
    CollectionItem,
    ContractStatus,
    InvestorRegistration,
    PackageItem,
    PackageStatus,
    ResourcePackage,
    ReviewStatus,
)

# Packages an investor may look at: those on offer or let (drafts are the cooperative's business).
INVESTOR_VISIBLE_STATUSES = (PackageStatus.LISTED, PackageStatus.CONTRACTED)


def packages_for(user):
    q = within_reach(user, "division__code", Capability.VIEW)
    if memberships_with(user, Capability.TRADE):
        q |= Q(status__in=INVESTOR_VISIBLE_STATUSES)
    return (
        ResourcePackage.objects.filter(q)
        .select_related("division", "created_by")
        .annotate(asset_count=Count("items", filter=Q(items__is_open=True)))
    )


def open_items(package):
    return (
        PackageItem.objects.filter(package=package, is_open=package.status != PackageStatus.DISSOLVED)
        .select_related("asset__resource_type", "asset__division")
        .order_by("asset__code")
    )


@dataclass
class AssetLine:
    asset: Asset
    gep: Decimal | None  # 元/year from the latest accepted valuation, None when never valued
    gep_year: int | None
    contract: object | None  # the signed collection contract holding the asset


@dataclass
class PackageSummary:
    lines: list[AssetLine]
    area_m2: Decimal
    gep_total: Decimal
    unvalued: list[Asset]
    contracts: list = field(default_factory=list)
    resource_types: list = field(default_factory=list)

    @property
    def area_mu(self):
        return (self.area_m2 / SQ_M_PER_MU).quantize(Decimal("0.01"))

    @property
    def area_hectares(self):
        return (self.area_m2 / SQ_M_PER_HECTARE).quantize(Decimal("0.0001"))

    @property
    def earliest_term_end(self):
        """The package can only be let until the first of its collection contracts ends."""
        return min((c.end_date for c in self.contracts), default=None)

    @property
    def asset_count(self):
        return len(self.lines)


def latest_gep_by_asset(asset_ids):
    """{asset_id: (total, year)} from each asset's latest accepted run — the same choice as
    valuation.selectors.latest_asset_valuation, for many assets in one query."""
    rows = (
        AssetResult.objects.filter(asset_id__in=asset_ids, run__accepted_at__isnull=False)
        .values("asset_id", "run_id", "run__year", "run__accepted_at")
        .annotate(total=Sum("value"))
        .order_by("asset_id", "-run__year", "-run__accepted_at")
    )
    latest = {}
    for row in rows:
        latest.setdefault(row["asset_id"], (row["total"], row["run__year"]))
    return latest


def package_summary(package):
    """Combined area, GEP per year, the collection contracts behind the package and its resource
    types (four queries whatever the number of assets)."""
    items = list(open_items(package).defer("asset__geometry"))
    assets = [item.asset for item in items]
    ids = [asset.pk for asset in assets]
    gep = latest_gep_by_asset(ids)
    contract_of = {
        item.asset_id: item.contract
        for item in CollectionItem.objects.filter(
            asset_id__in=ids, is_open=True, contract__status=ContractStatus.SIGNED
        ).select_related("contract")
    }
    lines = [
        AssetLine(asset, *(gep.get(asset.pk) or (None, None)), contract_of.get(asset.pk)) for asset in assets
    ]
    contracts = sorted({c.pk: c for c in contract_of.values()}.values(), key=lambda c: (c.end_date, c.number))
    types = sorted({a.resource_type.pk: a.resource_type for a in assets}.values(), key=lambda t: t.code)
    return PackageSummary(
        lines=lines,
        area_m2=sum((a.area_m2 or Decimal(0) for a in assets), Decimal("0.00")),
        gep_total=sum((line.gep for line in lines if line.gep is not None), Decimal("0.00")),
        unvalued=[line.asset for line in lines if line.gep is None],
        contracts=contracts,
        resource_types=types,
    )


def package_geometries(package):
    """GeoJSON features of the package's assets for the map."""
    import json

    return [
        {
            "type": "Feature",
            "geometry": json.loads(item.asset.geometry.geojson),
            "properties": {
                "code": item.asset.code,
                "name": item.asset.name,
                "url": item.asset.get_absolute_url(),
            },
        }
        for item in open_items(package)
        if item.asset.geometry
    ]


# --- investor registrations -------------------------------------------------------------------


def registrations_for(user):
    return InvestorRegistration.objects.filter(
        within_reach(user, "organization__division__code", Capability.MANAGE_TRADING)
    ).select_related("organization__division", "user", "reviewed_by")


def unapproved_registration_of(user):
    """The pending or rejected registration of a signed-in user who cannot trade yet, else None."""
    if not user.is_authenticated or memberships_with(user, Capability.TRADE):
        return None
    return (
        InvestorRegistration.objects.filter(
            user=user, status__in=[ReviewStatus.PENDING, ReviewStatus.REJECTED]
        )
        .select_related("organization__division", "reviewed_by")
        .order_by("-created_at")
        .first()
    )


def prefetch_open_items():
    return Prefetch("items", queryset=PackageItem.objects.filter(is_open=True).select_related("asset"))
