"""流转收储 services: drafts and their checks, signing (rights, shares, schedule), termination,
expiry and renewal."""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from directory.models import AdministrativeDivision, Notification, Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from resources import services as registry
from resources.models import AssetStatus, Right, RightKind, RightStatus
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError
from transactions.models import (
    CollectionBeneficiary,
    CollectionContract,
    CollectionItem,
    ContractStatus,
    Listing,
    ListingMode,
    ListingStatus,
    PackageItem,
    PaymentFrequency,
    ResourcePackage,
    RevenueModel,
    ScheduledPayment,
    ScheduleKind,
    ScheduleStatus,
    TradeContract,
    TradeContractItem,
    TradeKind,
)
from transactions.services import collection as svc

from .conftest import TERM_END, TERM_START

D = datetime.date


@pytest.fixture
def village_division(demo_region):
    return AdministrativeDivision.objects.get(code="331102199201")


@pytest.fixture
def parcels(registered_asset, households):
    """Two registered parcels: one held half/half by two households, one by the third."""
    h1, h2, h3 = households
    return [
        registered_asset([(h1, "1/2"), (h2, "1/2")], name="东坑林地"),
        registered_asset([(h3, 1)], name="西坞林地"),
    ]


@pytest.fixture
def terms(collective, village_division, parcels):
    def make(**overrides):
        data = {
            "division": village_division,
            "grantor": collective,
            "source_right_kind": RightKind.CONTRACT,
            "granted_right_kind": RightKind.MANAGEMENT,
            "start_date": TERM_START,
            "end_date": TERM_END,
            "revenue_model": RevenueModel.FIXED_RENT,
            "annual_amount": "12000.00",
            "dividend_rate": "0",
            "payment_frequency": PaymentFrequency.ANNUAL,
            "first_payment_date": TERM_START,
            "obligations": "乙方应保护生态，不得改变林地用途。",
            "assets": parcels,
        }
        data.update(overrides)
        return data

    return make


@pytest.fixture
def other_county_staff(demo_region, make_member):
    org = Organization.objects.create(
        name="青田县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    return make_member(Role.COOP_STAFF, org, username="qingtian_staff")


@pytest.fixture
def village_clerk(demo_region):
    return User.objects.get(username="village_clerk")


@pytest.fixture
def signed(county_staff, terms):
    contract = svc.create_collection_contract(actor=county_staff, **terms())
    return svc.sign_collection_contract(actor=county_staff, contract=contract)


def nothing_written():
    return not CollectionContract.objects.exists() and not CollectionItem.objects.exists()


# --- drafts --------------------------------------------------------------------------------------


def test_create_draft_weights_items_by_area(county_staff, terms, parcels, county_cooperative):
    contract = svc.create_collection_contract(actor=county_staff, **terms())
    assert contract.status == ContractStatus.DRAFT
    assert contract.number.startswith(f"SC{datetime.date.today().year}")
    assert contract.cooperative == county_cooperative
    assert contract.annual_amount == Decimal("12000.00")
    items = list(contract.items.order_by("asset_id"))
    assert [i.asset_id for i in items] == sorted(p.pk for p in parcels)
    for item in items:
        assert item.weight == item.asset.area_m2 > 0
        assert item.is_open and item.granted_right is None
    assert all(a.status == AssetStatus.REGISTERED for a in parcels)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"annual_amount": "0"}, "固定租金模式须填写大于0的年租金"),
        ({"dividend_rate": "0.1"}, "固定租金模式的分红比例须为0"),
        ({"revenue_model": RevenueModel.SHARE_DIVIDEND, "annual_amount": "0"}, "大于0的分红比例"),
        (
            {"revenue_model": RevenueModel.SHARE_DIVIDEND, "dividend_rate": "0.3"},
            "入股分红模式的年度金额须为0",
        ),
        (
            {"revenue_model": RevenueModel.GUARANTEED_PLUS_DIVIDEND},
            "保底收益+二次分红模式须填写大于0的分红比例",
        ),
        (
            {
                "revenue_model": RevenueModel.GUARANTEED_PLUS_DIVIDEND,
                "annual_amount": "0",
                "dividend_rate": "0.2",
            },
            "年度保底金额",
        ),
        (
            {"revenue_model": RevenueModel.SAVINGS, "annual_amount": "0"},
            "储蓄分红模式须填写大于0的年度保底收益",
        ),
        (
            {"revenue_model": RevenueModel.SHARE_DIVIDEND, "annual_amount": "0", "dividend_rate": "1.5"},
            "0 至 1",
        ),
        (
            {"revenue_model": RevenueModel.SHARE_DIVIDEND, "annual_amount": "0", "dividend_rate": "0.12345"},
            "四位小数",
        ),
        ({"dividend_rate": "abc"}, "有效的分红比例"),
        ({"annual_amount": "12.345"}, "两位小数"),
        ({"annual_amount": "-5"}, "不能为负数"),
        ({"annual_amount": "lots"}, "有效的金额"),
        ({"end_date": TERM_START}, "截止日须晚于起始日"),
        ({"end_date": D(2056, 1, 2)}, "不得超过 30 年"),
        ({"first_payment_date": TERM_END}, "首次支付日须在流转期限内"),
        ({"first_payment_date": D(2025, 12, 31)}, "首次支付日须在流转期限内"),
        ({"start_date": None}, "请填写起始日"),
        ({"assets": []}, "请至少选择一项资源"),
        ({"source_right_kind": RightKind.MANAGEMENT}, "不能是经营权或使用权"),
        ({"source_right_kind": "nonsense"}, "请选择收益归属的权利"),
        ({"granted_right_kind": RightKind.OWNERSHIP}, "须为经营权或使用权"),
        ({"source_right_kind": RightKind.OWNERSHIP}, "没有有效的所有权"),
        ({"revenue_model": "barter"}, "请选择收益模式"),
        ({"payment_frequency": "weekly"}, "请选择支付周期"),
        ({"grantor": None}, "请选择出让方"),
    ],
)
def test_create_refuses_invalid_terms(county_staff, terms, overrides, message):
    with pytest.raises(DomainError) as caught:
        svc.create_collection_contract(actor=county_staff, **terms(**overrides))
    assert message in str(caught.value.detail)
    assert nothing_written()


