# ruff: noqa: F811  (fixtures imported from test_loans_fixtures)
"""Repayments: allocation order, penalty interest by hand, early repayment with both recasts, payoff
releasing the pledges, and everything a bank's report can get wrong."""

import datetime
import math
from decimal import Decimal as D
from unittest import mock

import pytest
from django.utils import timezone

from finance import schedule as calc
from finance.models import Installment, LoanStatus, PledgeStatus, Repayment, RepaymentKind, RepaymentLine
from finance.services import loans
from resources.models import RightStatus
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .test_loans_fixtures import (  # noqa: F401  (fixtures)
    DISBURSED,
    A,
    approved,
    disbursed,
    installment,
    nothing_written,
    schedule_totals,
)

pytestmark = pytest.mark.django_db
FEB15, MAR15 = datetime.date(2025, 2, 15), datetime.date(2025, 3, 15)


def pay(loan, amount, paid_on, actor=None, **kwargs):
    return loans.record_repayment(
        actor=actor or loan.recorded_by, loan=loan, amount=D(amount), paid_on=paid_on, **kwargs
    )


def lines_of(repayment):
    return [
        (line.installment.seq, line.principal, line.interest, line.penalty)
        for line in repayment.lines.select_related("installment").order_by("installment__seq")
    ]


def test_exact_installment_on_the_due_date(disbursed):
    loan = disbursed()
    repayment = pay(loan, A, FEB15, bank_reference="LS-1")
    assert repayment.kind == RepaymentKind.REGULAR
    assert (repayment.principal_part, repayment.interest_part, repayment.penalty_part) == (
        D("7903.91"),
        D("900.00"),
        D("0.00"),
    )
    assert lines_of(repayment) == [(1, D("7903.91"), D("900.00"), D("0.00"))]
    first = installment(loan, 1)
    assert first.settled_on == FEB15 and first.outstanding == 0
    pos = loans.position(loan, FEB15)
    assert pos.outstanding_principal == D("292096.09") and pos.days_past_due == 0
    assert pos.next_installment.seq == 2


def test_partial_payments_go_to_interest_before_principal(disbursed):
    loan = disbursed()
    first = pay(loan, "500.00", FEB15)
    assert lines_of(first) == [(1, D("0.00"), D("500.00"), D("0.00"))]
    assert installment(loan, 1).settled_on is None
    second = pay(loan, "8303.91", FEB15)
    assert lines_of(second) == [(1, D("7903.91"), D("400.00"), D("0.00"))]
    assert installment(loan, 1).settled_on == FEB15


def test_overdue_installment_pays_the_worked_penalty(disbursed):
    """Month 2 paid 15 days late at 5.40 %: 17.84 罚息 + 1.97 复利 = 19.81 (eco-finance.md §4)."""
    loan = disbursed()
    assert loan.penalty_rate == D("0.054")
    pay(loan, A, FEB15)
    late = MAR15 + datetime.timedelta(days=15)
    pos = loans.position(loan, late)
    assert (pos.overdue_principal, pos.overdue_interest, pos.penalty_accrued) == (
        D("7927.62"),
        D("876.29"),
        D("19.81"),
    )
    assert pos.days_past_due == 15
    repayment = pay(loan, A + D("19.81"), late)
    assert repayment.kind == RepaymentKind.OVERDUE
    assert lines_of(repayment) == [(2, D("7927.62"), D("876.29"), D("19.81"))]
    second = installment(loan, 2)
    assert second.penalty_paid == D("19.81") and second.settled_on == late
    assert loans.position(loan, late).penalty_accrued == 0


