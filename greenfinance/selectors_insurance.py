"""Reads of green insurance policies and claims, restricted to what the user may see: the
green-finance desk (cooperative staff, city administrators) and oversight readers (auditors) their
division subtree; a bank's officers, read only, the policies that secure their own bank's loan
applications or loans (and those policies' claims), nothing else."""

import datetime
from decimal import Decimal

import pghistory.models
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Party, PartyKind
from directory.permissions import Capability, can
from directory.selectors import within_reach
from finance.models import ApplicationStatus, Loan, LoanApplication
from finance.selectors_loans import bank_organizations
from projects.models import KeyProject
from resources.models import Asset

from .models import ClaimPayout, ClaimStatus, InsuranceClaim, InsurancePolicy, PolicyStatus
from .services.insurance import DECIDED_STATUSES, INSURABLE_ASSET_STATUSES

MONEY = DecimalField(max_digits=16, decimal_places=2)


def _reach(user, prefix=""):
    """Q of policies (through `prefix`) the user may read."""
    field = f"{prefix}division__code"
    q = within_reach(user, field, Capability.MANAGE_GREEN_FINANCE) | within_reach(
        user, field, Capability.VIEW_OVERSIGHT
    )
    banks = bank_organizations(user)
    if banks:
        q |= Q(**{f"{prefix}loan__bank_id__in": banks}) | Q(
            **{f"{prefix}application__product__bank_id__in": banks}
        )
    return q


def policies_for(user):
    if not user.is_authenticated:
        return InsurancePolicy.objects.none()
    return with_approved(
        InsurancePolicy.objects.filter(_reach(user))
        .select_related(
            "insurer",
            "insured__person",
            "insured__organization",
            "beneficiary__person",
            "beneficiary__organization",
            "division",
            "application",
            "loan",
            "project",
        )
        .defer("division__boundary")
    )


def with_approved(queryset):
    """Policies annotated with `approved_total` (approved amounts of approved/paid claims, one
    subquery) and `remaining` (the sum insured less it)."""
    total = (
        InsuranceClaim.objects.filter(policy=OuterRef("pk"), status__in=DECIDED_STATUSES)
        .values("policy")
        .annotate(total=Sum("approved_amount"))
        .values("total")
    )
    return queryset.annotate(
        approved_total=Coalesce(
            Subquery(total, output_field=MONEY), Value(Decimal("0.00")), output_field=MONEY
        )
    ).annotate(remaining=ExpressionWrapper(F("sum_insured") - F("approved_total"), output_field=MONEY))


def claims_for(user):
    if not user.is_authenticated:
        return InsuranceClaim.objects.none()
    return (
        InsuranceClaim.objects.filter(_reach(user, "policy__"))
        .select_related(
            "policy__insurer",
            "policy__insured__person",
            "policy__insured__organization",
            "policy__division",
            "asset",
            "reported_by",
            "decided_by",
        )
        .defer("policy__division__boundary", "asset__geometry")
    )


def claim_payouts(claim):
    return (
        ClaimPayout.objects.filter(claim=claim)
        .select_related("payee__person", "payee__organization", "recorded_by")
        .order_by("paid_on", "pk")
    )


def with_payouts(queryset):
    return queryset.prefetch_related(
        Prefetch(
            "payouts",
            ClaimPayout.objects.select_related("payee__person", "payee__organization").order_by(
                "paid_on", "pk"
            ),
        )
    )


def policy_claims(policy):
    return (
        InsuranceClaim.objects.filter(policy=policy)
        .select_related("asset", "reported_by", "decided_by")
        .defer("asset__geometry")
        .order_by("-reported_at", "-pk")
    )


def policy_assets(policy):
    return (
        policy.assets.select_related("division", "resource_type")
        .defer("geometry", "division__boundary")
        .order_by("code")
    )