def test_create_refuses_duplicate_assets_and_enterprise_grantor(county_staff, terms, parcels, investor_org):
    with pytest.raises(DomainError, match="不能重复列入"):
        svc.create_collection_contract(actor=county_staff, **terms(assets=[parcels[0], parcels[0]]))
    with pytest.raises(DomainError, match="村集体经济组织、生态强村公司或农户"):
        svc.create_collection_contract(actor=county_staff, **terms(grantor=ensure_party(investor_org)))
    assert nothing_written()


def test_create_refuses_assets_not_collectable(
    county_staff, city_admin, terms, make_asset, parcels, households
):
    draft_asset = make_asset(name="未登记林地", geometry=None)  # stays a draft
    with pytest.raises(ConflictError, match="只有已登记的资源可以收储"):
        svc.create_collection_contract(actor=county_staff, **terms(assets=[draft_asset]))
    registry.freeze_for_dispute(
        actor=county_staff, asset=parcels[1], reason="边界争议", source_document="调解申请书"
    )
    with pytest.raises(ConflictError, match="争议冻结"):
        svc.create_collection_contract(actor=county_staff, **terms())
    assert nothing_written()


def test_create_refuses_asset_outside_division(county_staff, terms, parcels):
    township = AdministrativeDivision.objects.get(code="331102199000")
    village = AdministrativeDivision.objects.get(code="331102199201")
    other_village = AdministrativeDivision.objects.create(
        code="331102199202", name="邻村（测试）", level="village", parent=township
    )
    assert village.parent == township
    with pytest.raises(DomainError, match="不在合同所在区划内"):
        svc.create_collection_contract(actor=county_staff, **terms(division=other_village))
    assert nothing_written()


