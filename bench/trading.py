"""Trading benchmark: the hot paths of the trading desk against raw floors measured in the same run.

    .venv/bin/python bench/trading.py                 # 300 bids, 300 ledger movements, 10,000 holders
    .venv/bin/python bench/trading.py --holders 100000

- place_bid through transactions.services.auctions (listing row lock, application check, minimum,
  anti-sniping, notification of the outbid investor, ORM) against raw psycopg doing the same
  lock, max() and INSERT in one transaction;
- ledger.post of a two-line movement (balanced check, account lookup, idempotency key) against a
  raw INSERT of the movement and its postings (the deferred balance trigger runs in both);
- split_by_weights of an amount over N holders with exact fractions (largest remainder) against a
  floor given the weights already as integers that only floors each quota in integer cents (no
  scaling, no remainder pass).

It uses its own database (tmcs_bench_trading) so that synthetic rows never mix with real data.
"""

import argparse
import math
import os
import random
import sys
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmcs.settings")
PORT = os.environ.get("TMCS_PG_PORT", "54329")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", f"postgis://tmcs:tmcs@127.0.0.1:{PORT}/tmcs_bench_trading"
)


def ensure_database():
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={PORT} user=tmcs password=tmcs dbname=postgres", autocommit=True
    ) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'tmcs_bench_trading'").fetchone():
            c.execute("CREATE DATABASE tmcs_bench_trading")


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name, ours, floor):
    for p in (50, 99):
        a, b = percentile(ours, p) * 1e3, percentile(floor, p) * 1e3
        print(f"{name:<34} p{p:<3} TMCS {a:8.3f} ms   floor {b:8.3f} ms   ratio {a / b:5.1f}x")


def world():
    """A listing in bidding (far deadline) with two qualified investors who paid their deposits."""
    import datetime

    from django.utils import timezone

    from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role, User
    from directory.services import ensure_party
    from resources import services as registry
    from resources.models import AssetStatus, ResourceType
    from transactions.models import (
        DepositStatus,
        Listing,
        ListingApplication,
        ListingMode,
        ListingStatus,
        ReviewStatus,
    )

    staff = User.objects.get(username="coop_staff")
    village = AdministrativeDivision.objects.get(code="331102199201")
    county = village.parent.parent
    x, y = 119.6 + random.random() / 10, 28.2 + random.random() / 10  # a fresh spot each run
    size = 0.0002
    asset = registry.create_asset(
        actor=staff,
        resource_type=ResourceType.objects.get(code="farmhouse"),
        division=village,
        name=f"bench {time.time_ns()}",
        geometry=f"SRID=4490;POLYGON(({x} {y}, {x + size} {y}, {x + size} {y + size}, {x} {y + size}, {x} {y}))",
        attributes={"floor_area_m2": 100, "storeys": 2, "condition": "基本完好"},
    )
    asset.status = AssetStatus.LISTED
    asset.save(update_fields=["status"])
    now = timezone.now()
    listings = [  # one for the service, one for the raw floor
        Listing.objects.create(
            code=f"{prefix}{time.time_ns() % 10**12}",
            title="bench",
            asset=asset,
            division=village,
            trade_kind="lease",
            mode=ListingMode.AUCTION,
            term_start=datetime.date(2030, 1, 1),
            term_end=datetime.date(2040, 1, 1),
            reserve_price=Decimal("1000.00"),
            deposit=Decimal("0.00"),
            increment=Decimal("1.00"),
            notice_start=now - datetime.timedelta(days=11),
            notice_end=now - datetime.timedelta(days=1),
            bidding_start=now - datetime.timedelta(days=1),
            bidding_end=now + datetime.timedelta(days=30),
            scheduled_bidding_end=now + datetime.timedelta(days=30),
            status=ListingStatus.BIDDING,
            created_by=staff,
        )
        for prefix in ("B", "R")
    ]
    bidders = []
    for n in range(2):
        org = Organization.objects.create(
            name=f"bench investor {time.time_ns()}", kind=OrganizationKind.ENTERPRISE, division=county
        )
        ensure_party(org)
        user = User.objects.create_user(username=f"bench-{time.time_ns()}")
        user.memberships.create(organization=org, role=Role.INVESTOR)
        apps = [
            ListingApplication.objects.create(
                listing=listing,
                investor=org,
                applicant=user,
                status=ReviewStatus.APPROVED,
                deposit_status=DepositStatus.PAID,
                bidder_number=f"{n + 1:03d}",
            )
            for listing in listings
        ]
        bidders.append((User.objects.get(pk=user.pk), apps))
    return staff, listings, bidders


