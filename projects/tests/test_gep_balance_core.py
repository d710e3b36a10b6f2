"""The GEP balance core that admission relies on: measuring a project's debit from accepted
runs, the balancing division, and the refusal with the shortfall under the balance lock."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from projects.models import GepBalance, GepBalanceEntry, GepBalanceRule
from projects.services import gep_balance
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def test_debit_is_fraction_of_latest_accepted_gep_times_ratio(
    make_gep_rule, valued_asset, make_project, county
):
    make_gep_rule(offset_ratio=Decimal("1.2"))
    asset = valued_asset(gep=Decimal("100000"))
    project = make_project(consumptions=[(asset, "0.25")])
    measure = gep_balance.measure_project_debit(project)
    assert measure.division == county
    assert measure.amount == Decimal("30000.00")  # 100000 × 0.25 × 1.2
    assert Decimal(measure.lines[0]["gep"]) == Decimal("100000")


def test_no_rule_refuses(valued_asset, make_project):
    project = make_project(consumptions=[(valued_asset(), "0.1")])
    with pytest.raises(DomainError) as info:
        gep_balance.measure_project_debit(project)
    assert info.value.code == "no_gep_rule"


def test_shortfall_refused_and_nothing_written(
    gep_rule, gep_credit, valued_asset, make_project, county_staff
):
    gep_credit(Decimal("10000"))
    project = make_project(consumptions=[(valued_asset(gep=Decimal("100000")), "0.5")])
    preview = gep_balance.preview_admission(project)
    assert Decimal(preview["shortfall"]) == Decimal("40000.00")
    with pytest.raises(ConflictError) as info:
        gep_balance.post_project_debit(actor=county_staff, project=project)
    assert info.value.code == "gep_shortfall"
    assert Decimal(info.value.fields["shortfall"]) == Decimal("40000.00")
    assert GepBalanceEntry.objects.filter(project=project).count() == 0
    assert GepBalance.objects.get(division=gep_rule.division).balance == Decimal("10000.00")


def test_debit_posted_within_balance(gep_rule, gep_credit, valued_asset, make_project, county_staff):
    gep_credit(Decimal("60000"))
    project = make_project(consumptions=[(valued_asset(gep=Decimal("100000")), "0.5")])
    entry = gep_balance.post_project_debit(actor=county_staff, project=project)
    assert entry.amount == Decimal("-50000.00")
    assert entry.balance_after == Decimal("10000.00")
    assert gep_balance.balance_of(gep_rule.division) == Decimal("10000.00")


# --- rules, status, monitored divisions -------------------------------------------------------

RULE = dict(
    offset_ratio="1.2",
    categories=["regulating", "material"],
    warning_balance="50000",
    effective_from=datetime.date(2025, 1, 1),
    source="丽水市 GEP 占补平衡管理办法（试行）",
)


def test_set_rule_stores_a_canonical_version(city_admin, county):
    rule = gep_balance.set_rule(actor=city_admin, division=county, **RULE)
    rule.refresh_from_db()
    assert rule.offset_ratio == Decimal("1.2")
    assert rule.categories == ["material", "regulating"]  # canonical order, whatever was sent
    assert rule.warning_balance == Decimal("50000.00")
    assert gep_balance.rule_for(county, datetime.date(2025, 6, 1)) == rule
    assert gep_balance.monitored_divisions() == [county]


def test_new_version_supersedes_from_its_date_and_old_one_stays(city_admin, county):
    old = gep_balance.set_rule(actor=city_admin, division=county, **RULE)
    new = gep_balance.set_rule(
        actor=city_admin,
        division=county,
        **{**RULE, "offset_ratio": "1.5", "effective_from": timezone.localdate()},
    )
    assert gep_balance.rule_for(county, datetime.date(2025, 6, 1)) == old
    assert gep_balance.rule_for(county) == new
    old.refresh_from_db()
    assert old.offset_ratio == Decimal("1.2")  # never edited


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"offset_ratio": "0.9"}, "offset_ratio"),
        ({"offset_ratio": "abc"}, "offset_ratio"),
        ({"offset_ratio": "NaN"}, "offset_ratio"),
        ({"offset_ratio": "1.0000001"}, "offset_ratio"),
        ({"offset_ratio": "11"}, "offset_ratio"),
        ({"categories": []}, "categories"),
        ({"categories": ["regulating", "supporting"]}, "categories"),
        ({"categories": "regulating"}, "categories"),
        ({"warning_balance": "-1"}, "warning_balance"),
        ({"warning_balance": "1.001"}, "warning_balance"),
        ({"effective_from": "2025-01-01"}, "effective_from"),
        ({"source": "  "}, "source"),
    ],
)
def test_set_rule_refuses_bad_input(city_admin, county, changes, field):
    with pytest.raises(DomainError) as info:
        gep_balance.set_rule(actor=city_admin, division=county, **{**RULE, **changes})
    assert field in info.value.fields
    assert not GepBalanceRule.objects.exists()


def test_set_rule_needs_manage_oversight(county_staff, county):
    with pytest.raises(PermissionDeniedError):
        gep_balance.set_rule(actor=county_staff, division=county, **RULE)
    assert not GepBalanceRule.objects.exists()


def test_duplicate_and_backdated_versions_refused(city_admin, county, county_staff, gep_credit):
    gep_balance.set_rule(actor=city_admin, division=county, **RULE)
    with pytest.raises(ConflictError) as info:
        gep_balance.set_rule(actor=city_admin, division=county, **{**RULE, "offset_ratio": "2"})
    assert info.value.code == "duplicate"
    assert "2025-01-01" in str(info.value.detail)
    with pytest.raises(ConflictError) as info:
        gep_balance.set_rule(
            actor=city_admin, division=county, **{**RULE, "effective_from": datetime.date(2024, 12, 31)}
        )
    assert info.value.code == "rule_date_order"
    gep_credit(Decimal("100"))  # an entry booked on 2026-01-15 under the 2025 version
    with pytest.raises(ConflictError) as info:
        gep_balance.set_rule(
            actor=city_admin, division=county, **{**RULE, "effective_from": datetime.date(2026, 1, 15)}
        )
    assert info.value.code == "rule_date_order"
    assert GepBalanceRule.objects.filter(division=county).count() == 2  # the fixture's + the first


def test_balance_status_against_the_warning_line(make_gep_rule, gep_credit, county):
    make_gep_rule(warning=Decimal("1000"), effective_from=datetime.date(2025, 1, 1))  # after gep_rule's
    assert gep_balance.balance_status(county) == {
        "balance": Decimal("0.00"),
        "warning": Decimal("1000.00"),
        "status": "warning",
    }
    gep_credit(Decimal("1000"))
    assert gep_balance.balance_status(county)["status"] == "ok"
    GepBalance.objects.filter(division=county).update(balance=Decimal("-1"))
    assert gep_balance.balance_status(county)["status"] == "negative"


def test_balance_status_before_any_rule_is_in_force(make_gep_rule, county):
    make_gep_rule(warning=Decimal("500"), effective_from=timezone.localdate() + datetime.timedelta(days=30))
    assert gep_balance.balance_status(county) == {
        "balance": Decimal("0.00"),
        "warning": Decimal("0.00"),
        "status": "ok",
    }
    assert gep_balance.monitored_divisions() == [county]
