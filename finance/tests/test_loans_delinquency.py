# ruff: noqa: F811  (fixtures imported from test_loans_fixtures)
"""Position on a day, delinquency buckets and 五级分类 floors, the daily snapshot and its alerts,
and statements."""

import datetime
from decimal import Decimal as D

import pytest

from directory.models import Notification
from finance.models import DelinquencyBucket, DelinquencySnapshot, LoanClassification, LoanStatus
from finance.services import loans
from tmcs.errors import DomainError

from .test_loans_fixtures import DISBURSED, A, approved, disbursed  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
FEB15 = datetime.date(2025, 2, 15)


@pytest.mark.parametrize(
    ("days", "bucket", "classification"),
    [
        (0, DelinquencyBucket.CURRENT, LoanClassification.NORMAL),
        (1, DelinquencyBucket.DPD_1_30, LoanClassification.SPECIAL_MENTION),
        (30, DelinquencyBucket.DPD_1_30, LoanClassification.SPECIAL_MENTION),
        (31, DelinquencyBucket.DPD_31_60, LoanClassification.SPECIAL_MENTION),
        (60, DelinquencyBucket.DPD_31_60, LoanClassification.SPECIAL_MENTION),
        (61, DelinquencyBucket.DPD_61_90, LoanClassification.SPECIAL_MENTION),
        (90, DelinquencyBucket.DPD_61_90, LoanClassification.SPECIAL_MENTION),
        (91, DelinquencyBucket.DPD_90_PLUS, LoanClassification.SUBSTANDARD),
        (270, DelinquencyBucket.DPD_90_PLUS, LoanClassification.SUBSTANDARD),
        (271, DelinquencyBucket.DPD_90_PLUS, LoanClassification.DOUBTFUL),
        (360, DelinquencyBucket.DPD_90_PLUS, LoanClassification.DOUBTFUL),
        (361, DelinquencyBucket.DPD_90_PLUS, LoanClassification.LOSS),
    ],
)
def test_buckets_and_classification_floors(disbursed, days, bucket, classification):
    """Installment 1 falls due on 15 Feb 2025 and is never paid."""
    loan = disbursed()
    pos = loans.position(loan, FEB15 + datetime.timedelta(days=days))
    assert (pos.days_past_due, pos.bucket, pos.classification) == (days, bucket, classification)
    assert loans.bucket_for(days) == bucket and loans.classification_for(days) == classification


def test_classification_thresholds_come_from_settings(settings):
    settings.TMCS_CLASSIFICATION_DPD = [1, 61, 181, 361]
    assert loans.classification_for(61) == LoanClassification.SUBSTANDARD
    assert loans.classification_for(181) == LoanClassification.DOUBTFUL
    assert loans.classification_for(0) == LoanClassification.NORMAL


def test_position_counts_overdue_amounts_penalty_and_accrual(disbursed):
    """15 days after installment 1 fell due: penalty 7903.91 × 0.00225 = 17.78 and 900.00 × 0.00225
    = 2.025 → 2.03; the running period has accrued 292096.09 × 3.6 % × 15 / 360 = 438.14."""
    loan = disbursed()
    day = FEB15 + datetime.timedelta(days=15)
    pos = loans.position(loan, day)
    assert pos.outstanding_principal == D("300000.00")
    assert (pos.overdue_principal, pos.overdue_interest) == (D("7903.91"), D("900.00"))
    assert pos.penalty_accrued == D("19.81") and pos.overdue_total == D("8823.72")
    assert pos.accrued_interest == D("438.14")
    assert pos.next_installment.seq == 2
    assert (
        pos.payoff
        == D("300000.00") + D("900.00") + D("19.81") + D("438.14")
        == loans.payoff_amount(loan, day)
    )
    on_due_date = loans.position(loan, FEB15)
    assert (
        on_due_date.due_today == A
        and on_due_date.days_past_due == 0
        and on_due_date.next_installment.seq == 1
    )
    before = loans.position(loan, DISBURSED)
    assert before.accrued_interest == 0 and before.payoff == D("300000.00")


def test_position_as_of_ignores_later_repayments(disbursed):
    loan = disbursed()
    late = FEB15 + datetime.timedelta(days=10)
    loans.record_repayment(actor=loan.recorded_by, loan=loan, amount=A + D("13.21"), paid_on=late)
    assert loans.position(loan, late - datetime.timedelta(days=1)).days_past_due == 9
    after = loans.position(loan, late)
    assert after.days_past_due == 0 and after.penalty_accrued == 0
    assert after.outstanding_principal == D("292096.09")


