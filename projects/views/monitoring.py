"""Monitoring pages (VIEW_OVERSIGHT): the nine jobs with their beat schedules, last run and open
alerts; “run now” (MANAGE_OVERSIGHT, the Celery task is dispatched after commit); runs and alerts
lists with XLSX export; run and alert details."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.listing import Column, ObjectListView

from ..forms_monitoring import AlertFilter, RunFilter, RunNowForm
from ..monitors import get_job
from ..selectors_monitoring import (
    alert_recipients,
    alerts_for,
    job_overview,
    orphan_schedules,
    run_alerts,
    runs_for,
)
from ..services import monitoring as services


def _require_view(user):
    if not can(user, Capability.VIEW_OVERSIGHT):
        raise PermissionDenied


def monitor_index(request):
    _require_view(request.user)
    may_run = can(request.user, Capability.MANAGE_OVERSIGHT)
    rows = job_overview(request.user)
    return render(
        request,
        "projects/monitoring/index.html",
        {
            "rows": [
                (row, RunNowForm(job=row.job, initial=row.default_params) if may_run else None)
                for row in rows
            ],
            "orphans": orphan_schedules(request.user),
            "may_run": may_run,
        },
    )


@require_POST
def monitor_run_now(request, job):
    _require_view(request.user)
    try:
        spec = get_job(job)
    except DomainError:
        raise Http404 from None
    form = RunNowForm(request.POST, job=spec)
    if not form.is_valid():
        messages.error(
            request,
            _("参数有误：%(errors)s")
            % {"errors": "；".join(e for errs in form.errors.values() for e in errs)},
        )
        return redirect("projects:monitor-index")
    try:
        run = services.request_run(actor=request.user, job=spec.key, params=form.params())
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.detail)) from None
    except DomainError as exc:
        messages.error(request, str(exc.detail))
        return redirect("projects:monitor-index")
    messages.success(request, _("已提交运行：%(job)s") % {"job": spec.label})
    return redirect("projects:monitor-run-detail", run.pk)


class _OversightList(ObjectListView):
    template_name = "projects/monitoring/list.html"

    def get(self, request):
        _require_view(request.user)
        return super().get(request)


class RunListView(_OversightList):
    title = gettext_lazy("监测运行记录")
    filterset_class = RunFilter
    export_name = "monitor-runs"
    default_sort = ("-started_at", "-pk")
    columns = [
        Column(gettext_lazy("编号"), "pk", sort="pk", link=True),
        Column(gettext_lazy("监测任务"), "get_job_display", sort="job"),
        Column(gettext_lazy("状态"), "get_status_display", sort="status"),
        Column(gettext_lazy("开始时间"), "started_at", sort="started_at"),
        Column(gettext_lazy("结束时间"), "finished_at", sort="finished_at"),
        Column(gettext_lazy("检查对象数"), "checked", sort="checked"),
        Column(gettext_lazy("新增预警"), "raised", sort="raised"),
        Column(gettext_lazy("解除预警"), "resolved", sort="resolved"),
        Column(gettext_lazy("手动触发人"), "triggered_by"),
        Column(gettext_lazy("错误"), "error"),
    ]

    def get_queryset(self):
        return runs_for(self.request.user)

    def get_extra_context(self):
        return {"tab": "runs"}


class AlertListView(_OversightList):
    title = gettext_lazy("监测预警")
    filterset_class = AlertFilter
    export_name = "monitor-alerts"
    default_sort = ("-raised_at", "-pk")
    columns = [
        Column(gettext_lazy("标题"), "title", sort="title", link=True),
        Column(gettext_lazy("监测任务"), "get_job_display", sort="job"),
        Column(gettext_lazy("级别"), "level_label", sort="level"),
        Column(gettext_lazy("区划"), "division.name", sort="division__code"),
        Column(gettext_lazy("预警时间"), "raised_at", sort="raised_at"),
        Column(gettext_lazy("最近一次确认"), "last_seen_at", sort="last_seen_at"),
        Column(gettext_lazy("解除时间"), "resolved_at", sort="resolved_at"),
        Column(gettext_lazy("内容"), "body"),
    ]

    def get_queryset(self):
        return alerts_for(self.request.user)

    def get_extra_context(self):
        return {"tab": "alerts"}


def run_detail(request, pk):
    _require_view(request.user)
    run = get_object_or_404(runs_for(request.user), pk=pk)
    return render(
        request,
        "projects/monitoring/run_detail.html",
        {"run": run, "alerts": run_alerts(request.user, run), "job": _job_or_none(run.job)},
    )


def alert_detail(request, pk):
    _require_view(request.user)
    alert = get_object_or_404(alerts_for(request.user), pk=pk)
    return render(
        request,
        "projects/monitoring/alert_detail.html",
        {
            "alert": alert,
            "recipients": alert_recipients(alert),
            "run_url": reverse("projects:monitor-run-detail", args=[alert.raised_by_id]),
        },
    )


def _job_or_none(key):
    try:
        return get_job(key)
    except DomainError:
        return None


urlpatterns = [
    path("monitoring/", monitor_index, name="monitor-index"),
    path("monitoring/jobs/<str:job>/run/", monitor_run_now, name="monitor-run-now"),
    path("monitoring/runs/", RunListView.as_view(), name="monitor-run-list"),
    path("monitoring/runs/<int:pk>/", run_detail, name="monitor-run-detail"),
    path("monitoring/alerts/", AlertListView.as_view(), name="monitor-alert-list"),
    path("monitoring/alerts/<int:pk>/", alert_detail, name="monitor-alert-detail"),
]
