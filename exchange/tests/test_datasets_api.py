# ruff: noqa: F811  (fixtures imported from fixtures_datasets)
"""`/api/v1/exchange/datasets/` and `/logs/`: specs, paginated JSON and file exports, imports from
a JSON body or a file, rejected files as 400 with row errors, reach as 404, capabilities as 403,
and department officers with API tokens."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from directory.models import Organization, OrganizationKind, Role
from directory.services import issue_api_token
from exchange.models import ExchangeLog, ExchangeStatus, HarvestPermit

from .fixtures_datasets import (  # noqa: F401  (fixtures)
    department,
    department_officer,
    harvest_permits,
    lian_du,
    other_county,
    parcels,
)
from .test_datasets_import import HEADER, csv_file, permit_row

pytestmark = pytest.mark.django_db
DATASETS = "/api/v1/exchange/datasets/"
LOGS = "/api/v1/exchange/logs/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_dataset_specs_for_exchangers_only(county_staff, bank_officer):
    body = api(county_staff).get(DATASETS).json()
    assert [d["key"] for d in body] == [
        "parcels",
        "forest_resources",
        "harvest_permits",
        "water_permits",
        "monitoring",
        "gep_inputs",
        "collectives",
    ]
    parcels_spec = body[0]
    assert "geojson" in parcels_spec["formats"] and parcels_spec["key_columns"] == ["code"]
    wkt = next(c for c in parcels_spec["columns"] if c["key"] == "wkt")
    assert wkt["type"] == "geometry" and wkt["label"] == "几何WKT"
    assert api(county_staff).get(f"{DATASETS}harvest_permits/").json()["label"] == "林业：林木采伐许可"
    assert api(county_staff).get(f"{DATASETS}nothing/").status_code == 404
    refused = api(bank_officer).get(DATASETS)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"


def test_json_export_is_paginated_logged_and_pinned(
    harvest_permits, county_staff, django_assert_max_num_queries
):
    url = f"{DATASETS}harvest_permits/export/?division=331102000000&page_size=1&page=2"
    with django_assert_max_num_queries(14):
        response = api(county_staff).get(url)
    body = response.json()
    assert response.status_code == 200 and body["count"] == 2 and body["page"] == 2
    assert [r["number"] for r in body["rows"]] == ["LC-2026-002"]
    assert body["rows"][0]["area_mu"] == "3.00" and body["rows"][0]["status"] == "expired"
    log = ExchangeLog.objects.get(number=body["log"])
    assert (log.channel, log.format, log.rows_total, log.parameters["page"]) == ("api", "json", 1, 2)


def test_file_exports_and_refusals(harvest_permits, county_staff, other_county):
    client = api(county_staff)
    response = client.get(f"{DATASETS}harvest_permits/export/?format=csv&division=331102000000&year=2026")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[1].split(",") == HEADER and "LC-2026-001" in text
    wrong_format = client.get(f"{DATASETS}harvest_permits/export/?format=geojson")
    assert wrong_format.status_code == 400 and "format" in wrong_format.json()["fields"]
    bad_year = client.get(f"{DATASETS}harvest_permits/export/?year=1800")
    assert bad_year.status_code == 400 and "year" in bad_year.json()["fields"]
    outside = client.get(f"{DATASETS}harvest_permits/export/?division={other_county.code}")
    assert outside.status_code == 404
    assert client.get(f"{DATASETS}harvest_permits/export/?division=999999999999").status_code == 404
    assert client.get(f"{DATASETS}harvest_permits/export/?page=0").status_code == 400


def test_import_json_body_dry_run_and_rejection(parcels, county_staff):
    client = api(county_staff)
    url = f"{DATASETS}harvest_permits/import/"
    rows = [permit_row("LC-A", parcels[0].code), permit_row("LC-B", parcels[1].code)]
    dry = client.post(url, {"division": "331102000000", "rows": rows, "dry_run": True}, format="json")
    assert dry.status_code == 200 and dry.json()["rows_created"] == 2 and not HarvestPermit.objects.exists()
    created = client.post(url, {"rows": rows}, format="json")
    assert created.status_code == 201 and created.json()["status"] == "succeeded"
    assert created.json()["division_code"] == "331102000000" and HarvestPermit.objects.count() == 2
    rows[1]["area_mu"] = "-3"
    rejected = client.post(url, {"division": "331102000000", "rows": rows}, format="json")
    body = rejected.json()
    assert rejected.status_code == 400 and body["code"] == "import_rejected"
    assert body["errors"] == [
        {"row": 2, "column": "采伐面积（亩）", "key": "area_mu", "message": "采伐面积须大于 0。"}
    ]
    assert body["log"]["status"] == "rejected" and body["fields"] == {}
    assert HarvestPermit.objects.get(number="LC-B").area_mu > 0
    malformed = client.post(url, {"rows": "nope"}, format="json")
    assert malformed.status_code == 400 and "rows" in malformed.json()["fields"]


def test_import_multipart_file(parcels, county_staff):
    content = csv_file([permit_row("LC-F", parcels[0].code)])
    response = api(county_staff).post(
        f"{DATASETS}harvest_permits/import/",
        {"file": SimpleUploadedFile("许可证.csv", content), "division": "331102000000"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["file_name"] == "许可证.csv" and response.json()["format"] == "csv"
    unknown = api(county_staff).post(
        f"{DATASETS}harvest_permits/import/",
        {"file": SimpleUploadedFile("permits.txt", content)},
        format="multipart",
    )
    assert unknown.status_code == 400 and "format" in unknown.json()["fields"]


def test_department_officer_with_a_token(parcels, department_officer, department, county_staff):
    api(county_staff).get(f"{DATASETS}parcels/export/")  # the cooperative's own exchange
    _token, secret = issue_api_token(user=department_officer, name="林业局数据交换")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    rows = client.get(f"{DATASETS}parcels/export/").json()["rows"]
    holder_ids = [r["holder_id"] for row in rows for r in row["rights"] if not r["holder_id"].startswith("9")]
    assert holder_ids and all("*" in i for i in holder_ids)
    imported = client.post(
        f"{DATASETS}harvest_permits/import/", {"rows": [permit_row("LC-T", parcels[0].code)]}, format="json"
    )
    assert imported.status_code == 201 and imported.json()["organization"] == department.pk
    refused = client.post(f"{DATASETS}parcels/import/", {"rows": []}, format="json")
    assert refused.status_code == 403
    logs = client.get(LOGS).json()  # their department's exchanges, not the cooperative's others
    assert logs["count"] == 2 and {log["organization"] for log in logs["results"]} == {department.pk}
    assert api(county_staff).get(LOGS).json()["count"] == 3


def test_logs_are_scoped_filtered_and_pinned(
    harvest_permits, county_staff, bank_officer, other_county, make_member, django_assert_max_num_queries
):
    client = api(county_staff)
    for fmt in ("csv", "json"):
        client.get(f"{DATASETS}harvest_permits/export/?format={fmt}")
    client.post(f"{DATASETS}harvest_permits/import/", {"rows": [{"number": "x"}]}, format="json")
    with django_assert_max_num_queries(8):
        body = client.get(f"{LOGS}?dataset=harvest_permits&direction=export").json()
    assert body["count"] == 2
    rejected = client.get(f"{LOGS}?status=rejected").json()["results"]
    assert len(rejected) == 1 and rejected[0]["errors"][0]["row"] == 0  # required columns missing
    assert "表头缺少必填列" in rejected[0]["errors"][0]["message"]
    assert api(bank_officer).get(LOGS).status_code == 403
    elsewhere = Organization.objects.create(
        name="缙云县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=other_county
    )
    stranger = make_member(Role.COOP_STAFF, elsewhere)
    assert api(stranger).get(LOGS).json()["count"] == 0
    assert api(stranger).get(f"{LOGS}{rejected[0]['id']}/").status_code == 404
    assert ExchangeLog.objects.filter(status=ExchangeStatus.REJECTED).count() == 1


def test_schema_documents_the_exchange_endpoints(county_staff):
    schema = api(county_staff).get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    assert "/api/v1/exchange/datasets/{key}/export/" in paths
    assert "post" in paths["/api/v1/exchange/datasets/{key}/import/"]
    assert "/api/v1/exchange/logs/" in paths