def bench_bids(samples):
    from django.db import connection

    from transactions.services import auctions

    staff, (listing, raw_listing), bidders = world()
    ours, floor = [], []
    amount = Decimal("1000.00")
    for i in range(samples):
        user, _apps = bidders[i % 2]
        started = time.perf_counter()
        auctions.place_bid(actor=user, listing=listing, amount=amount)
        ours.append(time.perf_counter() - started)
        amount += 1
    raw_amount = Decimal("1000.00")
    with connection.cursor() as cursor:
        for i in range(samples):
            user, apps = bidders[i % 2]
            started = time.perf_counter()
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT status, bidding_end FROM transactions_listing WHERE id = %s FOR UPDATE",
                [raw_listing.pk],
            )
            cursor.execute(
                "SELECT status, deposit_status FROM transactions_listingapplication WHERE id = %s FOR UPDATE",
                [apps[1].pk],
            )
            cursor.execute("SELECT max(amount) FROM transactions_bid WHERE listing_id = %s", [raw_listing.pk])
            cursor.execute(
                "INSERT INTO transactions_bid (listing_id, application_id, amount, placed_at, placed_by_id) "
                "VALUES (%s, %s, %s, now(), %s)",
                [raw_listing.pk, apps[1].pk, raw_amount, user.pk],
            )
            cursor.execute("COMMIT")
            floor.append(time.perf_counter() - started)
            raw_amount += 1
    line("place_bid", ours, floor)
    return staff


def bench_ledger(staff, samples):
    from django.db import connection

    from directory.models import Organization, OrganizationKind
    from directory.services import ensure_party
    from transactions.models import AccountKind, MovementKind
    from transactions.services import ledger

    coop = ensure_party(Organization.objects.filter(kind=OrganizationKind.COOPERATIVE).first())
    investor = ensure_party(Organization.objects.filter(kind=OrganizationKind.ENTERPRISE).first())
    cash, held = ledger.account(AccountKind.CASH, coop), ledger.account(AccountKind.DEPOSIT_HELD, investor)
    ours, floor = [], []
    for i in range(samples):
        started = time.perf_counter()
        ledger.post(
            actor=staff,
            kind=MovementKind.DEPOSIT_RECEIVED,
            memo="bench",
            lines=[
                ledger.debit(AccountKind.CASH, coop, "100.00"),
                ledger.credit(AccountKind.DEPOSIT_HELD, investor, "100.00"),
            ],
            idempotency_key=f"bench-{time.time_ns()}-{i}",
        )
        ours.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        for i in range(samples):
            started = time.perf_counter()
            cursor.execute("BEGIN")
            cursor.execute(
                "INSERT INTO transactions_movement (kind, occurred_on, recorded_at, memo, reference, recorded_by_id, "
                "idempotency_key) VALUES ('deposit_received', current_date, now(), 'raw', '', %s, %s) RETURNING id",
                [staff.pk, f"raw-{time.time_ns()}-{i}"],
            )
            (movement_id,) = cursor.fetchone()
            cursor.execute(
                "INSERT INTO transactions_posting (movement_id, account_id, amount) VALUES (%s, %s, 100.00), (%s, %s, -100.00)",
                [movement_id, cash.pk, movement_id, held.pk],
            )
            cursor.execute("COMMIT")
            floor.append(time.perf_counter() - started)
    line("ledger.post (2 postings)", ours, floor)


def bench_split(holders):
    from transactions.services.allocation import split_by_weights

    rng = random.Random(7)
    weights = [Fraction(rng.randint(1, 10**6), rng.randint(1, 1000)) for _ in range(holders)]
    common = math.lcm(*(w.denominator for w in weights))
    scaled = [w.numerator * (common // w.denominator) for w in weights]  # the floor gets integers
    amount = Decimal("123456789.01")
    ours, floor = [], []
    for _ in range(5):
        started = time.perf_counter()
        parts = split_by_weights(amount, weights)
        ours.append(time.perf_counter() - started)
        assert sum(parts) == amount
        started = time.perf_counter()
        total_cents, total = int(amount * 100), sum(scaled)
        [Decimal(total_cents * w // total) / 100 for w in scaled]
        floor.append(time.perf_counter() - started)
    line(f"split over {holders:,} holders", ours, floor)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--holders", type=int, default=10_000)
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo_region", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    staff = bench_bids(args.samples)
    bench_ledger(staff, args.samples)
    bench_split(args.holders)


if __name__ == "__main__":
    main()
