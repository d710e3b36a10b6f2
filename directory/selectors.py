"""Reads of the directory, restricted to what a user may see.

A user's reach is the union of the division subtrees of their active memberships' organizations;
superusers and city administrators see everything under their organization's division.
"""

from django.db.models import Count, Q

from .models import AdministrativeDivision, DivisionLevel, Membership, Organization, OrganizationKind


def reach_prefixes(user):
    """Division-code prefixes the user may see (empty for a user with no active membership)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return [""]
    memberships = Membership.objects.filter(user=user, is_active=True, organization__is_active=True)
    divisions = memberships.select_related("organization__division")
    prefixes = sorted({m.organization.division.prefix for m in divisions})
    # Drop prefixes covered by a shorter one.
    return [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]


def _prefix_q(field, prefixes):
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def divisions_for(user):
    return AdministrativeDivision.objects.filter(_prefix_q("code", reach_prefixes(user)))


def organizations_for(user):
    return Organization.objects.filter(_prefix_q("division__code", reach_prefixes(user))).select_related(
        "division"
    )


def division_tree(user):
    """Visible divisions in code order with their depth and organization counts (one query)."""
    return divisions_for(user).annotate(organization_count=Count("organizations")).order_by("code")


def dashboard_counts(user):
    divisions = divisions_for(user)
    by_level = dict(divisions.values_list("level").annotate(n=Count("pk")).values_list("level", "n"))
    organizations = organizations_for(user)
    by_kind = dict(organizations.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    return {
        "divisions": sum(by_level.values()),
        "divisions_by_level": [
            (level.label, by_level[level.value]) for level in DivisionLevel if level.value in by_level
        ],
        "organizations": sum(by_kind.values()),
        "organizations_by_kind": [
            (kind.label, by_kind[kind.value]) for kind in OrganizationKind if kind.value in by_kind
        ],
    }
