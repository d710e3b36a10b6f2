"""Bidding, anti-sniping, closing once, deposits refunded, 流拍 restoration and the negotiated mode
(services.auctions). Listings, applications and deposits are built with the ORM here, as their
own services belong to another area."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Notification, Role
from directory.services import ensure_party
from resources import services as registry
from resources.models import Asset, AssetStatus
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import (
    AccountKind,
    Bid,
    DepositStatus,
    Listing,
    ListingApplication,
    ListingMode,
    ListingStatus,
    Movement,
    MovementKind,
    PackageItem,
    PackageStatus,
    ResourcePackage,
    ReviewStatus,
    TradeKind,
)
from transactions.services import auctions, ledger

from .conftest import TERM_END, TERM_START

T0 = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
DEPOSIT = Decimal("5000.00")


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


@pytest.fixture
def coop_party(county_cooperative):
    return ensure_party(county_cooperative)


@pytest.fixture
def make_listing(registered_asset, households, county_staff, village):
    """make_listing(status=BIDDING, mode=BIDDING, package=False, **fields) → a published listing of a
    collected asset (or a package of two) now LISTED, bidding T0-1h … T0+1h by default."""
    counter = iter(range(1, 1000))

    def make(status=ListingStatus.BIDDING, mode=ListingMode.BIDDING, package=False, **fields):
        n = next(counter)
        assets = [registered_asset([(households[0], "1")]) for _ in range(2 if package else 1)]
        for asset in assets:
            for to in (AssetStatus.COLLECTED, AssetStatus.LISTED):
                registry.transition_asset(actor=county_staff, asset=asset, to_status=to)
        offer = {"asset": assets[0]}
        if package:
            pkg = ResourcePackage.objects.create(
                code=f"ZB-T{n}",
                name="示范资源包",
                division=village,
                status=PackageStatus.LISTED,
                created_by=county_staff,
            )
            PackageItem.objects.bulk_create([PackageItem(package=pkg, asset=a) for a in assets])
            offer = {"package": pkg}
        values = {
            "code": f"GP-T{n:04d}",
            "title": f"示范林地经营权出租{n}",
            "division": village,
            "trade_kind": TradeKind.LEASE,
            "mode": mode,
            "term_start": TERM_START,
            "term_end": TERM_END,
            "reserve_price": Decimal("100000.00"),
            "deposit": DEPOSIT,
            "increment": Decimal("1000.00"),
            "notice_start": T0 - datetime.timedelta(days=10),
            "notice_end": T0 - datetime.timedelta(hours=2),
            "bidding_start": T0 - datetime.timedelta(hours=1),
            "bidding_end": T0 + datetime.timedelta(hours=1),
            "scheduled_bidding_end": T0 + datetime.timedelta(hours=1),
            "status": status,
            "created_by": county_staff,
            **offer,
            **fields,
        }
        return Listing.objects.create(**values)

    return make


@pytest.fixture
def apply(county_staff, coop_party):
    """apply(listing, user, paid=True, qualified=True) → the user's organization's application, with
    the deposit received on the ledger when paid."""

    def make(listing, user, paid=True, qualified=True):
        membership = user.memberships.get(role=Role.INVESTOR)
        number = f"{listing.applications.count() + 1:03d}"
        application = ListingApplication.objects.create(
            listing=listing,
            investor=membership.organization,
            applicant=user,
            status=ReviewStatus.APPROVED if qualified else ReviewStatus.PENDING,
            deposit_status=DepositStatus.PAID if paid else DepositStatus.UNPAID,
            bidder_number=number,
        )
        if paid:
            ledger.post(
                actor=county_staff,
                kind=MovementKind.DEPOSIT_RECEIVED,
                memo=f"保证金 {listing.code} {number}",
                lines=[
                    ledger.debit(AccountKind.CASH, coop_party, listing.deposit),
                    ledger.credit(
                        AccountKind.DEPOSIT_HELD, ensure_party(membership.organization), listing.deposit
                    ),
                ],
                listing=listing,
                application=application,
            )
        return application

    return make


@pytest.fixture
def third_investor(make_member, county_cooperative):
    from directory.models import Organization, OrganizationKind

    org = Organization.objects.create(
        name="第三投资有限公司（测试）",
        kind=OrganizationKind.ENTERPRISE,
        division=county_cooperative.division,
    )
    ensure_party(org)
    return make_member(Role.INVESTOR, org, username="investor3")


def held(user):
    return ledger.balance(
        AccountKind.DEPOSIT_HELD, ensure_party(user.memberships.get(role=Role.INVESTOR).organization)
    )


# --- bidding ----------------------------------------------------------------------------------


def test_bids_must_reach_reserve_then_increment(make_listing, apply, investor, second_investor):
    listing = make_listing()
    apply(listing, investor)
    apply(listing, second_investor)
    with pytest.raises(ConflictError) as low:
        auctions.place_bid(actor=investor, listing=listing, amount="99999.99", now=at(-600))
    assert "100000.00" in str(low.value.detail) and low.value.fields["amount"]
    first = auctions.place_bid(actor=investor, listing=listing, amount="100000", now=at(-600))
    assert first.amount == Decimal("100000.00") and first.extended_to is None
    with pytest.raises(ConflictError) as step:
        auctions.place_bid(actor=second_investor, listing=listing, amount="100999.99", now=at(-500))
    assert "101000.00" in str(step.value.detail)
    second = auctions.place_bid(actor=second_investor, listing=listing, amount="101000.00", now=at(-500))
    # The same investor may raise its own bid; it is recorded as a new bid.
    own = auctions.place_bid(actor=second_investor, listing=listing, amount="105000", now=at(-400))
    assert list(listing.bids.order_by("placed_at").values_list("amount", flat=True)) == [
        first.amount,
        second.amount,
        own.amount,
    ]
    # The outbid investor was told (once, by the first overtaking bid), the raiser was not.
    assert Notification.objects.filter(recipient=investor, title="您的出价已被超过").count() == 1
    assert not Notification.objects.filter(recipient=second_investor, title="您的出价已被超过").exists()
    listing.refresh_from_db()
    assert listing.bidding_end == at(3600)


@pytest.mark.parametrize(
    "value,message",
    [("abc", "有效的金额"), ("100000.001", "两位小数"), ("-5", "大于0"), ("0", "大于0"), ("", "有效的金额")],
)
def test_malformed_amounts_are_refused(make_listing, apply, investor, value, message):
    listing = make_listing()
    apply(listing, investor)
    with pytest.raises(DomainError) as exc:
        auctions.place_bid(actor=investor, listing=listing, amount=value, now=at(-600))
    assert message in str(exc.value.detail)
    assert not Bid.objects.exists()


def test_anti_sniping_resets_the_countdown(make_listing, apply, investor, second_investor):
    listing = make_listing(extension_window_seconds=300, extension_seconds=600)
    apply(listing, investor)
    apply(listing, second_investor)
    outside = auctions.place_bid(actor=investor, listing=listing, amount="100000", now=at(3600 - 301))
    assert outside.extended_to is None
    inside = auctions.place_bid(actor=second_investor, listing=listing, amount="101000", now=at(3600 - 300))
    assert inside.extended_to == at(3600 - 300 + 600)
    listing.refresh_from_db()
    assert listing.bidding_end == at(3900) and listing.scheduled_bidding_end == at(3600)
    # A bid 10 s before the new deadline pushes it to 600 s after that bid.
    late = auctions.place_bid(actor=investor, listing=listing, amount="102000", now=at(3890))
    assert late.extended_to == at(4490)
    listing.refresh_from_db()
    assert listing.bidding_end == at(4490)
    with pytest.raises(ConflictError, match="竞价已截止"):
        auctions.place_bid(actor=second_investor, listing=listing, amount="110000", now=at(4490))
    assert listing.bids.filter(extended_to__isnull=False).count() == 2


def test_the_countdown_never_shortens(make_listing, apply, investor):
    # A reset shorter than what is left changes nothing: the deadline only ever moves later.
    listing = make_listing(extension_window_seconds=600, extension_seconds=60)
    apply(listing, investor)
    bid = auctions.place_bid(actor=investor, listing=listing, amount="100000", now=at(3600 - 500))
    assert bid.extended_to is None
    listing.refresh_from_db()
    assert listing.bidding_end == at(3600)


def test_bidding_refusals(
    make_listing, apply, investor, second_investor, third_investor, county_staff, make_member
):
    listing = make_listing()
    apply(listing, investor)
    apply(listing, second_investor, paid=False)
    apply(listing, third_investor, qualified=False)
    with pytest.raises(ConflictError, match="竞价尚未开始"):
        auctions.place_bid(actor=investor, listing=listing, amount="100000", now=at(-3601))
    with pytest.raises(ConflictError, match="竞价已截止"):
        auctions.place_bid(actor=investor, listing=listing, amount="100000", now=at(3600))
    with pytest.raises(PermissionDeniedError, match="保证金"):
        auctions.place_bid(actor=second_investor, listing=listing, amount="100000", now=at(0))
    with pytest.raises(PermissionDeniedError, match="资格"):
        auctions.place_bid(actor=third_investor, listing=listing, amount="100000", now=at(0))
    with pytest.raises(PermissionDeniedError, match="投资主体"):
        auctions.place_bid(actor=county_staff, listing=listing, amount="100000", now=at(0))
    from directory.models import Organization, OrganizationKind

    outsider_org = Organization.objects.create(
        name="未报名公司（测试）", kind=OrganizationKind.ENTERPRISE, division=listing.division
    )
    outsider = make_member(Role.INVESTOR, outsider_org)
    with pytest.raises(PermissionDeniedError, match="未报名"):
        auctions.place_bid(actor=outsider, listing=listing, amount="100000", now=at(0))
    clerk = __import__("directory.models", fromlist=["User"]).User.objects.get(username="village_clerk")
    with pytest.raises(PermissionDeniedError):
        auctions.place_bid(actor=clerk, listing=listing, amount="100000", now=at(0))
    notice = make_listing(status=ListingStatus.IN_NOTICE)
    apply(notice, investor)
    with pytest.raises(ConflictError, match="竞价尚未开始"):
        auctions.place_bid(actor=investor, listing=notice, amount="100000", now=at(0))
    assert not Bid.objects.exists()
    listing.refresh_from_db()
    assert listing.bidding_end == at(3600)


def test_equal_amount_is_refused(make_listing, apply, investor, second_investor):
    listing = make_listing(increment=Decimal("0"))
    apply(listing, investor)
    apply(listing, second_investor)
    auctions.place_bid(actor=investor, listing=listing, amount="100000", now=at(0))
    with pytest.raises(ConflictError, match=r"100000\.01"):
        auctions.place_bid(actor=second_investor, listing=listing, amount="100000", now=at(1))
    assert listing.bids.count() == 1


# --- closing ----------------------------------------------------------------------------------


def test_close_sells_to_the_highest_and_refunds_the_others(
    make_listing, apply, investor, second_investor, third_investor, coop_party, county_staff
):
    listing = make_listing()
    winner_app = apply(listing, investor)
    apply(listing, second_investor)
    apply(listing, third_investor)
    auctions.place_bid(actor=second_investor, listing=listing, amount="100000", now=at(0))
    winning = auctions.place_bid(actor=investor, listing=listing, amount="120000", now=at(10))
    with pytest.raises(ConflictError, match="竞价尚未截止"):
        auctions.close_listing(actor=county_staff, listing=listing, now=at(3599))
    listing.refresh_from_db()
    assert listing.status == ListingStatus.BIDDING
    closed = auctions.close_listing(actor=county_staff, listing=listing, now=at(3600))
    assert closed.status == ListingStatus.SOLD
    assert closed.winning_bid == winning and closed.final_price == Decimal("120000.00")
    assert closed.closed_at == at(3600) and "120000.00" in closed.close_note
    winner_app.refresh_from_db()
    assert winner_app.deposit_status == DepositStatus.PAID
    assert set(listing.applications.exclude(pk=winner_app.pk).values_list("deposit_status", flat=True)) == {
        DepositStatus.REFUNDED
    }
    assert held(investor) == -DEPOSIT
    assert held(second_investor) == held(third_investor) == 0
    assert ledger.balance(AccountKind.CASH, coop_party) == DEPOSIT
    assert Movement.objects.filter(kind=MovementKind.DEPOSIT_REFUNDED, listing=listing).count() == 2
    # Idempotent: a second close changes nothing and posts nothing.
    again = auctions.close_listing(actor=county_staff, listing=listing, now=at(4000))
    assert again.closed_at == at(3600)
    assert Movement.objects.filter(kind=MovementKind.DEPOSIT_REFUNDED).count() == 2
    assert Notification.objects.filter(recipient=investor, title__startswith="恭喜").count() == 1
    assert Notification.objects.filter(recipient=third_investor, body__contains="保证金已退还").count() == 1
    assert Notification.objects.filter(recipient=county_staff, title__contains=listing.code).exists()
    # The asset stays listed until the contract is signed (another area).
    assert Asset.objects.get(pk=listing.asset_id).status == AssetStatus.LISTED


def test_close_without_bids_fails_and_restores(make_listing, apply, investor, second_investor, coop_party):
    listing = make_listing(package=True)
    apply(listing, investor)
    apply(listing, second_investor)
    closed = auctions.close_listing(listing=listing, now=at(3600))  # the job: no actor
    assert closed.status == ListingStatus.FAILED and closed.winning_bid is None and closed.final_price is None
    assert closed.package.status == PackageStatus.READY
    assert set(
        Asset.objects.filter(pk__in=closed.package.items.values("asset")).values_list("status", flat=True)
    ) == {AssetStatus.COLLECTED}
    assert held(investor) == held(second_investor) == 0
    assert ledger.balance(AccountKind.CASH, coop_party) == 0
    refunds = Movement.objects.filter(kind=MovementKind.DEPOSIT_REFUNDED)
    assert refunds.count() == 2
    assert all("系统自动结束" in m.memo and m.recorded_by == listing.created_by for m in refunds)


def test_close_refusals(make_listing, apply, investor, make_member, city_admin):
    from directory.models import Organization, OrganizationKind

    listing = make_listing()
    apply(listing, investor)
    with pytest.raises(PermissionDeniedError):
        auctions.close_listing(actor=investor, listing=listing, now=at(3600))
    other_county = Organization.objects.filter(kind=OrganizationKind.COOPERATIVE).exclude(
        division__code__in=["331100000000", "331102000000"]
    ).first() or Organization.objects.create(
        name="青田县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=__import__("directory.models", fromlist=["AdministrativeDivision"])
        .AdministrativeDivision.objects.filter(code__startswith="3311", level="county")
        .exclude(code="331102000000")
        .first(),
    )
    stranger = make_member(Role.COOP_STAFF, other_county)
    with pytest.raises(PermissionDeniedError):
        auctions.close_listing(actor=stranger, listing=listing, now=at(3600))
    notice = make_listing(status=ListingStatus.IN_NOTICE)
    with pytest.raises(ConflictError, match="不在竞价中"):
        auctions.close_listing(actor=city_admin, listing=notice, now=at(3600))
    listing.refresh_from_db()
    assert listing.status == ListingStatus.BIDDING
    assert not Movement.objects.filter(kind=MovementKind.DEPOSIT_REFUNDED).exists()


# --- end of notice ----------------------------------------------------------------------------


def test_end_notice_opens_bidding_or_fails(make_listing, apply, investor, second_investor):
    opening = make_listing(status=ListingStatus.IN_NOTICE)
    apply(opening, investor)
    apply(opening, second_investor, paid=False)
    with pytest.raises(ConflictError, match="公示期尚未结束"):
        auctions.end_notice(listing=opening, now=at(-7201))
    assert auctions.end_notice(listing=opening, now=at(-7200)).status == ListingStatus.BIDDING
    assert Notification.objects.filter(recipient=investor, title__contains="竞价已开始").count() == 1
    # Unpaid deposit: no bidder at all → 流拍; nothing to refund.
    empty = make_listing(status=ListingStatus.IN_NOTICE)
    apply(empty, investor, paid=False)
    failed = auctions.end_notice(listing=empty, now=at(-7200))
    assert failed.status == ListingStatus.FAILED
    assert Asset.objects.get(pk=empty.asset_id).status == AssetStatus.COLLECTED
    # Repeated: unchanged.
    assert auctions.end_notice(listing=failed, now=at(0)).status == ListingStatus.FAILED


def test_negotiated_single_applicant_then_accept_offer(
    make_listing, apply, investor, second_investor, county_staff, coop_party
):
    listing = make_listing(
        status=ListingStatus.IN_NOTICE, mode=ListingMode.NEGOTIATED, bidding_start=None, bidding_end=None
    )
    application = apply(listing, investor)
    other = apply(listing, second_investor, qualified=False)  # paid, but not qualified
    with pytest.raises(ConflictError, match="公示期尚未结束"):
        auctions.accept_offer(
            actor=county_staff, listing=listing, application=application, amount="120000", now=at(-7201)
        )
    waiting = auctions.end_notice(listing=listing, now=at(-7200))
    assert waiting.status == ListingStatus.IN_NOTICE and "等待协议成交" in waiting.close_note
    assert auctions.advance_due_listings(now=at(0)) == 0  # waits for staff, no repeated notices
    with pytest.raises(PermissionDeniedError):
        auctions.accept_offer(
            actor=investor, listing=listing, application=application, amount="120000", now=at(0)
        )
    with pytest.raises(DomainError, match="底价"):
        auctions.accept_offer(
            actor=county_staff, listing=listing, application=application, amount="99999", now=at(0)
        )
    with pytest.raises(ConflictError, match="恰有一名"):
        auctions.accept_offer(
            actor=county_staff, listing=listing, application=other, amount="120000", now=at(0)
        )
    assert not Bid.objects.exists()
    sold = auctions.accept_offer(
        actor=county_staff, listing=listing, application=application, amount="120000.50", now=at(0)
    )
    assert sold.status == ListingStatus.SOLD and sold.final_price == Decimal("120000.50")
    assert sold.winning_bid.application == application and sold.winning_bid.placed_by == investor
    other.refresh_from_db()
    assert other.deposit_status == DepositStatus.REFUNDED and held(second_investor) == 0
    assert held(investor) == -DEPOSIT
    with pytest.raises(ConflictError):
        auctions.accept_offer(
            actor=county_staff, listing=listing, application=application, amount="130000", now=at(1)
        )


def test_negotiated_with_two_applicants_turns_into_bidding(
    make_listing, apply, investor, second_investor, settings
):
    settings.TMCS_NEGOTIATED_BIDDING_MINUTES = 30
    listing = make_listing(
        status=ListingStatus.IN_NOTICE,
        mode=ListingMode.NEGOTIATED,
        reserve_price=Decimal("123456.00"),
        increment=Decimal("0"),
    )
    apply(listing, investor)
    apply(listing, second_investor)
    opened = auctions.end_notice(listing=listing, now=at(-7200))
    assert opened.status == ListingStatus.BIDDING and opened.mode == ListingMode.BIDDING
    assert opened.increment == Decimal("1235")  # 1 % of the reserve, rounded to the yuan
    assert opened.bidding_start == at(-7200) and opened.bidding_end == at(-7200 + 1800)
    assert opened.scheduled_bidding_end == opened.bidding_end and "转为网络竞价" in opened.close_note
    small = make_listing(
        status=ListingStatus.IN_NOTICE, mode=ListingMode.NEGOTIATED, reserve_price=Decimal("5000")
    )
    apply(small, investor)
    apply(small, second_investor)
    assert auctions.end_notice(listing=small, now=at(-7200)).increment == Decimal("100")


def test_negotiated_without_applicants_fails(make_listing, investor):
    listing = make_listing(status=ListingStatus.IN_NOTICE, mode=ListingMode.NEGOTIATED)
    assert auctions.end_notice(listing=listing, now=at(-7200)).status == ListingStatus.FAILED


# --- the job ----------------------------------------------------------------------------------


def test_advance_due_listings(make_listing, apply, investor, second_investor):
    due_notice = make_listing(status=ListingStatus.IN_NOTICE)
    apply(due_notice, investor)
    due_close = make_listing()
    apply(due_close, investor)
    auctions.place_bid(actor=investor, listing=due_close, amount="100000", now=at(0))
    not_yet = make_listing(bidding_end=max(at(7200), timezone.now() + datetime.timedelta(days=1)))
    assert auctions.advance_due_listings(now=at(3600)) == 2
    due_notice.refresh_from_db()
    due_close.refresh_from_db()
    not_yet.refresh_from_db()
    assert due_notice.status == ListingStatus.BIDDING
    assert due_close.status == ListingStatus.SOLD
    assert not_yet.status == ListingStatus.BIDDING
    # Idempotent: the opened listing's own deadline (T0+1h) has come, so it closes 流拍; then nothing.
    assert auctions.advance_due_listings(now=at(3600)) == 1
    assert auctions.advance_due_listings(now=at(3600)) == 0
    due_notice.refresh_from_db()
    assert due_notice.status == ListingStatus.FAILED and held(investor) == -DEPOSIT  # won due_close
    assert auctions.close_listing_by_id(not_yet.pk).status == ListingStatus.BIDDING  # not due: untouched
    assert auctions.close_listing_by_id(999999) is None


def test_close_due_listings_task_eagerly(make_listing, apply, investor, celery_eager, monkeypatch):
    from transactions import tasks

    listing = make_listing(bidding_end=timezone.now() - datetime.timedelta(seconds=1))
    apply(listing, investor)
    assert tasks.close_due_listings.delay().get() == 1
    listing.refresh_from_db()
    assert listing.status == ListingStatus.FAILED and held(investor) == 0
    tasks.close_listing_task.delay(listing.pk).get()
    assert Movement.objects.filter(kind=MovementKind.DEPOSIT_REFUNDED).count() == 1
