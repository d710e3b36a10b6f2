"""Unit API: issuances with blocks, the transfer register, POST transfer/retire with Idempotency-Key."""

import pytest
from rest_framework.test import APIClient

from directory.models import User
from directory.services import ensure_party
from transactions.models import UnitBlockStatus, UnitTransfer
from transactions.services import units

from .test_units_services import carbon_type  # noqa: F401  (fixture)
from .test_units_views import YEAR, carbon_rights, issuance  # noqa: F401  (fixtures)


def api(username):
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


@pytest.fixture
def buyer(investor_org):
    return ensure_party(investor_org)


def test_transfer_with_idempotency_key(issuance, household, buyer):  # noqa: F811
    client = api("coop_staff")
    body = {
        "issuance": issuance.pk,
        "kind": "transfer",
        "from_party": household.pk,
        "to_party": buyer.pk,
        "quantity": 30,
        "price": "2100.00",
    }
    first = client.post("/api/v1/transactions/unit-transfers/", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    [row] = first.json()
    assert (row["first_serial"], row["last_serial"], row["price"]) == (1, 30, "2100.00")
    again = client.post("/api/v1/transactions/unit-transfers/", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (
        again.status_code == 200 and again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    )
    assert UnitTransfer.objects.filter(kind="transfer").count() == 1
    retire = client.post(
        "/api/v1/transactions/unit-transfers/",
        {
            "issuance": issuance.pk,
            "kind": "retire",
            "from_party": buyer.pk,
            "quantity": 5,
            "reason": "碳中和",
        },
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert retire.status_code == 201 and retire.json()[0]["to_party"] is None
    detail = client.get(f"/api/v1/transactions/unit-issuances/{issuance.pk}/").json()
    live = [b for b in detail["blocks"] if b["status"] != UnitBlockStatus.SPLIT]
    assert [(b["first_serial"], b["last_serial"], b["status"]) for b in live] == [
        (1, 5, "retired"),
        (6, 30, "held"),
        (31, 100, "held"),
    ]


def test_transfer_refusals(issuance, household, buyer):  # noqa: F811
    client = api("coop_staff")
    url = "/api/v1/transactions/unit-transfers/"
    base = {"issuance": issuance.pk, "kind": "transfer", "from_party": household.pk, "to_party": buyer.pk}
    short = client.post(url, {**base, "quantity": 101})
    assert short.status_code == 409 and short.json()["code"] == "insufficient_units"
    assert "持有 100" in short.json()["detail"]
    bad = client.post(url, {**base, "quantity": 0})
    assert bad.status_code == 400 and "quantity" in bad.json()["fields"]
    no_reason = client.post(url, {**base, "kind": "retire", "quantity": 1, "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    key = client.post(url, {**base, "quantity": 1}, HTTP_IDEMPOTENCY_KEY="bad key ✗")
    assert key.status_code == 400
    for username in ("investor", "village_clerk"):
        response = api(username).post(url, {**base, "quantity": 1})
        assert response.status_code in (400, 403), username  # the issuance is out of reach or refused
    assert UnitTransfer.objects.count() == 1


def test_lists_scope_and_query_counts(
    carbon_rights,  # noqa: F811
    county_staff,
    household,
    buyer,
    django_assert_max_num_queries,
):
    for right in carbon_rights(4):
        issued = units.issue_units(
            actor=county_staff, right=right, vintage_year=YEAR - 1, quantity=10, methodology="m"
        )
        units.transfer_units(
            actor=county_staff, issuance=issued, from_party=household, to_party=buyer, quantity=2
        )
    client = api("coop_staff")
    with django_assert_max_num_queries(8):
        issuances = client.get("/api/v1/transactions/unit-issuances/").json()
    assert issuances["count"] == 4
    with django_assert_max_num_queries(8):
        transfers = client.get("/api/v1/transactions/unit-transfers/").json()
    assert transfers["count"] == 8
    name = household.person.name
    assert all(name not in str(t) for t in transfers["results"])
    assert client.get("/api/v1/transactions/unit-issuances/", {"kind": "water"}).json()["count"] == 0
    # The investor sees the issuances its organization holds units of, holders masked.
    investor = api("investor")
    assert investor.get("/api/v1/transactions/unit-issuances/").json()["count"] == 4
    first = issuances["results"][0]["id"]
    blocks = investor.get(f"/api/v1/transactions/unit-issuances/{first}/").json()["blocks"]
    assert name not in str(blocks) and name[0] + "*" in str(blocks)
    assert api("bank_officer").get("/api/v1/transactions/unit-issuances/").json()["count"] == 0