def test_penalty_follows_a_partial_late_payment(disbursed):
    """Installment 1 (7903.91 + 900.00, due 15 Feb) unpaid; 1000 paid on 25 Feb, the rest on 7 Mar.
    By hand at 5.4 %/360 = 0.00015 a day:
      25 Feb: 10 days on 7903.91 → 11.855865 → 11.86; on 900.00 → 1.35; penalty 13.21,
              then interest 900.00, principal 86.79;
      7 Mar:  on principal 10 × 7903.91 + 10 × 7817.12 = 157210.30 × 0.00015 → 23.58,
              on interest 10 × 900.00 × 0.00015 = 1.35 (nothing after 25 Feb): 24.93 − 13.21 = 11.72."""
    loan = disbursed()
    first = pay(loan, "1000.00", datetime.date(2025, 2, 25))
    assert lines_of(first) == [(1, D("86.79"), D("900.00"), D("13.21"))]
    assert first.kind == RepaymentKind.OVERDUE
    day = datetime.date(2025, 3, 7)
    assert loans.position(loan, day).penalty_accrued == D("11.72")
    assert loans.payoff_amount(loan, day) > D("7828.84")  # the running period and later principal
    second = pay(loan, "7828.84", day)
    assert lines_of(second) == [(1, D("7817.12"), D("0.00"), D("11.72"))]
    assert installment(loan, 1).settled_on == day
    assert installment(loan, 1).penalty_paid == D("24.93")
    assert Installment.objects.filter(loan=loan, seq=2, principal_paid=0, interest_paid=0).exists()


def test_oldest_overdue_first_then_the_one_due_today(disbursed):
    loan = disbursed()
    repayment = pay(loan, "10000.00", MAR15)  # installment 1 is 28 days late, 2 due today
    penalty = sum(
        calc.penalty_on_segments([(FEB15, MAR15, D("7903.91"), D("900.00"))], D("0.054"), calc.ACT_360)
    )
    assert penalty == D("33.20") + D("3.78")
    rest = D("10000.00") - penalty - A
    assert lines_of(repayment) == [
        (1, D("7903.91"), D("900.00"), penalty),
        (2, rest - D("876.29"), D("876.29"), D("0.00")),
    ]
    assert installment(loan, 1).settled_on == MAR15 and installment(loan, 2).settled_on is None


def test_interest_only_early_payment_waits_for_the_due_date(disbursed):
    loan = disbursed()
    pay(loan, A, FEB15)
    early = pay(loan, "200.00", datetime.date(2025, 3, 1))
    assert early.kind == RepaymentKind.EARLY and lines_of(early) == [(2, D("0.00"), D("200.00"), D("0.00"))]
    assert installment(loan, 2).due_date == MAR15  # no principal prepaid: no recast
    rest = pay(loan, A - D("200.00"), MAR15)
    assert lines_of(rest) == [(2, D("7927.62"), D("676.29"), D("0.00"))]
    assert rest.kind == RepaymentKind.REGULAR


def _prepay(loan, mode):
    """Installment 1 on time, then 100,000 of principal on 1 Mar, 14 days into period 2: interest to
    the day is 292096.09 × 3.6 % × 14 / 360 = 408.934… → 408.93."""
    pay(loan, A, FEB15)
    return pay(loan, "100408.93", datetime.date(2025, 3, 1), prepayment=mode)


def test_early_repayment_shorten_term(disbursed):
    loan = disbursed()
    repayment = _prepay(loan, loans.SHORTEN_TERM)
    assert repayment.kind == RepaymentKind.EARLY
    assert lines_of(repayment) == [(2, D("100000.00"), D("408.93"), D("0.00"))]
    closing = installment(loan, 2)
    assert (closing.period_start, closing.due_date, closing.settled_on) == (
        FEB15,
        datetime.date(2025, 3, 1),
        datetime.date(2025, 3, 1),
    )
    assert (closing.principal_due, closing.interest_due) == (D("100000.00"), D("408.93"))
    total, paid, rows = schedule_totals(loan)
    assert total == D("300000.00") and paid == D("107903.91")
    new = rows[2:]
    assert (new[0].period_start, new[0].due_date) == (datetime.date(2025, 3, 1), MAR15)
    assert new[0].interest_due == D("268.93")  # 192096.09 × 3.6 % × 14 / 360, the rest of period 2
    assert new[0].principal_due == A - D("576.29")  # the regular principal: A − 192096.09 × 0.3 %
    assert all(r.principal_due + r.interest_due == A for r in new[1:-1])
    assert new[-1].principal_due + new[-1].interest_due <= A + calc.TAIL
    assert len(new) == 23 < 35  # the last periods are dropped
    assert [r.due_date for r in new] == [calc.add_months(DISBURSED, k) for k in range(2, 25)]
    loan.refresh_from_db()
    assert loan.maturity_date == new[-1].due_date == datetime.date(2027, 1, 15)
    _pay_off_and_check(loan, MAR15)