def policy_history(policy):
    """Recorded changes of the policy, newest first, with the acting user and reason."""
    return pghistory.models.Events.objects.filter(
        pgh_model="greenfinance.InsurancePolicyEvent", pgh_obj_id=str(policy.pk)
    ).order_by("-pgh_created_at", "-pgh_id")


def claim_history(claim):
    return pghistory.models.Events.objects.filter(
        pgh_model="greenfinance.InsuranceClaimEvent", pgh_obj_id=str(claim.pk)
    ).order_by("-pgh_created_at", "-pgh_id")


def expiring_within(queryset, days, today=None):
    """In-force policies whose cover ends within `days` days (end_date is exclusive)."""
    today = today or timezone.localdate()
    return queryset.filter(
        status=PolicyStatus.ACTIVE, end_date__gt=today, end_date__lte=today + datetime.timedelta(days=days)
    )


def may_manage(user, division):
    return can(user, Capability.MANAGE_GREEN_FINANCE, division=division)


def is_bank_reader(user):
    return bool(bank_organizations(user))


# --- choices for the forms and the API (what the desk may link a policy to) -------------------


def _desk(user, field):
    return within_reach(user, field, Capability.MANAGE_GREEN_FINANCE)


def desk_divisions(user):
    return AdministrativeDivision.objects.filter(_desk(user, "code")).defer("boundary").order_by("code")


def insurers():
    return Organization.objects.filter(kind=OrganizationKind.INSURER, is_active=True).order_by("name")


def insured_candidates(user):
    """Persons and organizations of the desk's divisions (not banks or insurers)."""
    persons = _desk(user, "person__division__code")
    organizations = _desk(user, "organization__division__code")
    return (
        Party.objects.filter(
            (Q(kind=PartyKind.PERSON) & persons)
            | (Q(kind=PartyKind.ORGANIZATION, organization__is_active=True) & organizations)
        )
        .exclude(organization__kind__in=(OrganizationKind.BANK, OrganizationKind.INSURER))
        .select_related("person", "organization")
        .order_by("kind", "pk")
    )


def beneficiary_candidates(user):
    """The insured candidates plus the banks (a lending bank is often the first beneficiary)."""
    persons = _desk(user, "person__division__code")
    organizations = _desk(user, "organization__division__code")
    return (
        Party.objects.filter(
            (Q(kind=PartyKind.PERSON) & persons)
            | (Q(kind=PartyKind.ORGANIZATION, organization__is_active=True) & organizations)
            | Q(organization__kind=OrganizationKind.BANK, organization__is_active=True)
        )
        .exclude(organization__kind=OrganizationKind.INSURER)
        .select_related("person", "organization")
        .order_by("kind", "pk")
    )


def insurable_assets(user):
    return (
        Asset.objects.filter(_desk(user, "division__code"), status__in=INSURABLE_ASSET_STATUSES)
        .select_related("division")
        .defer("geometry", "division__boundary")
        .order_by("code")
    )


def linkable_applications(user):
    return (
        LoanApplication.objects.filter(_desk(user, "division__code"))
        .exclude(status__in=(ApplicationStatus.WITHDRAWN, ApplicationStatus.BANK_DECLINED))
        .select_related("applicant__person", "applicant__organization", "product")
        .order_by("-pk")
    )


def linkable_loans(user):
    return (
        Loan.objects.filter(_desk(user, "division__code"))
        .select_related("borrower__person", "borrower__organization")
        .order_by("-pk")
    )


def linkable_projects(user):
    return KeyProject.objects.filter(_desk(user, "division__code")).defer("description").order_by("-pk")


def claimable_policies(user):
    return (
        InsurancePolicy.objects.filter(_desk(user, "division__code"))
        .exclude(status=PolicyStatus.EXHAUSTED)
        .select_related("insured__person", "insured__organization")
        .order_by("-pk")
    )


def open_claims_count(policy):
    return (
        InsuranceClaim.objects.filter(policy=policy)
        .exclude(status__in=(ClaimStatus.PAID, ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN))
        .count()
    )
