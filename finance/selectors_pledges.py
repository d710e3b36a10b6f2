"""Reads of pledges, restricted to what the user may see: cooperative staff (and city
administrators) the pledges of applications in their divisions; a bank's officers the pledges made
to their own bank, never another bank's."""

from decimal import Decimal

import segno
from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from directory.permissions import Capability
from directory.selectors import within_reach
from resources.models import Restriction, RightStatus

from .models import ApplicationCollateral, Pledge, PledgeStatus
from .selectors_applications import applications_for, bank_ids
from .services.appraisal import current_appraisal
from .services.pledges import PLEDGEABLE_APPLICATION_STATUSES, SECURITY_KINDS, next_free_rank


def pledges_for(user):
    if not user.is_authenticated:
        return Pledge.objects.none()
    q = within_reach(user, "application__division__code", Capability.MANAGE_LOANS)
    banks = bank_ids(user)
    if banks:
        q |= Q(bank_id__in=banks)
    return (
        Pledge.objects.filter(q)
        .select_related(
            "bank",
            "application__division",
            "application__product",
            "appraisal",
            "right__asset__resource_type",
            "right__asset__division",
            "restriction",
            "registered_by",
        )
        .defer(
            "right__asset__geometry", "right__asset__division__boundary", "application__division__boundary"
        )
    )


def pledgeable_applications_for(user):
    """Applications the user may register a pledge for (the service checks again under lock)."""
    return applications_for(user).filter(status__in=PLEDGEABLE_APPLICATION_STATUSES)


def pledgeable_rights(application):
    """The application's collateral rights, with their assets, for the register form."""
    return [
        row.right
        for row in ApplicationCollateral.objects.filter(application=application)
        .select_related("right__asset")
        .defer("right__asset__geometry")
        .order_by("pk")
    ]


def pledge_for_check(code):
    """The pledge a certificate's verification code names (any status: the page says which), or
    None. The public page reads only the pledge, its bank and the asset's code: no person."""
    code = (code or "").strip().upper()
    if not code:
        return None
    return (
        Pledge.objects.filter(verification_code=code)
        .select_related("bank", "right__asset", "restriction")
        .defer("right__asset__geometry")
        .first()
    )


def active_pledges_on(right):
    return (
        Pledge.objects.filter(right=right, status=PledgeStatus.ACTIVE).select_related("bank").order_by("rank")
    )


def collateral_overview(application):
    """For the register page: each collateral right with its current appraisal under the
    application's product, what is already pledged on it and the lowest free rank."""
    rows = []
    for right in pledgeable_rights(application):
        securities = list(
            Restriction.objects.filter(
                right=right, kind__in=SECURITY_KINDS, status=RightStatus.ACTIVE
            ).values_list("rank", "secured_amount")
        )
        appraisal = current_appraisal(right, application.product)
        pledged = sum((amount for _rank, amount in securities), Decimal(0))
        rows.append(
            {
                "right": right,
                "appraisal": appraisal,
                "pledged": pledged,
                "available": max(appraisal.appraised_value - pledged, Decimal(0)) if appraisal else None,
                "next_rank": next_free_rank({rank for rank, _amount in securities}),
            }
        )
    return rows


def verification_url(pledge):
    """The public check page a certificate's QR code points to."""
    return settings.TMCS_PUBLIC_BASE_URL.rstrip("/") + reverse(
        "finance-public:pledge-check", args=[pledge.verification_code]
    )


def certificate_context(pledge):
    """Everything the 抵质押登记证明 prints. The holder's national ID appears masked only."""
    from transactions.pdf import amount_in_words

    right = pledge.right
    holder = right.holder
    person, organization = holder.person, holder.organization
    url = verification_url(pledge)
    return {
        "pledge": pledge,
        "right": right,
        "asset": right.asset,
        "restriction": pledge.restriction,
        "appraisal": pledge.appraisal,
        "holder_name": person.name if person else organization.name,
        "holder_identifier": person.national_id_masked if person else (organization.uscc or ""),
        "holder_is_person": person is not None,
        "amount_words": amount_in_words(pledge.secured_amount),
        "verification_url": url,
        "qr_svg": segno.make(url, error="m").svg_data_uri(scale=3),
    }


def visible_pledge(user, pk):
    return (
        pledges_for(user)
        .select_related("right__holder__person", "right__holder__organization", "appraisal__appraiser_org")
        .filter(pk=pk)
        .first()
    )
