# ruff: noqa: F811  (fixtures imported from test_auctions)
"""Real threads, real transactions: bids racing each other and the deadline, closes racing each
other, and the Celery job through a real worker. Each thread has its own connection."""

import datetime
import itertools
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from resources.catalog import seed_catalog
from resources.models import ResourceType
from tmcs.errors import DomainError
from transactions.models import AccountKind, Bid, Listing, ListingStatus, Movement, MovementKind
from transactions.services import auctions, ledger

from .test_auctions import DEPOSIT, apply, coop_party, held, make_listing, third_investor  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _catalog(db):
    seed_catalog(ResourceType)  # transactional tests flush the tables the migration seeded


def race(calls):
    """Run the callables at once (after a barrier); return ("ok", result) or ("refused", message)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, fn):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", fn())
        except DomainError as exc:
            results[index] = ("refused", str(exc.detail))
        except Exception as exc:  # any other outcome fails the test
            results[index] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.fixture
def investors(investor, second_investor, third_investor, make_member):
    from directory.models import Organization, OrganizationKind, Role
    from directory.services import ensure_party

    users = [investor, second_investor, third_investor]
    for n in range(4, 7):
        org = Organization.objects.create(
            name=f"竞买公司{n}（测试）",
            kind=OrganizationKind.ENTERPRISE,
            division=investor_division(investor),
        )
        ensure_party(org)
        users.append(make_member(Role.INVESTOR, org, username=f"investor{n}"))
    return users


def investor_division(user):
    return user.memberships.first().organization.division


def test_same_amount_at_the_deadline(make_listing, apply, investor, second_investor):
    now = timezone.now()
    listing = make_listing(
        bidding_start=now - datetime.timedelta(hours=1), bidding_end=now + datetime.timedelta(seconds=60)
    )
    apply(listing, investor)
    apply(listing, second_investor)
    results = race(
        [
            lambda u=u: auctions.place_bid(actor=u, listing=listing, amount="100000")
            for u in (investor, second_investor)
        ]
    )
    assert sorted(r[0] for r in results) == ["ok", "refused"], results
    assert any("不得低于" in r[1] or "已有人出价" in r[1] for r in results if r[0] == "refused")
    bid = Bid.objects.get(listing=listing)
    listing.refresh_from_db()
    assert bid.extended_to is not None and listing.bidding_end == bid.extended_to
    assert bid.extended_to == bid.placed_at + datetime.timedelta(seconds=listing.extension_seconds)


def test_many_concurrent_bidders_keep_amounts_increasing(make_listing, apply, investors):
    now = timezone.now()
    listing = make_listing(
        bidding_start=now - datetime.timedelta(hours=1), bidding_end=now + datetime.timedelta(hours=1)
    )
    for user in investors:
        apply(listing, user)
    calls = [
        lambda u=u, k=k: auctions.place_bid(actor=u, listing=listing, amount=100000 + 1000 * k)
        for k in range(3)
        for u in investors
    ]
    results = race(calls)
    assert not [r for r in results if r[0] == "error"], results
    amounts = list(
        Bid.objects.filter(listing=listing).order_by("placed_at", "pk").values_list("amount", flat=True)
    )
    assert amounts and amounts[0] >= listing.reserve_price
    assert all(b - a >= listing.increment for a, b in itertools.pairwise(amounts))
    assert len(amounts) == sum(1 for r in results if r[0] == "ok")


def test_bid_racing_close_never_leaves_a_wrong_winner(
    make_listing, apply, investor, second_investor, county_staff
):
    for _round in range(3):
        now = timezone.now()
        listing = make_listing(
            bidding_start=now - datetime.timedelta(hours=1),
            bidding_end=now + datetime.timedelta(milliseconds=300),
            extension_window_seconds=1,
            extension_seconds=1,
        )
        apply(listing, investor)
        apply(listing, second_investor)
        auctions.place_bid(
            actor=investor, listing=listing, amount="100000", now=now - datetime.timedelta(minutes=1)
        )
        deadline = listing.bidding_end

        def close(listing=listing, deadline=deadline):
            wait = (deadline - timezone.now()).total_seconds() + 0.01
            if wait > 0:
                threading.Event().wait(wait)
            return auctions.close_listing(actor=county_staff, listing=listing)

        def bid(listing=listing, deadline=deadline):
            wait = (deadline - timezone.now()).total_seconds() - 0.002
            if wait > 0:
                threading.Event().wait(wait)
            return auctions.place_bid(actor=second_investor, listing=listing, amount="101000")

        race_results = race([close, bid])
        assert not [r for r in race_results if r[0] == "error"], race_results
        listing.refresh_from_db()
        top = listing.bids.order_by("-amount").first()
        if listing.status == ListingStatus.SOLD:
            assert listing.winning_bid == top and listing.final_price == top.amount
            assert all(b.placed_at < listing.closed_at for b in listing.bids.all())
        else:  # the bid won the lock and extended the deadline: close was refused
            assert listing.status == ListingStatus.BIDDING and top.amount == Decimal("101000")
            assert race_results[0] == ("refused", "竞价尚未截止。")


def test_concurrent_closes_refund_each_loser_once(
    make_listing, apply, investor, second_investor, third_investor, coop_party, county_staff
):
    now = timezone.now()
    listing = make_listing(
        bidding_start=now - datetime.timedelta(hours=1), bidding_end=now - datetime.timedelta(seconds=1)
    )
    for user in (investor, second_investor, third_investor):
        apply(listing, user)
    Bid.objects.create(
        listing=listing,
        application=listing.applications.get(applicant=second_investor),
        amount=Decimal("150000"),
        placed_at=now - datetime.timedelta(minutes=5),
        placed_by=second_investor,
    )
    results = race(
        [
            lambda: auctions.close_listing(actor=county_staff, listing=listing),
            lambda: auctions.close_listing(listing=listing),
            lambda: auctions.advance_due_listings(),
            lambda: auctions.advance_due_listings(),
        ]
    )
    assert all(r[0] == "ok" for r in results), results
    assert sum(r[1] for r in results[2:]) <= 1  # at most one job reports the move
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SOLD and listing.final_price == Decimal("150000.00")
    assert Movement.objects.filter(kind=MovementKind.DEPOSIT_REFUNDED).count() == 2
    assert held(investor) == held(third_investor) == 0 and held(second_investor) == -DEPOSIT
    assert ledger.balance(AccountKind.CASH, coop_party) == DEPOSIT
    assert Listing.objects.get(pk=listing.pk).closed_at is not None


def test_the_job_through_a_real_worker(make_listing, apply, investor, celery_worker_process):
    from conftest import _wait_for
    from transactions import tasks

    listing = make_listing(bidding_end=timezone.now() - datetime.timedelta(seconds=1))
    apply(listing, investor)
    assert tasks.close_due_listings.delay().get(timeout=60) == 1
    _wait_for(
        lambda: Listing.objects.get(pk=listing.pk).status == ListingStatus.FAILED,
        timeout=30,
        what="the close",
    )
    assert held(investor) == 0
    assert Movement.objects.filter(kind=MovementKind.DEPOSIT_REFUNDED, listing=listing).count() == 1
