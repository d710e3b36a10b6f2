# ruff: noqa: F811  (fixtures imported from test_contracts_fixtures)
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from transactions.models import ContractStatus, PaymentFrequency, TradeContract
from transactions.services import contracts

from .test_contracts_fixtures import (  # noqa: F401  (fixtures)
    collected_assets,
    other_county_staff,
    sold_listing,
    village_clerk,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/transactions/trade-contracts/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_and_retrieve_scoped_and_pinned(
    sold_listing, county_staff, investor, other_county_staff, django_assert_max_num_queries
):
    made = []
    for _i in range(4):
        contract = contracts.create_trade_contract(
            actor=county_staff, listing=sold_listing(n=2), payment_frequency=PaymentFrequency.QUARTERLY
        )
        made.append(contracts.sign_trade_contract(actor=county_staff, contract=contract))
    client = api(county_staff)
    with django_assert_max_num_queries(12):
        body = client.get(URL).json()
    assert body["count"] == 4
    first = body["results"][0]
    assert len(first["items"]) == 2 and len(first["installments"]) == 20
    assert sum(Decimal(i["amount"]) for i in first["installments"]) == Decimal("100000.00")
    assert first["items"][0]["lease"] is not None
    assert api(investor).get(URL).json()["count"] == 4
    assert api(investor).get(f"{URL}{made[0].pk}/").json()["number"] == made[0].number
    assert api(other_county_staff).get(URL).json()["count"] == 0
    assert api(other_county_staff).get(f"{URL}{made[0].pk}/").status_code == 404
    assert client.get(URL, {"status": "draft"}).json()["count"] == 0


def test_create_idempotent_sign_terminate_renew(sold_listing, county_staff):
    listing = sold_listing()
    client = api(county_staff)
    payload = {"listing": listing.pk, "payment_frequency": "annual"}
    first = client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and first.json()["status"] == "draft"
    again = client.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert TradeContract.objects.count() == 1
    duplicate = client.post(URL, payload, format="json")
    assert duplicate.status_code == 404  # the listing is no longer awaiting a contract
    pk = first.json()["id"]
    signed = client.post(f"{URL}{pk}/sign/")
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    assert client.post(f"{URL}{pk}/sign/").json()["code"] == "invalid_transition"
    bad = client.post(f"{URL}{pk}/terminate/", {"effective_date": "2040-01-01", "reason": "x"}, format="json")
    assert bad.status_code == 400 and "effective_date" in bad.json()["fields"]
    bad = client.post(
        f"{URL}{pk}/renew/", {"end_date": "2099-01-01", "price": "1", "payment_frequency": "annual"}
    )
    assert bad.status_code == 400 and "end_date" in bad.json()["fields"]
    renewal = client.post(
        f"{URL}{pk}/renew/",
        {"end_date": "2035-01-01", "price": "5000.00", "payment_frequency": "once"},
        format="json",
    )
    assert renewal.status_code == 201 and renewal.json()["renewal_of"] == pk
    done = client.post(
        f"{URL}{pk}/terminate/", {"effective_date": "2027-01-01", "reason": "协商解除"}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "terminated"
    assert (
        client.post(f"{URL}{pk}/terminate/", {"effective_date": "2027-01-01", "reason": "再"}).status_code
        == 409
    )


def test_refusals_for_investor_clerk_and_bad_input(sold_listing, county_staff, investor, village_clerk):
    listing = sold_listing()
    response = api(investor).post(URL, {"listing": listing.pk, "payment_frequency": "annual"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert (
        api(village_clerk).post(URL, {"listing": listing.pk, "payment_frequency": "annual"}).status_code
        == 403
    )
    bad = api(county_staff).post(URL, {"listing": "x", "payment_frequency": "weekly"}, format="json")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"listing", "payment_frequency"}
    contract = contracts.create_trade_contract(
        actor=county_staff, listing=listing, payment_frequency="annual"
    )
    assert api(investor).post(f"{URL}{contract.pk}/sign/").status_code == 403
    assert api(village_clerk).post(f"{URL}{contract.pk}/sign/").status_code == 404
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