def test_early_repayment_lower_installment(disbursed):
    loan = disbursed()
    _prepay(loan, loans.LOWER_INSTALLMENT)
    total, _paid, rows = schedule_totals(loan)
    assert total == D("300000.00")
    new = rows[2:]
    assert len(new) == 35 and [r.due_date for r in new] == [
        calc.add_months(DISBURSED, k) for k in range(2, 37)
    ]
    lower = calc.annuity(D("192096.09"), D("0.003"), 35)
    assert lower < A
    assert new[0].interest_due == D("268.93") and new[0].principal_due == lower - D("576.29")
    assert all(r.principal_due + r.interest_due == lower for r in new[1:-1])
    assert abs(new[-1].principal_due + new[-1].interest_due - lower) <= D("0.005") * 35  # rounding carried
    loan.refresh_from_db()
    assert loan.maturity_date == datetime.date(2028, 1, 15)
    _pay_off_and_check(loan, MAR15)


def _pay_off_and_check(loan, day):
    payoff = loans.payoff_amount(loan, day)
    assert loans.position(loan, day).payoff == payoff
    repayment = pay(loan, payoff, day)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.PAID_OFF and loan.closed_on == day
    total, paid, rows = schedule_totals(loan)
    assert total == paid == D("300000.00")
    assert all(r.settled_on is not None for r in rows)
    assert rows[-1].due_date == day
    # every repayment yuan is allocated, and the installments' paid amounts are the sum of the lines
    for inst in rows:
        lines = RepaymentLine.objects.filter(installment=inst)
        assert sum((ln.principal for ln in lines), D(0)) == inst.principal_paid
        assert sum((ln.interest for ln in lines), D(0)) == inst.interest_paid
    assert sum(r.amount for r in Repayment.objects.filter(loan=loan)) == sum(
        r.principal_part + r.interest_part + r.penalty_part for r in Repayment.objects.filter(loan=loan)
    )
    return repayment


def test_prepayment_on_the_due_date_keeps_the_period_and_on_the_disbursement_day(disbursed):
    loan = disbursed()
    repayment = pay(loan, A + D("50000.00"), FEB15, prepayment=loans.LOWER_INSTALLMENT)
    assert lines_of(repayment) == [(1, D("57903.91"), D("900.00"), D("0.00"))]
    rows = list(loan.installments.order_by("seq"))
    assert rows[0].due_date == FEB15 and rows[0].principal_due == D("57903.91")
    assert rows[1].period_start == FEB15 and rows[1].interest_due == D("726.29")  # 242096.09 × 0.3 %
    assert len(rows) == 36
    same_day = disbursed()
    pay(same_day, "100000.00", DISBURSED, prepayment=loans.LOWER_INSTALLMENT)
    rows = list(same_day.installments.order_by("seq"))
    assert (rows[0].period_start, rows[0].due_date, rows[0].principal_due, rows[0].interest_due) == (
        DISBURSED,
        DISBURSED,
        D("100000.00"),
        D("0.00"),
    )
    assert rows[1].interest_due == D("600.00") and len(rows) == 37  # a whole first period on 200,000
    assert sum(r.principal_due for r in rows) == D("300000.00")


def test_equal_principal_recasts(disbursed):
    loan = disbursed(method="equal_principal")
    keep = installment(loan, 2).principal_due  # 8333.34: running-total rounding of 300000 / 36
    pay(loan, D("9233.33"), FEB15)
    repayment = pay(loan, "50000.00", MAR15 - datetime.timedelta(days=10), prepayment=loans.SHORTEN_TERM)
    interest = calc.day_interest(D("291666.67"), D("0.036"), FEB15, datetime.date(2025, 3, 5), calc.ACT_360)
    assert lines_of(repayment) == [(2, D("50000.00") - interest, interest, D("0.00"))]
    total, _paid, rows = schedule_totals(loan)
    assert total == D("300000.00")
    new = rows[2:]
    assert all(r.principal_due == keep for r in new[:-1])  # the principal per period is kept
    assert D(0) < new[-1].principal_due < keep + calc.TAIL
    rest = D("291666.67") - (D("50000.00") - interest)
    assert len(new) == math.ceil(rest / keep) == 30 < 35
    assert new[0].interest_due == calc.day_interest(
        rest, D("0.036"), datetime.date(2025, 3, 5), MAR15, calc.ACT_360
    )


