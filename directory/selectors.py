"""Reads of the directory, restricted to what a user may see (see directory.permissions)."""

from django.db.models import Count, Q
from guardian.shortcuts import get_objects_for_user

from .models import (
    AdministrativeDivision,
    ApiToken,
    DivisionLevel,
    Membership,
    Notification,
    Organization,
    OrganizationKind,
    Person,
    User,
)
from .permissions import Capability, is_division_scoped, memberships_with


def _prefixes(memberships):
    prefixes = sorted({m.organization.division.prefix for m in memberships})
    # Drop prefixes covered by a shorter one.
    return [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]


def reach_prefixes(user, capability=Capability.VIEW):
    """Division-code prefixes reached through division-scoped memberships ("" = everything)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return [""]
    return _prefixes([m for m in memberships_with(user, capability) if is_division_scoped(m)])


def within_reach(user, field, capability=Capability.VIEW):
    """Q of rows whose division code `field` lies in the user's division-scoped reach."""
    return _prefix_q(field, reach_prefixes(user, capability))


def _prefix_q(field, prefixes):
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def divisions_for(user):
    """Divisions are reference data: everyone signed in sees the subtree of each organization they
    act for (banks included, so that they can name places)."""
    if user.is_authenticated and user.is_superuser:
        return AdministrativeDivision.objects.all()
    memberships = user.active_memberships if user.is_authenticated else []
    return AdministrativeDivision.objects.filter(_prefix_q("code", _prefixes(memberships)))


def organizations_for(user, capability=Capability.VIEW):
    q = _prefix_q("division__code", reach_prefixes(user, capability))
    own = [m.organization_id for m in memberships_with(user, capability) if not is_division_scoped(m)]
    if own:
        q |= Q(pk__in=own)
    return Organization.objects.filter(q).select_related("division")


def persons_for(user, capability=Capability.VIEW):
    q = _prefix_q("division__code", reach_prefixes(user, capability))
    if capability in (Capability.VIEW, Capability.VIEW_FULL_IDENTIFIERS) and any(
        not is_division_scoped(m) for m in memberships_with(user, capability)
    ):
        granted = get_objects_for_user(user, "directory.view_person", Person, accept_global_perms=False)
        q |= Q(pk__in=granted.values("pk"))
    return Person.objects.filter(q).select_related("division")


def users_for(user):
    """Users with a membership in an organization the user may manage users of."""
    organizations = organizations_for(user, Capability.MANAGE_USERS)
    if user.is_superuser:
        return User.objects.all()
    return User.objects.filter(memberships__organization__in=organizations).distinct()


def api_tokens_for(user):
    organizations = organizations_for(user, Capability.MANAGE_API_CLIENTS)
    return ApiToken.objects.filter(organization__in=organizations).select_related(
        "organization", "user", "created_by"
    )


def memberships_of(user):
    return Membership.objects.filter(user=user).select_related("organization__division")


def division_tree(user):
    """Visible divisions in code order with their organization counts (one query)."""
    return (
        divisions_for(user)
        .annotate(organization_count=Count("organizations"))
        .defer("boundary")
        .order_by("code")
    )


def unread_notification_count(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


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
        "persons": persons_for(user).count(),
    }


def users_with(capability, *, division=None, organization=None):
    """Active users whose role carries `capability` and reaches `division` (a division-scoped
    membership above or at it) or works for `organization`: who should hear about something."""
    from .permissions import ROLE_CAPABILITIES

    roles = [role for role, held in ROLE_CAPABILITIES.items() if capability in held]
    memberships = Membership.objects.filter(
        is_active=True, user__is_active=True, organization__is_active=True, role__in=roles
    ).select_related("user", "organization__division")
    users = {}
    for m in memberships:
        works_there = organization is not None and m.organization_id == organization.pk
        reaches = (
            division is not None and is_division_scoped(m) and m.organization.division.contains(division)
        )
        if works_there or reaches:
            users[m.user_id] = m.user
    return sorted(users.values(), key=lambda user: user.pk)