def test_source_rights_must_cover_the_term_and_sum_to_one(county_staff, terms, registered_asset, households):
    h1, h2, _h3 = households
    partial = registered_asset([(h1, "1/2")], name="半份林地")
    with pytest.raises(ConflictError) as caught:
        svc.create_collection_contract(actor=county_staff, **terms(assets=[partial]))
    assert "份额合计为 1/2" in caught.value.detail and "无人承接" in caught.value.detail
    short = registered_asset([], name="短期林地")
    registry.grant_right(
        actor=county_staff,
        asset=short,
        holder=h2,
        kind=RightKind.CONTRACT,
        start=D(2020, 1, 1),
        end=D(2028, 1, 1),
        source_document="承包合同",
    )
    with pytest.raises(ConflictError, match="于 2028-01-01 到期，流转期限不得超过其剩余期限"):
        svc.create_collection_contract(actor=county_staff, **terms(assets=[short]))
    late = registered_asset([], name="新承包林地")
    registry.grant_right(
        actor=county_staff,
        asset=late,
        holder=h2,
        kind=RightKind.CONTRACT,
        start=D(2027, 1, 1),
        source_document="x",
    )
    with pytest.raises(ConflictError, match="自 2027-01-01 起才有效"):
        svc.create_collection_contract(actor=county_staff, **terms(assets=[late]))
    assert nothing_written()


def test_asset_in_open_contract_is_refused_naming_it(county_staff, terms, parcels):
    first = svc.create_collection_contract(actor=county_staff, **terms(assets=[parcels[0]]))
    with pytest.raises(ConflictError) as caught:
        svc.create_collection_contract(actor=county_staff, **terms())
    assert first.number in caught.value.detail and parcels[0].code in caught.value.detail
    assert CollectionContract.objects.count() == 1 and CollectionItem.objects.count() == 1


def test_existing_management_right_or_lease_is_refused(county_staff, terms, parcels, investor_org):
    investor_party = ensure_party(investor_org)
    registry.grant_right(
        actor=county_staff,
        asset=parcels[0],
        holder=investor_party,
        kind=RightKind.MANAGEMENT,
        start=D(2029, 1, 1),
        end=D(2032, 1, 1),
        source_document="经营权流转合同",
    )
    with pytest.raises(ConflictError) as caught:
        svc.create_collection_contract(actor=county_staff, **terms())
    assert "已有有效的经营权" in caught.value.detail and investor_org.name in caught.value.detail
    registry.add_lease(
        actor=county_staff,
        asset=parcels[1],
        holder=investor_party,
        start=D(2025, 6, 1),
        end=D(2026, 6, 1),
        source_document="租赁合同",
    )
    with pytest.raises(ConflictError, match="有效的租赁"):
        svc.create_collection_contract(actor=county_staff, **terms(assets=[parcels[1]]))
    assert nothing_written()


@pytest.mark.parametrize("who", ["investor", "village_clerk", "other_county_staff", "bank_officer"])
def test_only_staff_of_the_division_may_create(request, terms, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDeniedError):
        svc.create_collection_contract(actor=actor, **terms())
    assert nothing_written()


def test_update_and_delete_draft(county_staff, terms, parcels, other_county_staff):
    contract = svc.create_collection_contract(actor=county_staff, **terms())
    svc.update_collection_contract(
        actor=county_staff, contract=contract, annual_amount="9000.50", assets=[parcels[1]]
    )
    contract.refresh_from_db()
    assert contract.annual_amount == Decimal("9000.50")
    assert list(contract.items.values_list("asset_id", flat=True)) == [parcels[1].pk]
    with pytest.raises(DomainError, match="截止日须晚于起始日"):
        svc.update_collection_contract(actor=county_staff, contract=contract, end_date=TERM_START)
    contract.refresh_from_db()
    assert contract.end_date == TERM_END
    with pytest.raises(PermissionDeniedError):
        svc.delete_draft_collection_contract(actor=other_county_staff, contract=contract)
    assert svc.delete_draft_collection_contract(actor=county_staff, contract=contract) == contract.number
    assert nothing_written()


# --- signing -------------------------------------------------------------------------------------


def test_sign_grants_rights_collects_assets_and_fixes_shares(
    signed, parcels, households, county_cooperative, village_clerk
):
    assert signed.status == ContractStatus.SIGNED and signed.signed_at is not None
    coop_party = ensure_party(county_cooperative)
    for item in signed.items.select_related("granted_right", "asset"):
        right = item.granted_right
        assert right.holder == coop_party and right.kind == RightKind.MANAGEMENT
        assert (right.period.lower, right.period.upper) == (TERM_START, TERM_END)
        assert right.source_document == f"流转收储合同 {signed.number}"
        assert right.status == RightStatus.ACTIVE
        assert item.asset.status == AssetStatus.COLLECTED
    assert Right.objects.filter(holder=coop_party).count() == 2
    w0, w1 = (Fraction(str(p.area_m2)) for p in parcels)
    expected = {
        households[0].pk: w0 / (w0 + w1) / 2,
        households[1].pk: w0 / (w0 + w1) / 2,
        households[2].pk: w1 / (w0 + w1),
    }
    shares = {
        b.party_id: Fraction(b.share_numerator, b.share_denominator) for b in signed.beneficiaries.all()
    }
    assert shares == expected and sum(shares.values()) == 1
    note = Notification.objects.get(recipient=village_clerk)
    assert signed.number in note.body and note.link == signed.get_absolute_url()


