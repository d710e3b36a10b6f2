"""Reads of the key project list, restricted to what the user may see: the cooperative's staff and
city administrators their divisions (project desk), auditors and other oversight readers their
divisions, an owner's members (investors, village clerks) their own organization's projects only.
The public showcase reads admitted projects marked for it and nothing personal."""

import pghistory.models
from django.contrib.gis.db.models import Collect
from django.contrib.gis.db.models.functions import Centroid
from django.db.models import Prefetch, Q

from directory.models import AdministrativeDivision, DivisionLevel
from directory.permissions import Capability, memberships_with
from directory.selectors import within_reach
from resources.models import Asset
from transactions.models import ResourcePackage

from .models import (
    CriteriaSet,
    CriteriaStatus,
    Criterion,
    GepBalanceEntry,
    KeyProject,
    ProjectConsumption,
    ProjectEvaluation,
    ProjectReview,
    ProjectStatus,
)


def owner_organization_ids(user):
    """Organizations the user applies for projects of (investors, village clerks)."""
    return sorted({m.organization_id for m in memberships_with(user, Capability.APPLY_PROJECTS)})


def projects_for(user):
    if not user.is_authenticated:
        return KeyProject.objects.none()
    q = within_reach(user, "division__code", Capability.MANAGE_PROJECTS) | within_reach(
        user, "division__code", Capability.VIEW_OVERSIGHT
    )
    own = owner_organization_ids(user)
    if own:
        q |= Q(owner_id__in=own)
    return (
        KeyProject.objects.filter(q)
        .select_related("owner", "division", "created_by", "criteria_set")
        .defer("division__boundary", "description")
    )


def project_links(project):
    """Linked assets (with their division and type), packages, loans and consumptions."""
    assets = (
        project.assets.select_related("division", "resource_type")
        .defer("geometry", "division__boundary")
        .order_by("code")
    )
    packages = project.packages.select_related("division").defer("division__boundary").order_by("code")
    loans = project.loans.select_related("bank", "product").order_by("number")
    consumptions = project.consumptions.select_related("asset").defer("asset__geometry").order_by("pk")
    return {
        "assets": list(assets),
        "packages": list(packages),
        "loans": list(loans),
        "consumptions": list(consumptions),
    }


def project_reviews(project):
    return (
        ProjectReview.objects.filter(project=project)
        .select_related("criteria_set", "prepared_by", "reviewer")
        .order_by("-reviewed_at", "-pk")
    )


def project_evaluations(project):
    return (
        ProjectEvaluation.objects.filter(project=project)
        .select_related("evaluator")
        .order_by("-period_end", "-pk")
    )


def project_gep_entries(project):
    return (
        GepBalanceEntry.objects.filter(project=project)
        .select_related("division", "run", "recorded_by")
        .defer("division__boundary")
        .order_by("pk")
    )


def project_history(project):
    """Recorded changes of the project, newest first, with the acting user and reason."""
    return pghistory.models.Events.objects.filter(
        pgh_model="projects.KeyProjectEvent", pgh_obj_id=str(project.pk)
    ).order_by("-pgh_created_at", "-pgh_id")


# --- choices for the forms ------------------------------------------------------------------------


def assets_in(division):
    return (
        Asset.objects.filter(division__code__startswith=division.prefix)
        .exclude(status="retired")
        .select_related("division")
        .defer("geometry", "division__boundary")
        .order_by("code")
    )


def packages_in(division):
    return (
        ResourcePackage.objects.filter(division__code__startswith=division.prefix)
        .select_related("division")
        .defer("division__boundary")
        .order_by("code")
    )


# --- criteria ---------------------------------------------------------------------------------------


def criteria_sets():
    return CriteriaSet.objects.select_related("published_by", "created_by").prefetch_related(
        Prefetch("criteria", Criterion.objects.order_by("order", "pk"))
    )


def published_criteria():
    return criteria_sets().filter(status=CriteriaStatus.PUBLISHED).first()


# --- public showcase --------------------------------------------------------------------------------


def showcase_projects():
    """Admitted projects on the showcase; only public fields are loaded (no owner, no people)."""
    return (
        KeyProject.objects.filter(status=ProjectStatus.ADMITTED, showcase=True)
        .select_related("division")
        .only(
            "pk",
            "number",
            "name",
            "category",
            "summary",
            "total_investment",
            "social_capital",
            "expected_gep_gain",
            "admitted_on",
            "showcase_contact",
            "planned_start",
            "planned_end",
            "division__code",
            "division__name",
            "division__level",
        )
    )


def showcase_project(pk):
    # only() replaces the list projects' field list: the detail adds the description.
    return showcase_projects().only(*_PUBLIC_DETAIL_FIELDS).filter(pk=pk).first()


_PUBLIC_DETAIL_FIELDS = (
    "pk",
    "number",
    "name",
    "category",
    "summary",
    "description",
    "total_investment",
    "social_capital",
    "expected_gep_gain",
    "admitted_on",
    "showcase_contact",
    "planned_start",
    "planned_end",
    "division__code",
    "division__name",
    "division__level",
)


def counties():
    return (
        AdministrativeDivision.objects.filter(level=DivisionLevel.COUNTY).defer("boundary").order_by("code")
    )


def county_names(divisions):
    """{division code: county name} for the given divisions (one query)."""
    codes = {d.code[:6].ljust(12, "0") for d in divisions}
    names = dict(AdministrativeDivision.objects.filter(code__in=codes).values_list("code", "name"))
    return {d.code: names.get(d.code[:6].ljust(12, "0"), "") for d in divisions}


def project_centroids(project_ids):
    """{project id: (lon, lat)}: the centroid of each project's linked and consumed assets (one
    query per kind of link, in the database)."""
    points = {}
    linked = (
        Asset.objects.filter(key_projects__in=project_ids, geometry__isnull=False)
        .values("key_projects")
        .annotate(center=Centroid(Collect("geometry")))
        .values_list("key_projects", "center")
    )
    for pk, center in linked:
        if center is not None:
            points[pk] = (center.x, center.y)
    missing = [pk for pk in project_ids if pk not in points]
    if missing:
        consumed = (
            ProjectConsumption.objects.filter(project_id__in=missing, asset__geometry__isnull=False)
            .values("project_id")
            .annotate(center=Centroid(Collect("asset__geometry")))
            .values_list("project_id", "center")
        )
        for pk, center in consumed:
            if center is not None:
                points[pk] = (center.x, center.y)
    return points


def asset_points(project):
    """[(lon, lat)] of the centroids of the project's assets (no codes, no holders)."""
    assets = Asset.objects.filter(
        Q(key_projects=project) | Q(pk__in=project.consumptions.values("asset_id")), geometry__isnull=False
    ).annotate(center=Centroid("geometry"))
    return sorted({(a.center.x, a.center.y) for a in assets.only("pk")})