def test_snapshot_is_idempotent_and_alerts_once_per_worse_bucket(
    disbursed, django_capture_on_commit_callbacks, bank_officer, county_staff, checker
):
    overdue = disbursed()
    current = disbursed()
    loans.record_repayment(actor=current.recorded_by, loan=current, amount=A, paid_on=FEB15)
    paid_off = disbursed()
    loans.record_repayment(actor=paid_off.recorded_by, loan=paid_off, amount=D("300900.00"), paid_on=FEB15)
    day = FEB15 + datetime.timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert loans.snapshot_delinquency(day) == 2
    rows = {s.loan_id: s for s in DelinquencySnapshot.objects.filter(as_of=day)}
    assert set(rows) == {overdue.pk, current.pk}
    assert (rows[overdue.pk].days_past_due, rows[overdue.pk].bucket) == (5, DelinquencyBucket.DPD_1_30)
    assert rows[overdue.pk].overdue_principal == D("7903.91") and rows[overdue.pk].penalty_accrued > 0
    assert rows[current.pk].bucket == DelinquencyBucket.CURRENT
    alerts = Notification.objects.filter(title__contains=overdue.number)
    assert {n.recipient for n in alerts.all()} >= {bank_officer, county_staff, checker}
    count = alerts.count()
    assert not Notification.objects.filter(title__contains=current.number).exists()
    # the same day again: same rows, no new alert
    with django_capture_on_commit_callbacks(execute=True):
        assert loans.snapshot_delinquency(day) == 2
    assert DelinquencySnapshot.objects.filter(as_of=day).count() == 2
    assert alerts.count() == count
    # the next day, same bucket: a new row, no alert; 31 days: a worse bucket, one more alert each
    with django_capture_on_commit_callbacks(execute=True):
        loans.snapshot_delinquency(day + datetime.timedelta(days=1))
    assert alerts.count() == count
    with django_capture_on_commit_callbacks(execute=True):
        loans.snapshot_delinquency(FEB15 + datetime.timedelta(days=31))
    assert alerts.count() == 2 * count
    assert DelinquencySnapshot.objects.filter(loan=overdue).count() == 3


def test_snapshot_task_runs_for_today(disbursed, celery_eager):
    from finance.tasks import snapshot_delinquency

    loan = disbursed()
    assert snapshot_delinquency.delay().get() == 1
    snapshot = DelinquencySnapshot.objects.get(loan=loan)
    assert (
        snapshot.bucket == DelinquencyBucket.DPD_90_PLUS
        and snapshot.classification == LoanClassification.LOSS
    )


def test_statement_balances_and_allocation(disbursed):
    loan = disbursed()
    loans.record_repayment(actor=loan.recorded_by, loan=loan, amount=A, paid_on=FEB15)
    late = datetime.date(2025, 3, 30)
    loans.record_repayment(actor=loan.recorded_by, loan=loan, amount=A + D("19.81"), paid_on=late)
    first = loans.statement(loan, datetime.date(2025, 1, 1), datetime.date(2025, 2, 28))
    assert (first.opening_balance, first.disbursed, first.principal_paid) == (
        D("0"),
        D("300000.00"),
        D("7903.91"),
    )
    assert first.closing_balance == D("292096.09")
    assert [(inst.seq, p, i) for inst, p, i, _pen in first.scheduled] == [(1, D("7903.91"), D("900.00"))]
    second = loans.statement(loan, datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))
    assert second.opening_balance == first.closing_balance
    assert second.penalty_paid == D("19.81") and second.total_paid == A + D("19.81")
    assert second.closing_balance == D("284168.47")  # the worked example's balance after month 2
    assert [r.paid_on for r in second.repayments] == [late]
    assert second.scheduled_principal == D("7927.62") and second.scheduled_interest == D("876.29")
    assert second.position.days_past_due == 0 and second.position.next_installment.seq == 3
    with pytest.raises(DomainError) as exc:
        loans.statement(loan, datetime.date(2025, 3, 2), datetime.date(2025, 3, 1))
    assert "end" in exc.value.fields


def test_position_of_a_paid_off_loan(disbursed):
    loan = disbursed()
    loans.record_repayment(actor=loan.recorded_by, loan=loan, amount=D("300900.00"), paid_on=FEB15)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.PAID_OFF
    pos = loans.position(loan, datetime.date(2026, 1, 1))
    assert (
        pos.outstanding_principal == 0
        and pos.next_installment is None
        and pos.bucket == DelinquencyBucket.CURRENT
    )


def test_snapshot_is_scheduled_daily_in_beat(db):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    # the migration wrote it; run it again (idempotent) in case a transactional test flushed the table
    importlib.import_module("finance.migrations.0003_beat_schedules").create_schedules(apps, None)
    assert PeriodicTask.objects.filter(task="finance.tasks.snapshot_delinquency").count() == 1
    schedule = PeriodicTask.objects.get(task="finance.tasks.snapshot_delinquency")
    assert schedule.enabled and (schedule.crontab.minute, schedule.crontab.hour) == ("30", "1")
    assert schedule.crontab.timezone.key == "Asia/Shanghai"
