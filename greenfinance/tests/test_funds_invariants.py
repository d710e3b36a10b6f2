# ruff: noqa: F811  (fixtures imported from fixtures_funds)
"""Whatever mix of commitments, contributions, drawdowns, returns, write-offs, income, expenses,
redemptions and reversals is attempted (refused ones included), the fund's books agree: ledger
cash == Σ FundMovement.cash_effect == position cash ≥ 0 (on every day, not only today); paid-in
≤ committed and redeemed ≤ paid-in per contributor; commitments ≤ size; nothing deployed is
negative; and every movement's postings sum to zero."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from greenfinance.models import FundMovement, FundMovementKind
from greenfinance.selectors_funds import journal
from greenfinance.services import funds
from tmcs.errors import DomainError
from transactions.models import Posting

from .fixtures_funds import (  # noqa: F401  (fixtures)
    ISSUED,
    assert_books_agree,
    bureau,
    ledger_cash,
    loan,
    make_fund,
    movement_cash,
    project,
)

pytestmark = pytest.mark.django_db
AMOUNTS = ["0.01", "99.99", "1000.00", "50000.00", "250000.00", "400000.00", "999999.99", "1000000.00"]
DAYS = [
    datetime.date(2026, 2, 1),
    datetime.date(2026, 3, 10),
    datetime.date(2026, 5, 20),
    datetime.date(2026, 8, 8),
]
amount = st.sampled_from(AMOUNTS)
day = st.sampled_from(DAYS)
index = st.integers(0, 9)

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("commit"), st.integers(0, 2), amount),
        st.tuples(st.just("contribute"), index, amount, day),
        st.tuples(st.just("draw"), st.booleans(), amount, day),
        st.tuples(st.just("return"), index, amount, day),
        st.tuples(st.just("write_off"), index, amount, day),
        st.tuples(st.just("income"), amount, day),
        st.tuples(st.just("expense"), amount, day),
        st.tuples(st.just("redeem"), index, amount, day),
        st.tuples(st.just("reverse"), index),
    ),
    max_size=14,
)


@pytest.fixture
def world(make_fund, bureau, bank, county_cooperative, project, loan, county_staff):
    """A 2,000,000 元 fund: the bureau committed 1,000,000 and paid 500,000 in, the bank committed
    600,000 (400,000 of the size is still open to a third contributor)."""
    fund = make_fund(size=Decimal("2000000.00"))
    first = funds.record_commitment(
        actor=county_staff,
        fund=fund,
        contributor=bureau,
        amount="1000000.00",
        committed_on=ISSUED,
        document="协议",
    )
    funds.record_commitment(
        actor=county_staff,
        fund=fund,
        contributor=bank,
        amount="600000.00",
        committed_on=ISSUED,
        document="协议",
    )
    funds.record_contribution(actor=county_staff, commitment=first, amount="500000.00", occurred_on=ISSUED)
    return fund, [bureau, bank, county_cooperative], project, loan


def pick(items, i):
    return items[i % len(items)] if items else None


def apply(operation, fund, contributors, project, loan, actor):
    """Run one operation; False when there was nothing to apply it to."""
    kind = operation[0]
    commitments = list(fund.commitments.order_by("pk"))
    drawdowns = list(FundMovement.objects.filter(fund=fund, kind=FundMovementKind.DRAWDOWN).order_by("pk"))
    if kind == "commit":
        funds.record_commitment(
            actor=actor,
            fund=fund,
            contributor=contributors[operation[1]],
            amount=operation[2],
            committed_on=ISSUED,
            document="协议",
        )
    elif kind == "contribute" and commitments:
        funds.record_contribution(
            actor=actor,
            commitment=pick(commitments, operation[1]),
            amount=operation[2],
            occurred_on=operation[3],
        )
    elif kind == "draw":
        target = (
            {"project": project, "recipient": project.owner}
            if operation[1]
            else {"loan": loan, "recipient": loan.borrower}
        )
        funds.draw_down(
            actor=actor, fund=fund, amount=operation[2], occurred_on=operation[3], memo="投放", **target
        )
    elif kind == "return" and drawdowns:
        funds.record_return(
            actor=actor, drawdown=pick(drawdowns, operation[1]), amount=operation[2], occurred_on=operation[3]
        )
    elif kind == "write_off" and drawdowns:
        funds.write_off(
            actor=actor,
            drawdown=pick(drawdowns, operation[1]),
            amount=operation[2],
            occurred_on=operation[3],
            reason="核销",
        )
    elif kind == "income":
        funds.record_income(
            actor=actor, fund=fund, amount=operation[1], occurred_on=operation[2], memo="利息"
        )
    elif kind == "expense":
        funds.record_expense(
            actor=actor, fund=fund, amount=operation[1], occurred_on=operation[2], memo="费用"
        )
    elif kind == "redeem" and commitments:
        funds.redeem(
            actor=actor,
            commitment=pick(commitments, operation[1]),
            amount=operation[2],
            occurred_on=operation[3],
        )
    elif kind == "reverse":
        movements = list(FundMovement.objects.filter(fund=fund).order_by("pk"))
        funds.reverse_fund_movement(actor=actor, fund_movement=pick(movements, operation[1]), reason="更正")
    else:
        return False
    return True


def check_invariants(fund):
    position = assert_books_agree(fund)
    assert ledger_cash(fund) == movement_cash(fund)
    rows, _series = journal(fund)
    day_end = {}
    for movement, running in rows:
        day_end[movement.occurred_on] = running
    assert all(balance >= 0 for balance in day_end.values())
    assert position["committed"] <= fund.size
    for row in position["contributors"]:
        assert Decimal("0.00") <= row["paid_in"] <= row["committed"]
        assert Decimal("0.00") <= row["redeemed"] <= row["paid_in"]
    assert position["deployed"] >= 0
    assert all(row["outstanding"] >= 0 for row in position["drawdowns"])
    assert all(row["outstanding"] >= 0 for row in position["projects"] + position["loans"])
    unbalanced = (
        Posting.objects.filter(movement__green_fund_movement__fund=fund)
        .values("movement")
        .annotate(s=Sum("amount"))
        .exclude(s=0)
    )
    assert not unbalanced.exists()
    # cash is what came in less what went out, by business kind, from the ledger
    assert position["cash"] == (
        position["paid_in"]
        - position["redeemed"]
        + position["income"]
        - position["expense"]
        - position["drawn"]
        + position["returned"]
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_fund_books_always_agree(world, county_staff, operations):
    fund, contributors, project, loan = world
    fund.refresh_from_db()  # the previous example's changes were rolled back
    savepoint = transaction.savepoint()
    try:
        for operation in operations:
            try:
                with transaction.atomic():
                    applied = apply(operation, fund, contributors, project, loan, county_staff)
                event(f"{'done' if applied else 'nothing to do'}: {operation[0]}")
            except DomainError as exc:
                event(f"refused: {exc.code}")  # the block rolled back; the books must still agree
            fund.refresh_from_db()
            check_invariants(fund)
    finally:
        transaction.savepoint_rollback(savepoint)
