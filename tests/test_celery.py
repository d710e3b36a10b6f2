from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_results.models import TaskResult

from tmcs.tasks import clear_expired_sessions


def _make_sessions(expired, live):
    for i in range(expired + live):
        store = SessionStore()
        store["n"] = i
        store.create()
        if i < expired:
            Session.objects.filter(session_key=store.session_key).update(
                expire_date=timezone.now() - timedelta(days=1)
            )


def test_clear_expired_sessions_eagerly(db):
    _make_sessions(expired=3, live=2)
    result = clear_expired_sessions.apply()
    assert result.successful()
    assert result.result == {"deleted": 3}
    assert Session.objects.count() == 2
    # Idempotent: a retry finds nothing more to delete.
    assert clear_expired_sessions.apply().result == {"deleted": 0}


@pytest.mark.worker
def test_task_runs_on_a_real_worker_through_redis(celery_worker_process):
    _make_sessions(expired=4, live=1)
    async_result = clear_expired_sessions.delay()
    assert async_result.get(timeout=60) == {"deleted": 4}
    assert Session.objects.count() == 1
    stored = TaskResult.objects.get(task_id=async_result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "tmcs.tasks.clear_expired_sessions"
    assert stored.worker == celery_worker_process


def test_housekeeping_is_scheduled_in_beat(db):
    schedule = PeriodicTask.objects.get(task="tmcs.tasks.clear_expired_sessions")
    assert schedule.enabled
    assert schedule.crontab.timezone.key == "Asia/Shanghai"


def test_tasks_are_acked_late(settings):
    from tmcs.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert "tmcs.tasks.clear_expired_sessions" in app.tasks
