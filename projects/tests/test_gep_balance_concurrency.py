# ruff: noqa: F811  (fixtures imported from fixtures_gep_balance)
"""Two clerks at once, in real threads: the balance row lock lets two admissions spend a credit
only once, and credits the same restoration only once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from projects.models import GepBalance, GepBalanceEntry, GepEntryKind, ProjectStatus
from projects.services import gep_balance
from tmcs.errors import DomainError

from .fixtures_gep_balance import bare_asset, entries_total, make_run  # noqa: F401  (fixtures)


def race(*calls):
    """Run each call in its own thread, released together; [result code] per call."""
    barrier, outcomes = threading.Barrier(len(calls)), []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("posted")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_admissions_cannot_spend_the_same_credit(
    catalog, gep_rule, gep_credit, valued_asset, make_project, county_staff, reviewer, county
):
    gep_credit(Decimal("100000"))
    asset = valued_asset(gep=Decimal("100000"))
    first, second = (
        make_project(consumptions=[(asset, "0.6")], status=ProjectStatus.ADMITTED) for _n in range(2)
    )
    outcomes = race(
        lambda: gep_balance.post_project_debit(actor=county_staff, project=first),
        lambda: gep_balance.post_project_debit(actor=reviewer, project=second),
    )
    assert outcomes == ["gep_shortfall", "posted"]
    debits = GepBalanceEntry.objects.filter(kind=GepEntryKind.PROJECT_DEBIT)
    assert debits.count() == 1 and debits.get().amount == Decimal("-60000.00")
    assert GepBalance.objects.get(division=county).balance == Decimal("40000.00") == entries_total(county)


@pytest.mark.django_db(transaction=True)
def test_the_same_restoration_is_credited_once(
    catalog, gep_rule, bare_asset, make_run, county_staff, reviewer, county
):
    asset = bare_asset()
    base = make_run(2024, {asset: {"regulating": "1000"}})
    run = make_run(2025, {asset: {"regulating": "1234.56"}})

    def restore(actor):
        return lambda: gep_balance.record_restoration(
            actor=actor,
            assets=[asset],
            baseline_run=base,
            run=run,
            memo="修复",
            occurred_on=timezone.localdate(),
        )

    # no balance row yet: both also race to create it
    assert not GepBalance.objects.filter(division=county).exists()
    assert race(restore(county_staff), restore(reviewer)) == ["already_credited", "posted"]
    entry = GepBalanceEntry.objects.get()
    assert entry.amount == Decimal("234.56")
    assert GepBalance.objects.get(division=county).balance == Decimal("234.56")
