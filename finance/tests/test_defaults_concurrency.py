# ruff: noqa: F811  (fixtures imported from test_risk_fixtures)
"""Two clerks disposing of the same default at once: the row locks let one step through; the
other is refused on the state the first one left, and the money moves once."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from finance.models import DefaultStatus, Disposal, DisposalMethod
from finance.services import defaults, risk
from tmcs.errors import DomainError
from transactions.models import Movement, MovementKind

from .test_risk_fixtures import (  # noqa: F401  (fixtures)
    DECLARED_ON,
    fund,
    funded,
    government,
    guarantor,
    pledged_loan,
    scheme,
)

DAY = datetime.date(2026, 7, 1)


def race(actors, step):
    barrier, outcomes = threading.Barrier(len(actors)), []

    def run(actor):
        try:
            barrier.wait()
            step(actor)
            outcomes.append("done")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_buy_backs_of_one_pledge(pledged_loan, county_staff, city_admin):
    loan, (pledge,) = pledged_loan()
    default = defaults.declare_default(actor=county_staff, loan=loan, reason="逾期", declared_on=DECLARED_ON)

    def buy(actor):
        defaults.buy_back(
            actor=actor,
            default=default,
            pledge=pledge,
            price="50000.00",
            executed_on=DAY,
            source_document="协议",
        )

    assert race([county_staff, city_admin], buy) == ["done", "pledge_not_active"]
    assert Disposal.objects.filter(method=DisposalMethod.BUY_BACK).count() == 1
    assert Movement.objects.filter(kind=MovementKind.BUYBACK).count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_compensations_pay_once(pledged_loan, scheme, funded, fund, county_staff, city_admin):
    funded(Decimal("100000.00"))
    loan, (pledge,) = pledged_loan(scheme=scheme)
    default = defaults.declare_default(actor=county_staff, loan=loan, reason="逾期", declared_on=DECLARED_ON)
    defaults.buy_back(
        actor=county_staff,
        default=default,
        pledge=pledge,
        price="100000.00",
        executed_on=DAY,
        source_document="x",
    )

    def compensate(actor):
        defaults.compensate_loss(actor=actor, default=default, executed_on=DAY, source_document="代偿")

    assert race([county_staff, city_admin], compensate) == ["done", "settled"]
    default.refresh_from_db()
    assert default.status == DefaultStatus.SETTLED
    assert (
        Movement.objects.filter(kind=MovementKind.LOSS_COMPENSATION).count() == 2
    )  # fund + cooperative, once
    paid = Disposal.objects.get(method=DisposalMethod.RISK_COMPENSATION).allocations.get(
        role="government_fund"
    )
    assert risk.fund_balance(fund) == Decimal("100000.00") - paid.amount
