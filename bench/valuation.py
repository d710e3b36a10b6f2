"""Valuation benchmark: one GEP accounting run over N synthetic parcels through the real code path,
against floors doing the same work in the database, measured in the same run.

    .venv/bin/python bench/valuation.py             # N = 100,000
    .venv/bin/python bench/valuation.py --n 1000000

Each parcel gets inputs for three indicators (water conservation by water balance, carbon
sequestration from NPP, soil retention from erosion rates; six input rows, plus the PostGIS area the
run adds to its snapshot). The run is driven in this process exactly as the Celery tasks drive it,
without a worker: `services.start_run` (freeze inputs, checksum, cut chunks), `process_chunk` for
every chunk, then `finalize_run` (region indicators and rollups). Printed: total time, assets/s and
the time of each phase, then two floors over the same inputs:

- SQL: one INSERT … SELECT computing the same quantities and values (and JSON components) for every
  parcel × indicator into a copy of the results table (same indexes);
- COPY: loading the same result rows into that table with COPY FROM STDIN, the cheapest way to
  write them at all.

It uses its own database (tmcs_bench_valuation, or BENCH_VALUATION_DATABASE_URL) and empties the
synthetic rows and drops its floor table when it ends (--keep leaves them for inspection).
"""

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmcs.settings")
PORT = os.environ.get("TMCS_PG_PORT", "54329")
DATABASE = "tmcs_bench_valuation"
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_VALUATION_DATABASE_URL", f"postgis://tmcs:tmcs@127.0.0.1:{PORT}/{DATABASE}"
)

CELL = 0.0005  # degrees: parcels of about 49 m × 55 m on a grid
YEAR = 2025
FLOOR_TABLE = "bench_valuation_floor_result"
SYNTHETIC_TABLES = (
    "valuation_accountingrun_assets",
    "valuation_runchunk",
    "valuation_runinput",
    "valuation_assetresult",
    "valuation_divisionresult",
    "valuation_rollup",
    "valuation_accountingrun",
    "valuation_ecologicalinput",
    "resources_asset",
    "resources_assetevent",
)
# (indicator, input, unit, value as SQL over the asset id g): varied, always valid (R ≤ P, actual ≤ potential)
INPUTS = (
    ("water_conservation", "precipitation", "mm", "1400 + g %% 500"),
    ("water_conservation", "runoff", "mm", "200 + g %% 100"),
    ("water_conservation", "evapotranspiration", "mm", "700 + g %% 200"),
    ("carbon_sequestration", "npp_dry_matter", "g_dm_per_m2", "800 + g %% 400"),
    ("soil_retention", "potential_erosion", "t_per_hm2", "40 + g %% 30"),
    ("soil_retention", "actual_erosion", "t_per_hm2", "2 + g %% 5"),
)


def ensure_database():
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={PORT} user=tmcs password=tmcs dbname=postgres", autocommit=True
    ) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            c.execute(f"CREATE DATABASE {DATABASE}")


def clean(cursor):
    cursor.execute(f"TRUNCATE {', '.join(SYNTHETIC_TABLES)} RESTART IDENTITY CASCADE")
    cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")


