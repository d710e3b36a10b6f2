import json

import pytest
from rest_framework.test import APIClient

from directory.models import User
from resources import services
from resources.demo import load_demo_assets
from resources.models import Asset, Right

from .conftest import square


@pytest.fixture
def demo_assets(demo_region):
    return load_demo_assets()


def test_asset_list_map_and_export(client, county_staff, demo_assets):
    client.force_login(county_staff)
    html = client.get("/resources/").content.decode()
    assert "示范村后山杉木林（演示）" in html and 'id="asset-map"' in html
    data = client.get("/resources/map.geojson?status=registered").json()
    assert [f["properties"]["name"] for f in data["features"]] == ["示范村后山杉木林（演示）"]
    assert data["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")  # simplified for display
    export = client.get("/resources/?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_asset_detail_shows_area_rights_and_history(client, county_staff, demo_assets):
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    client.force_login(county_staff)
    html = client.get(f"/resources/assets/{forest.pk}/").content.decode()
    assert f"{forest.area_m2} m²" in html and "亩" in html
    assert "集体林权证（演示）" in html and "林地承包合同（演示）" in html
    assert "公示期满，自动登记" in html and "coop_staff" in html  # history with reason and actor
    assert "蓄积量（m³）" in html  # attribute titles from the type's schema


def test_create_asset_through_the_form_with_errors_in_place(client, county_staff, village, forest_type):
    client.force_login(county_staff)
    data = {
        "resource_type": forest_type.pk,
        "name": "新林地",
        "division": village.pk,
        "geometry": square(dx=0.02),
        "attributes": '{"dominant_species": "杉木"}',
    }
    response = client.post("/resources/assets/new/", data)
    assert response.status_code == 400 and "龄组" in response.content.decode()
    response = client.post("/resources/assets/new/", {**data, "attributes": "{not json"})
    assert response.status_code == 400 and "不是有效的 JSON" in response.content.decode()
    assert not Asset.objects.filter(name="新林地").exists()
    response = client.post(
        "/resources/assets/new/",
        {**data, "attributes": '{"dominant_species": "杉木", "age_class": "幼龄林"}'},
    )
    assert response.status_code == 302
    assert Asset.objects.get(name="新林地").status == "draft"


def test_transition_and_right_forms(client, county_staff, make_asset, household):
    asset = make_asset()
    client.force_login(county_staff)
    client.post(f"/resources/assets/{asset.pk}/transition/", {"to_status": "registered"})
    asset.refresh_from_db()
    assert asset.status == "draft"  # not allowed from draft
    client.post(f"/resources/assets/{asset.pk}/transition/", {"to_status": "under_review"})
    asset.refresh_from_db()
    assert asset.status == "under_review"
    client.post(
        f"/resources/assets/{asset.pk}/rights/",
        {
            "holder": household.pk,
            "kind": "contract",
            "share": "1/2",
            "start": "2026-01-01",
            "source_document": "承包合同",
        },
    )
    right = Right.objects.get(asset=asset)
    response = client.post(f"/resources/rights/{right.pk}/end/", {"reason": "自愿退出"}, follow=True)
    assert "权利已终止" in response.content.decode()


def test_api_assets_are_geojson_and_banks_see_only_pledged_assets(county_staff, bank_officer, demo_assets):
    api = APIClient()
    api.force_authenticate(county_staff)
    body = api.get("/api/v1/resources/assets/").json()
    assert body["results"]["type"] == "FeatureCollection" and len(body["results"]["features"]) == 3
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    rights = api.get(f"/api/v1/resources/assets/{forest.pk}/rights/").json()
    assert {r["kind"] for r in rights} == {"ownership", "contract"}

    bank_api = APIClient()
    bank_api.force_authenticate(bank_officer)
    assert bank_api.get("/api/v1/resources/assets/").json()["results"]["features"] == []
    contract = Right.objects.get(asset=forest, kind="contract")
    bank = bank_officer.active_memberships[0].organization
    import datetime

    from directory.services import ensure_party

    services.add_pledge(
        actor=county_staff,
        right=contract,
        holder=ensure_party(bank),
        rank=1,
        secured_amount="300000.00",
        start=datetime.date(2026, 3, 1),
        end=datetime.date(2029, 3, 1),
        source_document="林权质押合同（演示）",
    )
    bank_officer = User.objects.get(pk=bank_officer.pk)
    bank_api.force_authenticate(bank_officer)
    features = bank_api.get("/api/v1/resources/assets/").json()["results"]["features"]
    assert [f["properties"]["code"] for f in features] == [forest.code]
    pledges = bank_api.get(f"/api/v1/resources/assets/{forest.pk}/restrictions/").json()
    assert pledges[0]["secured_amount"] == "300000.00" and pledges[0]["kind"] == "pledge"


def test_asset_list_queries_do_not_grow(client, county_staff, make_asset, django_assert_max_num_queries):
    client.force_login(county_staff)
    make_asset()
    client.get("/resources/")
    with django_assert_max_num_queries(20) as first:
        client.get("/resources/")
    for i in range(1, 8):
        make_asset(geometry=square(dx=0.002 * i), name=f"林地{i}")
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/resources/")


def test_map_json_is_valid_for_leaflet(client, county_staff, demo_assets):
    client.force_login(county_staff)
    data = json.loads(client.get("/resources/map.geojson").content)  # no filter: every visible asset
    assert data["type"] == "FeatureCollection" and data["truncated"] is False
    assert len(data["features"]) == 3
    assert client.get("/resources/map.geojson?status=planet").json()["features"] == []


def test_api_history_of_an_asset(county_staff, demo_assets):
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    api = APIClient()
    api.force_authenticate(county_staff)
    events = api.get(f"/api/v1/resources/assets/{forest.pk}/history/").json()
    assert {e["record"] for e in events} == {"asset", "right", "restriction"}
    registered = next(
        e
        for e in events
        if e["record"] == "asset"
        and e["changes"]
        and "status" in e["changes"]
        and e["changes"]["status"][1] == "registered"
    )
    assert registered["reason"] == "公示期满，自动登记" and registered["username"] == "coop_staff"
