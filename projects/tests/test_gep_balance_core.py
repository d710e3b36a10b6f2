"""The GEP balance core that admission relies on: measuring a project's debit from accepted
runs, the balancing division, and the refusal with the shortfall under the balance lock."""

from decimal import Decimal

import pytest

from projects.models import GepBalance, GepBalanceEntry
from projects.services import gep_balance
from tmcs.errors import ConflictError, DomainError

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
