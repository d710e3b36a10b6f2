"""Serial-numbered eco-indicator units: issuance, block splitting on transfer and retirement,
idempotency, and every refusal (nothing half-written stays)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from resources import services as registry
from resources.models import AssetStatus, ResourceType, RightKind
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import (
    DocumentCounter,
    UnitBlock,
    UnitBlockStatus,
    UnitIssuance,
    UnitKind,
    UnitTransfer,
    UnitTransferKind,
)
from transactions.selectors_units import public_name, serial_status, unit_holdings
from transactions.services import units

YEAR = timezone.localdate().year


@pytest.fixture
def carbon_type(catalog):
    return ResourceType.objects.get(code="forest_carbon")


@pytest.fixture
def water_type(catalog):
    return ResourceType.objects.get(code="water_right")


@pytest.fixture
def carbon_right(registered_asset, carbon_type, household):
    asset = registered_asset(
        [(household, 1)],
        kind=RightKind.CARBON_SINK,
        resource_type=carbon_type,
        attributes={"methodology": "CCER-14-001-V01"},
        quantity=Decimal("5000"),
    )
    return asset.rights.get()


@pytest.fixture
def buyer(investor_org):
    return ensure_party(investor_org)


def live_blocks(issuance):
    return list(issuance.blocks.exclude(status=UnitBlockStatus.SPLIT).order_by("first_serial"))


def assert_exact_cover(issuance):
    """Live blocks cover 1..quantity exactly once."""
    blocks = live_blocks(issuance)
    expected = 1
    for block in blocks:
        assert block.first_serial == expected
        expected = block.last_serial + 1
    assert expected == issuance.quantity + 1


def issue(actor, right, quantity=1000, year=YEAR - 1, methodology="CCER-14-001-V01"):
    return units.issue_units(
        actor=actor, right=right, vintage_year=year, quantity=quantity, methodology=methodology
    )


def test_issue_creates_one_block_and_an_issue_record(county_staff, carbon_right, household):
    issuance = issue(county_staff, carbon_right)
    assert issuance.kind == UnitKind.CARBON
    assert issuance.serial_prefix == f"TMCS-331102-CS-{YEAR - 1}-000001"
    [block] = issuance.blocks.all()
    assert (block.owner, block.first_serial, block.last_serial, block.status) == (
        household,
        1,
        1000,
        UnitBlockStatus.HELD,
    )
    [record] = issuance.transfers.all()
    assert (record.kind, record.to_party, record.first_serial, record.last_serial) == (
        UnitTransferKind.ISSUE,
        household,
        1,
        1000,
    )
    # Numbering runs per county, kind and vintage.
    second = issue(county_staff, carbon_right, quantity=10, year=YEAR - 2)
    assert second.serial_prefix == f"TMCS-331102-CS-{YEAR - 2}-000001"


def test_water_right_units_are_capped_in_cubic_metres(county_staff, registered_asset, water_type, household):
    asset = registered_asset(
        [(household, 1)],
        kind=RightKind.WATER,
        resource_type=water_type,
        attributes={"permit_number": "取水(浙丽)字[2024]第001号", "annual_volume_10k_m3": 2},
        quantity=Decimal("2"),  # 2 万m³/年 = 20,000 m³
    )
    right = asset.rights.get()
    with pytest.raises(ConflictError, match="年产量 20000"):
        issue(county_staff, right, quantity=20_001)
    issuance = issue(county_staff, right, quantity=20_000)
    assert issuance.kind == UnitKind.WATER and issuance.serial_prefix.startswith("TMCS-331102-WR-")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"quantity": 0}, "quantity", "之间"),
        ({"quantity": -5}, "quantity", "之间"),
        ({"quantity": "1.5"}, "quantity", "整数"),
        ({"quantity": "abc"}, "quantity", "整数"),
        ({"quantity": 10**12 + 1}, "quantity", "之间"),
        ({"year": YEAR + 1}, "vintage_year", "不能晚于今年"),
        ({"year": 2019}, "vintage_year", "有效期"),
        ({"year": "二〇二五"}, "vintage_year", "整数"),
        ({"methodology": "  "}, "methodology", "方法学"),
        ({"methodology": "x" * 201}, "methodology", "200"),
    ],
)
def test_issue_refuses_bad_input(county_staff, carbon_right, kwargs, field, message):
    with pytest.raises(DomainError, match=message) as caught:
        issue(county_staff, carbon_right, **kwargs)
    assert field in caught.value.fields
    assert not UnitIssuance.objects.exists() and not UnitBlock.objects.exists()
    assert not DocumentCounter.objects.filter(prefix__startswith="CS").exclude(last=0).exists()


def test_issue_refuses_above_cap_and_duplicates(county_staff, carbon_right):
    with pytest.raises(ConflictError, match="年产量 5000，已签发 0"):
        issue(county_staff, carbon_right, quantity=5001)
    issue(county_staff, carbon_right, quantity=5000)
    with pytest.raises(ConflictError, match="已签发过") as caught:
        issue(county_staff, carbon_right, quantity=1)
    assert caught.value.code == "duplicate"
    assert UnitIssuance.objects.count() == 1 and UnitBlock.objects.count() == 1


def test_issue_refuses_wrong_rights_and_assets(county_staff, registered_asset, carbon_right, household):
    contract_right = registered_asset([(household, 1)]).rights.get()
    with pytest.raises(DomainError, match="碳汇权或取水权"):
        issue(county_staff, contract_right)
    registry.end_right(actor=county_staff, right=carbon_right, reason="测试终止")
    carbon_right.refresh_from_db()
    with pytest.raises(ConflictError, match="已终止"):
        issue(county_staff, carbon_right)
    assert not UnitIssuance.objects.exists()


def test_issue_refuses_unregistered_asset(county_staff, carbon_right):
    asset = carbon_right.asset
    asset.status = AssetStatus.DRAFT
    asset.save(update_fields=["status"])
    with pytest.raises(ConflictError, match="登记完成后"):
        issue(county_staff, carbon_right)


def test_issue_permissions(carbon_right, demo_region, make_member, investor):
    clerk = User.objects.get(username="village_clerk")
    for actor in (investor, clerk):
        with pytest.raises(PermissionDeniedError):
            issue(actor, carbon_right)
    other_county = AdministrativeDivision.objects.filter(level="county").exclude(code="331102000000").first()
    coop = Organization.objects.create(
        name="其他县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=other_county
    )
    with pytest.raises(PermissionDeniedError):
        issue(make_member(Role.COOP_STAFF, coop), carbon_right)
    assert not UnitIssuance.objects.exists()


def test_partial_transfers_and_retirements_split_blocks(county_staff, carbon_right, household, buyer):
    issuance = issue(county_staff, carbon_right, quantity=100)
    [first] = units.transfer_units(
        actor=county_staff,
        issuance=issuance,
        from_party=household,
        to_party=buyer,
        quantity=30,
        price="2160.50",
    )
    assert (first.first_serial, first.last_serial, first.price) == (1, 30, Decimal("2160.50"))
    [retired] = units.retire_units(
        actor=county_staff, issuance=issuance, party=buyer, quantity=10, reason="2026年度碳中和"
    )
    assert (retired.first_serial, retired.last_serial, retired.to_party) == (1, 10, None)
    units.transfer_units(
        actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=20
    )
    # The buyer now holds 11–30 and 31–50: a transfer of 25 takes 11–30 and 31–35 in one range.
    [back] = units.transfer_units(
        actor=county_staff, issuance=issuance, from_party=buyer, to_party=household, quantity=25, price="100"
    )
    assert (back.first_serial, back.last_serial) == (11, 35)
    assert_exact_cover(issuance)
    summary = [(b.first_serial, b.last_serial, b.owner_id, b.status) for b in live_blocks(issuance)]
    assert summary == [
        (1, 10, buyer.pk, UnitBlockStatus.RETIRED),
        (11, 30, household.pk, UnitBlockStatus.HELD),
        (31, 35, household.pk, UnitBlockStatus.HELD),
        (36, 50, buyer.pk, UnitBlockStatus.HELD),
        (51, 100, household.pk, UnitBlockStatus.HELD),
    ]
    # Split blocks keep their original owner and range.
    assert issuance.blocks.get(parent=None).first_serial == 1
    assert issuance.blocks.get(parent=None).last_serial == 100
    holdings = {i.pk: (i.held, i.retired) for i in unit_holdings(buyer)}
    assert holdings == {issuance.pk: (15, 10)}
    assert {i.pk: (i.held, i.retired) for i in unit_holdings(household)} == {issuance.pk: (75, 0)}


def test_transfer_over_gaps_records_one_transfer_per_range(county_staff, carbon_right, household, buyer):
    issuance = issue(county_staff, carbon_right, quantity=50)
    units.transfer_units(
        actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=10
    )
    units.transfer_units(
        actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=10
    )
    units.transfer_units(
        actor=county_staff, issuance=issuance, from_party=buyer, to_party=household, quantity=5
    )
    # Buyer holds 6–10 and 11–20 (adjacent) → one range; household holds 1–5 and 21–50.
    rows = units.transfer_units(
        actor=county_staff,
        issuance=issuance,
        from_party=household,
        to_party=buyer,
        quantity=10,
        price="1000.01",
        idempotency_key="k-gap",
    )
    assert [(r.first_serial, r.last_serial) for r in rows] == [(1, 5), (21, 25)]
    assert [r.price for r in rows] == [Decimal("500.01"), Decimal("500.00")]  # exact to the cent
    assert [r.idempotency_key for r in rows] == ["k-gap", "k-gap#2"]
    assert_exact_cover(issuance)


def test_idempotent_transfer_returns_the_earlier_rows(county_staff, carbon_right, household, buyer):
    issuance = issue(county_staff, carbon_right, quantity=100)
    kwargs = dict(actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=40)
    first = units.transfer_units(**kwargs, idempotency_key="abc")
    again = units.transfer_units(**kwargs, idempotency_key="abc")
    assert [r.pk for r in again] == [r.pk for r in first]
    assert UnitTransfer.objects.filter(kind=UnitTransferKind.TRANSFER).count() == 1
    with pytest.raises(ConflictError, match="另一笔"):
        units.retire_units(
            actor=county_staff, issuance=issuance, party=buyer, quantity=1, reason="x", idempotency_key="abc"
        )
    with pytest.raises(DomainError, match="幂等键"):
        units.transfer_units(**kwargs, idempotency_key="a#b")
    assert {(b.owner_id, b.quantity) for b in live_blocks(issuance)} == {(buyer.pk, 40), (household.pk, 60)}


def test_transfer_and_retire_refusals(county_staff, carbon_right, household, buyer, investor):
    issuance = issue(county_staff, carbon_right, quantity=10)
    base = dict(actor=county_staff, issuance=issuance, from_party=household)
    cases = [
        (dict(to_party=buyer, quantity=11), ConflictError, "可用数量不足，持有 10"),
        (dict(to_party=buyer, quantity=0), DomainError, "之间"),
        (dict(to_party=buyer, quantity="2.5"), DomainError, "整数"),
        (dict(to_party=household, quantity=1), DomainError, "相同"),
        (dict(to_party=None, quantity=1), DomainError, "转入方"),
        (dict(to_party=buyer, quantity=1, price="-1"), DomainError, "大于0"),
        (dict(to_party=buyer, quantity=1, price="1.001"), DomainError, "两位小数"),
        (dict(to_party=buyer, quantity=1, note="x" * 301), DomainError, "300"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            units.transfer_units(**base, **kwargs)
    with pytest.raises(DomainError, match="注销用途"):
        units.retire_units(actor=county_staff, issuance=issuance, party=household, quantity=1, reason=" ")
    with pytest.raises(PermissionDeniedError):
        units.transfer_units(
            actor=investor, issuance=issuance, from_party=household, to_party=buyer, quantity=1
        )
    with pytest.raises(ConflictError, match="持有 0"):
        units.transfer_units(
            actor=county_staff, issuance=issuance, from_party=buyer, to_party=household, quantity=1
        )
    assert issuance.blocks.count() == 1 and issuance.transfers.count() == 1


def test_retired_units_are_final(county_staff, carbon_right, household, buyer):
    issuance = issue(county_staff, carbon_right, quantity=10)
    units.retire_units(actor=county_staff, issuance=issuance, party=household, quantity=10, reason="抵消排放")
    for action in (
        lambda: units.transfer_units(
            actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=1
        ),
        lambda: units.retire_units(
            actor=county_staff, issuance=issuance, party=household, quantity=1, reason="再次"
        ),
    ):
        with pytest.raises(ConflictError, match="持有 0"):
            action()
    status = serial_status(issuance.serial_prefix, 7)
    assert status.retired and status.block.retirement_reason == "抵消排放"
    assert_exact_cover(issuance)


def test_serial_status_and_masking(county_staff, carbon_right, household, buyer):
    issuance = issue(county_staff, carbon_right, quantity=10)
    units.transfer_units(
        actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=3
    )
    assert serial_status(issuance.serial_prefix, 2).holder_display == buyer.organization.name
    held = serial_status(issuance.serial_prefix, 4)
    assert not held.retired
    name = household.person.name
    assert held.holder_display == name[0] + "*" * (len(name) - 1) and name not in held.holder_display
    assert serial_status(issuance.serial_prefix, 11) is None
    assert serial_status("TMCS-NOPE", 1) is None
    assert public_name(buyer) == buyer.organization.name


def test_period_bounds_vintage(county_staff, registered_asset, carbon_type, household):
    asset = registered_asset(
        [], resource_type=carbon_type, attributes={"methodology": "m"}, quantity=Decimal("100")
    )
    right = registry.grant_right(
        actor=county_staff,
        asset=asset,
        holder=household,
        kind=RightKind.CARBON_SINK,
        start=datetime.date(2021, 1, 1),
        end=datetime.date(2023, 1, 1),
        source_document="碳汇权证（测试）",
    )
    with pytest.raises(DomainError, match="有效期"):
        issue(county_staff, right, quantity=1, year=2023)
    assert issue(county_staff, right, quantity=1, year=2022).vintage_year == 2022
