"""Data exchange benchmark: importing a department's file against a raw COPY floor, in one run.

    .venv/bin/python bench/exchange.py --n 10000

It loads the demo region and assets into its own database (tmcs_bench_exchange), builds a CSV of N
timber harvest permits for the demo forest (the forestry bureau's file), and times

- `import_dataset` (parse, validate every row, write each permit through its service with its
  history row, keep each natural key's digest, log the exchange) into an empty table;
- the same file again (every row unchanged: parsed, validated and compared, nothing written);
- `export_dataset` of the N permits as CSV;
- the floor: psycopg `COPY` of the same rows into a temporary copy of the permit table (no
  validation, no history, no log) and `COPY … TO STDOUT` of them,

and prints rows per second and the ratios.
"""

import argparse
import csv
import datetime
import io
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmcs.settings")
PORT = os.environ.get("TMCS_PG_PORT", "54329")
DATABASE = "tmcs_bench_exchange"
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", f"postgis://tmcs:tmcs@127.0.0.1:{PORT}/{DATABASE}"
)
COLUMNS = [
    "number",
    "asset",
    "holder_name",
    "issuer",
    "species",
    "harvest_type",
    "area_mu",
    "volume_m3",
    "valid_from",
    "valid_until",
]


def ensure_database():
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={PORT} user=tmcs password=tmcs dbname=postgres", autocommit=True
    ) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        c.execute(f"CREATE DATABASE {DATABASE}")


def rows(n, asset_code):
    start = datetime.date(2026, 1, 1)
    for i in range(n):
        valid_from = start + datetime.timedelta(days=i % 300)
        yield [
            f"LM-BENCH-{i:07d}",
            asset_code,
            "示范村股份经济合作社（演示）",
            "莲都区林业局（演示）",
            "杉木",
            "抚育采伐",
            f"{1 + i % 50}.5",
            f"{10 + i % 90}.25",
            valid_from.isoformat(),
            (valid_from + datetime.timedelta(days=90)).isoformat(),
        ]


def csv_bytes(n, asset_code):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows(n, asset_code))
    return out.getvalue().encode("utf-8-sig")


def timed(operation):
    started = time.perf_counter()
    result = operation()
    return time.perf_counter() - started, result


def floor(n, asset_id, user_id):
    """COPY the same rows into a temporary copy of the table, then COPY them out."""
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={PORT} user=tmcs password=tmcs dbname={DATABASE}") as c:
        c.execute("CREATE TEMP TABLE floor_permit (LIKE exchange_harvestpermit INCLUDING DEFAULTS)")
        fields = [
            "id", "number", "asset_id", "holder_name", "issuer", "species", "harvest_type", "area_mu",
            "volume_m3", "valid_from", "valid_until", "status", "recorded_by_id", "recorded_at",
        ]  # fmt: skip
        now = datetime.datetime.now(datetime.UTC)

        def copy_in():
            with c.cursor().copy(f"COPY floor_permit ({', '.join(fields)}) FROM STDIN") as copy:
                for i, row in enumerate(rows(n, "")):
                    number, _asset, holder, issuer, species, kind, area, volume, start, end = row
                    values = [i + 1, number, asset_id, holder, issuer, species, kind, area, volume]
                    copy.write_row([*values, start, end, "valid", user_id, now])

        seconds_in, _ = timed(copy_in)

        def copy_out():
            buffer = io.BytesIO()
            with c.cursor().copy("COPY floor_permit TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    buffer.write(block)
            return buffer.getvalue()

        seconds_out, _ = timed(copy_out)
        c.rollback()
    return seconds_in, seconds_out


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="permits in the file")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo_region", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("load_demo_assets", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115

    from directory.models import User
    from exchange.models import Channel, Dataset, ExchangeFormat, HarvestPermit
    from exchange.services.datasets import export_dataset, import_dataset
    from resources.models import Asset

    staff = User.objects.get(username="coop_staff")
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    content = csv_bytes(args.n, forest.code)

    def run_import():
        return import_dataset(
            actor=staff,
            dataset=Dataset.HARVEST_PERMITS,
            fmt=ExchangeFormat.CSV,
            division=forest.division,
            channel=Channel.COMMAND,
            content=content,
            file_name="bench.csv",
        )

    first, log = timed(run_import)
    assert log.status == "succeeded" and log.rows_created == args.n, (log.status, log.errors[:3])
    again, log = timed(run_import)
    assert log.rows_unchanged == args.n and HarvestPermit.objects.count() == args.n
    exported, (body, _type, _name, _log) = timed(
        lambda: export_dataset(
            actor=staff,
            dataset=Dataset.HARVEST_PERMITS,
            fmt=ExchangeFormat.CSV,
            division=forest.division,
            channel=Channel.COMMAND,
        )
    )
    assert body.count(b"\n") >= args.n
    copy_in, copy_out = floor(args.n, forest.pk, staff.pk)

    print(f"harvest permits, {args.n:,} rows in one CSV file")
    for label, seconds, floor_seconds in (
        ("import (all new)", first, copy_in),
        ("re-import (all unchanged)", again, copy_in),
        ("export CSV", exported, copy_out),
    ):
        print(
            f"  {label:<26} {args.n / seconds:9.0f} rows/s   COPY floor {args.n / floor_seconds:10.0f} rows/s"
            f"   ratio {seconds / floor_seconds:6.1f}x"
        )


if __name__ == "__main__":
    main()
