# ruff: noqa: F811  (fixtures imported from test_loans_fixtures)
"""Disbursement: the rules a bank's report must pass, and the loan and schedule it books."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from finance.models import ApplicationStatus, DayCount, Installment, Loan, LoanStatus
from finance.services import loans
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .test_loans_fixtures import (  # noqa: F401  (fixtures)
    DISBURSED,
    approved,
    disbursed,
    nothing_written,
    unsecured_product,
)

pytestmark = pytest.mark.django_db


def _disburse(actor, application, **overrides):
    values = dict(
        principal=Decimal("300000.00"), disbursed_on=DISBURSED, bank_reference="JJ-1", first_due_date=None
    )
    values.update(overrides)
    return loans.disburse(actor=actor, application=application, **values)


def test_disbursement_books_the_loan_and_its_schedule(approved, bank_officer):
    application = approved()
    loan = _disburse(bank_officer, application)
    assert loan.number.startswith(f"DK{timezone.localdate().year}")
    assert (loan.principal, loan.annual_rate, loan.penalty_rate) == (
        Decimal("300000.00"),
        Decimal("0.036"),
        Decimal("0.054000"),
    )
    assert loan.bank == application.product.bank and loan.borrower == application.applicant
    assert loan.day_count == DayCount.ACT_360 and loan.status == LoanStatus.ACTIVE
    assert loan.maturity_date == datetime.date(2028, 1, 15)
    rows = list(loan.installments.order_by("seq"))
    assert len(rows) == 36
    assert (rows[0].principal_due, rows[0].interest_due) == (Decimal("7903.91"), Decimal("900.00"))
    assert rows[-1].principal_due + rows[-1].interest_due == Decimal("8804.07")
    assert sum(r.principal_due for r in rows) == Decimal("300000.00")
    assert sum(r.interest_due for r in rows) == Decimal("16940.92")
    assert rows[0].period_start == DISBURSED and rows[0].due_date == datetime.date(2025, 2, 15)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DISBURSED
    assert loan.events.last().pgh_context.metadata["reason"].startswith("disburse loan")


def test_staff_may_book_and_product_day_count_is_used(approved, make_product, county_staff):
    product = make_product(day_count=DayCount.THIRTY_360, penalty_markup=Decimal("0.3"))
    loan = _disburse(
        county_staff,
        approved(product=product, repayment_method="equal_principal", payment_frequency="quarterly"),
        principal=Decimal("120000.00"),
        first_due_date=datetime.date(2025, 5, 15),  # 4 months: a broken first quarter
    )
    assert loan.day_count == DayCount.THIRTY_360 and loan.penalty_rate == Decimal("0.046800")
    rows = list(loan.installments.order_by("seq"))
    assert len(rows) == 12 and rows[0].due_date == datetime.date(2025, 5, 15)
    assert rows[0].interest_due == Decimal("1440.00")  # 120000 × 3.6 % × 120 / 360
    assert rows[1].interest_due == Decimal("990.00")  # (120000 − 10000) × 0.9 %
    assert loan.installments.aggregate(s=Sum("principal_due"))["s"] == Decimal("120000.00")


def test_application_not_bank_approved_is_refused(approved, bank_officer):
    application = approved()
    application.status = ApplicationStatus.APPROVED
    application.save()
    with pytest.raises(ConflictError) as exc:
        _disburse(bank_officer, application)
    assert exc.value.code == "not_bank_approved"
    nothing_written(loan_count=0)


def test_pledge_required_by_the_product(approved, unsecured_product, bank_officer):
    with pytest.raises(ConflictError) as exc:
        _disburse(bank_officer, approved(pledged=False))
    assert exc.value.code == "pledge_required" and exc.value.status_code == 409
    nothing_written(loan_count=0)
    loan = _disburse(bank_officer, approved(pledged=False, product=unsecured_product()))
    assert loan.installments.count() == 36


def test_duplicate_bank_reference_is_a_conflict(
    approved, make_product, bank_officer, second_bank, second_bank_officer
):
    _disburse(bank_officer, approved(), bank_reference="JJ-DUP")
    second = approved()
    with pytest.raises(ConflictError) as exc:
        _disburse(bank_officer, second, bank_reference=" JJ-DUP ")
    assert exc.value.code == "duplicate_bank_reference" and "bank_reference" in exc.value.fields
    assert "JJ-DUP" in str(exc.value.detail)
    nothing_written(loan_count=1)
    second.refresh_from_db()
    assert second.status == ApplicationStatus.BANK_APPROVED
    # another bank may use the same reference
    other = approved(product=make_product(bank_org=second_bank))
    assert _disburse(second_bank_officer, other, bank_reference="JJ-DUP").bank == second_bank


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"disbursed_on": timezone.localdate() + datetime.timedelta(days=1)}, "disbursed_on"),
        ({"disbursed_on": "2025-01-15"}, "disbursed_on"),
        ({"principal": Decimal("300000.01")}, "principal"),
        ({"principal": "0"}, "principal"),
        ({"principal": "100.001"}, "principal"),
        ({"principal": "abc"}, "principal"),
        ({"bank_reference": "  "}, "bank_reference"),
        ({"bank_reference": "x" * 61}, "bank_reference"),
        ({"first_due_date": DISBURSED}, "first_due_date"),
        ({"first_due_date": datetime.date(2025, 3, 16)}, "first_due_date"),
    ],
)
def test_bad_input_is_refused(approved, bank_officer, overrides, field):
    application = approved()
    with pytest.raises(DomainError) as exc:
        _disburse(bank_officer, application, **overrides)
    assert field in exc.value.fields
    nothing_written(loan_count=0)
    assert Installment.objects.count() == 0


def test_principal_within_the_approved_amount(approved, bank_officer):
    application = approved(approved_amount=Decimal("200000.00"))
    with pytest.raises(DomainError) as exc:
        _disburse(bank_officer, application)
    assert "200000.00" in str(exc.value.detail)
    loan = _disburse(bank_officer, application, principal=Decimal("200000.00"))
    assert loan.installments.aggregate(s=Sum("principal_due"))["s"] == Decimal("200000.00")


def test_term_not_a_whole_number_of_quarters(approved, bank_officer):
    application = approved(payment_frequency="quarterly", term_months=14)
    with pytest.raises(DomainError) as exc:
        _disburse(bank_officer, application)
    assert "term_months" in exc.value.fields
    nothing_written(loan_count=0)


def test_other_bank_and_outsiders_are_refused(approved, second_bank_officer, make_member, demo_region):
    from directory.models import Organization, OrganizationKind, Role

    application = approved()
    with pytest.raises(PermissionDeniedError):
        _disburse(second_bank_officer, application)
    investor = make_member(
        Role.INVESTOR, Organization.objects.filter(kind=OrganizationKind.ENTERPRISE).first()
    )
    with pytest.raises(PermissionDeniedError):
        _disburse(investor, application)
    nothing_written(loan_count=0)


def test_a_disbursed_application_cannot_be_disbursed_again(approved, bank_officer):
    application = approved()
    _disburse(bank_officer, application)
    with pytest.raises(ConflictError) as exc:
        _disburse(bank_officer, application, bank_reference="JJ-2")
    assert exc.value.code == "not_bank_approved"
    assert Loan.objects.count() == 1
