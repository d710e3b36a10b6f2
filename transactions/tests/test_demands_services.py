"""Investor demands: posting, closing, matching scores, and notifications sent once per new match
(through the hourly Celery task, run eagerly)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, Notification, Role, User
from resources.models import AssetStatus
from tmcs.errors import DomainError, InvalidTransition, PermissionDeniedError
from transactions import tasks
from transactions.models import Demand, DemandMatch, DemandStatus, PackageItem, PackageStatus, ResourcePackage
from transactions.services import demands
from valuation.models import AccountingRun, AssetResult, ParameterSet


@pytest.fixture
def county(demo_region):
    return AdministrativeDivision.objects.get(code="331102000000")


@pytest.fixture
def collected_asset(registered_asset, households):
    """collected_asset(**fields) → a forest parcel taken in by the cooperative (状态 已收储), set
    directly: the collection service is written elsewhere."""

    def make(**fields):
        asset = registered_asset([(households[0], 1)], **fields)
        asset.status = AssetStatus.COLLECTED
        asset.save(update_fields=["status"])
        return asset

    return make


@pytest.fixture
def ready_package(county_staff, village):
    counter = iter(range(1, 100))

    def make(assets, status=PackageStatus.READY):
        package = ResourcePackage.objects.create(
            code=f"ZBTEST{next(counter):04d}",
            name="示范村林地资源包",
            division=village,
            status=status,
            created_by=county_staff,
        )
        for asset in assets:
            PackageItem.objects.create(package=package, asset=asset)
        return package

    return make


def valuate(asset, total, user):
    pset, _created = ParameterSet.objects.get_or_create(
        name="需求匹配测试参数集",
        version=1,
        defaults=dict(
            standard="DB33/T 2274-2025",
            price_year=2024,
            valid_from=datetime.date(2024, 1, 1),
            created_by=user,
        ),
    )
    run = AccountingRun.objects.create(
        division=asset.division,
        year=2025,
        parameter_set=pset,
        status="succeeded",
        created_by=user,
        accepted_at=timezone.now(),
        accepted_by=user,
    )
    AssetResult.objects.create(
        run=run,
        asset=asset,
        division_code=asset.division.code,
        indicator_key="carbon_sequestration",
        category="regulating",
        quantity=Decimal(1),
        quantity_unit="t",
        value=Decimal(total),
    )


def post(investor, division, **fields):
    data = dict(intended_use="森林康养基地", resource_type=None, budget=None, term_years=None)
    data.update(fields)
    return demands.post_demand(actor=investor, division=division, **data)


def test_post_demand_matches_after_commit(
    investor, investor_org, village, forest_type, collected_asset, django_capture_on_commit_callbacks
):
    asset = collected_asset()
    with django_capture_on_commit_callbacks(execute=True):
        demand = post(investor, village, resource_type=forest_type, budget="500000.00", term_years=10)
    assert (demand.investor, demand.posted_by, demand.status) == (investor_org, investor, DemandStatus.OPEN)
    assert demand.budget == Decimal("500000.00")
    [match] = demand.matches.all()
    assert match.asset == asset and match.package is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"intended_use": " "}, "intended_use", "请填写用途"),
        ({"intended_use": "x" * 301}, "intended_use", "300"),
        ({"min_area_m2": "-1"}, "min_area_m2", "不小于0"),
        ({"min_area_m2": "abc"}, "min_area_m2", "不小于0"),
        ({"max_area_m2": "1.005"}, "max_area_m2", "两位小数"),
        ({"min_area_m2": "500", "max_area_m2": "100"}, "max_area_m2", "不能小于最小面积"),
        ({"budget": "0"}, "budget", "大于0"),
        ({"budget": "12.345"}, "budget", "两位小数"),
        ({"budget": "很多"}, "budget", "有效的金额"),
        ({"term_years": 0}, "term_years", "1 至 30"),
        ({"term_years": 31}, "term_years", "1 至 30"),
        ({"term_years": "十"}, "term_years", "整数"),
    ],
)
def test_post_demand_refuses_bad_input(investor, village, fields, field, message):
    with pytest.raises(DomainError) as caught:
        post(investor, village, **fields)
    assert message in " ".join(caught.value.fields[field])
    assert not Demand.objects.exists()


def test_post_demand_refuses_division_without_cooperative_and_non_investors(
    investor, village, county_staff, bank_officer
):
    hangzhou = AdministrativeDivision.objects.create(code="330100000000", name="杭州市", level="city")
    with pytest.raises(DomainError) as caught:
        post(investor, hangzhou)
    assert "division" in caught.value.fields
    for actor in (county_staff, bank_officer, User.objects.get(username="village_clerk")):
        with pytest.raises(PermissionDeniedError):
            post(actor, village)
    assert not Demand.objects.exists()


def test_close_demand_own_only_and_once(investor, second_investor, county_staff, village):
    demand = post(investor, village)
    for actor in (second_investor, county_staff):
        with pytest.raises(PermissionDeniedError):
            demands.close_demand(actor=actor, demand=demand)
    demands.close_demand(actor=investor, demand=demand)
    demand.refresh_from_db()
    assert demand.status == DemandStatus.CLOSED
    with pytest.raises(InvalidTransition):
        demands.close_demand(actor=investor, demand=demand)
    assert demands.match_demand(demand) == 0


def test_scores_and_candidates(
    investor,
    county_staff,
    village,
    county,
    forest_type,
    farmland_type,
    collected_asset,
    ready_package,
    registered_asset,
    households,
):
    perfect = collected_asset()
    area = perfect.area_m2
    valuate(perfect, "10000.00", county_staff)
    packaged = [collected_asset(), collected_asset()]
    package = ready_package(packaged)
    draft_package_asset = collected_asset()
    ready_package([draft_package_asset], status=PackageStatus.DRAFT)  # still in an open package
    registered_asset([(households[0], 1)])  # not collected: not on offer
    other_type = collected_asset(resource_type=farmland_type, attributes={"land_class": "水田"})
    elsewhere = collected_asset()
    elsewhere.division = (
        AdministrativeDivision.objects.filter(level="county").exclude(code__startswith="331102").first()
    )
    elsewhere.save(update_fields=["division"])

    demand = post(
        investor,
        village,
        resource_type=forest_type,
        min_area_m2=str(area - 1),
        max_area_m2=str(area + 1),
        budget="100000.00",
        term_years=10,
    )
    assert demands.match_demand(demand) == 2
    matches = list(demands.matches_of(demand))
    by_target = {(m.package_id, m.asset_id): m for m in matches}
    assert set(by_target) == {(None, perfect.pk), (package.pk, None)}
    top = by_target[(None, perfect.pk)]
    assert top.score == Decimal("100.00")
    assert any("暂无挂牌价" in r and "GEP" in r and "100000.00 元" in r for r in top.reasons)
    assert any("资源类型与需求一致" in r for r in top.reasons)
    assert "位于意向村内。" in top.reasons
    # The package has twice the area (about 100 % over the maximum → ~0 of 30) and no valuation.
    assert Decimal(55) < by_target[(package.pk, None)].score < Decimal(56)
    assert any("大于最大面积" in r for r in by_target[(package.pk, None)].reasons)
    assert matches[0] == top
    assert other_type.pk not in {m.asset_id for m in matches} and elsewhere.pk not in {
        m.asset_id for m in matches
    }

    # A county-wide demand without type or range: 15 + 15 + 10 + 10 = 50 for every candidate.
    wide = post(investor, county)
    demands.match_demand(wide)
    scores = {(m.package_id, m.asset_id): m.score for m in wide.matches.all()}
    assert scores[(None, other_type.pk)] == Decimal(50)
    assert (None, draft_package_asset.pk) not in scores


def test_low_scores_are_dropped_and_best_ten_kept(investor, village, county, forest_type, collected_asset):
    for _ in range(12):
        collected_asset()
    demand = post(investor, village, resource_type=forest_type)
    assert demands.match_demand(demand) == 10
    assert demand.matches.count() == 10
    far = post(investor, county, min_area_m2="1000000", budget="1.00")
    # Any type 15 + area about 0.3 + county 10 + no valuation 5 < 40: nothing kept.
    assert demands.match_demand(far) == 0 and not far.matches.exists()


def test_notifications_once_per_new_match(
    celery_eager, investor, county_staff, city_admin, village, forest_type, collected_asset
):
    first = collected_asset()
    demand = post(investor, village, resource_type=forest_type)
    assert tasks.match_open_demands.delay().get() == 1

    def inbox(user):
        return list(Notification.objects.filter(recipient=user).order_by("pk"))

    assert len(inbox(county_staff)) == 1 and len(inbox(city_admin)) == 1
    assert first.code in inbox(county_staff)[0].body
    assert inbox(county_staff)[0].link == f"/transactions/demands/{demand.pk}/"
    assert len(inbox(investor)) == 1 and "新增 1 项" in inbox(investor)[0].body
    clerk = User.objects.get(username="village_clerk")
    assert not inbox(clerk) and not inbox(User.objects.get(username="bank_officer"))

    assert tasks.match_open_demands.delay().get() == 0  # idempotent: nobody told twice
    assert len(inbox(county_staff)) == 1 and len(inbox(investor)) == 1

    second = collected_asset()
    assert tasks.match_open_demands.delay().get() == 1
    staff_notes = inbox(county_staff)
    assert len(staff_notes) == 2 and second.code in staff_notes[1].body
    assert len(inbox(investor)) == 2
    assert set(DemandMatch.objects.values_list("asset_id", flat=True)) == {first.pk, second.pk}
    # A match kept across runs keeps its first matching time.
    kept = DemandMatch.objects.get(asset=first)
    tasks.match_open_demands.delay().get()
    assert DemandMatch.objects.get(asset=first).created_at == kept.created_at


def test_staff_of_other_county_are_not_told(
    celery_eager, investor, village, forest_type, collected_asset, make_member, demo_region
):
    from directory.models import Organization, OrganizationKind

    qingtian = AdministrativeDivision.objects.get(code="331121000000")
    coop = Organization.objects.create(
        name="青田县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=qingtian
    )
    outsider = make_member(Role.COOP_STAFF, coop)
    collected_asset()
    post(investor, village, resource_type=forest_type)
    assert tasks.match_open_demands.delay().get() == 1
    assert not Notification.objects.filter(recipient=outsider).exists()


def test_demands_for_scopes(
    investor, second_investor, county_staff, city_admin, village, demo_region, make_member
):
    from directory.models import Organization, OrganizationKind

    mine = post(investor, village)
    theirs = post(second_investor, AdministrativeDivision.objects.get(code="331100000000"))
    assert set(demands.demands_for(investor)) == {mine}
    assert set(demands.demands_for(second_investor)) == {theirs}
    assert set(demands.demands_for(county_staff)) == {mine, theirs}  # city-wide concerns the county
    qingtian = AdministrativeDivision.objects.get(code="331121000000")
    coop = Organization.objects.create(
        name="青田县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=qingtian
    )
    assert set(demands.demands_for(make_member(Role.COOP_STAFF, coop))) == {theirs}
    assert not demands.demands_for(User.objects.get(username="village_clerk")).exists()
