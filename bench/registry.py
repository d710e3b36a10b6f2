"""Registry benchmark: N synthetic parcels, then the latency of registering one more parcel
through the service (insert + PostGIS area + overlap check under the advisory lock) against a raw
SQL floor doing the same insert and intersection query, measured in the same run.

    .venv/bin/python bench/registry.py            # N = 100,000
    .venv/bin/python bench/registry.py --n 1000000

It uses its own database (tmcs_bench) so that the synthetic parcels never mix with real data.
Vector-tile timings join this benchmark when the tile endpoint exists.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmcs.settings")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL",
    "postgis://tmcs:tmcs@127.0.0.1:{}/tmcs_bench".format(os.environ.get("TMCS_PG_PORT", "54329")),
)

CELL = 0.0005  # degrees: parcels of about 49 m × 55 m on a grid, no overlaps among them


def ensure_database():
    import psycopg

    port = os.environ.get("TMCS_PG_PORT", "54329")
    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=tmcs password=tmcs dbname=postgres", autocommit=True
    ) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'tmcs_bench'").fetchone():
            c.execute("CREATE DATABASE tmcs_bench")


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="synthetic parcels loaded first")
    parser.add_argument("--samples", type=int, default=300, help="timed registrations of each kind")
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    call_command("load_demo_region", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115

    from directory.models import AdministrativeDivision, User
    from resources import services
    from resources.models import Asset, ResourceType

    staff = User.objects.get(username="coop_staff")
    village = AdministrativeDivision.objects.get(code="331102199201")
    forest = ResourceType.objects.get(code="forest")
    columns = int(args.n**0.5) + 1

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE resources_asset, resources_assetevent RESTART IDENTITY CASCADE")
        started = time.perf_counter()
        # The loading floor: one INSERT … SELECT in PostGIS (triggers off for the synthetic bulk).
        cursor.execute("ALTER TABLE resources_asset DISABLE TRIGGER USER")
        cursor.execute(
            """
            INSERT INTO resources_asset (code, name, resource_type_id, division_id, geometry, area_m2, attributes,
                                         quality_grade, status, created_by_id, created_at, updated_at)
            SELECT 'BENCH' || lpad(g::text, 9, '0'), 'synthetic ' || g, %(type)s, %(division)s, geom,
                   round(ST_Area(ST_Transform(geom, 4549))::numeric, 2), '{}', '', 'registered', %(user)s, now(), now()
            FROM (
                SELECT g, ST_Multi(ST_MakeEnvelope(119.0 + (g %% %(cols)s) * %(cell)s, 27.5 + (g / %(cols)s) * %(cell)s,
                                                   119.0 + (g %% %(cols)s + 1) * %(cell)s,
                                                   27.5 + (g / %(cols)s + 1) * %(cell)s, 4490)) AS geom
                FROM generate_series(0, %(n)s - 1) AS g
            ) parcels
            """,
            {
                "type": forest.pk,
                "division": village.pk,
                "user": staff.pk,
                "cols": columns,
                "cell": CELL,
                "n": args.n,
            },
        )
        cursor.execute("ALTER TABLE resources_asset ENABLE TRIGGER USER")
        cursor.execute("ANALYZE resources_asset")
        load_seconds = time.perf_counter() - started
    print(
        f"loaded {args.n:,} parcels in {load_seconds:.1f} s ({args.n / load_seconds:,.0f}/s, INSERT … SELECT)"
    )

    # New parcels lie just beside the grid: every check searches a populated index but finds no overlap.
    def parcel(i):
        x, y = 118.9, 27.5 + i * CELL
        return f"SRID=4490;POLYGON(({x} {y}, {x + CELL} {y}, {x + CELL} {y + CELL}, {x} {y + CELL}, {x} {y}))"

    attributes = {"dominant_species": "杉木", "age_class": "中龄林"}
    service_times = []
    for i in range(args.samples):
        t0 = time.perf_counter()
        asset = services.create_asset(
            actor=staff,
            resource_type=forest,
            division=village,
            name=f"bench {i}",
            geometry=parcel(i),
            attributes=attributes,
        )
        services.transition_asset(actor=staff, asset=asset, to_status="under_review")
        service_times.append(time.perf_counter() - t0)

    raw_times = []
    with connection.cursor() as cursor:
        for i in range(args.samples):
            geometry = parcel(args.samples + i)
            t0 = time.perf_counter()
            with transaction.atomic():
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('bench'))")
                cursor.execute(
                    "SELECT count(*) FROM resources_asset WHERE geometry && ST_GeomFromEWKT(%s) "
                    "AND ST_Area(ST_Transform(ST_Intersection(geometry, ST_GeomFromEWKT(%s)), 4549)) > 1",
                    [geometry, geometry],
                )
                cursor.execute(
                    "INSERT INTO resources_asset (code, name, resource_type_id, division_id, geometry, area_m2, "
                    "attributes, quality_grade, status, created_by_id, created_at, updated_at) "
                    "VALUES (%s, 'raw', %s, %s, ST_Multi(ST_GeomFromEWKT(%s)), "
                    "round(ST_Area(ST_Transform(ST_GeomFromEWKT(%s), 4549))::numeric, 2), '{}', '', 'under_review', "
                    "%s, now(), now())",
                    [f"RAW{i:09d}", forest.pk, village.pk, geometry, geometry, staff.pk],
                )
            raw_times.append(time.perf_counter() - t0)

    def ms(values, p):
        return percentile(values, p) * 1000

    for p in (50, 99):
        print(
            f"register one parcel p{p}: service {ms(service_times, p):7.2f} ms   raw SQL {ms(raw_times, p):7.2f} ms   "
            f"ratio {percentile(service_times, p) / percentile(raw_times, p):5.1f}x"
        )
    print(
        f"mean: service {statistics.mean(service_times) * 1000:.2f} ms, raw {statistics.mean(raw_times) * 1000:.2f} ms;"
        f" assets now {Asset.objects.count():,}"
    )
    bench_tiles(staff, columns, args.samples)


def tile_of(lon, lat, z):
    import math

    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def bench_tiles(user, columns, samples):
    """Zoom-15 tiles over the synthetic grid: the scoped tile of resources.tiles against the same
    ST_AsMVT query with no scope subquery."""
    import random

    from django.db import connection

    from resources import tiles

    rng = random.Random(7)
    span = columns * CELL
    coords = [tile_of(119.0 + rng.random() * span, 27.5 + rng.random() * span, 15) for _ in range(samples)]
    raw_sql = tiles._HEAD + "SELECT id FROM resources_asset" + tiles._TAIL
    scoped, raw, sizes = [], [], []
    with connection.cursor() as cursor:
        for x, y in coords:
            t0 = time.perf_counter()
            sizes.append(len(tiles.tile_for(user, 15, x, y)))
            scoped.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            cursor.execute(raw_sql, [15, x, y])
            cursor.fetchone()
            raw.append(time.perf_counter() - t0)
    for p in (50, 99):
        print(
            f"tile z15 p{p}: scoped {percentile(scoped, p) * 1000:7.2f} ms   raw SQL {percentile(raw, p) * 1000:7.2f} ms"
            f"   ratio {percentile(scoped, p) / percentile(raw, p):5.1f}x   (median tile {statistics.median(sizes):,.0f} B)"
        )


if __name__ == "__main__":
    main()
