"""The projects module's front page: what waits for whom and where to go, by role. Staff see
their divisions; project owners (investors, village clerks) see their own organization's projects."""

from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import path

from directory.permissions import Capability, can, memberships_with
from directory.selectors import within_reach

from ..models import KeyProject, MonitorAlert, ProjectStatus, RedLineReading, RedLineStatus


def _project_counts(user):
    if can(user, Capability.MANAGE_PROJECTS) or can(user, Capability.VIEW_OVERSIGHT):
        projects = KeyProject.objects.filter(within_reach(user, "division__code", Capability.VIEW))
    else:
        owners = [m.organization_id for m in memberships_with(user, Capability.APPLY_PROJECTS)]
        projects = KeyProject.objects.filter(owner_id__in=owners)
    return projects.aggregate(
        drafts=Count("pk", filter=Q(status=ProjectStatus.DRAFT)),
        submitted=Count("pk", filter=Q(status=ProjectStatus.SUBMITTED)),
        admitted=Count("pk", filter=Q(status=ProjectStatus.ADMITTED)),
    )


def _oversight(user):
    if not can(user, Capability.VIEW_OVERSIGHT):
        return None
    alerts = MonitorAlert.objects.filter(resolved_at__isnull=True).filter(
        within_reach(user, "division__code", Capability.VIEW_OVERSIGHT) | Q(division__isnull=True)
    )
    latest = (
        RedLineReading.objects.filter(
            within_reach(user, "cooperative__division__code", Capability.VIEW_OVERSIGHT)
        )
        .order_by("cooperative_id", "key", "-as_of")
        .distinct("cooperative_id", "key")
    )
    statuses = [reading.status for reading in latest]
    return {
        "open_alerts": alerts.count(),
        "breaches": statuses.count(RedLineStatus.BREACH),
        "warnings": statuses.count(RedLineStatus.WARNING),
    }


def index(request):
    user = request.user
    return render(
        request,
        "projects/index.html",
        {
            "counts": _project_counts(user),
            "oversight": _oversight(user),
            "can_manage": can(user, Capability.MANAGE_PROJECTS),
            "can_apply": can(user, Capability.APPLY_PROJECTS),
            "can_oversee": can(user, Capability.VIEW_OVERSIGHT),
            "can_configure": can(user, Capability.MANAGE_OVERSIGHT),
        },
    )


urlpatterns = [path("", index, name="index")]