def test_schedule_adds_up_per_period_and_over_the_term(signed):
    lines = list(signed.schedule.all())
    assert {line.kind for line in lines} == {ScheduleKind.RENT}
    assert all(line.status == ScheduleStatus.DUE for line in lines)
    periods = {}
    for line in lines:
        periods.setdefault((line.period_start, line.period_end, line.due_date), []).append(line.amount)
    assert sorted(periods) == [(D(y, 1, 1), D(y + 1, 1, 1), D(y, 1, 1)) for y in range(2026, 2031)]
    assert all(sum(amounts) == Decimal("12000.00") for amounts in periods.values())
    assert sum(line.amount for line in lines) == Decimal("60000.00")


def _draft(**fields):
    base = {
        "start_date": D(2026, 1, 31),
        "end_date": D(2028, 8, 15),
        "annual_amount": Decimal("1000.01"),
        "payment_frequency": PaymentFrequency.QUARTERLY,
        "first_payment_date": D(2026, 2, 28),
    }
    return CollectionContract(**{**base, **fields})


def test_schedule_periods_prorate_the_last_period_exactly():
    periods = svc.schedule_periods(_draft())
    assert periods[0][:3] == (D(2026, 1, 31), D(2026, 4, 30), D(2026, 2, 28))
    assert periods[1][:2] == (D(2026, 4, 30), D(2026, 7, 31))  # month ends clamp, then recover
    last = periods[-1]
    assert last[:2] == (D(2028, 7, 31), D(2028, 8, 15))
    # 10 full quarters + 15 days: 2500.025 + 41.0963… = 2541.1213… → 2541.12
    assert len(periods) == 11 and sum(p[3] for p in periods) == Decimal("2541.12")
    assert all(abs(p[3] - Decimal("250.0025")) < Decimal("0.01") for p in periods[:-1])
    assert periods[-1][3] == Decimal("41.09")  # 2541.12 − 2500.03 (2500.025 rounded half up)
    assert all(p[2] <= D(2028, 8, 14) for p in periods)
    once = svc.schedule_periods(_draft(payment_frequency=PaymentFrequency.ONCE))
    # 2 whole years + 197 days: 2000.02 + 539.7314… = 2539.75
    assert once == [(D(2026, 1, 31), D(2028, 8, 15), D(2026, 2, 28), Decimal("2539.75"))]


def test_quarterly_schedule_lines_split_to_the_cent(county_staff, terms):
    contract = svc.create_collection_contract(
        actor=county_staff,
        **terms(
            annual_amount="1000.01",
            payment_frequency=PaymentFrequency.QUARTERLY,
            end_date=D(2027, 2, 15),
            revenue_model=RevenueModel.SAVINGS,
            dividend_rate="0.05",
        ),
    )
    svc.sign_collection_contract(actor=county_staff, contract=contract)
    periods = svc.schedule_periods(contract)
    assert len(periods) == 5
    for start, _end, _due, total in periods:
        lines = contract.schedule.filter(period_start=start)
        assert sum(line.amount for line in lines) == total
        assert {line.kind for line in lines} == {ScheduleKind.SAVINGS}
    assert sum(p[3] for p in periods) == Decimal("1000.01") + Decimal("123.29")  # 45 days / 365
    assert contract.schedule.count() == 5 * 3


def test_share_dividend_has_beneficiaries_but_no_schedule(county_staff, terms):
    contract = svc.create_collection_contract(
        actor=county_staff,
        **terms(revenue_model=RevenueModel.SHARE_DIVIDEND, annual_amount="0", dividend_rate="0.35"),
    )
    svc.sign_collection_contract(actor=county_staff, contract=contract)
    assert contract.beneficiaries.count() == 3 and not contract.schedule.exists()


