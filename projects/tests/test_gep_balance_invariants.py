# ruff: noqa: F811  (fixtures imported from fixtures_gep_balance)
"""Whatever mix of credits, debits, releases and reversals is attempted (refused ones included),
the balance row equals the sum of the division's entries, every entry's balance_after is the
running sum in posting order, and the balance never goes below zero."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projects.models import ExitReason, GepBalance, GepBalanceEntry, ProjectStatus
from projects.services import gep_balance
from tmcs.errors import DomainError

from .fixtures_gep_balance import bare_asset, make_run  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
SPANS = [(0, 1), (1, 2), (0, 2)]  # indexes into the pool's runs (2023, 2024, 2025)


@pytest.fixture
def pool(gep_rule, bare_asset, make_run):
    """Four valued assets whose GEP rises every year (2023 → 2024 → 2025)."""
    assets = [bare_asset() for _n in range(4)]
    runs = [
        make_run(year, {a: {"regulating": f"{(i + 1) * (1000 + 137 * k)}.37"} for i, a in enumerate(assets)})
        for k, year in enumerate((2023, 2024, 2025))
    ]
    return assets, runs


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("protect"), st.integers(0, 3)),
        st.tuples(st.just("restore"), st.integers(0, 3), st.integers(0, 2)),
        st.tuples(st.just("debit"), st.integers(0, 3), st.sampled_from(["0.05", "0.3", "0.9", "1"])),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
        st.tuples(st.just("release"), st.integers(0, 20), st.booleans()),
    ),
    max_size=14,
)


def check_invariants(division):
    entries = list(GepBalanceEntry.objects.filter(division=division).order_by("pk"))
    running = Decimal("0.00")
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running
        assert running >= 0
    row = GepBalance.objects.filter(division=division).first()
    assert (row.balance if row else Decimal("0.00")) == running
    total = GepBalanceEntry.objects.filter(division=division).aggregate(s=Sum("amount"))["s"]
    assert (total or Decimal("0.00")) == running


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_balance_row_equals_the_sum_of_entries(pool, make_project, county_staff, county, operations):
    assets, runs = pool
    today = timezone.localdate()
    savepoint = transaction.savepoint()
    try:
        projects = []
        for operation in operations:
            try:
                with transaction.atomic():
                    apply(operation, assets, runs, projects, make_project, county_staff, today)
            except DomainError:
                pass  # a refusal writes nothing (the block rolled back); the invariants still hold
            check_invariants(county)
    finally:
        transaction.savepoint_rollback(savepoint)


def apply(operation, assets, runs, projects, make_project, actor, today):
    kind = operation[0]
    if kind == "protect":
        gep_balance.record_protection(
            actor=actor,
            assets=[assets[operation[1]]],
            run=runs[2],
            memo="保护",
            occurred_on=today,
            protection_document="文件",
        )
    elif kind == "restore":
        first, last = SPANS[operation[2]]
        gep_balance.record_restoration(
            actor=actor,
            assets=[assets[operation[1]]],
            baseline_run=runs[first],
            run=runs[last],
            memo="修复",
            occurred_on=today,
        )
    elif kind == "debit":
        project = make_project(
            consumptions=[(assets[operation[1]], operation[2])],
            status=ProjectStatus.ADMITTED,
            admitted_on=today,
        )
        projects.append(project)
        gep_balance.post_project_debit(actor=actor, project=project, occurred_on=today)
    elif kind == "reverse":
        entries = list(GepBalanceEntry.objects.order_by("pk"))
        if entries:
            gep_balance.reverse_entry(actor=actor, entry=entries[operation[1] % len(entries)], reason="更正")
    elif kind == "release" and projects:
        project = projects[operation[1] % len(projects)]
        project.status = ProjectStatus.EXITED if operation[2] else ProjectStatus.WITHDRAWN
        project.exit_reason = ExitReason.OWNER_REQUEST if operation[2] else ""
        project.exited_on = today - datetime.timedelta(days=1) if operation[2] else None
        project.save()
        gep_balance.release_project_debit(actor=actor, project=project, reason="未开工", occurred_on=today)
