"""Fixtures for the trade-contract tests. The upstream states (a signed collection contract, a
listed package, a SOLD listing with its winner and paid deposit) are built with the ORM here, since
their services are written in parallel; the registry parts go through resources.services."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from resources import services as registry
from resources.models import AssetStatus, RightKind
from transactions.models import (
    AccountKind,
    Bid,
    CollectionContract,
    CollectionItem,
    ContractStatus,
    DepositStatus,
    Listing,
    ListingApplication,
    ListingMode,
    ListingStatus,
    MovementKind,
    PackageItem,
    PackageStatus,
    ResourcePackage,
    RevenueModel,
    ReviewStatus,
    TradeKind,
)
from transactions.services import ledger

from .conftest import TERM_END, TERM_START

COLLECTION_START = datetime.date(2025, 1, 1)
COLLECTION_END = datetime.date(2040, 1, 1)


@pytest.fixture
def collected_assets(registered_asset, household, collective, county_staff, county_cooperative, village):
    """collected_assets(n, end=COLLECTION_END) → n assets collected by the county cooperative under
    one signed collection contract (the cooperative holds the management right)."""
    counter = iter(range(1, 1000))

    def make(n=2, end=COLLECTION_END):
        k = next(counter)
        contract = CollectionContract.objects.create(
            number=f"SC-T{k:04d}",
            division=village,
            cooperative=county_cooperative,
            grantor=collective,
            source_right_kind=RightKind.CONTRACT,
            start_date=COLLECTION_START,
            end_date=end,
            revenue_model=RevenueModel.FIXED_RENT,
            annual_amount=Decimal("1000.00"),
            first_payment_date=COLLECTION_START,
            status=ContractStatus.SIGNED,
            created_by=county_staff,
        )
        coop = ensure_party(county_cooperative)
        assets = []
        for _i in range(n):
            asset = registered_asset([(household, 1)])
            right = registry.grant_right(
                actor=county_staff,
                asset=asset,
                holder=coop,
                kind=RightKind.MANAGEMENT,
                start=COLLECTION_START,
                end=end,
                source_document=f"流转收储合同 {contract.number}",
            )
            CollectionItem.objects.create(
                contract=contract, asset=asset, weight=asset.area_m2, granted_right=right
            )
            registry.transition_asset(actor=county_staff, asset=asset, to_status=AssetStatus.COLLECTED)
            assets.append(asset)
        return assets

    return make


@pytest.fixture
def sold_listing(collected_assets, county_staff, county_cooperative, village, investor, investor_org):
    """sold_listing(kind=…, price=…, deposit=…, n=2, package=True) → a SOLD listing won by the demo
    investor, whose deposit is paid and held (DEPOSIT_RECEIVED posted)."""
    counter = iter(range(1, 1000))

    def make(
        kind=TradeKind.LEASE,
        price=Decimal("100000.00"),
        deposit=Decimal("10000.00"),
        n=2,
        package=True,
        assets=None,
        start=TERM_START,
        end=TERM_END,
        closed_at=None,
        winner=None,
    ):
        k = next(counter)
        assets = assets or collected_assets(n)
        for asset in assets:
            registry.transition_asset(actor=county_staff, asset=asset, to_status=AssetStatus.LISTED)
        pack = None
        if package:
            pack = ResourcePackage.objects.create(
                code=f"ZB-T{k:04d}",
                name=f"示范资源包{k}",
                division=village,
                status=PackageStatus.LISTED,
                created_by=county_staff,
            )
            PackageItem.objects.bulk_create([PackageItem(package=pack, asset=a) for a in assets])
        listing = Listing.objects.create(
            code=f"GP-T{k:04d}",
            title=f"示范林地{'出租' if kind == TradeKind.LEASE else '经营权转让'}{k}",
            package=pack,
            asset=None if package else assets[0],
            division=village,
            trade_kind=kind,
            mode=ListingMode.AUCTION,
            term_start=start,
            term_end=end,
            reserve_price=price,
            deposit=deposit,
            increment=Decimal("1000.00"),
            obligations="保持林地用途不变。",
            status=ListingStatus.SOLD,
            final_price=price,
            closed_at=closed_at or timezone.now(),
            created_by=county_staff,
        )
        user, org = winner or (investor, investor_org)
        application = ListingApplication.objects.create(
            listing=listing,
            investor=org,
            applicant=user,
            status=ReviewStatus.APPROVED,
            deposit_status=DepositStatus.PAID,
            bidder_number="001",
        )
        bid = Bid.objects.create(
            listing=listing, application=application, amount=price, placed_at=timezone.now(), placed_by=user
        )
        listing.winning_bid = bid
        listing.save(update_fields=["winning_bid"])
        if deposit:
            ledger.post(
                actor=county_staff,
                kind=MovementKind.DEPOSIT_RECEIVED,
                memo=f"{listing.code} 保证金",
                lines=[
                    ledger.debit(AccountKind.CASH, ensure_party(county_cooperative), deposit),
                    ledger.credit(AccountKind.DEPOSIT_HELD, ensure_party(org), deposit),
                ],
                listing=listing,
                application=application,
            )
        return listing

    return make


@pytest.fixture
def other_county_staff(demo_region, make_member):
    """Staff of a cooperative in another county (云和县)."""
    from directory.models import AdministrativeDivision, Role

    division = AdministrativeDivision.objects.filter(code__startswith="3311", level="county").exclude(
        code="331102000000"
    )[0]
    org = Organization.objects.create(
        name="云和县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=division
    )
    return make_member(Role.COOP_STAFF, org, username="other_staff")


@pytest.fixture
def village_clerk(demo_region):
    from directory.models import User

    return User.objects.get(username="village_clerk")
