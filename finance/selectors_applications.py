"""Reads of loan applications and collateral appraisals, restricted to what the user may see:
cooperative staff (and city administrators) their divisions; a bank's officers the applications of
the bank's own products once the cooperative has approved them (and later), and the appraisals of
those applications. Nothing else of another bank is ever visible."""

from django.db.models import Exists, OuterRef, Prefetch, Q

from directory.models import OrganizationKind, Party, PartyKind
from directory.permissions import Capability, is_division_scoped, memberships_with
from directory.selectors import reach_prefixes, within_reach
from resources.models import Right, RightStatus

from .models import (
    ApplicationCollateral,
    ApplicationStatus,
    CollateralAppraisal,
    LoanApplication,
    LoanProduct,
)

# What a bank sees: the cooperative's checker has approved the application for it.
BANK_VISIBLE_STATUSES = (
    ApplicationStatus.APPROVED,
    ApplicationStatus.BANK_APPROVED,
    ApplicationStatus.BANK_DECLINED,
    ApplicationStatus.DISBURSED,
)


def bank_ids(user):
    """Banks the user lends for (organization-scoped LEND memberships)."""
    return [
        m.organization_id
        for m in memberships_with(user, Capability.LEND)
        if not is_division_scoped(m) and m.organization.kind == OrganizationKind.BANK
    ]


def _bank_q(banks, prefix=""):
    """Applications of the banks' products that reached the bank; a withdrawn one stays visible
    when it had been approved for the bank (its history has an APPROVED row)."""
    events = LoanApplication.pgh_event_model.objects.filter(
        pgh_obj_id=OuterRef(f"{prefix}pk"), status=ApplicationStatus.APPROVED
    )
    return Q(**{f"{prefix}product__bank_id__in": banks}) & (
        Q(**{f"{prefix}status__in": BANK_VISIBLE_STATUSES})
        | (Q(**{f"{prefix}status": ApplicationStatus.WITHDRAWN}) & Exists(events))
    )


def applications_for(user):
    if not user.is_authenticated:
        return LoanApplication.objects.none()
    q = within_reach(user, "division__code", Capability.MANAGE_LOANS)
    banks = bank_ids(user)
    if banks:
        q |= _bank_q(banks)
    return (
        LoanApplication.objects.filter(q)
        .select_related(
            "applicant__person",
            "applicant__organization",
            "product__bank",
            "division",
            "prepared_by",
            "checked_by",
            "bank_decided_by",
        )
        .defer("division__boundary")
    )


def appraisals_for(user):
    """Staff: appraisals of assets in their divisions. Banks: appraisals of the applications they
    see (made for the application or linked to its collateral)."""
    if not user.is_authenticated:
        return CollateralAppraisal.objects.none()
    q = within_reach(user, "asset__division__code", Capability.MANAGE_LOANS)
    banks = bank_ids(user)
    if banks:
        visible = LoanApplication.objects.filter(_bank_q(banks)).values("pk")
        linked = ApplicationCollateral.objects.filter(application__in=visible).values("appraisal")
        q |= Q(product__bank_id__in=banks) & (Q(application__in=visible) | Q(pk__in=linked))
    return (
        CollateralAppraisal.objects.filter(q)
        .select_related(
            "right__holder__person",
            "right__holder__organization",
            "asset__division",
            "asset__resource_type",
            "product__bank",
            "application",
            "appraiser_org",
            "valuation_run",
            "created_by",
        )
        .defer("asset__geometry", "asset__division__boundary")
    )


def collateral_of(application):
    """The application's collateral rows with their rights, assets and linked appraisals."""
    return (
        ApplicationCollateral.objects.filter(application=application)
        .select_related(
            "right__asset__resource_type",
            "right__asset__division",
            "right__holder__person",
            "right__holder__organization",
            "appraisal",
        )
        .defer("right__asset__geometry", "right__asset__division__boundary")
        .order_by("pk")
    )


def application_timeline(application):
    """Who did what, from the database-written history: the creation, every status change and
    every edit, with the user recorded in the audit context and the note of that step."""
    events = (
        LoanApplication.pgh_event_model.objects.filter(pgh_obj_id=application.pk)
        .select_related("pgh_context")
        .order_by("pgh_id")
    )
    timeline, previous_status = [], None
    for event in events:
        meta = (event.pgh_context.metadata if event.pgh_context_id else None) or {}
        edited = str(meta.get("reason", "")).startswith("edit")
        if event.status == previous_status and not edited:
            continue
        if event.status in (ApplicationStatus.APPROVED, ApplicationStatus.RETURNED):
            note = event.check_note
        elif event.status in (ApplicationStatus.BANK_APPROVED, ApplicationStatus.BANK_DECLINED):
            note = event.bank_note
        else:
            note = meta.get("note", "")
        timeline.append(
            {
                "at": event.pgh_created_at,
                "status": ApplicationStatus(event.status).label,
                "status_code": event.status,
                "edited": edited and previous_status is not None,
                "user": meta.get("username") or "",
                "note": note,
            }
        )
        previous_status = event.status
    return timeline


def applicants_for(user):
    """Parties (persons and organizations) in the divisions where the user prepares loans."""
    persons = within_reach(user, "person__division__code", Capability.MANAGE_LOANS)
    organizations = within_reach(user, "organization__division__code", Capability.MANAGE_LOANS)
    return (
        Party.objects.filter(
            (Q(kind=PartyKind.PERSON) & persons)
            | (Q(kind=PartyKind.ORGANIZATION, organization__is_active=True) & organizations)
        )
        .exclude(organization__kind=OrganizationKind.BANK)
        .select_related("person", "organization")
        .order_by("kind", "pk")
    )


def pledgeable_rights_for(user):
    """Active rights on assets in the user's loan divisions (the form narrows them further)."""
    return (
        Right.objects.filter(within_reach(user, "asset__division__code", Capability.MANAGE_LOANS))
        .filter(status=RightStatus.ACTIVE)
        .select_related("asset", "holder__person", "holder__organization")
        .defer("asset__geometry")
        .order_by("asset__code", "pk")
    )


def active_products():
    return LoanProduct.objects.filter(is_active=True).select_related("bank").order_by("bank__name", "code")


def visible_products(user):
    """Products named in the list filter: all active ones for staff, the bank's own for a bank."""
    banks = bank_ids(user)
    products = LoanProduct.objects.select_related("bank").order_by("bank__name", "code")
    if banks and not reach_prefixes(user, Capability.MANAGE_LOANS):
        return products.filter(bank_id__in=banks)
    return products


def with_collateral(queryset):
    """For API lists: the collateral rows (rights and appraisals) in one more query."""
    return queryset.prefetch_related(
        Prefetch(
            "collateral",
            ApplicationCollateral.objects.select_related("right__asset", "appraisal")
            .defer("right__asset__geometry")
            .order_by("pk"),
        )
    )
