# ruff: noqa: F811  (fixtures imported from fixtures_gep_balance)
"""Restoration and protection credits: exact amounts (computed here from the results, not by the
service), every refusal, and nothing half-written when refused."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import GepBalance, GepBalanceEntry, GepEntryKind, ProjectStatus
from projects.services import gep_balance
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .fixtures_gep_balance import (  # noqa: F401  (fixtures)
    auditor,
    bare_asset,
    entries_total,
    make_run,
    outside_asset,
    qingtian,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def restored(bare_asset, make_run):
    """Two assets valued in 2024 and 2025: a1 gained, a2 lost a little."""
    a1, a2 = bare_asset(), bare_asset()
    base = make_run(2024, {a1: {"regulating": "1000.50", "material": "200"}, a2: {"regulating": "500"}})
    run = make_run(2025, {a1: {"regulating": "1300.25", "material": "150"}, a2: {"regulating": "450.10"}})
    return a1, a2, base, run


def restore(actor, assets, base, run, **extra):
    return gep_balance.record_restoration(
        actor=actor,
        assets=assets,
        baseline_run=base,
        run=run,
        memo="石门坑废弃矿山生态修复工程",
        occurred_on=extra.pop("occurred_on", timezone.localdate()),
        **extra,
    )


def assert_nothing_written(county):
    assert not GepBalanceEntry.objects.exists()
    assert gep_balance.balance_of(county) == Decimal("0.00")


# --- restoration --------------------------------------------------------------------------------


def test_restoration_credits_the_net_gain_of_all_chosen_assets(gep_rule, restored, county_staff, county):
    a1, a2, base, run = restored
    entry = restore(county_staff, [a1, a2], base, run)
    # a1: (1300.25 + 150) − (1000.50 + 200) = 249.75; a2: 450.10 − 500 = −49.90 (reduces the total)
    assert entry.amount == Decimal("199.85")
    assert entry.kind == GepEntryKind.RESTORATION
    assert entry.division == county
    assert (entry.run, entry.baseline_run) == (run, base)
    assert set(entry.assets.all()) == {a1, a2}
    assert entry.balance_after == Decimal("199.85") == gep_balance.balance_of(county)
    calc = entry.calculation
    assert calc["baseline_run"]["id"] == base.pk and calc["baseline_run"]["year"] == 2024
    assert calc["run"]["id"] == run.pk and calc["run"]["year"] == 2025
    assert calc["categories"] == ["material", "regulating", "cultural"]
    assert calc["offset_ratio"] == "1.000000" and calc["ratio_applied"] is False
    assert calc["declined_assets"] == [a2.code]
    lines = {line["asset"]: line for line in calc["lines"]}
    assert Decimal(lines[a1.code]["baseline"]["material"]) == Decimal("200")
    assert Decimal(lines[a1.code]["current_value"]) == Decimal("1450.25")
    assert Decimal(lines[a2.code]["gain"]) == Decimal("-49.90")


def test_restoration_counts_only_the_rule_categories(make_gep_rule, restored, county_staff):
    make_gep_rule(categories=["regulating"], offset_ratio=Decimal("1.5"))
    a1, a2, base, run = restored
    entry = restore(county_staff, [a1, a2], base, run)
    # regulating only: (1300.25 − 1000.50) + (450.10 − 500) = 299.75 − 49.90; the ratio weighs debits only
    assert entry.amount == Decimal("249.85")


def test_restoration_rounds_once_at_the_end(gep_rule, bare_asset, make_run, county_staff):
    a1, a2 = bare_asset(), bare_asset()
    base = make_run(2024, {a1: {"regulating": "100.001000"}, a2: {"regulating": "100.001000"}})
    run = make_run(2025, {a1: {"regulating": "100.005000"}, a2: {"regulating": "100.005000"}})
    # each gain is 0.004 (0.00 when rounded alone); together 0.008 → 0.01
    assert restore(county_staff, [a1, a2], base, run).amount == Decimal("0.01")


def test_restoration_attributed_to_an_admitted_project(gep_rule, restored, county_staff, make_project):
    a1, _a2, base, run = restored
    project = make_project(status=ProjectStatus.ADMITTED, admitted_on=datetime.date(2025, 3, 1))
    entry = restore(county_staff, [a1], base, run, project=project)
    assert entry.project == project
    draft = make_project()
    with pytest.raises(DomainError) as info:  # the project is checked before the duplicate
        restore(county_staff, [a1], base, run, project=draft)
    assert "project" in info.value.fields


@pytest.mark.parametrize("which", ["baseline", "run"])
def test_restoration_refuses_an_unaccepted_run(gep_rule, bare_asset, make_run, county_staff, county, which):
    asset = bare_asset()
    base = make_run(2024, {asset: {"regulating": "100"}}, accepted=which != "baseline")
    run = make_run(2025, {asset: {"regulating": "200"}}, accepted=which != "run")
    with pytest.raises(DomainError) as info:
        restore(county_staff, [asset], base, run)
    assert info.value.code == "run_not_accepted"
    assert ("baseline_run" if which == "baseline" else "run") in info.value.fields
    assert_nothing_written(county)


@pytest.mark.parametrize(("base_year", "run_year"), [(2025, 2025), (2025, 2024)])
def test_restoration_refuses_wrong_year_order(
    gep_rule, bare_asset, make_run, county_staff, county, base_year, run_year
):
    asset = bare_asset()
    base = make_run(base_year, {asset: {"regulating": "100"}})
    run = make_run(run_year, {asset: {"regulating": "200"}})
    with pytest.raises(DomainError) as info:
        restore(county_staff, [asset], base, run)
    assert info.value.code == "run_order"
    assert_nothing_written(county)


def test_restoration_refuses_mixed_price_bases(gep_rule, bare_asset, make_run, county_staff, county):
    asset = bare_asset()
    base = make_run(2024, {asset: {"regulating": "100"}})
    run = make_run(2025, {asset: {"regulating": "200"}}, price_basis="comparable", base_year=2020)
    with pytest.raises(DomainError) as info:
        restore(county_staff, [asset], base, run)
    assert info.value.code == "price_basis_mismatch"
    assert_nothing_written(county)


def test_restoration_refuses_an_asset_outside_the_division(
    gep_rule, restored, outside_asset, make_run, county_staff, county
):
    a1, _a2, _base, _run = restored
    base = make_run(2024, {a1: {"regulating": "10"}, outside_asset: {"regulating": "10"}})
    run = make_run(2025, {a1: {"regulating": "20"}, outside_asset: {"regulating": "20"}})
    with pytest.raises(DomainError) as info:
        restore(county_staff, [a1, outside_asset], base, run, division=county)
    assert info.value.code == "asset_outside_division"
    assert outside_asset.code in str(info.value.detail)
    assert_nothing_written(county)


def test_restoration_refuses_an_asset_of_a_nested_balancing_division(
    gep_rule, make_gep_rule, restored, county_staff, county
):
    a1, a2, base, run = restored
    make_gep_rule(division=a1.division.parent)  # the township balances on its own
    with pytest.raises(DomainError) as info:
        restore(county_staff, [a1, a2], base, run, division=county)
    assert info.value.code == "asset_outside_division"
    assert_nothing_written(county)


def test_restoration_refuses_a_division_without_its_own_rule(gep_rule, restored, county_staff, village):
    a1, _a2, base, run = restored
    with pytest.raises(DomainError) as info:
        restore(county_staff, [a1], base, run, division=village)
    assert info.value.code == "not_balancing_division"


def test_restoration_refuses_an_asset_without_results_in_both_runs(
    gep_rule, bare_asset, make_run, county_staff, county
):
    a1, a2 = bare_asset(), bare_asset()
    base = make_run(2024, {a1: {"regulating": "100"}})
    run = make_run(2025, {a1: {"regulating": "300"}, a2: {"regulating": "300"}})
    with pytest.raises(DomainError) as info:
        restore(county_staff, [a1, a2], base, run)
    assert info.value.code == "missing_results"
    assert a2.code in str(info.value.detail) and a1.code not in str(info.value.detail)
    assert_nothing_written(county)


@pytest.mark.parametrize("after", ["450.10", "500"])
def test_restoration_refuses_when_nothing_was_gained(
    gep_rule, bare_asset, make_run, county_staff, county, after
):
    asset = bare_asset()
    base = make_run(2024, {asset: {"regulating": "500"}})
    run = make_run(2025, {asset: {"regulating": after}})
    with pytest.raises(DomainError) as info:
        restore(county_staff, [asset], base, run)
    assert info.value.code == "nothing_gained"
    if after != "500":
        assert asset.code in str(info.value.detail)  # the decliner is named
    assert_nothing_written(county)


def test_restoration_of_the_same_asset_and_run_is_credited_once(gep_rule, restored, county_staff, county):
    a1, a2, base, run = restored
    first = restore(county_staff, [a1, a2], base, run)
    with pytest.raises(ConflictError) as info:
        restore(county_staff, [a1], base, run)
    assert info.value.code == "already_credited"
    assert info.value.fields["entries"] == [first.number]
    assert first.number in str(info.value.detail)
    assert GepBalanceEntry.objects.count() == 1
    assert gep_balance.balance_of(county) == Decimal("199.85")


def test_restoration_spans_may_chain_but_not_overlap(gep_rule, bare_asset, make_run, county_staff):
    asset = bare_asset()
    r2023 = make_run(2023, {asset: {"regulating": "100"}})
    r2024 = make_run(2024, {asset: {"regulating": "150"}})
    r2025 = make_run(2025, {asset: {"regulating": "230"}})
    r2026 = make_run(2026, {asset: {"regulating": "260"}})
    first = restore(county_staff, [asset], r2024, r2025)
    assert first.amount == Decimal("80.00")
    with pytest.raises(ConflictError) as info:
        restore(county_staff, [asset], r2023, r2025)  # 2023→2025 contains 2024→2025
    assert info.value.fields["entries"] == [first.number]
    with pytest.raises(ConflictError):
        restore(county_staff, [asset], r2023, r2026)
    assert restore(county_staff, [asset], r2023, r2024).amount == Decimal("50.00")
    assert restore(county_staff, [asset], r2025, r2026).amount == Decimal("30.00")


def test_a_reversed_restoration_may_be_credited_again(gep_rule, restored, county_staff, county):
    a1, a2, base, run = restored
    first = restore(county_staff, [a1, a2], base, run)
    gep_balance.reverse_entry(actor=county_staff, entry=first, reason="误选资源")
    again = restore(county_staff, [a1], base, run)
    assert again.amount == Decimal("249.75")
    assert gep_balance.balance_of(county) == Decimal("249.75") == entries_total(county)


def test_restoration_dates(gep_rule, restored, county_staff, county):
    a1, _a2, base, run = restored
    for bad in (
        timezone.localdate() + datetime.timedelta(days=1),
        timezone.localdate() - datetime.timedelta(days=1),
    ):
        # the future, and a day before the runs were accepted
        with pytest.raises(DomainError) as info:
            restore(county_staff, [a1], base, run, occurred_on=bad)
        assert "occurred_on" in info.value.fields
    with pytest.raises(DomainError) as info:
        gep_balance.record_restoration(
            actor=county_staff,
            assets=[a1],
            baseline_run=base,
            run=run,
            memo=" ",
            occurred_on=timezone.localdate(),
        )
    assert "memo" in info.value.fields
    assert_nothing_written(county)


def test_restoration_with_no_assets_or_an_unknown_one(gep_rule, restored, county_staff, county):
    _a1, _a2, base, run = restored
    for assets in ([], [987654321]):
        with pytest.raises(DomainError) as info:
            restore(county_staff, assets, base, run)
        assert "assets" in info.value.fields
    assert_nothing_written(county)


@pytest.mark.parametrize("who", ["auditor", "investor"])
def test_restoration_needs_manage_projects(gep_rule, restored, county, request, who):
    a1, _a2, base, run = restored
    with pytest.raises(PermissionDeniedError):
        restore(request.getfixturevalue(who), [a1], base, run)
    assert_nothing_written(county)


def test_city_admin_may_record_a_restoration(gep_rule, restored, city_admin):
    a1, _a2, base, run = restored
    assert restore(city_admin, [a1], base, run).recorded_by == city_admin


# --- protection ---------------------------------------------------------------------------------


def protect(actor, assets, run, **extra):
    return gep_balance.record_protection(
        actor=actor,
        assets=assets,
        run=run,
        memo=extra.pop("memo", "划入县级生态公益林"),
        occurred_on=extra.pop("occurred_on", timezone.localdate()),
        protection_document=extra.pop("protection_document", "莲政发〔2026〕12号"),
        **extra,
    )


@pytest.fixture
def protected(bare_asset, make_run):
    a1, a2 = bare_asset(), bare_asset()
    run = make_run(
        2025,
        {a1: {"regulating": "800.40", "material": "300", "cultural": "50"}, a2: {"regulating": "100.05"}},
    )
    return a1, a2, run


def test_protection_credits_the_regulating_value(gep_rule, protected, county_staff, county):
    a1, a2, run = protected
    entry = protect(county_staff, [a1, a2], run)
    # regulating services only, share 1: 800.40 + 100.05 (material 300 and cultural 50 are not counted)
    assert entry.amount == Decimal("900.45")
    assert entry.kind == GepEntryKind.PROTECTION
    assert entry.run == run and entry.baseline_run is None
    calc = entry.calculation
    assert calc["categories"] == ["regulating"]
    assert calc["share"] == "1"
    assert calc["protection_document"] == "莲政发〔2026〕12号"
    credits = {line["asset"]: Decimal(line["credit"]) for line in calc["lines"]}
    assert credits == {a1.code: Decimal("800.40"), a2.code: Decimal("100.05")}
    assert gep_balance.balance_of(county) == Decimal("900.45") == entries_total(county)


def test_protection_needs_a_rule_that_counts_regulating(make_gep_rule, protected, county_staff, county):
    make_gep_rule(categories=["material", "cultural"])
    a1, _a2, run = protected
    with pytest.raises(DomainError) as info:
        protect(county_staff, [a1], run)
    assert info.value.code == "nothing_gained"
    assert_nothing_written(county)


def test_protection_refuses_a_zero_regulating_value(gep_rule, bare_asset, make_run, county_staff, county):
    asset = bare_asset()
    run = make_run(2025, {asset: {"material": "900"}})
    with pytest.raises(DomainError) as info:
        protect(county_staff, [asset], run)
    assert info.value.code == "nothing_gained"
    assert_nothing_written(county)


def test_an_asset_is_credited_for_protection_once(gep_rule, protected, make_run, county_staff, county):
    a1, a2, run = protected
    first = protect(county_staff, [a1], run)
    with pytest.raises(ConflictError) as info:
        protect(county_staff, [a2, a1], run)
    assert info.value.code == "already_credited"
    assert info.value.fields["entries"] == [first.number]
    assert a1.code in str(info.value.detail) and a2.code not in str(info.value.detail)
    assert GepBalanceEntry.objects.count() == 1
    assert gep_balance.balance_of(county) == Decimal("800.40")


def test_protection_refuses_an_unaccepted_or_outdated_run(
    gep_rule, protected, make_run, county_staff, county
):
    a1, _a2, run = protected
    pending = make_run(2026, {a1: {"regulating": "900"}}, accepted=False)
    with pytest.raises(DomainError) as info:
        protect(county_staff, [a1], pending)
    assert info.value.code == "run_not_accepted"
    make_run(2026, {a1: {"regulating": "900"}})
    with pytest.raises(DomainError) as info:
        protect(county_staff, [a1], run)
    assert info.value.code == "run_not_latest"
    assert_nothing_written(county)


def test_protection_refuses_an_asset_outside_or_without_results(
    gep_rule, protected, outside_asset, bare_asset, make_run, county_staff, county
):
    a1, _a2, run = protected
    run2 = make_run(2025, {a1: {"regulating": "1"}, outside_asset: {"regulating": "5"}})
    with pytest.raises(DomainError) as info:
        protect(county_staff, [a1, outside_asset], run2, division=county)
    assert info.value.code == "asset_outside_division"
    with pytest.raises(DomainError) as info:
        protect(county_staff, [a1, bare_asset()], run)
    assert info.value.code == "missing_results"
    assert_nothing_written(county)


@pytest.mark.parametrize(
    ("field", "value"), [("protection_document", ""), ("memo", "  "), ("protection_document", "文" * 301)]
)
def test_protection_refuses_missing_text(gep_rule, protected, county_staff, county, field, value):
    a1, _a2, run = protected
    with pytest.raises(DomainError) as info:
        protect(county_staff, [a1], run, **{field: value})
    assert field in info.value.fields
    assert_nothing_written(county)


def test_protection_needs_manage_projects(gep_rule, protected, auditor, county):
    a1, _a2, run = protected
    with pytest.raises(PermissionDeniedError):
        protect(auditor, [a1], run)
    assert_nothing_written(county)
    assert not GepBalance.objects.filter(balance__gt=0).exists()
