"""dashboard_data: every block against records built in the test (exact Decimals), for the city
(its counties compared) and a county (its townships), the year parameter, the map's shapes,
points and cap, and a query count that does not grow with the records."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects import selectors_dashboard
from projects.selectors_dashboard import dashboard_data, jsonable, parse_query
from projects.tests.fixtures_dashboard import YEAR, auditor, region, village_clerk  # noqa: F401
from resources.models import SQ_M_PER_MU, Asset, AssetStatus
from tmcs.errors import DomainError, PermissionDeniedError

D = Decimal
CENT = D("0.01")


def mu(*assets):
    return (sum((a.area_m2 for a in assets), D(0)) / SQ_M_PER_MU).quantize(CENT)


def area(*assets):
    return sum((a.area_m2 for a in assets), D(0))


def by_key(rows, key):
    return {row[key]: row for row in rows}


# --- GEP ---------------------------------------------------------------------------------------


def test_city_gep_by_year_takes_the_city_run_or_sums_its_counties(region, city_admin):  # noqa: F811
    gep = dashboard_data(city_admin, region.city, YEAR)["gep"]
    years = by_key(gep["years"], "year")
    assert list(years) == [2023, 2024, 2025]
    # 2023: the city's own run
    assert (years[2023]["material"], years[2023]["regulating"], years[2023]["cultural"]) == (
        D("1000.00"),
        D("2000.00"),
        D("3000.00"),
    )
    assert years[2023]["total"] == D("6000.00")
    assert years[2023]["source"] == "run" and years[2023]["run"] == region.runs["r7"].pk
    # 2024: no run covers the city; 莲都's run is summed up (100.004 → 100.00)
    assert years[2024]["source"] == "children" and years[2024]["run"] is None
    assert (years[2024]["material"], years[2024]["total"]) == (D("100.00"), D("350.00"))
    # 2025: 莲都's latest accepted current-price run of the whole county (r3, not r2, r4, r5, r5b)
    # plus 青田's; 150 + 80.005 regulating rounds half-up to 230.01
    assert (years[2025]["material"], years[2025]["regulating"], years[2025]["cultural"]) == (
        D("130.00"),
        D("250.01"),
        D("100.00"),
    )
    assert years[2025]["total"] == D("480.01")
    assert (gep["latest_year"], gep["latest_total"]) == (2025, D("480.01"))
    assert gep["children_year"] == 2025
    children = gep["children"]
    assert [c["name"] for c in children[:2]] == ["莲都区", "青田县"]
    assert (children[0]["total"], children[0]["run"], children[0]["valued"]) == (
        D("420.01"),
        region.runs["r3"].pk,
        True,
    )
    assert (children[1]["total"], children[1]["run"]) == (D("60.00"), region.runs["r6"].pk)
    assert len(children) == 9 and not any(c["valued"] for c in children[2:])  # the seven others
    assert all(c["total"] == 0 for c in children[2:])


def test_county_gep_uses_the_city_run_where_it_covers_the_county(region, county_staff):  # noqa: F811
    gep = dashboard_data(county_staff, region.county, YEAR)["gep"]
    years = by_key(gep["years"], "year")
    assert years[2023]["total"] == D("2400.00") and years[2023]["run"] == region.runs["r7"].pk
    assert years[2023]["run_division"] == "丽水市"
    assert years[2024]["total"] == D("350.00") and years[2024]["source"] == "run"
    assert years[2025]["total"] == D("420.01") and years[2025]["run"] == region.runs["r3"].pk
    assert [(c["name"], c["total"]) for c in gep["children"]] == [("示范镇（演示）", D("420.01"))]


def test_year_limits_the_history_and_the_children(region, county_staff):  # noqa: F811
    gep = dashboard_data(county_staff, region.county, 2024)["gep"]
    assert [y["year"] for y in gep["years"]] == [2023, 2024]
    assert gep["children_year"] == 2024
    assert gep["children"][0]["total"] == D("350.00")
    gep = dashboard_data(county_staff, region.county, 2022)["gep"]
    assert gep["years"] == [] and gep["children"] == [] and gep["latest_total"] is None


# --- resources ---------------------------------------------------------------------------------


def test_resources_by_status_and_family_with_postgis_areas(region, city_admin):  # noqa: F811
    a = region.assets
    resources = dashboard_data(city_admin, region.city, YEAR)["resources"]
    status = by_key(resources["by_status"], "key")
    assert list(status) == [s.value for s in AssetStatus]  # every status listed, in order
    assert status["registered"]["count"] == 3
    assert status["registered"]["area_m2"] == area(a["registered"], a["farmland"], a["other"])
    assert status["registered"]["area_mu"] == mu(a["registered"], a["farmland"], a["other"])
    assert (status["collected"]["count"], status["pledged"]["count"], status["draft"]["count"]) == (1, 1, 1)
    assert status["retired"]["count"] == 1 and status["retired"]["area_m2"] == a["retired"].area_m2
    assert status["listed"] == {"key": "listed", "label": "挂牌中", "count": 0, "area_m2": 0, "area_mu": 0}
    live = [a[k] for k in ("registered", "collected", "pledged", "farmland", "draft", "other")]
    assert resources["total"]["count"] == 6  # retired ones are no longer resources of the place
    assert resources["total"]["area_m2"] == area(*live)
    family = by_key(resources["by_family"], "key")
    assert (family["forest"]["count"], family["farmland"]["count"]) == (5, 1)
    assert family["farmland"]["area_mu"] == mu(a["farmland"])
    assert all(isinstance(v["area_m2"], Decimal) for v in resources["by_status"])


def test_map_draws_shapes_coloured_by_status(region, county_staff):  # noqa: F811
    shown = dashboard_data(county_staff, region.county, YEAR)["resources"]["map"]
    assert shown["mode"] == "shapes" and shown["total"] == 5 and shown["shown"] == 5
    assert not shown["truncated"] and shown["note"] == ""
    codes = [f["properties"]["code"] for f in shown["features"]]
    assert codes == sorted(codes) and region.assets["retired"].code not in codes
    feature = next(f for f in shown["features"] if f["properties"]["id"] == region.assets["pledged"].pk)
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feature["properties"]["status"] == "pledged" and feature["properties"]["status_label"] == "已质押"
    assert feature["properties"]["url"] == region.assets["pledged"].get_absolute_url()


def test_map_switches_to_points_then_caps_and_says_so(region, city_admin, monkeypatch):  # noqa: F811
    monkeypatch.setattr(selectors_dashboard, "MAP_POLYGON_LIMIT", 3)
    shown = dashboard_data(city_admin, region.city, YEAR)["resources"]["map"]
    assert shown["mode"] == "points" and shown["shown"] == 6 and not shown["truncated"]
    assert {f["geometry"]["type"] for f in shown["features"]} == {"Point"}
    assert "以点表示" in shown["note"]
    monkeypatch.setattr(selectors_dashboard, "MAP_FEATURE_CAP", 4)
    shown = dashboard_data(city_admin, region.city, YEAR)["resources"]["map"]
    assert (shown["shown"], shown["total"], shown["truncated"]) == (4, 6, True)
    assert "前 4 个（共 6 个）" in shown["note"]


# --- trading -----------------------------------------------------------------------------------


def test_trading_per_month_of_the_year(region, city_admin, county_staff):  # noqa: F811
    trading = dashboard_data(city_admin, region.city, YEAR)["trading"]
    months = by_key(trading["months"], "month")
    assert list(months) == list(range(1, 13))
    assert (months[1]["collection_count"], months[1]["collection_amount"]) == (1, D("1000.00"))  # 00:10 local
    assert (months[3]["collection_count"], months[3]["collection_amount"]) == (2, D("20000.75"))
    assert (months[3]["trade_count"], months[3]["trade_amount"]) == (1, D("150000.00"))
    assert (months[6]["collection_count"], months[6]["collection_amount"]) == (1, D("5000.00"))
    assert (months[7]["trade_count"], months[7]["trade_amount"]) == (2, D("89000.88"))  # terminated later
    assert months[12]["collection_count"] == 0 and months[12]["collection_amount"] == 0
    assert trading["totals"] == {
        "collection_count": 5,
        "collection_amount": D("29000.75"),
        "trade_count": 3,
        "trade_amount": D("239000.88"),
    }
    assert trading["open_listings"] == {"count": 2, "reserve_total": D("110000.00")}

    county = dashboard_data(county_staff, region.county, YEAR)["trading"]
    assert county["totals"]["collection_amount"] == D("24000.75")
    assert county["totals"]["trade_amount"] == D("151000.00")
    assert county["open_listings"] == {"count": 1, "reserve_total": D("50000.00")}
    earlier = dashboard_data(county_staff, region.county, 2024)["trading"]
    assert earlier["totals"]["collection_count"] == 1 and earlier["months"][11]["collection_amount"] == D(
        "4444.00"
    )


# --- loans -------------------------------------------------------------------------------------


def test_loans_by_bucket_with_the_non_performing_ratio(region, city_admin, county_staff):  # noqa: F811
    loans = dashboard_data(city_admin, region.city, YEAR)["loans"]
    assert loans["as_of"] == timezone.localdate()
    assert loans["count"] == 4  # the paid-off loan is not in the book
    assert loans["outstanding_principal"] == D("210000.00")
    buckets = by_key(loans["buckets"], "bucket")
    assert [b["bucket"] for b in loans["buckets"]] == ["current", "1_30", "31_60", "61_90", "90_plus"]
    assert (buckets["current"]["count"], buckets["current"]["outstanding"]) == (1, D("110000.00"))
    assert (buckets["1_30"]["count"], buckets["1_30"]["overdue_principal"]) == (1, D("10000.00"))
    assert (buckets["31_60"]["outstanding"], buckets["31_60"]["overdue_principal"]) == (
        D("60000.00"),
        D("20000.00"),
    )
    assert buckets["61_90"]["count"] == 0
    assert (buckets["90_plus"]["outstanding"], buckets["90_plus"]["overdue_principal"]) == (
        D("30000.00"),
        D("15000.00"),
    )
    assert loans["overdue_loans"] == 3
    # 次级 from 91 days (the 120-day loan) + the defaulted loan: 40,000 / 210,000
    assert loans["non_performing_principal"] == D("40000.00")
    assert loans["non_performing_ratio"] == D("0.1905")

    county = dashboard_data(county_staff, region.county, YEAR)["loans"]
    assert county["outstanding_principal"] == D("180000.00")
    assert (county["non_performing_principal"], county["non_performing_ratio"]) == (
        D("10000.00"),
        D("0.0556"),
    )


def test_loan_figures_agree_with_finance_position(region, city_admin):  # noqa: F811
    from finance.services.loans import position

    loans = dashboard_data(city_admin, region.city, YEAR)["loans"]
    for key in ("current", "overdue_45", "overdue_120"):
        p = position(region.loans[key])
        bucket = next(b for b in loans["buckets"] if b["bucket"] == p.bucket)
        assert bucket["count"] >= 1
    total = sum(
        (
            position(region.loans[k]).outstanding_principal
            for k in ("current", "overdue_45", "overdue_120", "defaulted")
        ),
        D(0),
    )
    assert total == loans["outstanding_principal"]


# --- projects, GEP balance, red lines ----------------------------------------------------------


def test_key_projects_by_status_and_category(region, city_admin, county_staff):  # noqa: F811
    projects = dashboard_data(city_admin, region.city, YEAR)["projects"]
    status = {s["status"]: s["count"] for s in projects["by_status"]}
    assert status == {"draft": 0, "submitted": 1, "admitted": 3, "rejected": 0, "exited": 1, "withdrawn": 0}
    categories = {c["category"]: (c["count"], c["admitted"]) for c in projects["by_category"]}
    assert categories == {"eco_tourism": (2, 1), "homestay_cluster": (1, 1), "carbon": (2, 1)}
    assert projects["admitted_totals"] == {
        "count": 3,
        "total_investment": D("6500000.50"),
        "social_capital": D("3500000.25"),
    }
    assert [p["admitted_on"] for p in projects["admitted"]] == [
        datetime.date(2025, 8, 1),
        datetime.date(2025, 6, 1),
        datetime.date(2025, 5, 1),
    ]
    assert projects["admitted"][1]["division"] == "测试村（青田）"
    county = dashboard_data(county_staff, region.county, YEAR)["projects"]
    assert county["admitted_totals"]["total_investment"] == D("4500000.50")


def test_gep_balance_of_the_balancing_divisions(region, city_admin, county_staff):  # noqa: F811
    city = dashboard_data(city_admin, region.city, YEAR)["gep_balance"]
    assert city["main"] is None  # no rule for the city itself
    assert [(b["name"], b["balance"], b["warning"], b["status"]) for b in city["below"]] == [
        ("莲都区", D("30000.00"), D("50000.00"), "warning"),
        ("青田县", D("-500.00"), D("0.00"), "negative"),
    ]
    county = dashboard_data(county_staff, region.county, YEAR)["gep_balance"]
    assert county["main"]["name"] == "莲都区" and county["main"]["status"] == "warning"
    assert county["below"] == []
    township = dashboard_data(county_staff, region.township, YEAR)["gep_balance"]
    assert township["main"]["code"] == region.county.code  # balanced at the county


def test_red_lines_latest_reading_per_line(region, city_admin, county_staff):  # noqa: F811
    county = dashboard_data(county_staff, region.county, YEAR)["red_lines"]
    assert {s["status"]: s["count"] for s in county["by_status"]} == {
        "ok": 0,
        "warning": 1,
        "breach": 1,
        "no_data": 0,
    }
    assert [(r["key"], r["value"], r["status"]) for r in county["readings"]] == [
        ("liquidity", D("0.900000"), "breach"),  # the worst first
        ("debt_ratio", D("0.680000"), "warning"),  # the reading of 1 November, not of October
    ]
    city = dashboard_data(city_admin, region.city, YEAR)["red_lines"]
    assert len(city["readings"]) == 3
    assert dashboard_data(county_staff, region.township, YEAR)["red_lines"]["readings"] == []


# --- children compared, scope, input, JSON, query count ----------------------------------------


def test_children_compared(region, city_admin, county_staff):  # noqa: F811
    rows = by_key(dashboard_data(city_admin, region.city, YEAR)["children"], "code")
    lianDu, qingtian = rows[region.county.code], rows[region.other_county.code]
    assert len(rows) == 9
    assert (lianDu["gep_total"], lianDu["assets"], lianDu["collection_amount"]) == (
        D("420.01"),
        5,
        D("24000.75"),
    )
    assert (lianDu["trade_amount"], lianDu["open_listings"], lianDu["loans"]) == (D("151000.00"), 1, 3)
    assert (lianDu["outstanding_principal"], lianDu["non_performing_ratio"]) == (D("180000.00"), D("0.0556"))
    assert (lianDu["admitted_projects"], lianDu["admitted_investment"]) == (2, D("4500000.50"))
    assert (qingtian["gep_total"], qingtian["assets"], qingtian["non_performing_ratio"]) == (
        D("60.00"),
        1,
        D("1"),
    )
    assert rows["331122000000"]["gep_total"] is None and rows["331122000000"]["loans"] == 0
    townships = dashboard_data(county_staff, region.county, YEAR)["children"]
    assert [(t["name"], t["assets"], t["admitted_projects"]) for t in townships] == [("示范镇（演示）", 5, 2)]


def test_scope_capability_and_input(region, county_staff, auditor, bank_officer, village_clerk):  # noqa: F811
    other = region.other_staff
    assert parse_query(county_staff) == (region.county, timezone.localdate().year)
    assert parse_query(auditor, "", "2024")[0] == region.city
    with pytest.raises(Http404):
        parse_query(county_staff, region.other_county.code)
    with pytest.raises(Http404):
        parse_query(county_staff, region.city.code)
    with pytest.raises(Http404):
        dashboard_data(other, region.county, YEAR)
    with pytest.raises(Http404):
        parse_query(county_staff, "339999000000")  # well-formed, unknown
    for user in (bank_officer, village_clerk):
        with pytest.raises(PermissionDeniedError):
            parse_query(user)
        with pytest.raises(PermissionDeniedError):
            dashboard_data(user, region.county)
    with pytest.raises(DomainError) as caught:
        parse_query(county_staff, "33110", "20x5")
    assert set(caught.value.fields) == {"division", "year"}
    next_year = timezone.localdate().year + 1
    for bad in ("1999", str(next_year), "25", "２０２５"):
        with pytest.raises(DomainError) as caught:
            parse_query(county_staff, None, bad)
        assert list(caught.value.fields) == ["year"]
    assert dashboard_data(auditor, region.county, YEAR)["division"]["code"] == region.county.code


def test_jsonable_keeps_money_as_strings(region, city_admin):  # noqa: F811
    data = jsonable(dashboard_data(city_admin, region.city, YEAR))
    assert data["loans"]["outstanding_principal"] == "210000.00"
    assert data["loans"]["non_performing_ratio"] == "0.1905"
    assert data["trading"]["totals"]["collection_amount"] == "29000.75"
    assert data["gep"]["years"][-1]["total"] == "480.01"
    assert data["as_of"] == timezone.localdate().isoformat()


def _queries(user, division):
    with CaptureQueriesContext(connection) as captured:
        dashboard_data(user, division, YEAR)
    return len(captured.captured_queries)


def test_query_count_does_not_grow_with_the_records(
    region,  # noqa: F811
    city_admin,
    make_asset,
    make_application,
    make_loan,
    make_project,
    django_assert_max_num_queries,
):
    user = type(city_admin).objects.get(pk=city_admin.pk)  # memberships read once, like a request
    dashboard_data(user, region.city, YEAR)
    before = _queries(user, region.city)
    today = timezone.localdate()
    for n in range(6):
        asset = make_asset(
            geometry=f"SRID=4490;POLYGON((120.{n}1 28.1,120.{n}1 28.101,120.{n}11 28.101,120.{n}11 28.1,120.{n}1 28.1))"
        )
        Asset.objects.filter(pk=asset.pk).update(status=AssetStatus.REGISTERED)
        loan = make_loan(
            make_application(division=region.other_village),
            disbursed_on=today - datetime.timedelta(days=60),
            installments=[
                (today - datetime.timedelta(days=30 - n), D("1000"), D("1")),
                (today + datetime.timedelta(days=30), D("299000"), D("1")),
            ],
        )
        assert loan.pk
        make_project(status="admitted", division=region.other_village, admitted_on=datetime.date(2025, 9, 1))
    after = _queries(user, region.city)
    assert after == before
    # one grouped query per block: divisions, GEP runs and rollups, assets (+ map), contracts,
    # listings, loans, projects (+ list), the GEP rule, balances and red lines
    with django_assert_max_num_queries(16):
        data = dashboard_data(user, region.city, YEAR)
    assert data["resources"]["total"]["count"] == 12 and data["loans"]["count"] == 10
