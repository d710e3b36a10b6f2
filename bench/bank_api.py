"""Bank API benchmark: collateral lookups through the real API against a raw psycopg floor, in one run.

    .venv/bin/python bench/bank_api.py --n 10000            # N assets, 2,000 lookups each way
    .venv/bin/python bench/bank_api.py --n 100000 --samples 5000

It loads N registered forest parcels into its own database (tmcs_bench_bank) with INSERT … SELECT:
per asset one contract right of a household (certificate number), three accepted GEP results, an
appraisal for each of two banks, a pledge of the other bank at rank 1 and one of the bank at rank 2
(restriction + finance pledge row), and a lease on every fourth asset. Then it times

- `GET /api/v1/finance/collateral/?asset=<id>` through Django's test client with the bank's API
  token: token authentication, per-bank and per-user throttles (Redis), the lookup and its
  prefetches, serialization, the personal-data note and the API request log row;
- the floor: one raw psycopg statement over the same tables and joins (asset, type, division and
  bounding box; active rights with holder person/organization; active restrictions with holder and
  finance pledge; accepted valuations grouped per run with their parameter set; the bank's own
  appraisals with product and appraiser) returning the same rows as JSON,

over the same random assets, and prints lookups per second, p50 and p99 of both and their ratio.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmcs.settings")
PORT = os.environ.get("TMCS_PG_PORT", "54329")
DATABASE = "tmcs_bench_bank"
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", f"postgis://tmcs:tmcs@127.0.0.1:{PORT}/{DATABASE}"
)
# The throttles still run (their Redis round trips are part of every call) but never trip.
os.environ["TMCS_BANK_API_RATE"] = "1000000000/minute"
os.environ["TMCS_API_USER_RATE"] = "1000000000/minute"

URL = "/api/v1/finance/collateral/"
CELL = 0.0005  # degrees: parcels of about 49 m × 55 m on a grid
BULK_TABLES = [
    "resources_asset",
    "resources_right",
    "resources_restriction",
    "finance_collateralappraisal",
    "finance_pledge",
]


def ensure_database():
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={PORT} user=tmcs password=tmcs dbname=postgres", autocommit=True
    ) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            c.execute(f"CREATE DATABASE {DATABASE}")


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def world():
    """Header rows through the ORM: two banks, their products and approved applications, one
    accepted accounting run. Returns what the bulk load and the lookups need."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from directory.models import (
        AdministrativeDivision,
        Organization,
        OrganizationKind,
        Party,
        PartyKind,
        User,
    )
    from directory.services import ensure_party
    from finance.models import ApplicationStatus, LoanApplication, LoanKind, LoanProduct
    from resources.models import ResourceType
    from valuation.models import AccountingRun, ParameterSet

    staff = User.objects.get(username="coop_staff")
    checker = User.objects.get(username="city_admin")
    officer = User.objects.get(username="bank_officer")
    village = AdministrativeDivision.objects.get(code="331102199201")
    bank = Organization.objects.get(kind=OrganizationKind.BANK, uscc__isnull=False, memberships__user=officer)
    other_bank, _ = Organization.objects.get_or_create(
        name="基准测试他行", defaults={"kind": OrganizationKind.BANK, "division": bank.division}
    )
    appraiser = Organization.objects.get(kind=OrganizationKind.COOPERATIVE, division__code="331102000000")
    persons = list(
        Party.objects.filter(kind=PartyKind.PERSON).order_by("pk").values_list("pk", flat=True)[:3]
    )
    applications, parties = {}, {}
    for org in (bank, other_bank):
        parties[org.pk] = ensure_party(org).pk
        product, _ = LoanProduct.objects.get_or_create(
            bank=org,
            code="BENCH",
            defaults={
                "name": "基准生态贷",
                "kind": LoanKind.GEP_LOAN,
                "eligible_right_kinds": ["contract"],
                "guarantee_requirement": "pledge",
                "max_ltv": Decimal("0.6"),
                "max_amount": Decimal("1000000"),
                "rate_min": Decimal("0.03"),
                "rate_max": Decimal("0.06"),
                "repayment_methods": ["equal_installment"],
                "payment_frequencies": ["monthly"],
                "created_by": officer,
            },
        )
        applications[org.pk], _ = LoanApplication.objects.get_or_create(
            number=f"BENCH{org.pk:06d}",
            defaults={
                "applicant_id": persons[0],
                "division": village,
                "product": product,
                "amount": Decimal("300000"),
                "term_months": 36,
                "repayment_method": "equal_installment",
                "payment_frequency": "monthly",
                "annual_rate": Decimal("0.036"),
                "purpose": "基准测试",
                "status": ApplicationStatus.APPROVED,
                "prepared_by": staff,
                "checked_by": checker,
                "prepared_at": timezone.now(),
                "checked_at": timezone.now(),
            },
        )
    pset, _ = ParameterSet.objects.get_or_create(
        name="基准参数集",
        version=1,
        defaults={
            "standard": "DB33/T 2274-2025",
            "price_year": 2024,
            "valid_from": datetime.date(2024, 1, 1),
            "created_by": staff,
        },
    )
    run, _ = AccountingRun.objects.get_or_create(
        division=village,
        year=2025,
        parameter_set=pset,
        defaults={
            "status": "succeeded",
            "created_by": staff,
            "accepted_at": timezone.now(),
            "accepted_by": checker,
        },
    )
    return {
        "staff": staff,
        "officer": officer,
        "village": village,
        "forest": ResourceType.objects.get(code="forest"),
        "bank": bank,
        "other_bank": other_bank,
        "appraiser": appraiser,
        "persons": persons,
        "parties": parties,
        "applications": applications,
        "run": run,
    }