def load(cursor, n, *, forest, village, staff):
    """N registered forest parcels and six inputs each, with one INSERT … SELECT apiece (history
    triggers off for the synthetic bulk, as bench/registry.py does)."""
    columns = int(n**0.5) + 1
    started = time.perf_counter()
    cursor.execute("ALTER TABLE resources_asset DISABLE TRIGGER USER")
    cursor.execute(
        """
        INSERT INTO resources_asset (code, name, resource_type_id, division_id, geometry, area_m2, attributes,
                                     quality_grade, status, source_ref, created_by_id, created_at, updated_at)
        SELECT 'BV' || lpad(g::text, 9, '0'), 'synthetic ' || g, %(type)s, %(division)s, geom,
               round(ST_Area(ST_Transform(geom, 4549))::numeric, 2), '{}', '', 'registered', '', %(user)s,
               now(), now()
        FROM (
            SELECT g, ST_Multi(ST_MakeEnvelope(119.0 + (g %% %(cols)s) * %(cell)s, 27.5 + (g / %(cols)s) * %(cell)s,
                                               119.0 + (g %% %(cols)s + 1) * %(cell)s,
                                               27.5 + (g / %(cols)s + 1) * %(cell)s, 4490)) AS geom
            FROM generate_series(0, %(n)s - 1) AS g
        ) parcels
        """,
        {"type": forest.pk, "division": village.pk, "user": staff.pk, "cols": columns, "cell": CELL, "n": n},
    )
    cursor.execute("ALTER TABLE resources_asset ENABLE TRIGGER USER")
    assets_seconds = time.perf_counter() - started

    started = time.perf_counter()
    cases = " ".join(f"WHEN '{key}' THEN {expression}" for _i, key, _u, expression in INPUTS)
    values = ", ".join(f"('{indicator}', '{key}', '{unit}')" for indicator, key, unit, _e in INPUTS)
    cursor.execute("ALTER TABLE valuation_ecologicalinput DISABLE TRIGGER USER")
    cursor.execute(
        f"""
        INSERT INTO valuation_ecologicalinput (asset_id, division_id, year, indicator_key, input_key, value, unit,
                                               source, entered_by_id, entered_at)
        SELECT a.id, NULL, %(year)s, k.indicator, k.input, (CASE k.input {cases} END)::numeric, k.unit,
               'bench', %(user)s, now()
        FROM (SELECT id, id AS g FROM resources_asset WHERE code LIKE 'BV%%') a
        CROSS JOIN (VALUES {values}) AS k(indicator, input, unit)
        """,
        {"year": YEAR, "user": staff.pk},
    )
    cursor.execute("ALTER TABLE valuation_ecologicalinput ENABLE TRIGGER USER")
    cursor.execute("ANALYZE resources_asset")
    cursor.execute("ANALYZE valuation_ecologicalinput")
    return assets_seconds, time.perf_counter() - started


