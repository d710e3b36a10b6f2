"""Accounting runs on the real database: inputs frozen, chunks idempotent, rollups exact."""

from decimal import Decimal

import pytest

from directory.models import AdministrativeDivision
from resources.tests.conftest import square
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError
from valuation import services
from valuation.models import AssetResult, ParameterValue, PriceBasis, PriceIndex, Rollup, RunStatus
from valuation.services import runs

pytestmark = pytest.mark.django_db

R1_PRICE = Decimal("7.06")
WATER = {"precipitation": ("1650", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")}


@pytest.fixture
def eager(celery_eager, django_capture_on_commit_callbacks):
    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            run = services.start_run(**kwargs)
        run.refresh_from_db()
        return run

    return run


@pytest.fixture
def parameter_set(city_admin):
    return services.load_default_parameter_set(actor=city_admin)


@pytest.fixture
def reviewer(make_member, county_cooperative):
    return make_member("coop_staff", county_cooperative)


@pytest.fixture
def forests(make_asset):
    """Three forest parcels in the demo village, out of draft so that runs value them."""
    return [make_asset(geometry=square(dx=0.002 * i), status="under_review") for i in range(3)]


@pytest.fixture
def county():
    return AdministrativeDivision.objects.get(code="331102000000")


def enter(actor, asset, values, year=2025, indicator="water_conservation"):
    for key, (value, unit) in values.items():
        services.record_input(
            actor=actor,
            asset=asset,
            year=year,
            indicator_key=indicator,
            input_key=key,
            value=value,
            unit=unit,
            source="丽水市水文年鉴",
        )


def test_a_run_values_each_asset_from_its_area_and_rolls_up_exactly(
    eager, county_staff, forests, county, parameter_set
):
    for asset in forests:
        enter(county_staff, asset, WATER)
    run = eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    assert run.status == RunStatus.SUCCEEDED, run.warnings
    assert run.asset_count == 3 and run.chunk_count == 1
    for asset in forests:
        result = AssetResult.objects.get(run=run, asset=asset, indicator_key="water_conservation")
        expected_m3 = Decimal("550") * asset.area_m2 / 1000  # (1650 − 300 − 800) mm over the PostGIS area
        assert result.quantity == expected_m3
        assert result.value == (expected_m3 * R1_PRICE).quantize(Decimal("0.000001"))
    total = sum(r.value for r in AssetResult.objects.filter(run=run))
    assert run.total_value == total
    # every level of the tree carries the same total: village → township → county
    for code in ("331102199201", "331102199000", "331102000000"):
        rollup = Rollup.objects.get(run=run, division__code=code, indicator_key="water_conservation")
        assert rollup.value == total
    assert parameter_set.__class__.objects.get(pk=parameter_set.pk).is_locked
    assert any("价格年份" in w for w in run.warnings)  # 2010 example prices used for 2025


def test_rerunning_gives_identical_numbers_and_checksum(eager, county_staff, forests, county, parameter_set):
    for asset in forests:
        enter(county_staff, asset, WATER)
    first = eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    second = eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    assert first.total_value == second.total_value and first.total_value > 0
    assert first.inputs_checksum == second.inputs_checksum
    enter(county_staff, forests[0], {"precipitation": ("1700", "mm")})
    third = eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    assert third.inputs_checksum != first.inputs_checksum and third.total_value > first.total_value


def test_inputs_edited_during_a_run_do_not_change_it(settings, county_staff, forests, county, parameter_set):
    for asset in forests:
        enter(county_staff, asset, WATER)
    run = services.start_run(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    enter(county_staff, forests[0], {"precipitation": ("2500", "mm")})  # after the snapshot
    services.process_chunk(run.pk, 0)
    services.maybe_finalize(run.pk)
    run.refresh_from_db()
    frozen = Decimal("550") * forests[0].area_m2 / 1000
    assert AssetResult.objects.get(run=run, asset=forests[0]).quantity == frozen


def test_a_redelivered_chunk_is_not_counted_twice(county_staff, forests, county, parameter_set, monkeypatch):
    monkeypatch.setattr(runs, "CHUNK_SIZE", 2)
    for asset in forests:
        enter(county_staff, asset, WATER)
    run = services.start_run(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    assert run.chunk_count == 2
    assert services.process_chunk(run.pk, 0) is True
    # the worker dies before acknowledging: the broker hands chunk 0 out again, then chunk 1
    assert services.process_chunk(run.pk, 0) is False
    services.maybe_finalize(run.pk)  # not yet: chunk 1 is open
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    services.process_chunk(run.pk, 1)
    services.maybe_finalize(run.pk)
    services.finalize_run(run.pk)  # a second finalizer finds the run finished and leaves it
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert AssetResult.objects.filter(run=run).count() == 3
    assert run.total_value == sum(r.value for r in AssetResult.objects.filter(run=run))


def test_region_only_indicators_and_superseding_statistics(
    eager, county_staff, forests, county, parameter_set
):
    township = AdministrativeDivision.objects.get(code="331102199000")
    for key, value, unit in (
        ("visits", "120000", "person_visits"),
        ("travel_cost_per_visit", "350", "yuan_per_visit"),
    ):
        services.record_input(
            actor=county_staff,
            division=township,
            year=2025,
            indicator_key="landscape_recreation",
            input_key=key,
            value=value,
            unit=unit,
            source="乡镇旅游统计",
        )
    for asset in forests:
        enter(county_staff, asset, WATER)
    # a township-wide water-conservation statistic replaces the plot figures beneath it
    for key, (value, unit) in {**WATER, "area": ("12", "km2")}.items():
        services.record_input(
            actor=county_staff,
            division=township,
            year=2025,
            indicator_key="water_conservation",
            input_key=key,
            value=value,
            unit=unit,
            source="乡镇水文统计",
        )
    run = eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    assert run.status == RunStatus.SUCCEEDED
    tourism = Rollup.objects.get(run=run, division=county, indicator_key="landscape_recreation")
    assert tourism.value == Decimal("120000") * Decimal("350")
    water = Rollup.objects.get(run=run, division=county, indicator_key="water_conservation")
    assert water.value == Decimal("550") * Decimal("12000000") / 1000 * R1_PRICE
    assert any("不再重复计入" in w for w in run.warnings)
    assert run.total_value == tourism.value + water.value


@pytest.mark.parametrize(
    ("key", "value", "unit", "field", "message"),
    [
        ("precipitation", "-5", "mm", "value", "不能小于"),
        ("precipitation", "1650", "furlong", "value", "未知单位"),
        ("rainfall", "1650", "mm", "input_key", "没有输入项"),
    ],
)
def test_bad_inputs_are_refused(county_staff, forests, key, value, unit, field, message):
    with pytest.raises(DomainError) as error:
        enter(county_staff, forests[0], {key: (value, unit)})
    assert any(message in m for m in error.value.fields[field])
    assert not forests[0].gep_inputs.exists()


def test_runoff_above_precipitation_is_refused(county_staff, forests):
    enter(county_staff, forests[0], {"precipitation": ("800", "mm")})
    with pytest.raises(DomainError) as error:
        enter(county_staff, forests[0], {"runoff": ("900", "mm")})
    assert "径流" in str(error.value.fields)
    assert forests[0].gep_inputs.count() == 1


def test_unknown_indicator_and_region_only_indicator_on_an_asset(county_staff, forests):
    with pytest.raises(DomainError) as error:
        enter(county_staff, forests[0], {"visits": ("10", "person_visits")}, indicator="spaceship")
    assert "未知的指标" in error.value.fields["indicator_key"][0]
    with pytest.raises(DomainError) as error:
        enter(county_staff, forests[0], {"visits": ("10", "person_visits")}, indicator="landscape_recreation")
    assert "区域层面" in error.value.fields["indicator_key"][0]


def test_comparable_prices_need_the_base_year_set_and_indices(
    county_staff, forests, county, parameter_set, eager
):
    with pytest.raises(DomainError) as error:
        services.start_run(
            actor=county_staff,
            division=county,
            year=2025,
            parameter_set=parameter_set,
            price_basis=PriceBasis.COMPARABLE,
            base_year=2020,
        )
    assert "基准年价格" in error.value.fields["base_year"][0]
    with pytest.raises(DomainError) as error:
        services.start_run(
            actor=county_staff,
            division=county,
            year=2025,
            parameter_set=parameter_set,
            price_basis=PriceBasis.COMPARABLE,
            base_year=2010,
        )
    assert "价格指数" in error.value.detail
    PriceIndex.objects.create(series="agri_producer", year=2010, value=Decimal("100"), source="统计年鉴")
    PriceIndex.objects.create(series="agri_producer", year=2025, value=Decimal("160"), source="统计年鉴")
    tea = forests[0]
    tea.resource_type.gep_indicators = [*tea.resource_type.gep_indicators, "agricultural_products"]
    tea.resource_type.save()
    enter(
        county_staff,
        tea,
        {"output_quantity": ("10", "t"), "market_price": ("8000", "yuan_per_t")},
        indicator="agricultural_products",
    )
    run = eager(
        actor=county_staff,
        division=county,
        year=2025,
        parameter_set=parameter_set,
        price_basis=PriceBasis.COMPARABLE,
        base_year=2010,
    )
    result = AssetResult.objects.get(run=run, indicator_key="agricultural_products")
    assert result.value == Decimal("80000") * Decimal("100") / Decimal("160")


def test_accepting_needs_a_second_person_and_a_finished_run(
    eager, county_staff, reviewer, forests, county, parameter_set
):
    enter(county_staff, forests[0], WATER)
    run = eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    with pytest.raises(PermissionDeniedError):
        services.accept_run(actor=county_staff, run=run)
    services.accept_run(actor=reviewer, run=run)
    with pytest.raises(ConflictError):
        services.accept_run(actor=reviewer, run=run)
    with pytest.raises(InvalidTransition):
        services.cancel_run(actor=county_staff, run=run)


def test_used_parameter_sets_are_frozen_and_copied(
    eager, city_admin, county_staff, forests, county, parameter_set
):
    enter(county_staff, forests[0], WATER)
    eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    price = parameter_set.values.get(indicator_key="water_conservation", param_key="reservoir_cost")
    with pytest.raises(ConflictError):
        services.update_parameter_value(
            actor=city_admin, value=price, new_value="8.50", source="DB33/T 2274-2025", authority="standard"
        )
    copy = services.copy_parameter_set(actor=city_admin, source=parameter_set, price_year=2025)
    assert (copy.version, copy.values.count()) == (2, parameter_set.values.count())
    new_price = copy.values.get(indicator_key="water_conservation", param_key="reservoir_cost")
    with pytest.raises(DomainError) as error:
        services.update_parameter_value(
            actor=city_admin, value=new_price, new_value="-1", source="x", authority="standard"
        )
    assert "value" in error.value.fields
    services.update_parameter_value(
        actor=city_admin,
        value=new_price,
        new_value="8.50",
        source="DB33/T 2274-2025",
        clause="表B.1",
        authority="standard",
        year=2025,
    )
    assert ParameterValue.objects.get(pk=price.pk).value == R1_PRICE
    assert ParameterValue.objects.get(pk=new_price.pk).value == Decimal("8.50")
    with pytest.raises(PermissionDeniedError):
        services.copy_parameter_set(actor=county_staff, source=parameter_set)


def test_staff_cannot_run_outside_their_county(make_member, demo_region, parameter_set):
    from directory.models import Organization, OrganizationKind

    elsewhere = Organization.objects.create(
        name="云和县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331125000000"),
    )
    outsider = make_member("coop_staff", elsewhere)
    with pytest.raises(PermissionDeniedError):
        services.start_run(
            actor=outsider,
            division=AdministrativeDivision.objects.get(code="331102000000"),
            year=2025,
            parameter_set=parameter_set,
        )


@pytest.mark.django_db(transaction=True)
def test_a_run_goes_through_a_real_worker(county_staff, forests, county, city_admin, celery_worker_process):
    from conftest import _wait_for
    from valuation.models import AccountingRun

    parameter_set = services.load_default_parameter_set(actor=city_admin)
    for asset in forests:
        enter(county_staff, asset, WATER)
    run = services.start_run(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    _wait_for(lambda: AccountingRun.objects.get(pk=run.pk).is_done, timeout=60, what="the accounting run")
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.total_value == sum(r.value for r in AssetResult.objects.filter(run=run)) > 0


def test_latest_accepted_valuation_of_an_asset(eager, county_staff, reviewer, forests, county, parameter_set):
    from valuation.selectors import latest_asset_valuation

    enter(county_staff, forests[0], WATER)
    assert latest_asset_valuation(forests[0]) is None
    older = eager(actor=county_staff, division=county, year=2024, parameter_set=parameter_set)
    assert older.total_value == 0  # no inputs for 2024
    run = eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    assert latest_asset_valuation(forests[0]) is None  # not yet adopted
    services.accept_run(actor=reviewer, run=run)
    valuation = latest_asset_valuation(forests[0])
    assert valuation.run == run
    assert valuation.total == AssetResult.objects.get(run=run, asset=forests[0]).value
    assert [r.indicator_key for r in valuation.results] == ["water_conservation"]


def test_demo_valuation_loads_once_with_a_trend(demo_region):
    from resources.demo import load_demo_assets
    from valuation.demo import load_demo_valuation
    from valuation.selectors import run_summary

    load_demo_assets()
    runs = load_demo_valuation()
    assert [r.year for r in runs] == [2024, 2025]
    assert all(r.status == RunStatus.SUCCEEDED and r.accepted_at for r in runs)
    latest = runs[-1]
    summary = run_summary(latest)
    assert {i["key"] for i in summary["indicators"]} >= {"water_conservation", "landscape_recreation"}
    assert [year for year, _value, _accepted in summary["trend"]] == [2024, 2025]
    assert sum(summary["categories"].values()) == latest.total_value
    assert load_demo_valuation() == []


def test_a_failing_chunk_fails_the_run_and_retry_continues(
    county_staff,
    forests,
    county,
    parameter_set,
    monkeypatch,
    celery_eager,
    django_capture_on_commit_callbacks,
):
    from valuation.tasks import run_chunk_task

    monkeypatch.setattr(runs, "CHUNK_SIZE", 2)
    for asset in forests:
        enter(county_staff, asset, WATER)
    run = services.start_run(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    services.process_chunk(run.pk, 0)
    real = runs._chunk_results
    monkeypatch.setattr(runs, "_chunk_results", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_chunk_task.apply(args=[run.pk, 1], throw=True)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "ZeroDivisionError" in run.error
    assert AssetResult.objects.filter(run=run).count() == 2  # chunk 0 kept, chunk 1 rolled back
    monkeypatch.setattr(runs, "_chunk_results", real)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_run(actor=county_staff, run=run)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and AssetResult.objects.filter(run=run).count() == 3
    with pytest.raises(InvalidTransition):
        services.retry_run(actor=county_staff, run=run)


def test_double_counting_of_the_same_reservoir_is_flagged(
    eager, county_staff, make_asset, county, parameter_set
):
    from resources.models import ResourceType

    reservoir = make_asset(
        resource_type=ResourceType.objects.get(code="water_body"),
        name="示范水库",
        attributes={"water_quality_class": "II"},
        status="under_review",
    )
    enter(county_staff, reservoir, {"residential_water": ("1200000", "m3")}, indicator="water_supply")
    enter(county_staff, reservoir, {"reservoir_capacity": ("3000000", "m3")}, indicator="flood_regulation")
    run = eager(actor=county_staff, division=county, year=2025, parameter_set=parameter_set)
    assert run.status == RunStatus.SUCCEEDED
    assert any(reservoir.code in w and "洪水调蓄与水资源" in w for w in run.warnings)
    assert AssetResult.objects.filter(run=run, asset=reservoir).count() == 2  # flagged, not dropped