def test_payoff_releases_the_pledges_and_recomputes_the_score(disbursed, django_capture_on_commit_callbacks):
    loan = disbursed()
    pledge = loan.application.pledges.get()
    assert pledge.status == PledgeStatus.ACTIVE
    payoff = loans.payoff_amount(loan, FEB15)
    assert payoff == D("300900.00")  # installment 1 plus all the principal left
    with (
        mock.patch("finance.tasks.recompute_credit_score.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        repayment = pay(loan, payoff, FEB15)
    delay.assert_called_with(loan.borrower_id)
    assert repayment.kind == RepaymentKind.EARLY
    loan.refresh_from_db()
    assert loan.status == LoanStatus.PAID_OFF and loan.closed_on == FEB15
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.RELEASED and loan.number in pledge.release_reason
    assert pledge.restriction.status == RightStatus.ENDED
    assert list(loan.installments.values_list("seq", flat=True)) == [1]
    with pytest.raises(ConflictError) as exc:
        pay(loan, "1.00", FEB15)
    assert exc.value.code == "loan_closed"


def test_overpayment_is_refused_with_the_payoff(disbursed):
    loan = disbursed()
    with pytest.raises(ConflictError) as exc:
        pay(loan, "300900.01", FEB15)
    assert exc.value.code == "overpayment" and "300900.00" in str(exc.value.detail)
    nothing_written(repayment_count=0)
    assert installment(loan, 1).interest_paid == 0 and loan.installments.count() == 36


@pytest.mark.parametrize(
    ("amount", "paid_on", "field"),
    [
        ("0", FEB15, "amount"),
        ("-5", FEB15, "amount"),
        ("10.001", FEB15, "amount"),
        ("x", FEB15, "amount"),
        ("100", DISBURSED - datetime.timedelta(days=1), "paid_on"),
        ("100", timezone.localdate() + datetime.timedelta(days=1), "paid_on"),
        ("100", "2025-02-15", "paid_on"),
    ],
)
def test_bad_repayments_are_refused(disbursed, amount, paid_on, field):
    loan = disbursed()
    with pytest.raises(DomainError) as exc:
        loans.record_repayment(actor=loan.recorded_by, loan=loan, amount=amount, paid_on=paid_on)
    assert field in exc.value.fields
    nothing_written(repayment_count=0)


def test_order_prepayment_mode_reference_and_kind_are_checked(disbursed):
    loan = disbursed()
    pay(loan, A, FEB15, bank_reference="LS-1")
    with pytest.raises(DomainError) as exc:
        pay(loan, "100", FEB15 - datetime.timedelta(days=1))
    assert "paid_on" in exc.value.fields and "2025-02-15" in str(exc.value.detail)
    with pytest.raises(DomainError) as exc:
        pay(loan, "100", FEB15, prepayment="skip")
    assert "prepayment" in exc.value.fields
    with pytest.raises(ConflictError) as exc:
        pay(loan, "100", FEB15, bank_reference="LS-1")
    assert exc.value.code == "duplicate_bank_reference"
    with pytest.raises(DomainError):
        pay(loan, "100", FEB15, kind="gift")
    assert Repayment.objects.count() == 1


def test_disposal_kind_and_other_bank(disbursed, second_bank_officer, county_staff):
    loan = disbursed()
    with pytest.raises(PermissionDeniedError):
        pay(loan, "100", FEB15, actor=second_bank_officer)
    nothing_written(repayment_count=0)
    repayment = pay(loan, "100", FEB15, actor=county_staff, kind="disposal")
    assert repayment.kind == RepaymentKind.DISPOSAL and repayment.recorded_by == county_staff
