"""Reads for the data-exchange pages and API, restricted to the user's reach.

Divisions a user may exchange data for: the subtrees of their memberships that carry EXCHANGE_DATA
(cooperative staff and city administrators, department officers). Exchange logs: see logs_for."""

from django.db.models import Q

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role
from directory.permissions import ROLE_CAPABILITIES, Capability, can, memberships_with
from directory.selectors import within_reach

from .models import ExchangeLog


def exchange_divisions(user):
    return (
        AdministrativeDivision.objects.filter(within_reach(user, "code", Capability.EXCHANGE_DATA))
        .defer("boundary")
        .order_by("code")
    )


def exchange_division(user, code):
    """The division with this code if the user may exchange data for it, else None (callers
    answer 404: a division outside reach is not distinguished from one that does not exist)."""
    if not code:
        return None
    return exchange_divisions(user).filter(code=str(code).strip()).first()


def default_division(user):
    """The division of the user's (first) exchanging organization: the widest they reach."""
    memberships = memberships_with(user, Capability.EXCHANGE_DATA)
    if memberships:
        return min((m.organization.division for m in memberships), key=lambda d: len(d.prefix))
    if user.is_superuser:
        return AdministrativeDivision.objects.defer("boundary").order_by("code").first()
    return None


def may_exchange(user):
    return can(user, Capability.EXCHANGE_DATA)


def may_read_logs(user):
    return can(user, Capability.EXCHANGE_DATA) or can(user, Capability.VIEW_OVERSIGHT)


def logs_for(user):
    """Staff and administrators see the logs of their divisions, auditors read them; a department
    officer sees the exchanges of their own department (and their own), not the cooperative's
    other business with other departments."""
    select = ExchangeLog.objects.select_related("actor", "organization", "division")
    if not user.is_authenticated:
        return select.none()
    if user.is_superuser:
        return select.all()
    reach, departments = Q(pk__in=[]), []
    for membership in user.active_memberships:
        if membership.role == Role.DEPARTMENT_OFFICER:
            departments.append(membership.organization_id)
        elif {Capability.EXCHANGE_DATA, Capability.VIEW_OVERSIGHT} & ROLE_CAPABILITIES[membership.role]:
            reach |= Q(division__code__startswith=membership.organization.division.prefix)
    if departments:
        reach |= Q(organization_id__in=departments) | Q(actor=user)
    return select.filter(reach)


def own_department(user):
    """The government department a department officer acts for (it is the counterpart of their
    exchanges), or None."""
    for membership in user.active_memberships if user.is_authenticated else []:
        if membership.role == Role.DEPARTMENT_OFFICER:
            return membership.organization
    return None


def counterpart_organizations():
    """Departments and platforms data is exchanged with (institutions, not personal data)."""
    return Organization.objects.filter(
        kind__in=[OrganizationKind.GOVERNMENT, OrganizationKind.GUARANTOR], is_active=True
    ).order_by("kind", "name")
