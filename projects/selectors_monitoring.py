"""Reads of the monitoring area. Runs are platform-wide (what ran, when, with what outcome): anyone
with VIEW_OVERSIGHT sees them. Alerts belong to a division and are seen within the user's
VIEW_OVERSIGHT reach. The beat schedules are read from django-celery-beat's PeriodicTask rows of
`projects.tasks.run_monitor`, matched to a job by the "job" of their kwargs."""

import json
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, Q, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django_celery_beat.models import PeriodicTask

from directory.permissions import Capability, can
from directory.selectors import within_reach

from .forms_monitoring import LEVEL_CHOICES
from .models import MonitorAlert, MonitorRun
from .monitors import all_jobs

TASK_NAME = "projects.tasks.run_monitor"


def runs_for(user):
    if not can(user, Capability.VIEW_OVERSIGHT):
        return MonitorRun.objects.none()
    return MonitorRun.objects.select_related("triggered_by")


def alerts_for(user):
    if not can(user, Capability.VIEW_OVERSIGHT):
        return MonitorAlert.objects.none()
    q = within_reach(user, "division__code", Capability.VIEW_OVERSIGHT)
    if user.is_superuser:
        q |= Q(division__isnull=True)
    return (
        MonitorAlert.objects.filter(q)
        .select_related("division", "raised_by")
        .annotate(level_label=level_label())
    )


def level_label():
    """The alert's level in words (MonitorAlert.level is free text holding a notification level)."""
    return Case(
        *(When(level=value, then=Value(str(label))) for value, label in LEVEL_CHOICES),
        default="level",
        output_field=CharField(),
    )


def may_edit_schedules(user):
    """Superusers and city administrators are sent to the beat admin to change a schedule."""
    return user.is_authenticated and user.can_operate_platform


@dataclass
class Schedule:
    task: PeriodicTask
    params: dict
    timing: str
    admin_url: str = ""


@dataclass
class JobRow:
    job: object  # projects.monitors.Job
    schedules: list = field(default_factory=list)
    last_run: MonitorRun | None = None
    open_alerts: int = 0

    @property
    def default_params(self):
        """The parameters of the first enabled schedule (what “run now” proposes), else defaults."""
        for schedule in self.schedules:
            if schedule.task.enabled:
                return schedule.params
        return {param.name: param.default for param in self.job.params}


def timing_text(task):
    """A schedule in words an operator reads at a glance, with the raw crontab for precision."""
    if task.crontab_id:
        c = task.crontab
        raw = f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"
        daily = c.day_of_month == c.month_of_year == c.day_of_week == "*"
        if daily and c.minute.isdigit() and c.hour.isdigit():
            return _("每天 %(time)s（crontab：%(raw)s，%(tz)s）") % {
                "time": f"{int(c.hour):02d}:{int(c.minute):02d}",
                "raw": raw,
                "tz": c.timezone,
            }
        return _("crontab：%(raw)s（%(tz)s）") % {"raw": raw, "tz": c.timezone}
    if task.interval_id:
        return _("每 %(n)s %(unit)s") % {"n": task.interval.every, "unit": task.interval.get_period_display()}
    if task.clocked_id:
        return _("一次：%(at)s") % {"at": task.clocked.clocked_time}
    if task.solar_id:
        return str(task.solar)
    return "—"


def _parse_kwargs(task):
    try:
        kwargs = json.loads(task.kwargs or "{}")
    except ValueError:
        return None, {}
    if not isinstance(kwargs, dict):
        return None, {}
    kwargs = dict(kwargs)
    return kwargs.pop("job", None), kwargs


def _admin_url(task):
    try:
        return reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    except NoReverseMatch:
        return ""


def schedules_by_job(user=None):
    """{job key: [Schedule]} of the beat's monitoring tasks (a schedule whose kwargs name no known
    job is listed under its raw name so an operator's typo is visible)."""
    tasks = PeriodicTask.objects.filter(task=TASK_NAME).select_related(
        "crontab", "interval", "clocked", "solar"
    )
    editable = user is not None and may_edit_schedules(user)
    found = {}
    for task in tasks.order_by("name", "pk"):
        job, params = _parse_kwargs(task)
        found.setdefault(job, []).append(
            Schedule(
                task=task,
                params=params,
                timing=timing_text(task),
                admin_url=_admin_url(task) if editable else "",
            )
        )
    return found


def job_overview(user):
    """One row per job: its beat schedules, its latest run and its open alerts within reach."""
    schedules = schedules_by_job(user)
    latest = {
        run.job: run
        for run in MonitorRun.objects.select_related("triggered_by")
        .order_by("job", "-started_at", "-pk")
        .distinct("job")
    }
    open_counts = dict(
        alerts_for(user)
        .filter(resolved_at__isnull=True)
        .order_by()
        .values("job")
        .annotate(n=Count("pk"))
        .values_list("job", "n")
    )
    return [
        JobRow(
            job=job,
            schedules=schedules.get(job.key, []),
            last_run=latest.get(job.key),
            open_alerts=open_counts.get(job.key, 0),
        )
        for job in all_jobs()
    ]


def orphan_schedules(user):
    """Beat tasks of run_monitor whose kwargs name no known job (shown as a warning)."""
    known = {job.key for job in all_jobs()}
    return [s for job, rows in schedules_by_job(user).items() if job not in known for s in rows]


def run_alerts(user, run):
    return alerts_for(user).filter(raised_by=run).order_by("pk")


def alert_recipients(alert):
    return list(alert.recipients.order_by("pk"))
