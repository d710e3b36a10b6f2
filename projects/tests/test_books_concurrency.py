# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""Two clerks at once: the same investee registered twice (the open-stake constraint lets one
through, the other gets the clear message); two repayments to one lender that together exceed
what is owed to it (the per-lender lock lets one through); the same repayment form submitted
twice (recorded once); repayments to two lenders (neither waits on the other's balance)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from projects.models import Borrowing, BorrowingKind, EquityStake
from projects.services import books
from tmcs.errors import DomainError
from transactions.models import Movement, MovementKind

from .fixtures_red_lines import PAST, lender, second_lender  # noqa: F401  (fixtures)


def race(target, args_list):
    barrier, outcomes = threading.Barrier(len(args_list)), []

    def run(*args):
        try:
            barrier.wait()
            target(*args)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_concurrent_stakes_in_one_investee(county_staff, city_admin, county_cooperative, investor_org):
    def invest(actor, reference):
        books.record_equity_stake(
            actor=actor,
            cooperative=county_cooperative,
            investee=investor_org,
            amount=Decimal("100000"),
            share=Decimal("0.2"),
            acquired_on=PAST,
            source_document="纪要",
            reference=reference,
        )

    assert race(invest, [(county_staff, "A"), (city_admin, "B")]) == ["duplicate_stake", "ok"]
    assert EquityStake.objects.count() == 1
    assert (
        Movement.objects.filter(kind=MovementKind.EQUITY_INVESTMENT).count() == 1
    )  # the loser's rolled back


def _borrow(actor, cooperative, lender, amount="100000"):
    return books.record_borrowing(
        actor=actor,
        cooperative=cooperative,
        lender=lender,
        amount=Decimal(amount),
        occurred_on=PAST,
        reference="JK",
        memo="借款",
    )


def _repayer(cooperative):
    def repay(actor, lender, reference, amount="60000", key=None):
        books.repay_borrowing(
            actor=actor,
            cooperative=cooperative,
            lender=lender,
            amount=Decimal(amount),
            occurred_on=PAST,
            reference=reference,
            memo="还款",
            idempotency_key=key,
        )

    return repay


@pytest.mark.django_db(transaction=True)
def test_concurrent_repayments_never_exceed_the_debt(county_staff, city_admin, county_cooperative, lender):
    _borrow(county_staff, county_cooperative, lender)
    repay = _repayer(county_cooperative)
    outcomes = race(repay, [(county_staff, lender, "H1"), (city_admin, lender, "H2")])
    assert outcomes == ["ok", "repayment_exceeds_borrowing"]
    assert books.outstanding_borrowing(county_cooperative, lender) == Decimal("40000.00")
    assert Borrowing.objects.filter(kind=BorrowingKind.REPAY).count() == 1
    assert (
        Movement.objects.filter(kind=MovementKind.BORROWING_REPAYMENT).count() == 1
    )  # the loser's rolled back


@pytest.mark.django_db(transaction=True)
def test_the_same_repayment_submitted_twice_at_once_is_recorded_once(
    county_staff, county_cooperative, lender
):
    _borrow(county_staff, county_cooperative, lender)
    repay = _repayer(county_cooperative)
    # the second waits on the lender's lock, then finds the first one's movement under the key
    outcomes = race(repay, [(county_staff, lender, "H", "60000", "web:t1")] * 2)
    assert outcomes == ["ok", "ok"]
    assert Borrowing.objects.filter(kind=BorrowingKind.REPAY).count() == 1
    assert books.outstanding_borrowing(county_cooperative, lender) == Decimal("40000.00")


@pytest.mark.django_db(transaction=True)
def test_repayments_to_two_lenders_at_once(
    county_staff, city_admin, county_cooperative, lender, second_lender
):
    _borrow(county_staff, county_cooperative, lender)
    _borrow(county_staff, county_cooperative, second_lender)
    repay = _repayer(county_cooperative)
    outcomes = race(
        repay, [(county_staff, lender, "H1", "100000"), (city_admin, second_lender, "H2", "100000")]
    )
    assert outcomes == ["ok", "ok"]
    assert books.borrowings_by_lender(county_cooperative)[0]["outstanding"] == 0
    assert books.outstanding_borrowing(county_cooperative, second_lender) == 0
