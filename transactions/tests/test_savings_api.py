# ruff: noqa: F811  (fixtures imported from other modules are parameters here)
"""`/api/v1/transactions/savings-slips/`: reach (404 outside it, 403 without the capability),
filters, detail with the calculation, the idempotent `issue` action and `cancel`."""

import datetime

import pytest
from rest_framework.test import APIClient

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from resources import services as registry
from resources.models import Right, RightKind
from transactions.models import SavingsSlip, SlipStatus

from .fixtures_savings import (  # noqa: F401  (fixtures)
    issued_slips,
    make_savings_contract,
    savings_contract,
    savings_parcels,
)
from .test_collection_services import other_county_staff, village_clerk  # noqa: F401

URL = "/api/v1/transactions/savings-slips/"
ISSUE = URL + "issue/"


@pytest.fixture
def api():
    return APIClient()


def pledge(staff, slip):
    bank = Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")
    return registry.add_pledge(
        actor=staff,
        right=slip.income_right,
        holder=ensure_party(bank),
        rank=1,
        secured_amount="10000",
        start=datetime.date(2026, 2, 1),
        end=datetime.date(2029, 2, 1),
        source_document="抵质押登记 ZY-API（贷款申请 SQ-API）",
    )


def test_list_filters_and_query_count(api, county_staff, issued_slips, django_assert_max_num_queries):
    pledge(county_staff, issued_slips[0])
    api.force_authenticate(county_staff)
    with django_assert_max_num_queries(8):
        body = api.get(URL).json()
    assert body["count"] == 3
    row = next(r for r in body["results"] if r["number"] == issued_slips[0].number)
    assert row["is_pledged"] is True and row["share"] == "1/3" and row["status"] == "active"
    assert row["guaranteed_annual_amount"] == f"{issued_slips[0].guaranteed_annual_amount}"
    assert "calculation" not in row and "national_id" not in str(row)
    assert api.get(URL, {"pledged": "true"}).json()["count"] == 1
    assert api.get(URL, {"pledged": "false"}).json()["count"] == 2
    assert api.get(URL, {"status": "cancelled"}).json()["count"] == 0
    assert api.get(URL, {"contract": issued_slips[0].contract.number}).json()["count"] == 3
    assert api.get(URL, {"status": "nonsense"}).status_code == 400


def test_retrieve_and_reach(api, issued_slips, county_staff, bank_officer, other_county_staff):
    slip = issued_slips[1]
    api.force_authenticate(county_staff)
    body = api.get(f"{URL}{slip.pk}/").json()
    assert body["number"] == slip.number and body["calculation"]["contract"] == slip.contract.number
    for outsider in (bank_officer, other_county_staff):
        api.force_authenticate(outsider)
        assert api.get(URL).json()["count"] == 0
        response = api.get(f"{URL}{slip.pk}/")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert api.post(f"{URL}{slip.pk}/cancel/", {"reason": "x"}, format="json").status_code == 404
    api.force_authenticate(None)
    assert api.get(URL).status_code in (401, 403)


def test_issue_action_is_idempotent(api, county_staff, savings_contract):
    api.force_authenticate(county_staff)
    response = api.post(ISSUE, {"contract": savings_contract.pk}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 3 and len(body["slips"]) == 3
    assert sum(float(s["guaranteed_annual_amount"]) for s in body["slips"]) == pytest.approx(5600.00)
    again = api.post(ISSUE, {"contract": savings_contract.pk}, format="json")
    assert again.status_code == 200 and again.json()["created"] == 0
    assert [s["number"] for s in again.json()["slips"]] == [s["number"] for s in body["slips"]]
    assert SavingsSlip.objects.count() == 3


def test_issue_action_refusals(
    api, county_staff, village_clerk, other_county_staff, make_savings_contract, savings_parcels
):
    draft = make_savings_contract(savings_parcels, sign=False)
    api.force_authenticate(county_staff)
    for bad in ({}, {"contract": "abc"}, {"contract": 0}):
        response = api.post(ISSUE, bad, format="json")
        assert response.status_code == 400 and "contract" in response.json()["fields"]
    assert api.post(ISSUE, {"contract": 999_999}, format="json").status_code == 404
    response = api.post(ISSUE, {"contract": draft.pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "not_signed"
    api.force_authenticate(village_clerk)
    response = api.post(ISSUE, {"contract": draft.pk}, format="json")
    assert response.status_code == 403
    api.force_authenticate(other_county_staff)
    assert api.post(ISSUE, {"contract": draft.pk}, format="json").status_code == 404
    assert not SavingsSlip.objects.exists()
    assert not Right.objects.filter(kind=RightKind.INCOME).exists()


def test_cancel_action(api, county_staff, issued_slips):
    slip, pledged = issued_slips[0], issued_slips[1]
    pledge(county_staff, pledged)
    api.force_authenticate(county_staff)
    response = api.post(f"{URL}{slip.pk}/cancel/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["fields"]
    response = api.post(f"{URL}{pledged.pk}/cancel/", {"reason": "储户退出"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "pledged"
    assert "ZY-API" in response.json()["detail"]
    response = api.post(f"{URL}{slip.pk}/cancel/", {"reason": "储蓄单遗失"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == SlipStatus.CANCELLED
    assert response.json()["end_reason"] == "储蓄单遗失"
    response = api.post(f"{URL}{slip.pk}/cancel/", {"reason": "再次"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    statuses = dict(SavingsSlip.objects.values_list("pk", "status"))
    assert statuses == {slip.pk: "cancelled", pledged.pk: "active", issued_slips[2].pk: "active"}