def run_real_path(*, staff, county, parameter_set):
    """The accounting run as the Celery tasks drive it, in this process; seconds per phase."""
    from valuation import services
    from valuation.services import runs

    runs.dispatch_run = lambda run_id: None  # no broker, no worker: the chunks are called below
    phases = {}
    started = time.perf_counter()
    run = services.start_run(actor=staff, division=county, year=YEAR, parameter_set=parameter_set)
    phases["snapshot (start_run: freeze inputs, checksum, chunks)"] = time.perf_counter() - started
    print(
        f"  … start_run done in {time.perf_counter() - started:.1f} s; {run.chunk_count} chunks", flush=True
    )
    t0 = time.perf_counter()
    step = max(1, run.chunk_count // 10)
    for number in range(run.chunk_count):
        services.process_chunk(run.pk, number)
        if (number + 1) % step == 0 and number + 1 < run.chunk_count:
            print(f"  … {number + 1} chunks in {time.perf_counter() - t0:.1f} s", flush=True)
    phases[f"chunks ({run.chunk_count} × process_chunk)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = services.finalize_run(run.pk)
    phases["rollups (finalize_run)"] = time.perf_counter() - t0
    return run, phases, time.perf_counter() - started


def floor_sql(cursor, *, run, params):
    """The same arithmetic for the same parcels and indicators in one INSERT … SELECT."""
    water, carbon, soil = (
        params[k] for k in ("water_conservation", "carbon_sequestration", "soil_retention")
    )
    cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (LIKE valuation_assetresult INCLUDING ALL)")
    # Python rounds results to 0.000001 元 half-to-even; PostgreSQL's round() goes half away from zero.
    cursor.execute(
        """CREATE OR REPLACE FUNCTION pg_temp.round6_half_even(v numeric) RETURNS numeric
           LANGUAGE sql IMMUTABLE AS $$
             SELECT CASE WHEN abs(v * 1000000 - trunc(v * 1000000)) = 0.5
                         THEN round((trunc(v * 1000000) + trunc(v * 1000000) % 2) / 1000000, 6)
                         ELSE round(v, 6) END $$"""
    )
    started = time.perf_counter()
    cursor.execute(
        f"""
        INSERT INTO {FLOOR_TABLE} (run_id, asset_id, division_code, indicator_key, category, quantity,
                                   quantity_unit, unit_price, value, components, variant, notes)
        SELECT %(run)s, i.asset_id, d.code, x.indicator_key, 'regulating', x.quantity, x.unit, x.unit_price,
               pg_temp.round6_half_even(x.value), x.components, x.variant, '[]'::jsonb
        FROM (
            SELECT asset_id,
                   max(value) FILTER (WHERE input_key = 'precipitation') AS p,
                   max(value) FILTER (WHERE input_key = 'runoff') AS r,
                   max(value) FILTER (WHERE input_key = 'evapotranspiration') AS et,
                   max(value) FILTER (WHERE input_key = 'npp_dry_matter') AS npp,
                   max(value) FILTER (WHERE input_key = 'potential_erosion') AS potential,
                   max(value) FILTER (WHERE input_key = 'actual_erosion') AS actual
            FROM valuation_ecologicalinput
            WHERE year = %(year)s AND asset_id IS NOT NULL
            GROUP BY asset_id
        ) i
        JOIN resources_asset a ON a.id = i.asset_id
        JOIN directory_administrativedivision d ON d.id = a.division_id
        CROSS JOIN LATERAL (
            SELECT greatest(i.p - i.r - i.et, 0) * a.area_m2 / 1000 AS water_m3,
                   %(co2_per_dm)s * i.npp * a.area_m2 / 1000000 AS co2_t,
                   (i.potential - i.actual) * a.area_m2 / 10000 AS soil_t
        ) q
        CROSS JOIN LATERAL (
            SELECT q.soil_t * %(sediment)s / %(density)s AS silt_m3,
                   q.soil_t * %(n_content)s AS n_t,
                   q.soil_t * %(p_content)s AS p_t
        ) s
        CROSS JOIN LATERAL (VALUES
            ('water_conservation', q.water_m3, 'm3', %(reservoir)s::numeric, q.water_m3 * %(reservoir)s,
             jsonb_build_array(jsonb_build_object('key', 'water_conservation', 'label', '水源涵养量',
                 'quantity', q.water_m3::text, 'unit', 'm3', 'unit_price', %(reservoir)s::text,
                 'value', (q.water_m3 * %(reservoir)s)::text)), ''),
            ('carbon_sequestration', q.co2_t, 't_co2', %(carbon_price)s::numeric, q.co2_t * %(carbon_price)s,
             jsonb_build_array(jsonb_build_object('key', 'co2', 'label', '固定二氧化碳',
                 'quantity', q.co2_t::text, 'unit', 't_co2', 'unit_price', %(carbon_price)s::text,
                 'value', (q.co2_t * %(carbon_price)s)::text)), 'npp'),
            ('soil_retention', q.soil_t, 't', NULL::numeric,
             s.silt_m3 * %(dredging)s + s.n_t * %(n_price)s + s.p_t * %(p_price)s,
             jsonb_build_array(
                 jsonb_build_object('key', 'siltation', 'label', '减少泥沙淤积', 'quantity', s.silt_m3::text,
                     'unit', 'm3', 'unit_price', %(dredging)s::text, 'value', (s.silt_m3 * %(dredging)s)::text),
                 jsonb_build_object('key', 'nitrogen', 'label', '减少氮流失', 'quantity', s.n_t::text,
                     'unit', 't', 'unit_price', %(n_price)s::text, 'value', (s.n_t * %(n_price)s)::text),
                 jsonb_build_object('key', 'phosphorus', 'label', '减少磷流失', 'quantity', s.p_t::text,
                     'unit', 't', 'unit_price', %(p_price)s::text, 'value', (s.p_t * %(p_price)s)::text)),
             'with_nutrients')
        ) AS x(indicator_key, quantity, unit, unit_price, value, components, variant)
        """,
        {
            "run": run.pk,
            "year": YEAR,
            "reservoir": water["reservoir_cost"],
            "co2_per_dm": carbon["co2_per_dry_matter"],
            "carbon_price": carbon["carbon_price"],
            "sediment": soil["sediment_ratio"],
            "density": soil["bulk_density"],
            "dredging": soil["dredging_cost"],
            "n_content": soil["nitrogen_content"],
            "p_content": soil["phosphorus_content"],
            "n_price": soil["nitrogen_price"],
            "p_price": soil["phosphorus_price"],
        },
    )
    return time.perf_counter() - started


def floor_copy(raw_connection):
    """COPY the floor's rows out (untimed), empty the table, and time loading them back."""
    buffer = bytearray()
    with raw_connection.cursor() as cursor:
        with cursor.copy(f"COPY {FLOOR_TABLE} TO STDOUT") as copy:
            for block in copy:
                buffer += block
        cursor.execute(f"TRUNCATE {FLOOR_TABLE}")
        raw_connection.commit()
        started = time.perf_counter()
        with cursor.copy(f"COPY {FLOOR_TABLE} FROM STDIN") as copy:
            for i in range(0, len(buffer), 1 << 20):
                copy.write(buffer[i : i + (1 << 20)])
        raw_connection.commit()
        seconds = time.perf_counter() - started
        cursor.execute(f"SELECT count(*) FROM {FLOOR_TABLE}")
        rows = cursor.fetchone()[0]
    return seconds, rows, len(buffer)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="synthetic parcels valued by the run")
    parser.add_argument("--keep", action="store_true", help="leave the synthetic rows and the floor table")
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("load_demo_region", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115

    from directory.models import AdministrativeDivision, User
    from resources.catalog import seed_catalog
    from resources.models import ResourceType
    from valuation import services
    from valuation.models import AssetResult

    seed_catalog(ResourceType)
    staff = User.objects.get(username="coop_staff")
    county = AdministrativeDivision.objects.get(code="331102000000")
    village = AdministrativeDivision.objects.get(code="331102199201")
    forest = ResourceType.objects.get(code="forest")
    parameter_set = services.load_default_parameter_set(actor=User.objects.get(username="city_admin"))

    with connection.cursor() as cursor:
        clean(cursor)
        assets_seconds, inputs_seconds = load(cursor, args.n, forest=forest, village=village, staff=staff)
    print(
        f"loaded {args.n:,} parcels in {assets_seconds:.1f} s and {args.n * len(INPUTS):,} inputs in "
        f"{inputs_seconds:.1f} s (INSERT … SELECT)"
    )

    try:
        run, phases, total = run_real_path(staff=staff, county=county, parameter_set=parameter_set)
        results = AssetResult.objects.filter(run=run).count()
        print(
            f"accounting run #{run.pk}: {run.status}, {run.asset_count:,} assets, {results:,} results, "
            f"{len(run.warnings)} warnings, total {run.total_value.quantize(Decimal('0.01')):,} 元"
        )
        print(f"  total {total:8.1f} s   {run.asset_count / total:10,.0f} assets/s")
        for label, seconds in phases.items():
            print(f"  {label:<52} {seconds:8.1f} s  ({seconds / total:5.1%})")

        with connection.cursor() as cursor:
            sql_seconds = floor_sql(cursor, run=run, params=services.params_of(run.parameter_set))
            cursor.execute(
                f"""SELECT (SELECT count(*) FROM {FLOOR_TABLE}),
                           (SELECT count(*) FROM {FLOOR_TABLE} f JOIN valuation_assetresult r
                              ON r.run_id = %(run)s AND r.asset_id = f.asset_id AND r.indicator_key = f.indicator_key
                            WHERE r.quantity = f.quantity AND r.value = f.value
                              AND r.unit_price IS NOT DISTINCT FROM f.unit_price)""",
                {"run": run.pk},
            )
            floor_rows, same_rows = cursor.fetchone()
        connection.ensure_connection()
        copy_seconds, copy_rows, copy_bytes = floor_copy(connection.connection)
        print(
            f"floor SQL  (one INSERT … SELECT, {floor_rows:,} rows)  {sql_seconds:8.1f} s  "
            f"{args.n / sql_seconds:10,.0f} assets/s   rows identical to the run's: {same_rows:,}/{results:,}"
        )
        print(
            f"floor COPY ({copy_rows:,} result rows, {copy_bytes / 1e6:,.0f} MB)       {copy_seconds:8.1f} s  "
            f"{args.n / copy_seconds:10,.0f} assets/s"
        )
        chunks = next(v for k, v in phases.items() if k.startswith("chunks"))
        print(
            f"ratios: run / SQL floor {total / sql_seconds:6.1f}x   chunks / SQL floor {chunks / sql_seconds:6.1f}x"
            f"   run / COPY floor {total / copy_seconds:6.1f}x   chunks / COPY floor {chunks / copy_seconds:6.1f}x"
        )
    finally:
        if not args.keep:
            with connection.cursor() as cursor:
                clean(cursor)


if __name__ == "__main__":
    main()
