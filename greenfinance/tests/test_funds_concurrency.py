# ruff: noqa: F811  (fixtures imported from fixtures_funds)
"""Two desks racing for a fund's last cash, in real threads on their own connections: the fund's
row lock lets one drawdown through and refuses the other with the shortfall; the books agree."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from greenfinance.models import FundMovement, FundMovementKind
from greenfinance.services import funds
from tmcs.errors import DomainError

from .fixtures_funds import (  # noqa: F401  (fixtures)
    LATER,
    active_fund,
    assert_books_agree,
    bureau,
    commitment,
    fund,
    make_fund,
    project,
)


def run_together(*calls):
    """Start every call at the same moment; return their results (or raised DomainError codes)."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except DomainError as exc:
            results[index] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_drawdowns_racing_for_the_last_cash_one_is_refused(active_fund, project, county_staff, checker):
    """3,000,000 in the fund; each desk wants 2,000,000 of it."""

    def draw(actor, reference):
        return lambda: funds.draw_down(
            actor=actor,
            fund=active_fund,
            amount=Decimal("2000000.00"),
            occurred_on=LATER,
            recipient=project.owner,
            project=project,
            reference=reference,
            memo="投放",
        )

    results = run_together(draw(county_staff, "A"), draw(checker, "B"))
    made = [r for r in results if isinstance(r, FundMovement)]
    assert len(made) == 1 and [r for r in results if not isinstance(r, FundMovement)] == ["insufficient_cash"]
    assert FundMovement.objects.filter(fund=active_fund, kind=FundMovementKind.DRAWDOWN).count() == 1
    position = assert_books_agree(active_fund)
    assert position["cash"] == Decimal("1000000.00") and position["deployed"] == Decimal("2000000.00")


@pytest.mark.django_db(transaction=True)
def test_the_same_reference_sent_twice_at_once_records_once(active_fund, county_staff, checker):
    def income(actor):
        return lambda: funds.record_income(
            actor=actor, fund=active_fund, amount="100.00", occurred_on=LATER, reference="LX-1", memo="利息"
        )

    results = run_together(income(county_staff), income(checker))
    assert sorted(type(r).__name__ for r in results) == ["FundMovement", "str"]
    assert "duplicate_reference" in results
    assert FundMovement.objects.filter(fund=active_fund, kind=FundMovementKind.INCOME).count() == 1
    assert assert_books_agree(active_fund)["income"] == Decimal("100.00")
