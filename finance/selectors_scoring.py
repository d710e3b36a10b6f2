"""Reads of eco-credit, restricted to what the user may see.

- Cooperative staff and village clerks (MANAGE_LOANS or RECORD_ECO_BEHAVIOUR) see the scores of
  parties living or registered within their reach, and the eco-behaviour records made there.
- A bank sees the scores (with their factors) only of parties that applied for one of its
  products, in the applications it sees (finance.selectors_applications: once the cooperative's
  checker approved them for the bank); it never sees the eco-behaviour records themselves.
"""

from django.db.models import Q

from directory.models import AdministrativeDivision, OrganizationKind, Party, PartyKind
from directory.permissions import Capability
from directory.selectors import organizations_for, persons_for, within_reach

from .models import CreditScore, EcoBehaviourRecord, Scorecard
from .selectors_applications import applications_for
from .services.common import acting_bank

STAFF_CAPABILITIES = (Capability.MANAGE_LOANS, Capability.RECORD_ECO_BEHAVIOUR)
RECORDABLE_ORGANIZATION_KINDS = (
    OrganizationKind.VILLAGE_COLLECTIVE,
    OrganizationKind.STRONG_VILLAGE_COMPANY,
    OrganizationKind.ENTERPRISE,
)


def _party_reach(user, prefix=""):
    q = Q(pk__in=[])
    for capability in STAFF_CAPABILITIES:
        q |= within_reach(user, f"{prefix}person__division__code", capability)
        q |= within_reach(user, f"{prefix}organization__division__code", capability)
    return q


def bank_applicants(user, bank):
    """Applicants (party ids, a subquery) of the bank's applications that the user sees."""
    return applications_for(user).filter(product__bank=bank).values("applicant")


def _visible(user, prefix=""):
    q = _party_reach(user, prefix)
    bank = acting_bank(user)
    if bank is not None:
        q |= Q(**{f"{prefix}pk__in": bank_applicants(user, bank)})
    return q


def credit_parties_for(user):
    """Parties whose credit page the user may open."""
    if not user.is_authenticated:
        return Party.objects.none()
    return Party.objects.filter(_visible(user)).select_related("person__division", "organization__division")


def scores_for(user):
    """Every score (current and history) of the parties the user may see."""
    if not user.is_authenticated:
        return CreditScore.objects.none()
    return CreditScore.objects.filter(_visible(user, "party__")).select_related(
        "party__person", "party__organization", "scorecard"
    )


def score_history(party):
    """The party's scores, oldest first (the credit page's trend); the caller checked the party."""
    return CreditScore.objects.filter(party=party).select_related("scorecard").order_by("computed_at", "pk")


def eco_records_for(user):
    if not user.is_authenticated:
        return EcoBehaviourRecord.objects.none()
    return EcoBehaviourRecord.objects.filter(
        within_reach(user, "division__code", Capability.RECORD_ECO_BEHAVIOUR)
    ).select_related("party__person", "party__organization", "division", "recorded_by")


def recordable_parties(user):
    """Parties the user may record eco behaviour for: persons, collectives, strong-village
    companies and enterprises within their reach."""
    persons = persons_for(user, Capability.RECORD_ECO_BEHAVIOUR)
    organizations = organizations_for(user, Capability.RECORD_ECO_BEHAVIOUR).filter(
        kind__in=RECORDABLE_ORGANIZATION_KINDS
    )
    return (
        Party.objects.filter(
            Q(kind=PartyKind.PERSON, person__in=persons.values("pk"))
            | Q(kind=PartyKind.ORGANIZATION, organization__in=organizations.values("pk"))
        )
        .select_related("person", "organization")
        .order_by("kind", "pk")
    )


def recordable_divisions(user):
    return (
        AdministrativeDivision.objects.filter(within_reach(user, "code", Capability.RECORD_ECO_BEHAVIOUR))
        .defer("boundary")
        .order_by("code")
    )


def scorecards():
    """All scorecard versions with their factors, active first."""
    return (
        Scorecard.objects.prefetch_related("factors")
        .select_related("created_by")
        .order_by("-is_active", "subject", "-version")
    )
