# ruff: noqa: F811  (fixtures imported from test_risk_fixtures)
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from finance.models import RiskSharingScheme
from finance.services import risk
from transactions.models import Movement, MovementKind

from .test_risk_fixtures import (  # noqa: F401  (fixtures)
    fund,
    funded,
    government,
    guarantor,
    scheme,
)

pytestmark = pytest.mark.django_db
FUNDS = "/api/v1/finance/risk-funds/"
SCHEMES = "/api/v1/finance/risk-schemes/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_fund_list_with_balance_scoped_and_pinned(
    funded, fund, scheme, county_staff, bank_officer, make_product, django_assert_max_num_queries
):
    funded(Decimal("8888.88"))
    with django_assert_max_num_queries(8):
        body = api(county_staff).get(FUNDS).json()
    assert body["count"] == 1 and body["results"][0]["balance"] == "8888.88"
    assert body["results"][0]["manager_name"] == fund.manager.name
    assert api(bank_officer).get(FUNDS).json()["count"] == 0
    assert api(bank_officer).get(f"{FUNDS}{fund.pk}/").status_code == 404
    make_product(risk_scheme=scheme)  # the bank now lends under a scheme backed by the fund
    assert api(bank_officer).get(f"{FUNDS}{fund.pk}/").json()["balance"] == "8888.88"


def test_create_fund_and_contribute_idempotently(county_staff, government, county_cooperative, bank_officer):
    client = api(county_staff)
    created = client.post(
        FUNDS,
        {
            "name": "莲都基金",
            "manager": government.pk,
            "division": county_cooperative.division.code,
            "source": "文件",
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["balance"] == "0.00"
    url = f"{FUNDS}{created.json()['id']}/contribute/"
    payload = {
        "contributor": government.pk,
        "amount": "5000000.00",
        "occurred_on": "2026-03-01",
        "reference": "财拨-1",
    }
    first = client.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and first.json()["balance"] == "5000000.00"
    again = client.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["movement"] == first.json()["movement"] and again.json()["balance"] == "5000000.00"
    changed = client.post(url, {**payload, "amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"
    bad = client.post(url, {**payload, "amount": "-1"}, format="json")
    assert bad.status_code == 400 and "amount" in bad.json()["fields"]
    future = client.post(url, {**payload, "occurred_on": "2099-01-01"}, format="json")
    assert future.status_code == 400 and "occurred_on" in future.json()["fields"]
    assert Movement.objects.filter(kind=MovementKind.FUND_CONTRIBUTION).count() == 1
    assert api(bank_officer).post(url, payload, format="json").status_code == 404
    assert api(bank_officer).post(FUNDS, {}, format="json").status_code == 403


def test_scheme_create_validates_and_lists(
    county_staff, county_cooperative, fund, guarantor, bank, bank_officer
):
    client = api(county_staff)
    payload = {
        "name": "莲都区生态贷风险分担",
        "division": county_cooperative.division.code,
        "fund": fund.pk,
        "source": "协议",
        "shares": [
            {"role": "guarantor", "organization": guarantor.pk, "share": "0.4"},
            {"role": "cooperative", "organization": county_cooperative.pk, "share": "0.3"},
            {"role": "bank", "organization": bank.pk, "share": "0.2"},
            {"role": "government_fund", "share": "0.05"},
        ],
    }
    bad = client.post(SCHEMES, payload, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert "合计须恰好等于1" in bad.json()["fields"]["shares"][0]
    wrong_kind = {**payload, "shares": [{"role": "guarantor", "organization": bank.pk, "share": "1"}]}
    assert "担保机构" in client.post(SCHEMES, wrong_kind, format="json").json()["fields"]["shares"][0]
    assert not RiskSharingScheme.objects.exists()
    payload["shares"][3]["share"] = "0.1"
    created = client.post(SCHEMES, payload, format="json")
    assert created.status_code == 201
    body = created.json()
    assert {s["role"]: s["share"] for s in body["shares"]} == {
        "guarantor": "0.400000",
        "cooperative": "0.300000",
        "bank": "0.200000",
        "government_fund": "0.100000",
    }
    listed = client.get(SCHEMES).json()
    assert listed["count"] == 1 and listed["results"][0]["fund"] == fund.pk
    assert api(bank_officer).get(SCHEMES).json()["count"] == 0
    assert api(bank_officer).post(SCHEMES, payload, format="json").status_code == 403


def test_scheme_list_pinned(
    county_staff, scheme, county_cooperative, guarantor, bank, django_assert_max_num_queries
):
    for n in range(3):
        risk.create_scheme(
            actor=county_staff,
            name=f"方案{n}",
            division=county_cooperative.division,
            source="x",
            shares=[("guarantor", guarantor, "0.5"), ("bank", bank, "0.5")],
        )
    with django_assert_max_num_queries(8):
        body = api(county_staff).get(SCHEMES).json()
    assert body["count"] == 4 and all(
        sum(Decimal(s["share"]) for s in r["shares"]) == 1 for r in body["results"]
    )