def load(n, w):
    """N assets with their rights, valuations, appraisals, pledges and leases (INSERT … SELECT)."""
    from django.db import connection, transaction

    bank, other = w["bank"], w["other_bank"]
    params = {
        "n": n,
        "cols": int(n**0.5) + 1,
        "cell": CELL,
        "type": w["forest"].pk,
        "division": w["village"].pk,
        "user": w["staff"].pk,
        "persons": w["persons"],
        "run": w["run"].pk,
        "appraiser": w["appraiser"].pk,
        "bank": bank.pk,
        "other": other.pk,
        "bank_party": w["parties"][bank.pk],
        "other_party": w["parties"][other.pk],
        "bank_product": w["applications"][bank.pk].product_id,
        "other_product": w["applications"][other.pk].product_id,
        "bank_application": w["applications"][bank.pk].pk,
        "other_application": w["applications"][other.pk].pk,
        "lessee": w["persons"][-1],
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE resources_asset RESTART IDENTITY CASCADE")
        for table in BULK_TABLES:  # no history events for synthetic rows
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(
            """
            INSERT INTO resources_asset (code, name, resource_type_id, division_id, geometry, area_m2, attributes,
                                         quality_grade, status, source_ref, created_by_id, created_at, updated_at)
            SELECT 'BB' || lpad(g::text, 9, '0'), '基准林地 ' || g, %(type)s, %(division)s, geom,
                   round(ST_Area(ST_Transform(geom, 4549))::numeric, 2),
                   '{"dominant_species": "杉木", "age_class": "中龄林", "forest_class": "商品林"}', '',
                   'pledged', '', %(user)s, now(), now()
            FROM (SELECT g, ST_Multi(ST_MakeEnvelope(119.0 + (g %% %(cols)s) * %(cell)s,
                                                     27.5 + (g / %(cols)s) * %(cell)s,
                                                     119.0 + (g %% %(cols)s + 1) * %(cell)s,
                                                     27.5 + (g / %(cols)s + 1) * %(cell)s, 4490)) AS geom
                  FROM generate_series(0, %(n)s - 1) AS g) parcels
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO resources_right (asset_id, holder_id, kind, share_numerator, share_denominator, period,
                                         source_document, certificate_number, status, end_reason, created_by_id,
                                         created_at)
            SELECT a.id, (%(persons)s::bigint[])[a.id %% cardinality(%(persons)s::bigint[]) + 1], 'contract', 1, 1,
                   daterange('2020-01-01', NULL), '承包经营权证（基准）', 'BBC' || lpad(a.id::text, 9, '0'),
                   'active', '', %(user)s, now()
            FROM resources_asset a
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO valuation_assetresult (run_id, asset_id, division_code, indicator_key, category, quantity,
                                               quantity_unit, value, components, variant, notes)
            SELECT %(run)s, a.id, '331102199201', k, 'regulating', 1, 't', 1000 + a.id %% 1000, '[]', '', '[]'
            FROM resources_asset a, unnest(ARRAY['water_conservation', 'soil_retention', 'carbon_sequestration']) k
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO finance_collateralappraisal (number, right_id, asset_id, product_id, appraised_value, haircut,
                collateral_value, ltv, max_loan, method, appraiser_org_id, appraiser_licence_no, appraised_on,
                valid_until, calculation, created_by_id, created_at)
            SELECT CASE WHEN p.own THEN 'BA' ELSE 'BO' END || lpad(r.id::text, 9, '0'), r.id, r.asset_id,
                   CASE WHEN p.own THEN %(bank_product)s ELSE %(other_product)s END,
                   800000, 0.2, 640000, 0.6, 384000, '收益法（基准）', %(appraiser)s, '', '2026-01-15',
                   '2027-01-15', '{}', %(user)s, now()
            FROM resources_right r, (VALUES (true), (false)) AS p(own)
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO resources_restriction (asset_id, right_id, kind, holder_id, rank, secured_amount, period,
                                               source_document, reason, status, end_reason, created_by_id,
                                               created_at)
            SELECT r.asset_id, r.id, 'pledge', CASE WHEN p.own THEN %(bank_party)s ELSE %(other_party)s END,
                   CASE WHEN p.own THEN 2 ELSE 1 END, CASE WHEN p.own THEN 150000 ELSE 200000 END,
                   daterange('2026-01-15', NULL), '质押合同（基准）', '', 'active', '', %(user)s, now()
            FROM resources_right r, (VALUES (true), (false)) AS p(own)
            UNION ALL
            SELECT a.id, NULL, 'lease', %(lessee)s, NULL, NULL, daterange('2026-01-01', '2030-12-31'),
                   '租赁合同（基准）', '', 'active', '', %(user)s, now()
            FROM resources_asset a WHERE a.id %% 4 = 0
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO finance_pledge (number, restriction_id, bank_id, application_id, appraisal_id, right_id, rank,
                                        secured_amount, bank_reference, verification_code, status, registered_by_id,
                                        registered_at, release_reason)
            SELECT 'BP' || lpad(x.id::text, 10, '0'), x.id, CASE WHEN own THEN %(bank)s ELSE %(other)s END,
                   CASE WHEN own THEN %(bank_application)s ELSE %(other_application)s END, ap.id, x.right_id,
                   x.rank, x.secured_amount, 'REF-' || x.id, 'BV' || lpad(x.id::text, 12, '0'), 'active',
                   %(user)s, now(), ''
            FROM (SELECT x.*, x.holder_id = %(bank_party)s AS own FROM resources_restriction x
                  WHERE x.kind = 'pledge') x
            JOIN finance_collateralappraisal ap
              ON ap.right_id = x.right_id AND ap.number LIKE CASE WHEN own THEN 'BA%%' ELSE 'BO%%' END
            """,
            params,
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred foreign keys now
        for table in BULK_TABLES:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    with connection.cursor() as cursor:
        for table in [*BULK_TABLES, "valuation_assetresult"]:
            cursor.execute(f"ANALYZE {table}")
    seconds = time.perf_counter() - started
    print(f"loaded {n:,} assets with rights, valuations, appraisals, pledges and leases in {seconds:.1f} s")


FLOOR_SQL = """
SELECT a.id, a.code, a.name, a.status, a.area_m2, a.attributes, t.code, t.name, d.code, d.name,
       ST_XMin(a.geometry), ST_YMin(a.geometry), ST_XMax(a.geometry), ST_YMax(a.geometry),
       (SELECT coalesce(json_agg(json_build_object(
                   'id', r.id, 'kind', r.kind, 'share_numerator', r.share_numerator,
                   'share_denominator', r.share_denominator, 'valid_from', lower(r.period),
                   'valid_to', upper(r.period), 'certificate_number', r.certificate_number, 'status', r.status,
                   'person', pe.name, 'national_id_masked', pe.national_id_masked, 'organization', o.name,
                   'uscc', o.uscc) ORDER BY r.kind, r.id), '[]')
        FROM resources_right r JOIN directory_party p ON p.id = r.holder_id
        LEFT JOIN directory_person pe ON pe.id = p.person_id
        LEFT JOIN directory_organization o ON o.id = p.organization_id
        WHERE r.asset_id = a.id AND r.status = 'active') AS rights,
       (SELECT coalesce(json_agg(json_build_object(
                   'kind', x.kind, 'right', x.right_id, 'rank', x.rank, 'secured_amount', x.secured_amount,
                   'registered_at', x.created_at, 'valid_from', lower(x.period), 'valid_to', upper(x.period),
                   'reason', x.reason, 'holder_organization_id', o.id, 'person', pe.name,
                   'national_id_masked', pe.national_id_masked, 'organization', o.name, 'uscc', o.uscc,
                   'pledge_number', fp.number, 'bank_reference', fp.bank_reference)
                   ORDER BY x.kind, x.rank, x.created_at, x.id), '[]')
        FROM resources_restriction x LEFT JOIN directory_party p ON p.id = x.holder_id
        LEFT JOIN directory_person pe ON pe.id = p.person_id
        LEFT JOIN directory_organization o ON o.id = p.organization_id
        LEFT JOIN finance_pledge fp ON fp.restriction_id = x.id
        WHERE x.asset_id = a.id AND x.status = 'active') AS encumbrances,
       (SELECT coalesce(json_agg(v ORDER BY v.year DESC, v.accepted_at DESC, v.run_id DESC), '[]')
        FROM (SELECT ar.run_id, run.year, run.accepted_at, run.price_basis, ps.name, ps.version, ps.standard,
                     sum(ar.value) AS total
              FROM valuation_assetresult ar JOIN valuation_accountingrun run ON run.id = ar.run_id
              JOIN valuation_parameterset ps ON ps.id = run.parameter_set_id
              WHERE ar.asset_id = a.id AND run.accepted_at IS NOT NULL
              GROUP BY ar.run_id, run.year, run.accepted_at, run.price_basis, ps.name, ps.version,
                       ps.standard) v) AS valuations,
       (SELECT coalesce(json_agg(json_build_object(
                   'number', ap.number, 'right', ap.right_id, 'product_code', lp.code, 'product_name', lp.name,
                   'appraised_value', ap.appraised_value, 'haircut', ap.haircut,
                   'collateral_value', ap.collateral_value, 'ltv', ap.ltv, 'max_loan', ap.max_loan,
                   'method', ap.method, 'appraiser', ao.name, 'appraiser_licence_no', ap.appraiser_licence_no,
                   'appraised_on', ap.appraised_on, 'valid_until', ap.valid_until)
                   ORDER BY ap.appraised_on DESC, ap.id DESC), '[]')
        FROM finance_collateralappraisal ap JOIN finance_loanproduct lp ON lp.id = ap.product_id
        JOIN directory_organization ao ON ao.id = ap.appraiser_org_id
        WHERE ap.asset_id = a.id AND lp.bank_id = %(bank)s) AS appraisals
FROM resources_asset a
JOIN resources_resourcetype t ON t.id = a.resource_type_id
JOIN directory_administrativedivision d ON d.id = a.division_id
WHERE (a.code = %(key)s OR a.id = %(id)s)
  AND a.status IN ('registered', 'collected', 'listed', 'leased', 'pledged')
ORDER BY a.code
"""


def check_same_rows(api_result, floor_row):
    """The API answer and the floor describe the same rights, encumbrances, valuations, appraisals."""
    rights, encumbrances, valuations, appraisals = floor_row[14:18]
    assert api_result["id"] == floor_row[0]
    assert [r["id"] for r in api_result["rights"]] == [r["id"] for r in rights]
    assert [(e["kind"], e["rank"]) for e in api_result["encumbrances"]] == [
        (e["kind"], e["rank"]) for e in encumbrances
    ]
    assert [float(v["total"]) for v in api_result["valuations"]] == [float(v["total"]) for v in valuations]
    assert [a["number"] for a in api_result["appraisals"]] == [a["number"] for a in appraisals]


def bench_lookups(n, samples, w):
    import psycopg
    from django.conf import settings
    from django.test import Client

    from directory.services import issue_api_client

    _token, raw = issue_api_client(
        organization=w["bank"], name=f"bench {time.time_ns()}", issued_by=w["officer"]
    )
    client = Client(HTTP_AUTHORIZATION=f"Token {raw}")
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rng = random.Random(11)
    keys = [rng.randint(1, n) for _ in range(samples)]  # ids from RESTART IDENTITY: 1 … n
    floor_db = psycopg.connect(f"host=127.0.0.1 port={PORT} user=tmcs password=tmcs dbname={DATABASE}")
    floor_db.autocommit = True

    def floor(key):
        return floor_db.execute(FLOOR_SQL, {"key": str(key), "id": key, "bank": w["bank"].pk}).fetchall()

    # Warm both paths, and check that they return the same rows.
    for key in keys[:20]:
        response = client.get(URL, {"asset": key})
        assert response.status_code == 200, response.content[:300]
        [result] = response.json()["results"]
        [row] = floor(key)
        check_same_rows(result, row)

    ours, raw_times = [], []
    for key in keys:
        started = time.perf_counter()
        response = client.get(URL, {"asset": key})
        response.json()
        ours.append(time.perf_counter() - started)
        assert response.status_code == 200
    for key in keys:
        started = time.perf_counter()
        floor(key)
        raw_times.append(time.perf_counter() - started)
    floor_db.close()

    print(f"collateral lookup by asset id over {n:,} assets, {samples:,} lookups each")
    for label, times in (("TMCS API ", ours), ("raw floor", raw_times)):
        print(
            f"  {label}  {1 / statistics.mean(times):8.1f} lookups/s   p50 {percentile(times, 50) * 1e3:7.3f} ms"
            f"   p99 {percentile(times, 99) * 1e3:7.3f} ms"
        )
    ratio = statistics.mean(ours) / statistics.mean(raw_times)
    for p in (50, 99):
        print(f"  p{p} ratio {percentile(ours, p) / percentile(raw_times, p):6.1f}x", end="")
    print(f"   throughput ratio {ratio:6.1f}x")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="synthetic assets loaded first")
    parser.add_argument("--samples", type=int, default=2_000, help="timed lookups of each kind")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo_region", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    w = world()
    load(args.n, w)
    bench_lookups(args.n, args.samples, w)


if __name__ == "__main__":
    main()
