"""Demand API: investors create/list/close their own; staff list those in reach with matches."""

from rest_framework.test import APIClient

from directory.models import User
from transactions.models import Demand, DemandStatus
from transactions.services import demands

from .test_demands_services import collected_asset  # noqa: F401  (fixture)


def api(username):
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


def test_investor_creates_lists_and_closes(
    investor, village, forest_type, django_capture_on_commit_callbacks
):
    client = api("investor")
    body = {
        "intended_use": "竹林碳汇开发",
        "division": village.code,
        "resource_type": "forest",
        "min_area_m2": "1000",
        "max_area_m2": "50000",
        "budget": "300000.00",
        "term_years": 20,
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/transactions/demands/", body)
    assert created.status_code == 201, created.json()
    demand = Demand.objects.get()
    assert created.json()["investor_name"] == demand.investor.name and demand.budget == 300000
    assert client.get("/api/v1/transactions/demands/").json()["count"] == 1
    closed = client.post(f"/api/v1/transactions/demands/{demand.pk}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == DemandStatus.CLOSED
    again = client.post(f"/api/v1/transactions/demands/{demand.pk}/close/")
    assert again.status_code == 409


def test_create_refusals(investor, village):
    client = api("investor")
    base = {"intended_use": "茶园", "division": village.code}
    for bad, field in (
        ({"term_years": 31}, "term_years"),
        ({"min_area_m2": "10", "max_area_m2": "5"}, "max_area_m2"),
        ({"budget": "0"}, "budget"),
        ({"intended_use": ""}, "intended_use"),
        ({"division": "999999999999"}, "division"),
    ):
        response = client.post("/api/v1/transactions/demands/", {**base, **bad})
        assert response.status_code == 400 and field in response.json()["fields"], (bad, response.json())
    staff = api("coop_staff").post("/api/v1/transactions/demands/", base)
    assert staff.status_code == 403
    assert not Demand.objects.exists()


def test_staff_list_and_matches(
    investor,
    second_investor,
    village,
    collected_asset,  # noqa: F811
    django_assert_max_num_queries,
):
    asset = collected_asset()
    for n in range(4):
        demands.match_demand(demands.post_demand(actor=investor, division=village, intended_use=f"项目{n}"))
    client = api("coop_staff")
    with django_assert_max_num_queries(8):
        listed = client.get("/api/v1/transactions/demands/").json()
    assert listed["count"] == 4
    pk = listed["results"][0]["id"]
    detail = client.get(f"/api/v1/transactions/demands/{pk}/").json()
    assert [m["asset_code"] for m in detail["matches"]] == [asset.code]
    assert detail["matches"][0]["reasons"]
    assert client.post(f"/api/v1/transactions/demands/{pk}/close/").status_code == 403
    other = APIClient()
    other.force_authenticate(second_investor)
    assert other.get("/api/v1/transactions/demands/").json()["count"] == 0
    assert other.get(f"/api/v1/transactions/demands/{pk}/").status_code == 404
