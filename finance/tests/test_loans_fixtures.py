"""Fixtures of the loan-book tests: a bank-approved application (pledged or not) and a loan
disbursed through the service on the worked example's terms (300,000 元, 36 months, 3.6 %)."""

import datetime
from decimal import Decimal

import pytest

from finance.models import (
    ApplicationStatus,
    GuaranteeRequirement,
    Loan,
    PaymentFrequency,
    Repayment,
    RepaymentMethod,
)
from finance.services import loans

DISBURSED = datetime.date(2025, 1, 15)
A = Decimal("8803.91")  # 等额本息 installment of the worked example


@pytest.fixture
def approved(valued_right, make_product, make_application, make_appraisal, make_pledge):
    """approved(pledged=True, product=…, **application fields) → a BANK_APPROVED application of
    300,000 元; with a pledge of its right when `pledged`."""

    def make(pledged=True, product=None, **fields):
        right = valued_right()
        product = product or make_product()
        fields.setdefault("approved_amount", Decimal("300000.00"))
        application = make_application(
            rights=[right], status=ApplicationStatus.BANK_APPROVED, product=product, **fields
        )
        if pledged:
            appraisal = make_appraisal(right, product, application=application)
            make_pledge(application, appraisal, Decimal("300000"))
        return application

    return make


@pytest.fixture
def unsecured_product(make_product):
    def make(**fields):
        return make_product(guarantee_requirement=GuaranteeRequirement.NONE, **fields)

    return make


@pytest.fixture
def disbursed(approved, bank_officer):
    """disbursed(method=…, frequency=…, principal=…, **application fields) → a loan booked by
    the bank officer on 2025-01-15."""
    counter = iter(range(1, 1000))

    def make(
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        frequency=PaymentFrequency.MONTHLY,
        principal=Decimal("300000.00"),
        disbursed_on=DISBURSED,
        first_due_date=None,
        actor=None,
        **fields,
    ):
        application = approved(repayment_method=method, payment_frequency=frequency, **fields)
        return loans.disburse(
            actor=actor or bank_officer,
            application=application,
            principal=principal,
            disbursed_on=disbursed_on,
            bank_reference=f"JJ2025-{next(counter):04d}",
            first_due_date=first_due_date,
        )

    return make


def nothing_written(loan_count=None, repayment_count=None):
    if loan_count is not None:
        assert Loan.objects.count() == loan_count
    if repayment_count is not None:
        assert Repayment.objects.count() == repayment_count


def installment(loan, seq):
    return loan.installments.get(seq=seq)


def schedule_totals(loan):
    rows = list(loan.installments.order_by("seq"))
    return (
        sum((r.principal_due for r in rows), Decimal("0")),
        sum((r.principal_paid for r in rows), Decimal("0")),
        rows,
    )
