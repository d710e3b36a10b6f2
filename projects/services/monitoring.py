"""Monitoring runs (Celery beat calls `projects.tasks.run_monitor` with the kwargs kept in
django-celery-beat, e.g. {"job": "leases_expiring", "days": 60}).

`run_monitor` records a MonitorRun (committed before the check starts, so a crash is visible),
runs the job's check (projects.monitors) and, in one transaction under a per-job advisory lock:
raises an alert for each finding with no open alert of the same (job, key) and notifies its
recipients (inbox + e-mail, after commit); only touches `last_seen_at` of a finding already open;
resolves the job's open alerts that were not found again. Two runs of the same job therefore never
raise the same alert twice (the partial unique index one_open_alert_per_condition is the backstop:
a violation fails the run, nothing half-written stays). A failing check, an unknown job or bad
parameters end the run FAILED with the error and write no alert; the worker never crashes.

Manual runs (`request_run`, MANAGE_OVERSIGHT) validate at once, create the run and hand its id to
the task after commit under the reserved parameter `run_id`, so the page can show the run at once
and a redelivered task (acks_late) finishes the same run instead of starting another.
"""

import json
import logging
import zlib
from functools import partial

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from directory.models import NotificationLevel
from directory.permissions import Capability
from directory.services import notify
from tmcs.audit import audit_context
from tmcs.errors import DomainError

from ..models import MonitorAlert, MonitorRun, MonitorRunStatus
from ..monitors import Audience, get_job
from .common import require

logger = logging.getLogger(__name__)

RUN_ID_PARAM = "run_id"  # reserved: the pre-created run a manual request hands to the task
LOCK_NAMESPACE = 0x4D4F4E  # first key of pg_advisory_xact_lock(int, int) for monitoring jobs
STORED_LANGUAGE = "zh-hans"  # alerts and messages are stored in Chinese, whatever the caller's
ERROR_MAX_LENGTH = 4000
LEVELS = {choice.value for choice in NotificationLevel}


def _json_safe(value):
    """Parameters as JSON can hold them (a caller may pass a Decimal or a date)."""
    return json.loads(json.dumps(value, default=str))


def _split_params(params):
    if params is None:
        return {}, None
    if not isinstance(params, dict):
        return params, None  # refused by the job's validation, recorded on the run
    params = dict(params)
    return params, params.pop(RUN_ID_PARAM, None)


def _start(job, params, triggered_by, run_id):
    """The run to work on: the one a manual request created, or a new one (autocommitted)."""
    if run_id is not None:
        try:
            run = MonitorRun.objects.filter(pk=int(run_id), job=str(job)).first()
        except (TypeError, ValueError):
            run = None
        if run is not None:
            return run
    return MonitorRun.objects.create(
        job=str(job)[: MonitorRun._meta.get_field("job").max_length],
        params=_json_safe(params) if isinstance(params, dict) else {"invalid": _json_safe(params)},
        triggered_by=triggered_by,
    )


def run_monitor(job, *, params=None, triggered_by=None):
    """Run monitoring job `job` with `params` (beat's kwargs without "job"); returns the run."""
    params, run_id = _split_params(params)
    run = _start(job, params, triggered_by, run_id)
    if run.status != MonitorRunStatus.RUNNING:
        return run  # a redelivered task of a run already finished
    try:
        spec = get_job(job)
        clean = spec.clean_params(params)
        with (
            translation.override(STORED_LANGUAGE),
            audit_context(user=run.triggered_by, reason=f"monitor {spec.key}"),
        ):
            _execute(run.pk, spec, clean)
    except Exception as exc:  # any failure is recorded on the run, never raised
        _fail(run.pk, exc)
    run.refresh_from_db()
    return run


@transaction.atomic
def _execute(run_pk, spec, params):
    run = MonitorRun.objects.select_for_update().get(pk=run_pk)
    if run.status != MonitorRunStatus.RUNNING:
        return  # another delivery of the same task finished it while this one waited
    result = spec.check(params, timezone.localdate(), Audience())
    _lock_job(spec.key)
    now = timezone.now()
    raised, resolved = _apply(run, spec.key, result.findings, now)
    run.status = MonitorRunStatus.SUCCEEDED
    run.checked = result.checked
    run.raised = raised
    run.resolved = resolved
    run.finished_at = now
    run.save(update_fields=["status", "checked", "raised", "resolved", "finished_at"])


