# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""Two clerks at once: the same investee registered twice (the open-stake constraint lets one
through, the other gets the clear message), and two repayments that together exceed the debt
(the BORROWINGS account lock lets one through)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from projects.models import EquityStake
from projects.services import books
from tmcs.errors import DomainError
from transactions.models import Movement, MovementKind

from .fixtures_red_lines import PAST, lender  # noqa: F401  (fixtures)


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


@pytest.mark.django_db(transaction=True)
def test_concurrent_repayments_never_exceed_the_debt(county_staff, city_admin, county_cooperative, lender):
    books.record_borrowing(
        actor=county_staff,
        cooperative=county_cooperative,
        lender=lender,
        amount=Decimal("100000"),
        occurred_on=PAST,
        reference="JK",
        memo="借款",
    )

    def repay(actor, reference):
        books.repay_borrowing(
            actor=actor,
            cooperative=county_cooperative,
            lender=lender,
            amount=Decimal("60000"),
            occurred_on=PAST,
            reference=reference,
            memo="还款",
        )

    outcomes = race(repay, [(county_staff, "H1"), (city_admin, "H2")])
    assert outcomes == ["ok", "repayment_exceeds_borrowing"]
    assert books.outstanding_borrowing(county_cooperative, lender) == Decimal("40000.00")
