"""The auction page (竞价大厅 of one listing): live state polled by HTMX every 2 s, the investor's
bid form, staff's close and accept-offer actions, and the public result page. Thin views over
services.auctions; while bidding, bidders are shown by their bidder numbers only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from directory.permissions import Capability, can, memberships_with
from tmcs.errors import DomainError, PermissionDeniedError
from tmcs.web import run_service

from ..forms.auctions import AcceptOfferForm, BidForm
from ..models import Listing, ListingApplication, ListingMode, ListingStatus, ReviewStatus
from ..services import auctions

SHOWN_STATUSES = (
    ListingStatus.IN_NOTICE,
    ListingStatus.BIDDING,
    ListingStatus.SOLD,
    ListingStatus.FAILED,
    ListingStatus.CONTRACTED,
)
NAMED_STATUSES = (ListingStatus.SOLD, ListingStatus.CONTRACTED)


def _access(request, pk):
    """The listing and the viewer's application: staff with the trading desk in reach, or an
    investor whose application to this listing was approved."""
    listing = get_object_or_404(
        Listing.objects.select_related("division", "winning_bid__application__investor"),
        pk=pk,
        status__in=SHOWN_STATUSES,
    )
    staff = can(request.user, Capability.MANAGE_TRADING, division=listing.division)
    organizations = [m.organization_id for m in memberships_with(request.user, Capability.TRADE)]
    application = (
        ListingApplication.objects.filter(
            listing=listing, investor__in=organizations, status=ReviewStatus.APPROVED
        ).first()
        if organizations
        else None
    )
    if not staff and application is None:
        raise Http404
    return listing, staff, application


def _state(listing, application, now):
    bids = list(listing.bids.select_related("application__investor").order_by("-amount"))
    highest = bids[0] if bids else None
    bidding = listing.status == ListingStatus.BIDDING
    seconds = (
        max(0, int((listing.bidding_end - now).total_seconds())) if bidding and listing.bidding_end else 0
    )
    own = [b for b in bids if application and b.application_id == application.pk]
    return {
        "listing": listing,
        "bids": bids,
        "highest": highest,
        "minimum": auctions.minimum_next_bid(listing, highest),
        "seconds_remaining": seconds,
        "is_open": bidding
        and seconds > 0
        and (listing.bidding_start is None or now >= listing.bidding_start),
        "extensions": sum(1 for b in bids if b.extended_to),
        "show_winner": listing.status in NAMED_STATUSES,
        "application": application,
        "own_highest": own[0] if own else None,
        "leading": bool(own and highest and own[0].pk == highest.pk),
    }


def _context(request, listing, staff, application, form=None):
    context = _state(listing, application, timezone.now())
    may_bid = application is not None and context["is_open"]
    context.update(
        staff=staff,
        form=form
        if form is not None
        else (BidForm(initial={"amount": context["minimum"]}) if may_bid else None),
        may_bid=may_bid,
    )
    if staff and listing.mode == ListingMode.NEGOTIATED and listing.status == ListingStatus.IN_NOTICE:
        qualified = auctions.qualified_applications(listing).select_related("investor")
        context["accept_form"] = AcceptOfferForm(
            applications=qualified, initial={"amount": listing.reserve_price}
        )
    return context


def auction(request, pk):
    listing, staff, application = _access(request, pk)
    return render(
        request, "transactions/auctions/auction.html", _context(request, listing, staff, application)
    )


def auction_live(request, pk):
    """The polled part: price, minimum next bid, countdown (seconds from the server), history."""
    listing, staff, application = _access(request, pk)
    context = _state(listing, application, timezone.now())
    return render(request, "transactions/auctions/_live.html", {**context, "staff": staff})


@require_POST
def auction_bid(request, pk):
    listing, staff, application = _access(request, pk)
    form = BidForm(request.POST)
    htmx = bool(request.headers.get("HX-Request"))
    bid = None
    if form.is_valid():
        try:
            bid = auctions.place_bid(actor=request.user, listing=listing, amount=form.cleaned_data["amount"])
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except DomainError as exc:
            form.add_service_errors(exc)
    if not htmx:
        if bid:
            messages.success(request, _("出价成功：%(amount)s 元。") % {"amount": bid.amount})
        else:
            for error in form.non_field_errors() + form.errors.get("amount", []):
                messages.error(request, error)
        return redirect("transactions:auction", pk=listing.pk)
    listing.refresh_from_db()
    context = _context(request, listing, staff, application, form=None if bid else form)
    context["placed"] = bid
    response = render(request, "transactions/auctions/_bid_panel.html", context)
    if bid:
        response["HX-Trigger"] = "bid-placed"  # the live part refreshes at once
    return response


@require_POST
def auction_close(request, pk):
    listing, staff, _application = _access(request, pk)
    if not staff:
        raise PermissionDenied
    run_service(
        request,
        lambda: auctions.close_listing(actor=request.user, listing=listing),
        success=_("竞价已结束。"),
    )
    return redirect("transactions:auction", pk=listing.pk)


@require_POST
def auction_accept(request, pk):
    listing, staff, _application = _access(request, pk)
    if not staff:
        raise PermissionDenied
    form = AcceptOfferForm(request.POST, applications=auctions.qualified_applications(listing))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("transactions:auction", pk=listing.pk)
    run_service(
        request,
        lambda: auctions.accept_offer(
            actor=request.user,
            listing=listing,
            application=form.cleaned_data["application"],
            amount=form.cleaned_data["amount"],
        ),
        success=_("已按协议转让成交。"),
    )
    return redirect("transactions:auction", pk=listing.pk)


@login_not_required
def public_bids(request, code):
    """The result and bid history of a closed listing, for anyone: bidder numbers only."""
    listing = get_object_or_404(
        Listing.objects.select_related("division", "winning_bid__application"),
        code=code,
        status__in=(ListingStatus.SOLD, ListingStatus.FAILED, ListingStatus.CONTRACTED),
    )
    bids = list(listing.bids.select_related("application").order_by("-amount"))
    return render(
        request,
        "transactions/auctions/public_bids.html",
        {"listing": listing, "bids": bids, "extensions": sum(1 for b in bids if b.extended_to)},
    )


urlpatterns = [
    path("listings/<int:pk>/auction/", auction, name="auction"),
    path("listings/<int:pk>/auction/live/", auction_live, name="auction-live"),
    path("listings/<int:pk>/auction/bid/", auction_bid, name="auction-bid"),
    path("listings/<int:pk>/auction/close/", auction_close, name="auction-close"),
    path("listings/<int:pk>/auction/accept/", auction_accept, name="auction-accept"),
]
public_urlpatterns = [path("<str:code>/bids/", public_bids, name="public-bids")]
