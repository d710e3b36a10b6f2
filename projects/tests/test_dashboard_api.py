"""`/api/v1/projects/dashboard/`: the same figures as the page (decimals as strings), the answer
checked against its own OpenAPI schema, scope (404 outside the reach, 403 without the capability),
and 400 `{code, detail, fields}` for a malformed year or division."""

import pytest
from django.utils import timezone
from openapi_schema_validator import OAS30Validator, validate
from rest_framework.test import APIClient

from projects.tests.fixtures_dashboard import YEAR, auditor, region, village_clerk  # noqa: F401

URL = "/api/v1/projects/dashboard/"


@pytest.fixture
def api():
    return APIClient()


def _inline(node, components):
    """The schema with every $ref replaced by the component it names."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(components[node["$ref"].rsplit("/", 1)[1]], components)
        if node.get("nullable") and len(node.get("allOf", ())) == 1:
            # drf-spectacular's nullable nested object: {allOf: [$ref], nullable: true}
            rest = {k: v for k, v in node.items() if k != "allOf"}
            return {**_inline(node["allOf"][0], components), **rest}
        return {key: _inline(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, components) for item in node]
    return node


def _undeclared(data, schema, path="$"):
    """Keys in the answer that the schema does not declare (the schema allows extra keys)."""
    found = []
    if isinstance(data, dict) and "properties" in schema:
        for key, value in data.items():
            if key not in schema["properties"]:
                found.append(f"{path}.{key}")
            else:
                found += _undeclared(value, schema["properties"][key], f"{path}.{key}")
    elif isinstance(data, list) and "items" in schema:
        for item in data[:3]:
            found += _undeclared(item, schema["items"], f"{path}[]")
    return found


def test_answer_matches_its_openapi_schema(api, region, city_admin):  # noqa: F811
    api.force_authenticate(city_admin)
    spec = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = spec["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"division", "year"}
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    schema = _inline(
        operation["responses"]["200"]["content"]["application/json"]["schema"], spec["components"]["schemas"]
    )
    response = api.get(URL, {"division": region.city.code, "year": YEAR})
    assert response.status_code == 200
    body = response.json()
    validate(body, schema, cls=OAS30Validator)
    assert _undeclared(body, schema) == []
    required = set(schema["required"])
    assert required == set(body)


def test_same_figures_as_the_page_with_decimal_strings(api, region, county_staff):  # noqa: F811
    api.force_authenticate(county_staff)
    body = api.get(URL, {"year": YEAR}).json()  # default division: the staff member's county
    assert body["division"] == {
        "code": "331102000000",
        "name": "莲都区",
        "level": "county",
        "level_label": "县（市、区）",
    }
    assert body["child_level"] == "township" and body["year"] == YEAR
    assert [(y["year"], y["total"], y["source"]) for y in body["gep"]["years"]] == [
        (2023, "2400.00", "run"),
        (2024, "350.00", "run"),
        (2025, "420.01", "run"),
    ]
    assert body["trading"]["totals"] == {
        "collection_count": 4,
        "collection_amount": "24000.75",
        "trade_count": 2,
        "trade_amount": "151000.00",
    }
    assert body["loans"]["outstanding_principal"] == "180000.00"
    assert body["loans"]["non_performing_ratio"] == "0.0556"
    assert body["projects"]["admitted_totals"]["total_investment"] == "4500000.50"
    assert body["gep_balance"]["main"] == {
        "code": "331102000000",
        "name": "莲都区",
        "balance": "30000.00",
        "warning": "50000.00",
        "status": "warning",
    }
    assert body["red_lines"]["readings"][0]["status"] == "breach"
    assert body["resources"]["map"]["type"] == "FeatureCollection"
    assert body["resources"]["map"]["features"][0]["type"] == "Feature"
    assert body["as_of"] == timezone.localdate().isoformat()


@pytest.mark.parametrize("target", ["other_county", "city"])
def test_divisions_outside_the_reach_are_404(api, region, county_staff, target):  # noqa: F811
    api.force_authenticate(county_staff)
    response = api.get(URL, {"division": getattr(region, target).code})
    assert response.status_code == 404
    assert set(response.json()) == {"code", "detail", "fields"}


def test_auditor_reads_bank_and_investor_are_refused(
    api,
    region,  # noqa: F811
    auditor,  # noqa: F811
    bank_officer,
    investor,
):
    api.force_authenticate(auditor)
    response = api.get(URL, {"division": region.other_county.code, "year": YEAR})
    assert response.status_code == 200 and response.json()["gep"]["latest_total"] == "60.00"
    for user in (bank_officer, investor):
        api.force_authenticate(user)
        response = api.get(URL)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    api.force_authenticate(None)
    assert api.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"year": "twenty"}, {"year"}),
        ({"year": "1999"}, {"year"}),
        ({"year": "2O25"}, {"year"}),
        ({"year": str(timezone.localdate().year + 1)}, {"year"}),
        ({"division": "莲都区"}, {"division"}),
        ({"division": "33110200000"}, {"division"}),
        ({"division": "abc", "year": "-1"}, {"division", "year"}),
    ],
)
def test_malformed_input_is_a_400_naming_the_fields(api, region, city_admin, query, fields):  # noqa: F811
    api.force_authenticate(city_admin)
    response = api.get(URL, query)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == "invalid" and set(body["fields"]) == fields
    assert all(isinstance(messages, list) and messages for messages in body["fields"].values())


def test_unknown_division_is_a_404(api, region, city_admin):  # noqa: F811
    api.force_authenticate(city_admin)
    assert api.get(URL, {"division": "339999000000"}).status_code == 404
