"""Reads of listings, applications and questions, restricted to what the user may see: staff and
other division-scoped roles their divisions; investors the published listings and their own
applications; anyone the public board (公示中、竞价中 and results of the last 90 days)."""

import datetime

from django.db.models import Prefetch, Q
from django.utils import timezone

from directory.permissions import Capability, memberships_with
from directory.selectors import within_reach

from .models import Listing, ListingApplication, ListingQuestion, ListingStatus, PackageItem, PackagePhoto

PUBLISHED_STATUSES = (
    ListingStatus.IN_NOTICE,
    ListingStatus.BIDDING,
    ListingStatus.SOLD,
    ListingStatus.FAILED,
    ListingStatus.CONTRACTED,
)
LIVE_STATUSES = (ListingStatus.IN_NOTICE, ListingStatus.BIDDING)
RESULT_STATUSES = (ListingStatus.SOLD, ListingStatus.CONTRACTED, ListingStatus.FAILED)
RESULT_DAYS = 90


def investor_ids(user):
    return [m.organization_id for m in memberships_with(user, Capability.TRADE)]


def listings_for(user):
    q = within_reach(user, "division__code")
    own = investor_ids(user)
    if own:
        q |= Q(status__in=PUBLISHED_STATUSES) | Q(applications__investor__in=own)
    return (
        Listing.objects.filter(pk__in=Listing.objects.filter(q).values("pk"))
        .select_related("division", "package", "asset__resource_type")
        .defer("asset__geometry")
    )


def public_listings():
    since = timezone.now() - datetime.timedelta(days=RESULT_DAYS)
    return (
        Listing.objects.filter(
            Q(status__in=LIVE_STATUSES) | Q(status__in=RESULT_STATUSES, closed_at__gte=since)
        )
        .select_related("division", "package", "asset__resource_type", "winning_bid__application__investor")
        .defer("asset__geometry")
    )


def public_listing(code):
    """A published listing with what its public page shows (404 for drafts and withdrawals)."""
    return (
        Listing.objects.filter(status__in=PUBLISHED_STATUSES, code=code)
        .select_related("division", "package", "asset__resource_type", "asset__division")
        .select_related("winning_bid__application__investor")
        .first()
    )


def offered_assets(listing):
    """The assets of a listing with type and division (geometry included, for the map)."""
    if listing.asset_id:
        return [listing.asset]
    items = (
        PackageItem.objects.filter(package_id=listing.package_id)
        .select_related("asset__resource_type", "asset__division")
        .order_by("asset__code")
    )
    return [item.asset for item in items]


def package_photos(listing):
    if not listing.package_id:
        return []
    return list(
        PackagePhoto.objects.filter(package_id=listing.package_id).only("pk", "caption", "package_id")
    )


def public_photo(pk):
    """A package photo that may be served publicly: its package is on a published listing."""
    return (
        PackagePhoto.objects.filter(pk=pk, package__listings__status__in=PUBLISHED_STATUSES)
        .distinct()
        .first()
    )


def answered_questions(listing):
    return list(
        ListingQuestion.objects.filter(listing=listing, answered_at__isnull=False)
        .only("question", "answer", "asked_at", "answered_at", "listing_id")
        .order_by("asked_at", "pk")
    )


def applications_for(user):
    q = within_reach(user, "listing__division__code")
    own = investor_ids(user)
    if own:
        q |= Q(investor__in=own)
    return ListingApplication.objects.filter(q).select_related(
        "listing__division", "investor", "applicant", "reviewed_by"
    )


def listing_with_details(queryset, pk):
    return queryset.prefetch_related(
        Prefetch(
            "applications",
            queryset=ListingApplication.objects.select_related("investor", "applicant").order_by("pk"),
        ),
        Prefetch(
            "questions", queryset=ListingQuestion.objects.select_related("asked_by").order_by("asked_at")
        ),
    ).get(pk=pk)