def test_exclusive_right_clash_at_signing_leaves_nothing(county_staff, terms, parcels, investor_org):
    contract = svc.create_collection_contract(actor=county_staff, **terms())
    registry.grant_right(
        actor=county_staff,
        asset=parcels[1],
        holder=ensure_party(investor_org),
        kind=RightKind.USE,
        start=D(2030, 6, 1),
        source_document="使用权合同",
    )
    with pytest.raises(ConflictError, match="已有有效的使用权"):
        svc.sign_collection_contract(actor=county_staff, contract=contract)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
    assert not Right.objects.filter(kind=RightKind.MANAGEMENT).exists()
    assert not CollectionBeneficiary.objects.exists() and not ScheduledPayment.objects.exists()
    assert {a.status for a in type(parcels[0]).objects.filter(pk__in=[p.pk for p in parcels])} == {
        AssetStatus.REGISTERED
    }


def test_signing_rechecks_shares(county_staff, terms, parcels):
    contract = svc.create_collection_contract(actor=county_staff, **terms())
    right = Right.objects.filter(asset=parcels[0], kind=RightKind.CONTRACT).order_by("pk").last()
    registry.end_right(actor=county_staff, right=right, reason="退包")
    with pytest.raises(ConflictError, match="份额合计为 1/2"):
        svc.sign_collection_contract(actor=county_staff, contract=contract)
    assert not Right.objects.filter(kind=RightKind.MANAGEMENT).exists()


def test_signing_is_refused_twice_and_to_outsiders(signed, county_staff, village_clerk, investor):
    with pytest.raises(InvalidTransition):
        svc.sign_collection_contract(actor=county_staff, contract=signed)
    for actor in (village_clerk, investor):
        with pytest.raises(PermissionDeniedError):
            svc.terminate_collection_contract(
                actor=actor, contract=signed, reason="x", effective_date=D(2027, 1, 1)
            )
    with pytest.raises(ConflictError, match="只有草稿"):
        svc.update_collection_contract(actor=county_staff, contract=signed, obligations="改")
    with pytest.raises(ConflictError, match="只有草稿"):
        svc.delete_draft_collection_contract(actor=county_staff, contract=signed)


# --- termination and expiry ----------------------------------------------------------------------


def test_terminate_ends_rights_returns_assets_and_cancels_later_lines(signed, county_staff, parcels):
    svc.terminate_collection_contract(
        actor=county_staff, contract=signed, reason="村集体决议收回", effective_date=D(2027, 6, 30)
    )
    signed.refresh_from_db()
    assert signed.status == ContractStatus.TERMINATED and signed.end_reason == "村集体决议收回"
    assert signed.ended_at is not None
    assert not signed.items.filter(is_open=True).exists()
    for item in signed.items.select_related("granted_right", "asset"):
        assert item.granted_right.status == RightStatus.ENDED
        assert item.asset.status == AssetStatus.REGISTERED
    due = signed.schedule.filter(status=ScheduleStatus.DUE)
    assert {line.due_date for line in due} == {D(2026, 1, 1), D(2027, 1, 1)}
    assert signed.schedule.filter(status=ScheduleStatus.CANCELLED, due_date__gt=D(2027, 6, 30)).count() == 9
    # the assets are free again for a new contract
    again = svc.create_collection_contract(
        actor=county_staff,
        division=signed.division,
        grantor=signed.grantor,
        source_right_kind=RightKind.CONTRACT,
        granted_right_kind=RightKind.MANAGEMENT,
        start_date=D(2027, 7, 1),
        end_date=D(2030, 7, 1),
        revenue_model=RevenueModel.FIXED_RENT,
        annual_amount="100",
        dividend_rate="0",
        payment_frequency=PaymentFrequency.ANNUAL,
        first_payment_date=D(2027, 7, 1),
        obligations="",
        assets=parcels,
    )
    assert again.items.count() == 2


def test_terminate_input_is_checked(signed, county_staff):
    with pytest.raises(DomainError, match="请填写解除原因"):
        svc.terminate_collection_contract(
            actor=county_staff, contract=signed, reason=" ", effective_date=None
        )
    with pytest.raises(DomainError, match="早于合同截止日"):
        svc.terminate_collection_contract(
            actor=county_staff, contract=signed, reason="x", effective_date=TERM_END
        )
    signed.refresh_from_db()
    assert signed.status == ContractStatus.SIGNED


