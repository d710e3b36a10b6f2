# ruff: noqa: F811  (fixtures imported from test_collection_services are parameters here)
"""`/api/v1/transactions/collection-contracts/`: reach, filters, detail, create (with
Idempotency-Key) and sign."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from resources.models import AssetStatus, Right, RightKind
from transactions.models import CollectionContract, ContractStatus, RevenueModel
from transactions.services import collection as svc

from .test_collection_services import (  # noqa: F401  (fixtures)
    other_county_staff,
    parcels,
    signed,
    terms,
    village_clerk,
    village_division,
)
from .test_collection_views import many  # noqa: F401

URL = "/api/v1/transactions/collection-contracts/"


@pytest.fixture
def api():
    return APIClient()


def payload(collective, parcels, **overrides):
    data = {
        "division": "331102199201",
        "grantor": collective.pk,
        "start_date": "2026-01-01",
        "end_date": "2031-01-01",
        "revenue_model": RevenueModel.GUARANTEED_PLUS_DIVIDEND,
        "annual_amount": "6000.00",
        "dividend_rate": "0.2",
        "payment_frequency": "quarterly",
        "first_payment_date": "2026-04-01",
        "assets": [p.code for p in parcels],
    }
    data.update(overrides)
    return data


def test_list_filters_and_query_count(api, county_staff, many, django_assert_max_num_queries):
    api.force_authenticate(county_staff)
    with django_assert_max_num_queries(8):
        body = api.get(URL).json()
    assert body["count"] == 5
    assert {row["number"] for row in body["results"]} == {c.number for c in many}
    row = next(r for r in body["results"] if r["number"] == many[0].number)
    assert row["status"] == ContractStatus.SIGNED and row["grantor_name"] == "示范村股份经济合作社（演示）"
    body = api.get(URL, {"status": "draft"}).json()
    assert body["count"] == 3
    assert api.get(URL, {"number": many[4].number}).json()["count"] == 1
    assert api.get(URL, {"division": "999"}).status_code == 400


def test_detail_has_items_beneficiaries_and_schedule(
    api, county_staff, signed, django_assert_max_num_queries
):
    api.force_authenticate(county_staff)
    with django_assert_max_num_queries(10):
        body = api.get(f"{URL}{signed.pk}/").json()
    assert len(body["items"]) == 2 and all(i["granted_right"] for i in body["items"])
    assert len(body["beneficiaries"]) == 3
    assert sum(Decimal(line["amount"]) for line in body["schedule"]) == Decimal("60000.00")


def test_reach(api, many, village_clerk, investor, other_county_staff, bank_officer):
    api.force_authenticate(village_clerk)
    assert api.get(URL).json()["count"] == 5
    for outsider in (investor, other_county_staff, bank_officer):
        api.force_authenticate(outsider)
        assert api.get(URL).json()["count"] == 0
        assert api.get(f"{URL}{many[0].pk}/").status_code == 404
    api.force_authenticate(None)
    assert api.get(URL).status_code in (401, 403)


def test_create_with_idempotency_key_then_sign(api, county_staff, collective, parcels):
    api.force_authenticate(county_staff)
    data = payload(collective, parcels)
    key = f"sc-create-{uuid.uuid4()}"  # records outlive the test database in Redis
    first = api.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.json()
    again = api.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and CollectionContract.objects.count() == 1
    changed = api.post(URL, {**data, "annual_amount": "1"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert changed.status_code == 409
    pk = first.json()["id"]
    response = api.post(f"{URL}{pk}/sign/")
    assert response.status_code == 200 and response.json()["status"] == ContractStatus.SIGNED
    assert len(response.json()["schedule"]) == 20 * 3
    assert (
        Right.objects.filter(
            kind=RightKind.MANAGEMENT, source_document__contains=first.json()["number"]
        ).count()
        == 2
    )
    assert {p.status for p in type(parcels[0]).objects.filter(pk__in=[p.pk for p in parcels])} == {
        AssetStatus.COLLECTED
    }
    again = api.post(f"{URL}{pk}/sign/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


@pytest.mark.parametrize(
    ("overrides", "status_code", "field"),
    [
        ({"assets": ["NOPE"]}, 400, "assets"),
        ({"assets": []}, 400, "assets"),
        ({"annual_amount": "0"}, 400, "annual_amount"),
        ({"dividend_rate": "2"}, 400, "dividend_rate"),
        ({"end_date": "2070-01-01"}, 400, "end_date"),
        ({"first_payment_date": "not a date"}, 400, "first_payment_date"),
        ({"grantor": 999999}, 400, "grantor"),
        ({"division": "331121000000"}, 403, None),
    ],
)
def test_create_refusals(api, county_staff, collective, parcels, overrides, status_code, field):
    api.force_authenticate(county_staff)
    response = api.post(URL, payload(collective, parcels, **overrides), format="json")
    body = response.json()
    assert response.status_code == status_code, body
    assert set(body) == {"code", "detail", "fields"}
    if field:
        assert field in body["fields"]
    assert not CollectionContract.objects.exists()


def test_conflict_names_the_other_contract(api, county_staff, collective, parcels, terms):
    other = svc.create_collection_contract(actor=county_staff, **terms(assets=[parcels[1]]))
    api.force_authenticate(county_staff)
    response = api.post(URL, payload(collective, parcels), format="json")
    assert response.status_code == 409 and other.number in response.json()["detail"]
    assert CollectionContract.objects.count() == 1


def test_outsiders_cannot_create_or_sign(
    api, investor, village_clerk, collective, parcels, terms, county_staff
):
    draft = svc.create_collection_contract(actor=county_staff, **terms())
    for user in (investor, village_clerk):
        api.force_authenticate(user)
        assert api.post(URL, payload(collective, parcels), format="json").status_code == 403
    assert api.post(f"{URL}{draft.pk}/sign/").status_code == 403  # the clerk sees it but may not sign
    api.force_authenticate(investor)
    assert api.post(f"{URL}{draft.pk}/sign/").status_code == 404
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT and CollectionContract.objects.count() == 1
