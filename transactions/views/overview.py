"""The trading desk's front page: what needs doing now, by role, with links into each area."""

import datetime

from django.db.models import Count, Q, Sum
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from directory.permissions import Capability, can, memberships_with
from directory.selectors import within_reach

from ..models import (
    CollectionContract,
    ContractStatus,
    Demand,
    DemandStatus,
    InstallmentStatus,
    InvestorRegistration,
    Listing,
    ListingApplication,
    ListingStatus,
    ResourcePackage,
    ReviewStatus,
    ScheduledPayment,
    ScheduleStatus,
    TradeContract,
    TradeInstallment,
)

SOON_DAYS = 30


def _staff_overview(user, today):
    reach = within_reach(user, "division__code", Capability.MANAGE_TRADING)
    soon = today + datetime.timedelta(days=SOON_DAYS)
    listings = Listing.objects.filter(reach)
    return {
        "collection": CollectionContract.objects.filter(reach).aggregate(
            signed=Count("pk", filter=Q(status=ContractStatus.SIGNED)),
            draft=Count("pk", filter=Q(status=ContractStatus.DRAFT)),
        ),
        "packages": ResourcePackage.objects.filter(reach).values("status").annotate(n=Count("pk")),
        "listings": listings.aggregate(
            in_notice=Count("pk", filter=Q(status=ListingStatus.IN_NOTICE)),
            bidding=Count("pk", filter=Q(status=ListingStatus.BIDDING)),
            sold=Count("pk", filter=Q(status=ListingStatus.SOLD)),
        ),
        "live_listings": listings.filter(
            status__in=[ListingStatus.IN_NOTICE, ListingStatus.BIDDING]
        ).order_by("bidding_end", "notice_end")[:8],
        "sold_without_contract": listings.filter(status=ListingStatus.SOLD).order_by("closed_at")[:8],
        "pending_registrations": InvestorRegistration.objects.filter(
            within_reach(user, "organization__division__code", Capability.MANAGE_TRADING),
            status=ReviewStatus.PENDING,
        ).count(),
        "pending_applications": ListingApplication.objects.filter(
            within_reach(user, "listing__division__code", Capability.MANAGE_TRADING),
            status=ReviewStatus.PENDING,
        ).count(),
        "payouts_due": ScheduledPayment.objects.filter(
            within_reach(user, "contract__division__code", Capability.MANAGE_TRADING),
            status=ScheduleStatus.DUE,
            due_date__lte=soon,
        ).aggregate(n=Count("pk"), total=Sum("amount")),
        "installments_overdue": TradeInstallment.objects.filter(
            within_reach(user, "contract__division__code", Capability.MANAGE_TRADING),
            status__in=[InstallmentStatus.DUE, InstallmentStatus.PARTLY_PAID],
            due_date__lt=today,
            contract__status=ContractStatus.SIGNED,
        ).aggregate(n=Count("pk"), total=Sum("amount"), paid=Sum("paid_amount")),
        "open_demands": Demand.objects.filter(reach, status=DemandStatus.OPEN).count(),
        "soon_days": SOON_DAYS,
    }


def _investor_overview(user):
    organizations = [m.organization_id for m in memberships_with(user, Capability.TRADE)]
    return {
        "applications": ListingApplication.objects.filter(investor__in=organizations)
        .select_related("listing")
        .order_by("-created_at")[:8],
        "contracts": TradeContract.objects.filter(investor__in=organizations).order_by("-created_at")[:8],
        "demands": Demand.objects.filter(investor__in=organizations, status=DemandStatus.OPEN).count(),
        "open_listings": Listing.objects.filter(
            status__in=[ListingStatus.IN_NOTICE, ListingStatus.BIDDING]
        ).count(),
    }


def _village_overview(user):
    reach = within_reach(user, "division__code")
    return {
        "contracts": CollectionContract.objects.filter(reach).order_by("-created_at")[:8],
        "next_payments": ScheduledPayment.objects.filter(
            within_reach(user, "contract__division__code"), status=ScheduleStatus.DUE
        )
        .select_related("contract", "beneficiary__party__person", "beneficiary__party__organization")
        .order_by("due_date", "pk")[:10],
    }


def index(request):
    user, today = request.user, timezone.localdate()
    context = {"today": today}
    if can(user, Capability.MANAGE_TRADING):
        context["staff"] = _staff_overview(user, today)
    elif can(user, Capability.TRADE):
        context["investor"] = _investor_overview(user)
    else:
        context["village"] = _village_overview(user)
    return render(request, "transactions/index.html", context)


urlpatterns = [path("", index, name="index")]
