"""The valuation API on the real database: runs started through the API (computed eagerly), their
results and rollups, Idempotency-Key, bad input, who may see and do what, query counts."""

import datetime
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal

import pytest
from rest_framework.test import APIClient

from directory.models import AdministrativeDivision, Organization, OrganizationKind, User
from directory.services import ensure_party, issue_api_client
from resources import services as registry
from resources.demo import load_demo_assets
from resources.models import Asset, Right
from resources.tests.conftest import square
from valuation import services
from valuation.models import AccountingRun, AssetResult, RunStatus

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/valuation/runs/"
WATER = {"precipitation": ("1650", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")}
CARBON = {"npp_dry_matter": ("900", "g_dm_per_m2")}
LIANDU = "331102000000"


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def parameter_set(city_admin):
    return services.load_default_parameter_set(actor=city_admin)


@pytest.fixture
def reviewer(make_member, county_cooperative):
    return make_member("coop_staff", county_cooperative)


@pytest.fixture
def outsider(make_member, demo_region):
    """Cooperative staff of another county (云和)."""
    elsewhere = Organization.objects.create(
        name="云和县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331125000000"),
    )
    return make_member("coop_staff", elsewhere)


@pytest.fixture
def forests(make_asset):
    return [make_asset(geometry=square(dx=0.002 * i), status="under_review") for i in range(3)]


def client_for(user=None, **headers):
    api = APIClient(**headers)
    if user is not None:
        api.force_authenticate(User.objects.get(pk=user.pk))  # fresh memberships and reach
    return api


def enter(actor, asset, values, indicator="water_conservation", year=2025):
    for key, (value, unit) in values.items():
        services.record_input(
            actor=actor,
            asset=asset,
            year=year,
            indicator_key=indicator,
            input_key=key,
            value=value,
            unit=unit,
            source="丽水市水文年鉴",
        )


def body(parameter_set, /, **overrides):
    return {"division": LIANDU, "year": 2025, "parameter_set": parameter_set.pk, **overrides}


@pytest.fixture
def start(celery_eager, django_capture_on_commit_callbacks):
    """POST a run and let its chunks and finalization run in this process, as a worker would."""

    def post(api, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(RUNS, data, format="json", **extra)
        return response

    return post


@pytest.fixture
def finished_run(start, county_staff, forests, parameter_set):
    for asset in forests:
        enter(county_staff, asset, WATER)
        enter(county_staff, asset, CARBON, indicator="carbon_sequestration")
    response = start(client_for(county_staff), body(parameter_set))
    assert response.status_code == 201, response.json()
    run = AccountingRun.objects.get(pk=response.json()["id"])
    assert run.status == RunStatus.SUCCEEDED, run.warnings
    return run


def yuan(value):
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def assert_error(response, status, code):
    data = response.json()
    assert response.status_code == status, data
    assert set(data) == {"code", "detail", "fields"}, data
    assert data["code"] == code, data
    assert data["detail"]
    return data


def no_floats(data):
    if isinstance(data, dict):
        return all(no_floats(v) for v in data.values())
    if isinstance(data, list):
        return all(no_floats(v) for v in data)
    return not isinstance(data, float)


# --- starting and reading a run -------------------------------------------------------------------


def test_start_a_run_and_read_its_results_and_rollups(start, county_staff, forests, parameter_set):
    for asset in forests:
        enter(county_staff, asset, WATER)
        enter(county_staff, asset, CARBON, indicator="carbon_sequestration")
    api = client_for(county_staff)
    response = start(api, body(parameter_set))
    assert response.status_code == 201, response.json()
    created = response.json()
    assert response["Location"].endswith(f"{RUNS}{created['id']}/")
    assert created["status"] == "queued" and created["progress"] == 0.0  # the response precedes the work

    run = api.get(f"{RUNS}{created['id']}/").json()
    assert run["status"] == "succeeded" and run["progress"] == 1.0
    assert run["done_chunks"] == run["chunk_count"] == 1 and run["asset_count"] == 3
    assert run["division_code"] == LIANDU and run["year"] == 2025 and run["price_basis"] == "current"
    assert run["parameter_set"] == {"id": parameter_set.pk, "name": parameter_set.name, "version": 1}
    assert len(run["inputs_checksum"]) == 64
    assert any("价格年份" in w for w in run["warnings"])
    exact = sum(r.value for r in AssetResult.objects.filter(run_id=run["id"]))
    assert run["total_value"] == yuan(exact) and run["total_value"].count(".") == 1
    assert len(run["total_value"].split(".")[1]) == 2

    results = api.get(f"{RUNS}{run['id']}/results/").json()
    assert results["count"] == 6  # 3 parcels × (water conservation, carbon sequestration)
    assert no_floats(results)
    row = next(
        r
        for r in results["results"]
        if r["asset_code"] == forests[0].code and r["indicator_key"] == "water_conservation"
    )
    stored = AssetResult.objects.get(run_id=run["id"], asset=forests[0], indicator_key="water_conservation")
    assert row["category"] == "regulating" and row["unit"] == "m3"
    assert Decimal(row["quantity"]) == Decimal("550") * forests[0].area_m2 / 1000
    assert Decimal(row["unit_price"]) == Decimal("7.06")
    assert Decimal(row["value"]) == stored.value and isinstance(row["value"], str)
    assert sum(Decimal(r["value"]) for r in results["results"]) == exact

    by_asset = api.get(f"{RUNS}{run['id']}/results/", {"asset": forests[1].code}).json()
    assert {r["asset_code"] for r in by_asset["results"]} == {forests[1].code} and by_asset["count"] == 2
    carbon = api.get(f"{RUNS}{run['id']}/results/", {"indicator": "carbon_sequestration"}).json()
    assert carbon["count"] == 3 and {r["unit"] for r in carbon["results"]} == {"t_co2"}
    assert api.get(f"{RUNS}{run['id']}/results/", {"category": "material"}).json()["count"] == 0
    assert api.get(f"{RUNS}{run['id']}/results/", {"division": "331102199201"}).json()["count"] == 6
    assert api.get(f"{RUNS}{run['id']}/results/", {"page_size": 4}).json()["next"]
    bad = assert_error(api.get(f"{RUNS}{run['id']}/results/", {"indicator": "galaxy"}), 400, "invalid")
    assert "indicator" in bad["fields"]

    rollups = api.get(f"{RUNS}{run['id']}/rollups/").json()
    assert rollups["count"] == 6  # village, township, county × 2 indicators
    assert no_floats(rollups)
    county_rows = [r for r in rollups["results"] if r["division_code"] == LIANDU]
    assert sum(Decimal(r["value"]) for r in county_rows) == exact
    assert {r["division_level"] for r in county_rows} == {"county"}
    villages = api.get(f"{RUNS}{run['id']}/rollups/", {"level": "village"}).json()["results"]
    assert {(r["division_code"], r["division_name"]) for r in villages} == {
        ("331102199201", AdministrativeDivision.objects.get(code="331102199201").name)
    }
    below = api.get(
        f"{RUNS}{run['id']}/rollups/", {"division": "331102199", "indicator": "water_conservation"}
    )
    assert [r["division_code"] for r in below.json()["results"]] == ["331102199000", "331102199201"]
    township = api.get(f"{RUNS}{run['id']}/rollups/", {"division": "331102199000", "category": "regulating"})
    assert township.json()["count"] == 4  # a full 12-digit code stands for its subtree
    assert_error(api.get(f"{RUNS}{run['id']}/rollups/", {"division": "33a"}), 400, "invalid")


def test_run_list_filters(start, county_staff, reviewer, finished_run, parameter_set):
    api = client_for(county_staff)
    township = start(api, body(parameter_set, division="331102199000", year=2024)).json()
    services.accept_run(actor=reviewer, run=finished_run)

    def ids(**params):
        return [r["id"] for r in api.get(RUNS, params).json()["results"]]

    assert ids() == [township["id"], finished_run.pk]  # newest first
    assert ids(year=2024) == [township["id"]]
    assert ids(division="331102199") == [township["id"]]
    assert ids(division=LIANDU) == [township["id"], finished_run.pk]
    assert ids(division="331102000") == [finished_run.pk]  # a prefix is a prefix
    assert ids(accepted="true") == [finished_run.pk]
    assert ids(accepted="false") == [township["id"]]
    assert ids(status="succeeded", price_basis="current") == [township["id"], finished_run.pk]
    assert ids(status="cancelled") == []
    assert "status" in assert_error(api.get(RUNS, {"status": "lost"}), 400, "invalid")["fields"]


def test_a_run_with_chosen_assets(start, county_staff, forests, parameter_set):
    for asset in forests:
        enter(county_staff, asset, WATER)
    response = start(client_for(county_staff), body(parameter_set, assets=[forests[2].code]))
    assert response.status_code == 201, response.json()
    run = AccountingRun.objects.get(pk=response.json()["id"])
    assert run.asset_count == 1 and list(run.assets.all()) == [forests[2]]
    assert set(AssetResult.objects.filter(run=run).values_list("asset_id", flat=True)) == {forests[2].pk}


# --- Idempotency-Key ------------------------------------------------------------------------------


def test_idempotency_key_replays_the_same_run_and_refuses_a_different_body(
    start, county_staff, forests, parameter_set
):
    enter(county_staff, forests[0], WATER)
    api = client_for(county_staff)
    key = str(uuid.uuid4())
    first = start(api, body(parameter_set), HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.json()
    again = start(api, body(parameter_set), HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "succeeded"  # the run as it is now
    # the same body written differently (key order, spacing) is the same request
    reordered = json.dumps({"year": 2025, "parameter_set": parameter_set.pk, "division": LIANDU}, indent=2)
    replay = api.post(RUNS, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    assert AccountingRun.objects.count() == 1

    conflict = api.post(RUNS, body(parameter_set, year=2024), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert_error(conflict, 409, "idempotency_key_reused")
    assert AccountingRun.objects.count() == 1
    # keys belong to their user: a colleague's identical key is another request
    other = start(
        client_for(User.objects.get(username="city_admin")), body(parameter_set), HTTP_IDEMPOTENCY_KEY=key
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    # without a key, every POST is a new run
    assert start(api, body(parameter_set)).json()["id"] not in (first.json()["id"], other.json()["id"])
    assert AccountingRun.objects.count() == 3


def test_a_refused_request_leaves_its_key_free_and_a_running_one_holds_it(
    start, county_staff, forests, parameter_set, monkeypatch
):
    api = client_for(county_staff)
    key = str(uuid.uuid4())
    refused = api.post(RUNS, body(parameter_set, year=1800), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert_error(refused, 400, "invalid")
    refused = api.post(
        RUNS,
        body(parameter_set, price_basis="comparable", base_year=2020),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert "base_year" in assert_error(refused, 400, "invalid")["fields"]  # refused by the service
    assert not AccountingRun.objects.exists()

    real_start = services.start_run
    during = {}

    def start_run(**kwargs):  # a client retries while the first request is still at work
        during["retry"] = api.post(RUNS, body(parameter_set), format="json", HTTP_IDEMPOTENCY_KEY=key)
        return real_start(**kwargs)

    monkeypatch.setattr(services, "start_run", start_run)
    corrected = start(api, body(parameter_set), HTTP_IDEMPOTENCY_KEY=key)
    assert corrected.status_code == 201
    assert_error(during["retry"], 409, "idempotency_in_progress")
    assert AccountingRun.objects.count() == 1

    bad_key = api.post(RUNS, body(parameter_set), format="json", HTTP_IDEMPOTENCY_KEY="键")
    assert "Idempotency-Key" in assert_error(bad_key, 400, "invalid")["fields"]


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"division": "999999999999"}, "division", "没有代码为“999999999999”的区划"),
        ({"division": None}, "division", ""),
        ({"year": 1989}, "year", "年份须在 1990 至"),
        ({"year": datetime.date.today().year + 1}, "year", "年份须在 1990 至"),
        ({"year": "二〇二五"}, "year", ""),
        ({"price_basis": "comparable"}, "base_year", "可比价核算须指定基准年"),
        ({"price_basis": "comparable", "base_year": 2020}, "base_year", "基准年价格"),  # the service's check
        ({"price_basis": "yesterday"}, "price_basis", ""),
        ({"parameter_set": 999999}, "parameter_set", ""),
        ({"assets": ["NO-SUCH-ASSET"]}, "assets", "NO-SUCH-ASSET"),
        ({"assets": []}, "assets", ""),
    ],
)
def test_bad_input_is_refused_with_field_errors(county_staff, parameter_set, overrides, field, message):
    response = client_for(county_staff).post(RUNS, body(parameter_set, **overrides), format="json")
    data = assert_error(response, 400, "invalid")
    assert field in data["fields"], data
    assert message in " ".join(map(str, data["fields"][field]))
    assert not AccountingRun.objects.exists()


def test_missing_fields_malformed_json_and_english(county_staff, parameter_set):
    api = client_for(county_staff)
    data = assert_error(api.post(RUNS, {}, format="json"), 400, "invalid")
    assert {"division", "year", "parameter_set"} <= set(data["fields"])
    malformed = api.post(RUNS, '{"division": "331102000000", "year": ', content_type="application/json")
    assert assert_error(malformed, 400, "parse_error")["fields"] == {}
    english = api.post(RUNS, body(parameter_set, year=1989), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert (
        assert_error(english, 400, "invalid")["detail"]
        == "The submitted data is invalid. Please check each field."
    )
    chinese = api.post(RUNS, body(parameter_set, year=1989), format="json")
    assert assert_error(chinese, 400, "invalid")["detail"] == "提交的数据有误，请检查各字段。"
    assert not AccountingRun.objects.exists()


# --- who may see and do what ----------------------------------------------------------------------


def test_anonymous_callers_are_refused(finished_run, parameter_set):
    api = client_for()
    assert_error(api.get(RUNS), 401, "not_authenticated")
    assert_error(api.get(f"{RUNS}{finished_run.pk}/results/"), 401, "not_authenticated")
    assert_error(api.post(RUNS, body(parameter_set), format="json"), 401, "not_authenticated")
    assert_error(api.get("/api/v1/valuation/parameter-sets/"), 401, "not_authenticated")
    asset = finished_run.asset_results.first().asset
    assert_error(api.get(f"/api/v1/valuation/assets/{asset.code}/valuation/"), 401, "not_authenticated")


def test_banks_cannot_start_runs_nor_read_them(bank_officer, finished_run, parameter_set):
    api = client_for(bank_officer)
    assert_error(api.post(RUNS, body(parameter_set), format="json"), 403, "permission_denied")
    assert api.get(RUNS).json()["results"] == []
    for url in ("", "results/", "rollups/"):
        assert_error(api.get(f"{RUNS}{finished_run.pk}/{url}"), 404, "not_found")
    assert_error(api.post(f"{RUNS}{finished_run.pk}/cancel/"), 404, "not_found")
    assert AccountingRun.objects.count() == 1


def test_another_county_sees_nothing_and_cannot_act(outsider, finished_run, parameter_set):
    api = client_for(outsider)
    assert api.get(RUNS).json()["count"] == 0
    for url in ("", "results/", "rollups/"):
        assert_error(api.get(f"{RUNS}{finished_run.pk}/{url}"), 404, "not_found")
    assert_error(api.post(f"{RUNS}{finished_run.pk}/accept/"), 404, "not_found")
    assert_error(api.post(f"{RUNS}{finished_run.pk}/cancel/"), 404, "not_found")
    # its own county is fine to start a run in; Liandu is not
    assert_error(api.post(RUNS, body(parameter_set), format="json"), 403, "permission_denied")
    own = api.post(RUNS, body(parameter_set, division="331125000000"), format="json")
    assert own.status_code == 201, own.json()
    assert_error(api.get(f"{RUNS}99999999/"), 404, "not_found")
    assert_error(api.get(f"{RUNS}abc/results/"), 404, "not_found")


def test_accept_needs_a_second_person_and_cancel_an_unfinished_run(
    county_staff, reviewer, finished_run, parameter_set, forests
):
    api = client_for(county_staff)
    own = assert_error(api.post(f"{RUNS}{finished_run.pk}/accept/"), 403, "permission_denied")
    assert "发起人以外" in own["detail"]
    accepted = client_for(reviewer).post(f"{RUNS}{finished_run.pk}/accept/")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["accepted"] is True and accepted.json()["accepted_by"] == reviewer.username
    again = client_for(reviewer).post(f"{RUNS}{finished_run.pk}/accept/", HTTP_ACCEPT_LANGUAGE="en")
    assert assert_error(again, 409, "conflict")["detail"] == "This accounting run has already been adopted."
    assert_error(api.post(f"{RUNS}{finished_run.pk}/cancel/"), 409, "invalid_transition")

    queued = api.post(RUNS, body(parameter_set), format="json")  # no worker here: it stays queued
    assert queued.json()["status"] == "queued"
    assert_error(client_for(reviewer).post(f"{RUNS}{queued.json()['id']}/accept/"), 409, "invalid_transition")
    cancelled = api.post(f"{RUNS}{queued.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    clerk_org = Organization.objects.get(kind=OrganizationKind.VILLAGE_COLLECTIVE)
    clerk = User.objects.create_user(username="clerk-x", password="x")
    clerk.memberships.create(organization=clerk_org, role="village_clerk")
    assert_error(client_for(clerk).post(RUNS, body(parameter_set), format="json"), 403, "permission_denied")


# --- an asset's latest accepted valuation ---------------------------------------------------------


def test_asset_valuation_is_visible_to_a_pledging_bank_only(
    start, county_staff, reviewer, bank_officer, parameter_set, demo_region
):
    load_demo_assets()
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    enter(county_staff, forest, WATER)
    enter(county_staff, forest, CARBON, indicator="carbon_sequestration")
    url = f"/api/v1/valuation/assets/{forest.code}/valuation/"
    staff_api = client_for(county_staff)
    missing = assert_error(staff_api.get(url), 404, "no_accepted_valuation")
    assert "尚无已采纳" in missing["detail"]

    run = start(staff_api, body(parameter_set)).json()
    assert_error(staff_api.get(url), 404, "no_accepted_valuation")  # finished, not yet adopted
    assert client_for(reviewer).post(f"{RUNS}{run['id']}/accept/").status_code == 200
    valuation = staff_api.get(url).json()
    results = AssetResult.objects.filter(run_id=run["id"], asset=forest)
    exact = sum(r.value for r in results)
    assert valuation["asset_code"] == forest.code and valuation["run_id"] == run["id"]
    assert valuation["year"] == 2025 and valuation["price_basis"] == "current"
    assert valuation["total"] == yuan(exact) and Decimal(valuation["total_exact"]) == exact
    assert valuation["parameter_set"]["id"] == parameter_set.pk
    assert [b["indicator_key"] for b in valuation["breakdown"]] == [
        r.indicator_key for r in results.order_by("-value")
    ]
    assert all(b["indicator_name"] and isinstance(b["value"], str) for b in valuation["breakdown"])
    assert no_floats(valuation)

    bank_api = client_for(bank_officer)
    assert_error(bank_api.get(url), 404, "not_found")  # no pledge yet: the asset is not theirs to see
    bank = bank_officer.active_memberships[0].organization
    _token, secret = issue_api_client(organization=bank, name="信贷系统", issued_by=bank_officer)
    machine = APIClient()  # the bank's own system, with its token
    machine.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert_error(machine.get(url), 404, "not_found")
    registry.add_pledge(
        actor=county_staff,
        right=Right.objects.get(asset=forest, kind="contract"),
        holder=ensure_party(bank),
        rank=1,
        secured_amount="300000.00",
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2029, 3, 1),
        source_document="林权质押合同（测试）",
    )
    assert client_for(bank_officer).get(url).json()["total"] == yuan(exact)
    assert machine.get(url).json()["breakdown"] == valuation["breakdown"]
    assert_error(machine.post(RUNS, body(parameter_set), format="json"), 403, "permission_denied")
    assert_error(machine.get(f"{RUNS}{run['id']}/results/"), 404, "not_found")
    other = Asset.objects.get(name="示范村东畈耕地（演示）")
    assert_error(
        client_for(bank_officer).get(f"/api/v1/valuation/assets/{other.code}/valuation/"), 404, "not_found"
    )
    assert_error(staff_api.get("/api/v1/valuation/assets/NO-SUCH/valuation/"), 404, "not_found")


# --- parameter sets -------------------------------------------------------------------------------


def test_parameter_sets_with_sourced_values(bank_officer, parameter_set):
    api = client_for(bank_officer)
    listed = api.get("/api/v1/valuation/parameter-sets/").json()
    assert [s["id"] for s in listed["results"]] == [parameter_set.pk]
    detail = api.get(f"/api/v1/valuation/parameter-sets/{parameter_set.pk}/").json()
    assert detail["name"] == parameter_set.name and detail["version"] == 1 and detail["status"] == "published"
    price = next(
        v
        for v in detail["values"]
        if (v["indicator"], v["param"]) == ("water_conservation", "reservoir_cost")
    )
    assert Decimal(price["value"]) == Decimal("7.06") and price["unit"] == "yuan_per_m3"
    assert price["source"] and {"year", "clause", "authority"} <= set(price)
    assert len(detail["values"]) == parameter_set.values.count()
    assert no_floats(detail)
    assert api.post("/api/v1/valuation/parameter-sets/", {}, format="json").status_code == 405


# --- query counts ---------------------------------------------------------------------------------


def test_queries_do_not_grow_with_rows(
    start, county_staff, make_asset, forests, parameter_set, city_admin, django_assert_max_num_queries
):
    api = client_for(county_staff)
    for asset in forests:
        enter(county_staff, asset, WATER)
    first = start(api, body(parameter_set)).json()
    urls = [
        RUNS,
        f"{RUNS}{first['id']}/",
        f"{RUNS}{first['id']}/results/",
        f"{RUNS}{first['id']}/rollups/",
        "/api/v1/valuation/parameter-sets/",
    ]
    counts = {}
    for url in urls:
        api.get(url)
        with django_assert_max_num_queries(4) as captured:
            assert api.get(url).status_code == 200
        counts[url] = len(captured.captured_queries)

    for i in range(3, 12):  # more parcels, more runs, more rollups, another parameter set
        asset = make_asset(geometry=square(dx=0.002 * i), status="under_review", name=f"林地{i}")
        enter(county_staff, asset, WATER)
        enter(county_staff, asset, CARBON, indicator="carbon_sequestration")
    for year in (2023, 2024, 2025):
        start(api, body(parameter_set, year=year))
    services.copy_parameter_set(actor=city_admin, source=parameter_set, price_year=2025)
    latest = AccountingRun.objects.order_by("-pk").first()
    assert latest.asset_count == 12
    for url in urls:
        url = url.replace(f"/{first['id']}/", f"/{latest.pk}/")
        with django_assert_max_num_queries(counts[url.replace(f"/{latest.pk}/", f"/{first['id']}/")]):
            assert api.get(url).status_code == 200
    assert api.get(f"{RUNS}{latest.pk}/results/").json()["count"] >= 12


# --- schema ---------------------------------------------------------------------------------------


def test_schema_documents_the_valuation_api(db):
    from openapi_spec_validator import validate

    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    validate(schema)
    paths = schema["paths"]
    for path in (
        "/api/v1/valuation/runs/",
        "/api/v1/valuation/runs/{id}/",
        "/api/v1/valuation/runs/{id}/cancel/",
        "/api/v1/valuation/runs/{id}/accept/",
        "/api/v1/valuation/runs/{id}/results/",
        "/api/v1/valuation/runs/{id}/rollups/",
        "/api/v1/valuation/assets/{code}/valuation/",
        "/api/v1/valuation/parameter-sets/",
        "/api/v1/valuation/parameter-sets/{id}/",
    ):
        assert path in paths, path
    create = paths["/api/v1/valuation/runs/"]["post"]
    assert {"in": "header", "name": "Idempotency-Key"}.items() <= create["parameters"][0].items()
    assert {"200", "201", "400", "403", "409"} <= set(create["responses"])
    filters = {p["name"] for p in paths["/api/v1/valuation/runs/{id}/results/"]["get"]["parameters"]}
    assert {"indicator", "category", "asset", "page", "page_size"} <= filters
    run = schema["components"]["schemas"]["Run"]["properties"]
    assert run["total_value"]["type"] == "string"