def _listing(user, division, **target):
    return Listing.objects.create(
        code="GP2026000001",
        title="示范林地经营权",
        division=division,
        trade_kind=TradeKind.LEASE,
        mode=ListingMode.BIDDING,
        term_start=D(2026, 3, 1),
        term_end=D(2029, 3, 1),
        reserve_price=Decimal("50000"),
        deposit=Decimal("5000"),
        status=ListingStatus.IN_NOTICE,
        created_by=user,
        **target,
    )


def test_terminate_refused_while_assets_trade(signed, county_staff, parcels, village_division, investor_org):
    package = ResourcePackage.objects.create(
        code="ZB2026000001", name="示范林地包", division=village_division, created_by=county_staff
    )
    item = PackageItem.objects.create(package=package, asset=parcels[0])
    args = {"actor": county_staff, "contract": signed, "reason": "x", "effective_date": D(2027, 1, 1)}
    with pytest.raises(ConflictError, match="资源包 ZB2026000001"):
        svc.terminate_collection_contract(**args)
    item.is_open = False
    item.save()
    listing = _listing(county_staff, village_division, package=package)
    with pytest.raises(ConflictError, match="挂牌项目 GP2026000001（公示中）"):
        svc.terminate_collection_contract(**args)
    listing.status = ListingStatus.WITHDRAWN
    listing.save()
    trade = TradeContract.objects.create(
        number="JY2026000001",
        investor=investor_org,
        cooperative=signed.cooperative,
        division=village_division,
        kind=TradeKind.LEASE,
        start_date=D(2026, 3, 1),
        end_date=D(2029, 3, 1),
        price=Decimal("60000"),
        status=ContractStatus.SIGNED,
        created_by=county_staff,
    )
    TradeContractItem.objects.create(contract=trade, asset=parcels[1])
    with pytest.raises(ConflictError, match="交易合同 JY2026000001"):
        svc.terminate_collection_contract(**args)
    signed.refresh_from_db()
    assert signed.status == ContractStatus.SIGNED
    assert Right.objects.filter(kind=RightKind.MANAGEMENT, status=RightStatus.ACTIVE).count() == 2


@pytest.fixture
def past_contract(county_staff, terms):
    """Signed for 2020–2025 (the households' rights run from 2020)."""
    contract = svc.create_collection_contract(
        actor=county_staff,
        **terms(start_date=D(2020, 1, 1), end_date=D(2025, 1, 1), first_payment_date=D(2020, 3, 1)),
    )
    return svc.sign_collection_contract(actor=county_staff, contract=contract)


def test_expiry_is_idempotent_and_keeps_the_schedule(past_contract, parcels):
    assert svc.expire_collection_contracts(today=D(2024, 12, 31)) == 0
    assert svc.expire_collection_contracts(today=D(2025, 1, 1)) == 1
    assert svc.expire_collection_contracts(today=D(2025, 1, 1)) == 0
    past_contract.refresh_from_db()
    assert past_contract.status == ContractStatus.EXPIRED
    assert not past_contract.items.filter(is_open=True).exists()
    assert not Right.objects.filter(kind=RightKind.MANAGEMENT, status=RightStatus.ACTIVE).exists()
    assert {p.status for p in type(parcels[0]).objects.filter(pk__in=[p.pk for p in parcels])} == {
        AssetStatus.REGISTERED
    }
    assert past_contract.schedule.filter(status=ScheduleStatus.DUE).count() == 5 * 3


