# ruff: noqa: F811  (fixtures imported from fixtures_monitoring)
"""run_monitor itself: a run is recorded whatever happens; findings become alerts once per open
condition; a re-run is silent; a vanished condition is resolved; failures (unknown job, bad
parameters, a crashing check) end the run FAILED with no alert written; manual runs."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from directory.models import Notification
from projects.models import MonitorAlert, MonitorJob, MonitorRun, MonitorRunStatus
from projects.monitors import Finding, IntParam, Job, get_job, stable_key
from projects.services import monitoring
from projects.services.monitoring import request_run, run_monitor
from projects.tests.fixtures_monitoring import (  # noqa: F401  (fixtures)
    loan_with,
    make_registration,
    notified,
    open_alerts,
    run_job,
    settle,
    today,
    with_emails,
)
from tmcs.errors import DomainError, PermissionDeniedError

pytestmark = pytest.mark.django_db

OVERDUE = MonitorJob.INSTALLMENTS_OVERDUE


@pytest.fixture
def overdue_loan(loan_with):
    return loan_with([(today() - datetime.timedelta(days=10), Decimal("5000.00"), Decimal("50.00"))])


# --- failures -----------------------------------------------------------------------------------


def test_unknown_job_is_a_failed_run_not_a_crash(db):
    run = run_monitor("no_such_job", params={"days": 3})
    assert run.status == MonitorRunStatus.FAILED
    assert "no_such_job" in run.error and "leases_expiring" in run.error
    assert run.finished_at is not None
    assert run.params == {"days": 3}
    assert not MonitorAlert.objects.exists()


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"days": -1}, "0 到 730"),
        ({"days": "abc"}, "须为整数"),
        ({"days": True}, "须为整数"),
        ({"days": 100000}, "0 到 730"),
        ({"dayz": 5}, "dayz"),
    ],
)
def test_bad_params_fail_the_run_with_a_clear_error(db, params, fragment):
    run = run_monitor(MonitorJob.LEASES_EXPIRING, params=params)
    assert run.status == MonitorRunStatus.FAILED
    assert fragment in run.error
    assert run.checked == run.raised == run.resolved == 0
    assert not MonitorAlert.objects.exists()


def test_params_given_as_text_from_the_admin_are_accepted(db):
    run = run_monitor(MonitorJob.LEASES_EXPIRING, params={"days": "30"})
    assert run.status == MonitorRunStatus.SUCCEEDED


def test_a_failing_check_writes_no_alerts_and_keeps_open_ones(run_job, overdue_loan, monkeypatch):
    first = run_job(OVERDUE)
    assert first.raised == 1
    alert = MonitorAlert.objects.get()
    seen = alert.last_seen_at

    def broken(params, today, audience):
        raise RuntimeError("ledger unavailable")

    module = __import__("projects.monitors.installments_overdue", fromlist=["JOB"])
    monkeypatch.setattr(module, "JOB", Job(key=OVERDUE, check=broken))
    run = run_job(OVERDUE)
    assert run.status == MonitorRunStatus.FAILED
    assert run.error == "RuntimeError: ledger unavailable"
    alert.refresh_from_db()
    assert alert.resolved_at is None and alert.last_seen_at == seen  # nothing resolved or touched
    assert MonitorAlert.objects.count() == 1


def test_a_failure_while_writing_rolls_back_the_alerts(run_job, overdue_loan, monkeypatch):
    def half_written(run, job, findings, now):
        MonitorAlert.objects.create(job=job, key="x", title="x", raised_by=run, last_seen_at=now)
        raise RuntimeError("disk full")

    monkeypatch.setattr(monitoring, "_apply", half_written)
    run = run_job(OVERDUE)
    assert run.status == MonitorRunStatus.FAILED
    assert not MonitorAlert.objects.exists()
    assert not Notification.objects.exists()


# --- raise once, touch, resolve -------------------------------------------------------------------


def test_raise_once_then_silent_then_resolved(run_job, overdue_loan, with_emails):
    first = run_job(OVERDUE)
    assert (first.status, first.checked, first.raised, first.resolved) == (
        MonitorRunStatus.SUCCEEDED,
        1,
        1,
        0,
    )
    alert = MonitorAlert.objects.get()
    assert alert.raised_by == first
    messages = Notification.objects.count()
    assert messages == alert.recipients.count() > 0
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted(u.email for u in alert.recipients.all())

    second = run_job(OVERDUE)
    assert (second.raised, second.resolved) == (0, 0)
    assert MonitorAlert.objects.count() == 1
    assert Notification.objects.count() == messages and len(mail.outbox) == 1
    alert.refresh_from_db()
    assert alert.last_seen_at >= second.started_at and alert.resolved_at is None

    settle(overdue_loan.installments.get())
    third = run_job(OVERDUE)
    assert (third.checked, third.raised, third.resolved) == (0, 0, 1)
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert Notification.objects.count() == messages  # a resolution is recorded, not broadcast


def test_condition_back_after_resolution_raises_a_new_alert(run_job, overdue_loan):
    run_job(OVERDUE)
    inst = overdue_loan.installments.get()
    settle(inst)
    run_job(OVERDUE)
    inst.settled_on = None
    inst.principal_paid = Decimal("0")
    inst.interest_paid = Decimal("0")
    inst.save()  # a repayment reversed
    run = run_job(OVERDUE)
    assert run.raised == 1
    assert MonitorAlert.objects.filter(resolved_at__isnull=True).count() == 1
    assert MonitorAlert.objects.count() == 2


def test_duplicate_findings_in_one_check_raise_one_alert(run_job, db, monkeypatch, county, county_staff):
    finding = Finding(
        key=stable_key("x", 1),
        level="warning",
        title="t",
        body="b",
        link="",
        division=county,
        recipients=(county_staff,),
    )

    def twice(params, today, audience):
        from projects.monitors import CheckResult

        return CheckResult(checked=2, findings=[finding, finding])

    module = __import__("projects.monitors.stale_data", fromlist=["JOB"])
    monkeypatch.setattr(module, "JOB", Job(key=MonitorJob.STALE_DATA, check=twice))
    run = run_job(MonitorJob.STALE_DATA)
    assert run.raised == 1
    assert notified() == [county_staff.username]


def test_stable_key_is_bounded_and_distinct():
    short = stable_key("loan", 5, "ltv")
    assert short == "loan:5:ltv"
    long_a = stable_key("loan", 5, "runs", "-".join(str(n) for n in range(200)))
    long_b = stable_key("loan", 5, "runs", "-".join(str(n) for n in range(201)))
    assert len(long_a) <= 200 and len(long_b) <= 200 and long_a != long_b
    assert long_a == stable_key("loan", 5, "runs", "-".join(str(n) for n in range(200)))


def test_int_param_bounds():
    param = IntParam("days", "天数", default=7, minimum=1, maximum=10)
    assert param.clean("3") == 3
    for bad in (0, 11, "x", 1.5, None, [3]):
        with pytest.raises(DomainError) as info:
            param.clean(bad)
        assert info.value.fields == {"days": [str(info.value.detail)]}


def test_job_defaults_fill_missing_params(db):
    assert get_job(MonitorJob.LEASES_EXPIRING).clean_params({}) == {"days": 60}
    assert get_job(MonitorJob.INSTALLMENTS_OVERDUE).clean_params(None) == {}
    with pytest.raises(DomainError):
        get_job(MonitorJob.INSTALLMENTS_OVERDUE).clean_params(["days"])


# --- manual runs --------------------------------------------------------------------------------


def test_request_run_checks_permission_and_params_before_writing(county_staff, city_admin):
    with pytest.raises(PermissionDeniedError):
        request_run(actor=county_staff, job=MonitorJob.LEASES_EXPIRING, params={})
    with pytest.raises(DomainError) as info:
        request_run(actor=city_admin, job=MonitorJob.LEASES_EXPIRING, params={"days": -5})
    assert "days" in info.value.fields
    with pytest.raises(DomainError) as info:
        request_run(actor=city_admin, job="nope", params={})
    assert info.value.code == "unknown_job"
    assert not MonitorRun.objects.exists()


def test_request_run_dispatches_after_commit_and_finishes_the_same_run(
    city_admin, overdue_loan, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = request_run(actor=city_admin, job=OVERDUE, params={})
    assert run.status == MonitorRunStatus.RUNNING and run.triggered_by == city_admin
    assert len(callbacks) == 1  # nothing is queued before the run row is committed
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    run.refresh_from_db()
    assert run.status == MonitorRunStatus.SUCCEEDED and run.raised == 1
    assert MonitorRun.objects.count() == 1  # the task finished the requested run, no second one
    assert MonitorAlert.objects.get().raised_by == run


def test_redelivered_task_of_a_finished_run_does_nothing(city_admin, overdue_loan, run_job):
    run = run_job(OVERDUE)
    again = run_monitor(OVERDUE, params={"run_id": run.pk})
    assert again.pk == run.pk and MonitorRun.objects.count() == 1
    assert MonitorAlert.objects.count() == 1


def test_broker_failure_marks_the_requested_run_failed(
    city_admin, monkeypatch, django_capture_on_commit_callbacks
):
    from projects import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tasks.run_monitor, "delay", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        run = request_run(actor=city_admin, job=MonitorJob.STALE_DATA, params={"days": 30})
    run.refresh_from_db()
    assert run.status == MonitorRunStatus.FAILED
    assert "redis down" in run.error and "任务队列" in run.error
    assert run.params == {"days": 30}
