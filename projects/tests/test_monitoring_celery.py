# ruff: noqa: F811  (fixtures imported from fixtures_monitoring)
"""The monitoring task through Celery: eagerly, through a real worker over Redis, and through a
real `celery beat` reading its schedule from django-celery-beat's tables (as in production); and
two runs of the same job at the same time, which must not raise the same alert twice."""

import datetime
import json
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from conftest import ROOT
from directory.models import Notification
from projects import tasks
from projects.models import MonitorAlert, MonitorJob, MonitorRun, MonitorRunStatus
from projects.monitors import Job
from projects.services.monitoring import run_monitor
from projects.tests.fixtures_monitoring import loan_with, today  # noqa: F401  (fixtures)

OVERDUE = MonitorJob.INSTALLMENTS_OVERDUE


@pytest.fixture
def overdue_loan(loan_with):
    return loan_with([(today() - datetime.timedelta(days=6), Decimal("1200.00"), Decimal("12.00"))])


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- eager ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_eagerly(overdue_loan, celery_eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_pk = tasks.run_monitor.delay(job=OVERDUE).get()
    run = MonitorRun.objects.get(pk=run_pk)
    assert (run.status, run.raised, run.triggered_by) == (MonitorRunStatus.SUCCEEDED, 1, None)
    assert Notification.objects.count() == MonitorAlert.objects.get().recipients.count()
    with django_capture_on_commit_callbacks(execute=True):
        again = MonitorRun.objects.get(pk=tasks.run_monitor.delay(job=OVERDUE).get())
    assert again.raised == 0 and MonitorAlert.objects.count() == 1


@pytest.mark.django_db
def test_task_with_bad_kwargs_records_a_failed_run(celery_eager):
    """What an operator's typo in the beat admin produces: a failed run, not a crashed task."""
    result = tasks.run_monitor.delay(job=MonitorJob.LEASES_EXPIRING, days=-7)
    assert result.successful()
    run = MonitorRun.objects.get(pk=result.get())
    assert run.status == MonitorRunStatus.FAILED and "days" in run.error
    result = tasks.run_monitor.delay(job="leases")
    assert MonitorRun.objects.get(pk=result.get()).status == MonitorRunStatus.FAILED


# --- real worker ---------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_task_on_a_real_worker(celery_worker_process, overdue_loan):
    run_pk = tasks.run_monitor.delay(job=OVERDUE).get(timeout=60)
    run = MonitorRun.objects.get(pk=run_pk)
    assert (run.status, run.checked, run.raised) == (MonitorRunStatus.SUCCEEDED, 1, 1)
    alert = MonitorAlert.objects.get()
    # the worker committed the inbox messages after the alert
    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted(
        alert.recipients.values_list("pk", flat=True)
    )
    again = MonitorRun.objects.get(pk=tasks.run_monitor.delay(job=OVERDUE).get(timeout=60))
    assert (again.raised, again.resolved) == (0, 0)
    assert MonitorAlert.objects.count() == 1 and Notification.objects.count() == alert.recipients.count()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_run_now_through_a_real_worker(celery_worker_process, overdue_loan, city_admin):
    from projects.services.monitoring import request_run

    run = request_run(actor=city_admin, job=OVERDUE, params={})
    wait_for(
        lambda: MonitorRun.objects.get(pk=run.pk).status != MonitorRunStatus.RUNNING,
        60,
        "the requested run to finish",
    )
    run.refresh_from_db()
    assert (run.status, run.raised, run.triggered_by) == (MonitorRunStatus.SUCCEEDED, 1, city_admin)
    assert MonitorRun.objects.count() == 1


# --- real beat -------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_runs_the_job_through_the_worker(celery_worker_process, overdue_loan, tmp_path):
    """A schedule of every second in django-celery-beat: beat sends the task, the worker runs it;
    beat keeps firing, and the alert is still raised (and notified) only once."""
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    periodic = PeriodicTask.objects.create(
        name="测试：每秒检查贷款逾期",
        task="projects.tasks.run_monitor",
        interval=every_second,
        kwargs=json.dumps({"job": OVERDUE}),
    )
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tmcs",
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--max-interval",
            "1",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(
            lambda: (
                MonitorRun.objects.filter(status=MonitorRunStatus.SUCCEEDED).count() >= 2
                or beat.poll() is not None
            ),
            60,
            "beat to have the worker run the job twice",
        )
        assert beat.poll() is None, "celery beat exited early"
    finally:
        beat.terminate()
        try:
            output, _ = beat.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            beat.kill()
            output, _ = beat.communicate()
        if beat.returncode not in (0, -15):
            print(output)
    runs = list(MonitorRun.objects.filter(status=MonitorRunStatus.SUCCEEDED).order_by("pk"))
    assert len(runs) >= 2 and all(run.triggered_by_id is None and run.job == OVERDUE for run in runs)
    assert sum(run.raised for run in runs) == 1
    alert = MonitorAlert.objects.get()
    assert Notification.objects.count() == alert.recipients.count() > 0
    periodic.refresh_from_db()
    assert periodic.total_run_count >= 2 and periodic.last_run_at is not None


# --- concurrency -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_raise_one_alert(overdue_loan, monkeypatch):
    """Both runs finish their check before either writes (a barrier inside the check), so both
    find the same new condition; the per-job lock makes the second see the first's alert."""
    module = __import__("projects.monitors.installments_overdue", fromlist=["JOB"])
    original = module.JOB.check
    barrier = threading.Barrier(2, timeout=30)

    def check_then_wait(params, today, audience):
        result = original(params, today, audience)
        barrier.wait()
        return result

    monkeypatch.setattr(module, "JOB", Job(key=OVERDUE, check=check_then_wait))
    runs, errors = [], []

    def worker():
        try:
            runs.append(run_monitor(OVERDUE))
        except Exception as exc:  # recorded and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert [run.status for run in runs] == [MonitorRunStatus.SUCCEEDED] * 2
    assert sorted(run.raised for run in runs) == [0, 1]
    alert = MonitorAlert.objects.get()
    assert Notification.objects.count() == alert.recipients.count() > 0
