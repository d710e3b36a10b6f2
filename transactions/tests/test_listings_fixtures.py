"""Upstream states for the listing tests, built with the ORM where their services are written in
parallel: collected assets under a signed collection contract, and READY packages."""

import datetime

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, Membership, Organization, OrganizationKind, Role
from directory.services import ensure_party
from resources import services as registry
from resources.models import AssetStatus
from transactions.models import (
    CollectionContract,
    CollectionItem,
    ContractStatus,
    PackageItem,
    PackageStatus,
    ResourcePackage,
    RevenueModel,
)
from transactions.services import listings as svc


def today():
    return timezone.localdate()


@pytest.fixture
def collected(registered_asset, households, county_staff, county_cooperative, village):
    """collected(n=1) → n assets COLLECTED under one signed collection contract (−1 y … +10 y)."""

    def make(n=1, years=10):
        assets = [registered_asset([(households[0], 1)]) for _ in range(n)]
        contract = CollectionContract.objects.create(
            number=f"SC-T{assets[0].pk}",
            division=village,
            cooperative=county_cooperative,
            grantor=households[0],
            source_right_kind="contract",
            start_date=today() - datetime.timedelta(days=365),
            end_date=today().replace(year=today().year + years),
            revenue_model=RevenueModel.FIXED_RENT,
            first_payment_date=today(),
            status=ContractStatus.SIGNED,
            created_by=county_staff,
        )
        for asset in assets:
            CollectionItem.objects.create(contract=contract, asset=asset, weight=1)
            registry.transition_asset(actor=county_staff, asset=asset, to_status=AssetStatus.COLLECTED)
        for asset in assets:
            asset.refresh_from_db()
        return assets

    return make


@pytest.fixture
def ready_package(collected, county_staff, village):
    def make(n=2):
        assets = collected(n)
        package = ResourcePackage.objects.create(
            code=f"ZB-T{assets[0].pk}",
            name="示范村林地资源包",
            division=village,
            status=PackageStatus.READY,
            created_by=county_staff,
        )
        for asset in assets:
            PackageItem.objects.create(package=package, asset=asset)
        return package

    return make


def terms(**overrides):
    data = {
        "title": "示范村林地经营权出租",
        "trade_kind": "lease",
        "mode": "bidding",
        "term_start": today() + datetime.timedelta(days=30),
        "term_end": today().replace(year=today().year + 5),
        "reserve_price": "100000.00",
        "deposit": "10000.00",
        "increment": "1000",
        "description": "林地两块",
        "qualification_requirements": "依法设立的企业",
        "payment_terms": "一次付清",
        "obligations": "保护生态",
    }
    data.update(overrides)
    return data


@pytest.fixture
def draft_listing(collected, county_staff):
    def make(**overrides):
        asset = collected(1)[0]
        return svc.create_listing(actor=county_staff, asset=asset, **terms(**overrides))

    return make


@pytest.fixture
def open_listing(draft_listing, county_staff, settings):
    """A listing in 公示 (notice 10 days, bidding 60 minutes)."""

    def make(**overrides):
        listing = draft_listing(**overrides)
        return svc.publish_listing(actor=county_staff, listing=listing, notice_days=10, bidding_minutes=60)

    return make


@pytest.fixture
def other_county_staff(demo_region, make_member):
    coop = Organization.objects.create(
        name="青田县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    ensure_party(coop)
    return make_member(Role.COOP_STAFF, coop, username="qingtian_staff")


@pytest.fixture
def pending_investor(demo_region, make_member, county_cooperative):
    org = Organization.objects.create(
        name="待审核投资公司（测试）", kind=OrganizationKind.ENTERPRISE, division=county_cooperative.division
    )
    user = make_member(Role.INVESTOR, org, username="pending_investor")
    Membership.objects.filter(user=user).update(is_active=False)
    return user