def _lock_job(job):
    """Serialise the alert writes of one job across processes until the transaction ends."""
    job_key = zlib.crc32(job.encode()) - 2**31  # signed 32-bit
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, job_key])


def _apply(run, job, findings, now):
    """Raise, touch and resolve; returns (raised, resolved)."""
    unique = {}
    for finding in findings:
        unique.setdefault(finding.key, finding)  # a check listing a condition twice raises it once
    open_alerts = {
        alert.key: alert
        for alert in MonitorAlert.objects.select_for_update().filter(job=job, resolved_at__isnull=True)
    }
    new = [finding for key, finding in unique.items() if key not in open_alerts]
    seen = [alert.pk for key, alert in open_alerts.items() if key in unique]
    gone = [alert.pk for key, alert in open_alerts.items() if key not in unique]
    MonitorAlert.objects.filter(pk__in=seen).update(last_seen_at=now)
    MonitorAlert.objects.filter(pk__in=gone).update(resolved_at=now)
    alerts = MonitorAlert.objects.bulk_create(
        [
            MonitorAlert(
                job=job,
                key=finding.key,
                level=finding.level,
                title=finding.title[:200],
                body=finding.body,
                link=finding.link[:500],
                division=finding.division,
                raised_by=run,
                last_seen_at=now,
            )
            for finding in new
        ]
    )
    through = MonitorAlert.recipients.through
    through.objects.bulk_create(
        [
            through(monitoralert_id=alert.pk, user_id=user.pk)
            for alert, f in zip(alerts, new, strict=True)
            for user in f.recipients
        ]
    )
    for alert, finding in zip(alerts, new, strict=True):
        if finding.recipients:
            transaction.on_commit(
                partial(
                    notify,
                    recipients=list(finding.recipients),
                    title=alert.title,
                    body=alert.body,
                    link=alert.link,
                    level=alert.level if alert.level in LEVELS else NotificationLevel.WARNING,
                    email=True,
                )
            )
    return len(alerts), len(gone)


def _fail(run_pk, exc):
    if isinstance(exc, DomainError):
        message = str(exc.detail)
    else:
        logger.exception("monitoring run %s failed", run_pk)
        message = f"{type(exc).__name__}: {exc}"
    MonitorRun.objects.filter(pk=run_pk).update(
        status=MonitorRunStatus.FAILED, error=message[:ERROR_MAX_LENGTH], finished_at=timezone.now()
    )


# --- manual runs ------------------------------------------------------------------------------


def request_run(*, actor, job, params=None):
    """“Run now”: check the job and its parameters at once (a 400 with the field, not a failed run
    later), record the run and dispatch the Celery task after commit."""
    require(actor, Capability.MANAGE_OVERSIGHT)
    spec = get_job(job)
    clean = spec.clean_params(params)
    with transaction.atomic(), audit_context(user=actor, reason=f"request monitor {spec.key}"):
        run = MonitorRun.objects.create(job=spec.key, params=clean, triggered_by=actor)
        transaction.on_commit(partial(_dispatch, run.pk, spec.key, clean))
    return run


def _dispatch(run_pk, job, params):
    from ..tasks import run_monitor as task

    try:
        task.delay(job, **{**params, RUN_ID_PARAM: run_pk})
    except Exception as exc:  # broker unreachable: the run must not stay "running"
        logger.exception("could not queue monitoring run %s", run_pk)
        with translation.override(STORED_LANGUAGE):
            message = _("无法提交到任务队列：%(error)s") % {"error": exc}
        MonitorRun.objects.filter(pk=run_pk, status=MonitorRunStatus.RUNNING).update(
            status=MonitorRunStatus.FAILED, error=message[:ERROR_MAX_LENGTH], finished_at=timezone.now()
        )
