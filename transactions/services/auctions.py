"""Bidding and closing of listings (网络竞价/拍卖/协议转让).

Rules:
- a bid is placed under the listing's row lock, so bids on one listing are serialised: the first
  must reach the reserve price, each later one the highest bid plus the increment;
- anti-sniping (钦州/宁国 style countdown reset): a valid bid placed when the deadline is at most
  `extension_window_seconds` away resets the countdown to `extension_seconds` from the bid
  (bidding_end = placed_at + extension_seconds, never earlier than before);
- a listing is closed once, under its row lock (models invariant 3): the highest bid wins (SOLD),
  no bid means 流拍 (FAILED: assets back to COLLECTED, the package back to READY); every paid
  deposit except the winner's is refunded through the ledger in the same transaction;
- at the end of 公示 a competitive listing opens for bidding when someone qualified has paid the
  deposit; a negotiated one (协议转让) waits for staff to accept the single qualified applicant's
  offer at max(reserve, offer), or turns into competitive bidding when two or more qualify (岳阳).

Jobs (transactions.tasks) run without a user: the listing's creator is then recorded as the actor
of the status changes and ledger movements, which say so in their memo.
"""

import contextlib
import logging
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Membership, OrganizationKind, Role
from directory.permissions import Capability
from directory.services import ensure_party, notify
from resources import services as registry
from resources.models import Asset, AssetStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .._money import CENT, parse_money
from ..models import (
    COMPETITIVE_MODES,
    LISTING_TRANSITIONS,
    PACKAGE_TRANSITIONS,
    AccountKind,
    Bid,
    DepositStatus,
    Listing,
    ListingApplication,
    ListingMode,
    ListingStatus,
    MovementKind,
    PackageStatus,
    Posting,
    ResourcePackage,
    ReviewStatus,
)
from . import ledger
from .common import check_transition, cooperative_party, investor_of, require

logger = logging.getLogger(__name__)

CLOSED_STATUSES = (ListingStatus.SOLD, ListingStatus.FAILED, ListingStatus.CONTRACTED)
MIN_NEGOTIATED_INCREMENT = Decimal("100")
BATCH = 200


def _listing_label(status):
    return ListingStatus(status).label


# --- reads ------------------------------------------------------------------------------------


def highest_bid(listing):
    return listing.bids.order_by("-amount").first()


def minimum_next_bid(listing, highest=None):
    """The reserve for the first bid, then the highest bid plus the increment (at least a cent,
    since two bids may never be equal)."""
    if highest is None:
        return listing.reserve_price
    return highest.amount + max(listing.increment, CENT)


def qualified_applications(listing):
    """Applications that may bid: qualification approved and the deposit paid."""
    return listing.applications.filter(status=ReviewStatus.APPROVED, deposit_status=DepositStatus.PAID)


# --- locking ----------------------------------------------------------------------------------


def _asset_ids(listing):
    if listing.asset_id:
        return [listing.asset_id]
    return list(listing.package.items.filter(is_open=True).values_list("asset_id", flat=True))