def test_renewal_signed_after_the_end_closes_the_old_contract(past_contract, county_staff, parcels):
    renewal = svc.renew_collection_contract(
        actor=county_staff, contract=past_contract, end_date=D(2035, 1, 1), annual_amount="15000"
    )
    assert renewal.status == ContractStatus.DRAFT and renewal.renewal_of == past_contract
    assert (renewal.start_date, renewal.first_payment_date) == (D(2025, 1, 1), D(2025, 3, 1))
    assert renewal.annual_amount == Decimal("15000.00")
    assert not renewal.items.filter(is_open=True).exists()  # the old contract still holds them
    with pytest.raises(ConflictError, match="已有续签合同"):
        svc.renew_collection_contract(actor=county_staff, contract=past_contract, end_date=D(2030, 1, 1))
    svc.sign_collection_contract(actor=county_staff, contract=renewal)
    past_contract.refresh_from_db()
    assert past_contract.status == ContractStatus.RENEWED
    rights = Right.objects.filter(kind=RightKind.MANAGEMENT)
    assert rights.filter(status=RightStatus.ENDED).count() == 2
    live = rights.filter(status=RightStatus.ACTIVE)
    assert {(r.period.lower, r.period.upper) for r in live} == {(D(2025, 1, 1), D(2035, 1, 1))}
    assert renewal.items.filter(is_open=True).count() == 2
    assert {p.status for p in type(parcels[0]).objects.filter(pk__in=[p.pk for p in parcels])} == {
        AssetStatus.COLLECTED
    }


def test_renewal_of_an_expired_contract(past_contract, county_staff):
    renewal = svc.renew_collection_contract(
        actor=county_staff, contract=past_contract, end_date=D(2030, 1, 1)
    )
    assert svc.expire_collection_contracts(today=D(2026, 1, 1)) == 1
    assert renewal.items.filter(is_open=True).count() == 2  # now held by the renewal
    svc.sign_collection_contract(actor=county_staff, contract=renewal)
    past_contract.refresh_from_db()
    assert past_contract.status == ContractStatus.RENEWED


def test_renewal_cannot_be_signed_before_the_old_end(signed, county_staff):
    renewal = svc.renew_collection_contract(actor=county_staff, contract=signed, end_date=D(2036, 1, 1))
    with pytest.raises(ConflictError, match="到期（2031-01-01）后签订"):
        svc.sign_collection_contract(actor=county_staff, contract=renewal)
    renewal.refresh_from_db()
    assert renewal.status == ContractStatus.DRAFT
    signed.refresh_from_db()
    assert signed.status == ContractStatus.SIGNED


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_drafts_for_one_asset(catalog, registered_asset, households, terms, county_staff):
    """Two clerks draft contracts over the same parcel at once: the asset lock (and the partial
    unique index behind it) lets exactly one through; the other is told which contract has it."""
    import threading

    from django.db import connection

    barrier, results = threading.Barrier(2), []

    def draft():
        try:
            barrier.wait()
            results.append(svc.create_collection_contract(actor=county_staff, **terms()))
        except ConflictError as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draft) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    contracts = [r for r in results if isinstance(r, CollectionContract)]
    refusals = [r for r in results if isinstance(r, ConflictError)]
    assert len(contracts) == 1 and len(refusals) == 1
    assert contracts[0].number in refusals[0].detail
    assert (
        CollectionContract.objects.count() == 1 and CollectionItem.objects.filter(is_open=True).count() == 2
    )


def test_termination_reverses_payables_recognised_for_cancelled_lines(
    signed, county_staff, county_cooperative
):
    from transactions.models import AccountKind, Movement, MovementKind
    from transactions.services import ledger

    coop = ensure_party(county_cooperative)
    line = signed.schedule.select_related("beneficiary__party").filter(due_date=D(2029, 1, 1)).first()
    party = line.beneficiary.party
    movement = ledger.post(
        actor=county_staff,
        kind=MovementKind.SCHEDULED_PAYMENT_DUE,
        memo="确认应付租金",
        lines=[
            ledger.debit(AccountKind.COLLECTION_COST, coop, line.amount),
            ledger.credit(AccountKind.PAYABLE, party, line.amount),
        ],
        collection_contract=signed,
    )
    ScheduledPayment.objects.filter(pk=line.pk).update(movement=movement)
    assert ledger.balance(AccountKind.PAYABLE, party) == -line.amount
    svc.terminate_collection_contract(
        actor=county_staff, contract=signed, reason="协商解除", effective_date=D(2027, 6, 30)
    )
    assert ledger.balance(AccountKind.PAYABLE, party) == 0
    assert ledger.balance(AccountKind.COLLECTION_COST, coop) == 0
    assert Movement.objects.get(reverses=movement).kind == MovementKind.REVERSAL
    line.refresh_from_db()
    assert line.status == ScheduleStatus.CANCELLED