def _lock(listing, *, with_assets):
    """Lock in the fixed order asset → package → listing and return the fresh listing row.
    Closing may hand assets back, so it locks them first; bidding only needs the listing."""
    if with_assets:
        listing = Listing.objects.select_related("package").get(pk=listing.pk)
        ids = _asset_ids(listing)
        list(Asset.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").values("pk"))
        if listing.package_id:
            ResourcePackage.objects.select_for_update(of=("self",)).filter(pk=listing.package_id).get()
    return (
        Listing.objects.select_for_update(of=("self",))
        .select_related("division", "package")
        .get(pk=listing.pk)
    )


# --- notifications ----------------------------------------------------------------------------


def _investor_users(organizations):
    return [
        m.user
        for m in Membership.objects.filter(
            organization__in=organizations, role=Role.INVESTOR, is_active=True
        ).select_related("user")
    ]


def _staff_users(division):
    return [
        m.user
        for m in Membership.objects.filter(
            is_active=True,
            role__in=[Role.COOP_STAFF, Role.CITY_ADMIN],
            organization__kind=OrganizationKind.COOPERATIVE,
        ).select_related("user", "organization__division")
        if m.organization.division.contains(division)
    ]


def _notify(users, title, body, listing):
    if users:
        notify(
            recipients=users, title=title, body=body, link=reverse("transactions:auction", args=[listing.pk])
        )


# --- bidding ----------------------------------------------------------------------------------


def _check_open(listing, now):
    if listing.status in (ListingStatus.DRAFT, ListingStatus.IN_NOTICE) or (
        listing.status == ListingStatus.BIDDING and listing.bidding_start and now < listing.bidding_start
    ):
        raise ConflictError(_("竞价尚未开始。"), code="bidding_not_started")
    if listing.status != ListingStatus.BIDDING or listing.bidding_end is None or now >= listing.bidding_end:
        raise ConflictError(_("竞价已截止。"), code="bidding_closed")


def _bidding_application(listing, organization):
    application = (
        ListingApplication.objects.select_for_update(of=("self",))
        .filter(listing=listing, investor=organization)
        .first()
    )
    if application is None:
        raise PermissionDeniedError(_("您未报名该挂牌项目，不能出价。"))
    if application.status != ReviewStatus.APPROVED:
        raise PermissionDeniedError(_("您的竞买资格尚未审核通过，不能出价。"))
    if application.deposit_status != DepositStatus.PAID:
        raise PermissionDeniedError(_("请先缴纳保证金再出价。"))
    return application


@transaction.atomic
def place_bid(*, actor, listing, amount, now=None):
    organization = investor_of(actor)
    amount = parse_money(amount, "amount")
    listing = _lock(listing, with_assets=False)
    now = now or timezone.now()
    _check_open(listing, now)
    application = _bidding_application(listing, organization)
    highest = highest_bid(listing)
    minimum = minimum_next_bid(listing, highest)
    if amount < minimum:
        message = _("出价不得低于 %(minimum)s 元。") % {"minimum": minimum}
        raise ConflictError(message, code="bid_too_low", fields={"amount": [message]})
    extended_to = None
    if (listing.bidding_end - now).total_seconds() <= listing.extension_window_seconds:
        candidate = now + timedelta(seconds=listing.extension_seconds)
        if candidate > listing.bidding_end:
            extended_to = candidate
    with audit_context(user=actor, reason=f"bid {amount} on listing {listing.code}"):
        try:
            with transaction.atomic():
                bid = Bid.objects.create(
                    listing=listing,
                    application=application,
                    amount=amount,
                    placed_at=now,
                    placed_by=actor,
                    extended_to=extended_to,
                )
        except IntegrityError:  # the unique (listing, amount) backstop
            message = _("该价格已有人出价，请提高出价。")
            raise ConflictError(message, code="duplicate_bid", fields={"amount": [message]}) from None
        if extended_to:
            listing.bidding_end = extended_to
            listing.save(update_fields=["bidding_end"])
    if highest is not None and highest.application_id != application.pk:
        _notify(
            _investor_users([highest.application.investor_id]),
            _("您的出价已被超过"),
            _("%(code)s 当前最高出价 %(amount)s 元。") % {"code": listing.code, "amount": amount},
            listing,
        )
    return bid


# --- closing ----------------------------------------------------------------------------------


def _held_for(application):
    """What the ledger holds for this application's deposit (DEPOSIT_HELD is credited on receipt)."""
    total = sum(
        Posting.objects.filter(
            movement__application=application, account__kind=AccountKind.DEPOSIT_HELD
        ).values_list("amount", flat=True),
        Decimal("0"),
    )
    return -total


def _refund_deposits(listing, recorder, *, keep=None, system=False):
    coop_party = cooperative_party(listing.division)
    refunded = []
    applications = (
        listing.applications.select_for_update(of=("self",))
        .filter(deposit_status=DepositStatus.PAID)
        .exclude(pk=getattr(keep, "pk", None))
        .select_related("investor")
        .order_by("pk")
    )
    for application in applications:
        held = _held_for(application)
        if held > 0:
            memo = _("退还保证金：%(code)s 竞买号 %(number)s") % {
                "code": listing.code,
                "number": application.bidder_number or "—",
            }
            if system:
                memo += _("（系统自动结束，记账人为挂牌经办人）")
            # The key makes a second refund of one application impossible, whatever the caller.
            with contextlib.suppress(ledger.AlreadyPosted):
                ledger.post(
                    actor=recorder,
                    kind=MovementKind.DEPOSIT_REFUNDED,
                    memo=memo,
                    lines=[
                        ledger.debit(AccountKind.DEPOSIT_HELD, ensure_party(application.investor), held),
                        ledger.credit(AccountKind.CASH, coop_party, held),
                    ],
                    idempotency_key=f"deposit-refund:{application.pk}",
                    listing=listing,
                    application=application,
                )
        application.deposit_status = DepositStatus.REFUNDED
        application.save(update_fields=["deposit_status"])
        refunded.append(application)
    return refunded


def _restore_offer(listing, recorder):
    """流拍: the offered assets return to the cooperative's pool and the package can be relisted."""
    assets = Asset.objects.filter(pk__in=_asset_ids(listing), status=AssetStatus.LISTED).order_by("pk")
    for asset in assets:
        registry.transition_asset(
            actor=recorder,
            asset=asset,
            to_status=AssetStatus.COLLECTED,
            reason=f"listing {listing.code} failed",
        )
    package = listing.package
    if package is not None and package.status == PackageStatus.LISTED:
        check_transition(PACKAGE_TRANSITIONS, PackageStatus(package.status), PackageStatus.READY, _pkg_label)
        package.status = PackageStatus.READY
        package.save(update_fields=["status"])


def _pkg_label(status):
    return PackageStatus(status).label


def _finish(listing, *, recorder, winning_bid, now, note, system):
    """Decide the listing's outcome (SOLD with `winning_bid`, else FAILED), refund the other
    deposits and tell everyone involved. Runs under the locks taken by the caller."""
    target = ListingStatus.SOLD if winning_bid else ListingStatus.FAILED
    check_transition(LISTING_TRANSITIONS, ListingStatus(listing.status), target, _listing_label)
    reason = f"close listing {listing.code}: {target}" + (" (system job)" if system else "")
    with audit_context(user=recorder, reason=reason):
        listing.status = target
        listing.winning_bid = winning_bid
        listing.final_price = winning_bid.amount if winning_bid else None
        listing.closed_at = now
        listing.close_note = note[:500]
        listing.save(
            update_fields=[
                "status",
                "winning_bid",
                "final_price",
                "closed_at",
                "close_note",
                "mode",
                "increment",
            ]
        )
        if not winning_bid:
            _restore_offer(listing, recorder)
        winner = winning_bid.application if winning_bid else None
        losers = _refund_deposits(listing, recorder, keep=winner, system=system)
    if winner:
        _notify(
            _investor_users([winner.investor_id]),
            _("恭喜，您已竞得 %(code)s") % {"code": listing.code},
            _("成交价 %(price)s 元，请按公告约定签订合同。") % {"price": listing.final_price},
            listing,
        )
    _notify(
        _investor_users([a.investor_id for a in losers]),
        _("%(code)s 竞价结束") % {"code": listing.code},
        _("您未成交，保证金已退还。"),
        listing,
    )
    _notify(_staff_users(listing.division), _("%(code)s 交易结束") % {"code": listing.code}, note, listing)
    return listing


def _sold_note(bid):
    return _("最高出价 %(amount)s 元，竞买号 %(number)s 成交。") % {
        "amount": bid.amount,
        "number": bid.application.bidder_number or "—",
    }


@transaction.atomic
def close_listing(*, actor=None, listing, now=None):
    """Close a listing whose bidding deadline has passed; repeated calls return it unchanged."""
    return _close(actor=actor, listing=listing, now=now)[0]


def _close(*, actor, listing, now):
    if actor is not None:
        require(actor, Capability.MANAGE_TRADING, listing.division)
    listing = _lock(listing, with_assets=True)
    if listing.status in CLOSED_STATUSES:
        return listing, False
    now = now or timezone.now()
    if listing.status != ListingStatus.BIDDING:
        raise ConflictError(_("该项目不在竞价中，不能结束竞价。"), code="not_bidding")
    if now < listing.bidding_end:
        raise ConflictError(_("竞价尚未截止。"), code="not_due")
    bid = listing.bids.select_related("application").order_by("-amount").first()
    note = _sold_note(bid) if bid else _("竞价期内无人出价，流拍。")
    recorder = actor or listing.created_by
    _finish(listing, recorder=recorder, winning_bid=bid, now=now, note=note, system=actor is None)
    return listing, True


def _open_bidding(listing, now, note=""):
    minutes = getattr(settings, "TMCS_NEGOTIATED_BIDDING_MINUTES", 60)
    if listing.bidding_start is None or note:
        listing.bidding_start = now
    if listing.bidding_end is None or listing.bidding_end <= listing.bidding_start or note:
        listing.bidding_end = listing.bidding_start + timedelta(minutes=minutes)
    listing.scheduled_bidding_end = listing.scheduled_bidding_end or listing.bidding_end
    if note:
        listing.scheduled_bidding_end = listing.bidding_end
    check_transition(
        LISTING_TRANSITIONS, ListingStatus(listing.status), ListingStatus.BIDDING, _listing_label
    )
    listing.status = ListingStatus.BIDDING
    listing.close_note = note
    listing.save(
        update_fields=[
            "status",
            "mode",
            "increment",
            "bidding_start",
            "bidding_end",
            "scheduled_bidding_end",
            "close_note",
        ]
    )


@transaction.atomic
def end_notice(*, listing, now=None):
    """At the end of 公示: open bidding, wait for a negotiated offer, or 流拍 (see module doc)."""
    return _end_notice(listing=listing, now=now)[0]


def _end_notice(*, listing, now):
    listing = _lock(listing, with_assets=True)
    now = now or timezone.now()
    if listing.status != ListingStatus.IN_NOTICE:
        return listing, False
    if listing.notice_end is None or now < listing.notice_end:
        raise ConflictError(_("公示期尚未结束。"), code="not_due")
    recorder = listing.created_by
    qualified = list(qualified_applications(listing).select_related("investor"))
    with audit_context(user=recorder, reason=f"end notice of listing {listing.code} (system job)"):
        if not qualified:
            note = _("公示期满无合格竞买人，流拍。")
            _finish(listing, recorder=recorder, winning_bid=None, now=now, note=note, system=True)
            return listing, True
        if listing.mode in COMPETITIVE_MODES:
            _open_bidding(listing, now)
        elif len(qualified) == 1:
            if listing.close_note:  # told before: nothing new
                return listing, False
            listing.close_note = _("公示期满仅一名合格意向受让方，等待协议成交。")
            listing.save(update_fields=["close_note"])
            _notify(_staff_users(listing.division), listing.close_note, listing.title, listing)
            return listing, True
        else:
            step = (listing.reserve_price / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
            listing.mode = ListingMode.BIDDING
            listing.increment = max(step, MIN_NEGOTIATED_INCREMENT)
            _open_bidding(
                listing,
                now,
                note=_("公示期满有 %(n)s 名合格意向受让方，转为网络竞价。") % {"n": len(qualified)},
            )
    _notify(
        _investor_users([a.investor_id for a in qualified]),
        _("%(code)s 竞价已开始") % {"code": listing.code},
        _("竞价截止时间：%(end)s")
        % {"end": timezone.localtime(listing.bidding_end).strftime("%Y-%m-%d %H:%M")},
        listing,
    )
    return listing, True


@transaction.atomic
def accept_offer(*, actor, listing, application, amount, now=None):
    """协议转让: record the single qualified applicant's offer and close the listing SOLD."""
    require(actor, Capability.MANAGE_TRADING, listing.division)
    amount = parse_money(amount, "amount")
    listing = _lock(listing, with_assets=True)
    now = now or timezone.now()
    if listing.mode != ListingMode.NEGOTIATED or listing.status != ListingStatus.IN_NOTICE:
        raise ConflictError(_("只有公示中的协议转让项目可以确认报价。"), code="not_negotiable")
    if listing.notice_end is None or now < listing.notice_end:
        raise ConflictError(_("公示期尚未结束。"), code="not_due")
    qualified = list(qualified_applications(listing).select_for_update(of=("self",)))
    if [a.pk for a in qualified] != [application.pk]:
        raise ConflictError(
            _("协议成交须恰有一名资格审核通过且已缴纳保证金的意向受让方，且须为该报名。"),
            code="not_single_applicant",
        )
    if amount < listing.reserve_price:
        message = _("报价不得低于底价 %(reserve)s 元。") % {"reserve": listing.reserve_price}
        raise DomainError(message, code="offer_too_low", fields={"amount": [message]})
    price = max(listing.reserve_price, amount)
    application = qualified[0]
    with audit_context(user=actor, reason=f"accept negotiated offer on {listing.code}"):
        bid = Bid.objects.create(
            listing=listing,
            application=application,
            amount=price,
            placed_at=now,
            placed_by=application.applicant,
        )
    bid.application = application
    note = _("协议转让：按意向受让方报价与底价孰高 %(price)s 元成交。") % {"price": price}
    return _finish(listing, recorder=actor, winning_bid=bid, now=now, note=note, system=False)


# --- jobs -------------------------------------------------------------------------------------


def _awaiting_offer():
    """Negotiated listings past 公示 with exactly one qualified payer: nothing to do until staff
    accept the offer."""
    return (
        ListingApplication.objects.filter(
            listing__mode=ListingMode.NEGOTIATED,
            status=ReviewStatus.APPROVED,
            deposit_status=DepositStatus.PAID,
        )
        .values("listing")
        .annotate(n=Count("pk"))
        .filter(n=1)
        .values("listing")
    )


def _due_ids(now):
    due = Q(status=ListingStatus.IN_NOTICE, notice_end__lte=now) & ~Q(pk__in=_awaiting_offer())
    due |= Q(status=ListingStatus.BIDDING, bidding_end__lte=now)
    with transaction.atomic():
        # skip_locked: a listing another worker (or a bid) holds now is left for the next run.
        return list(
            Listing.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due)
            .order_by("pk")
            .values_list("pk", "status")[:BATCH]
        )


def advance_due_listings(now=None):
    """End due 公示 periods and close due auctions, each listing in its own transaction.
    Returns how many listings moved; safe to run concurrently and repeatedly."""
    moved = 0
    for pk, status in _due_ids(now or timezone.now()):
        step = _end_notice if status == ListingStatus.IN_NOTICE else partial(_close, actor=None)
        try:
            with transaction.atomic():
                _listing, changed = step(listing=Listing.objects.get(pk=pk), now=now)
        except DomainError as exc:  # e.g. a last-second bid pushed the deadline back
            logger.info("listing %s not advanced: %s", pk, exc.detail)
            continue
        moved += changed
    return moved


def close_listing_by_id(pk):
    listing = Listing.objects.filter(pk=pk).first()
    if listing is None:
        return None
    try:
        return close_listing(listing=listing)
    except ConflictError as exc:
        if exc.code != "not_due":
            raise
        return Listing.objects.get(pk=pk)
