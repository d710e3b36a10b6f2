"""Settlement API: movements, balances, distributions and idempotent payments."""

# ruff: noqa: F811  (the `build` fixture is imported)
import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from transactions.models import Distribution, Movement, MovementKind, TradeInstallment
from transactions.services import distribution as dist
from transactions.services import settlement
from transactions.tests.test_settlement_support import assets_of, build, ledger_total  # noqa: F401

BASE = "/api/v1/transactions"


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff_api(county_staff):
    return _api(county_staff)


@pytest.fixture
def trade(build):
    return build.trade([build.asset()], installments=("300.00", "300.00"))


def _payment(trade, amount="100.00", **extra):
    return {
        "contract": trade.pk,
        "amount": amount,
        "occurred_on": "2025-06-01",
        "reference": "API-1",
        **extra,
    }


def test_payment_with_idempotency_key(staff_api, trade):
    first = staff_api.post(f"{BASE}/payments/", _payment(trade), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["kind"] == MovementKind.PAYMENT_RECEIVED and body["total"] == "100.00"
    assert {p["account_kind"] for p in body["postings"]} == {"cash", "receivable"}
    again = staff_api.post(f"{BASE}/payments/", _payment(trade), HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).count() == 1
    assert TradeInstallment.objects.get(contract=trade, sequence=1).paid_amount == Decimal("100.00")
    bad_key = staff_api.post(f"{BASE}/payments/", _payment(trade), HTTP_IDEMPOTENCY_KEY="x" * 200)
    assert bad_key.status_code == 400 and "Idempotency-Key" in bad_key.json()["fields"]


@pytest.mark.parametrize(
    ("amount", "status", "field"),
    [("600.01", 400, "amount"), ("1.001", 400, "amount"), ("-1", 400, "amount"), ("x", 400, "amount")],
)
def test_bad_payments_are_refused(staff_api, trade, amount, status, field):
    response = staff_api.post(f"{BASE}/payments/", _payment(trade, amount))
    assert response.status_code == status
    assert set(response.json()) == {"code", "detail", "fields"} and field in response.json()["fields"]
    assert not Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).exists()


def test_payments_are_staff_only(trade, investor):
    response = _api(investor).post(f"{BASE}/payments/", _payment(trade))
    # The contract is outside the investor's trading reach: refused as an unknown choice.
    assert response.status_code in (400, 403)
    assert not Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).exists()


def test_movements_and_balances(staff_api, trade, county_staff, investor, django_assert_max_num_queries):
    for n in range(4):
        settlement.record_investor_payment(
            actor=county_staff,
            contract=trade,
            amount="10.00",
            occurred_on=datetime.date(2025, 6, n + 1),
            reference=f"R{n}",
        )
    with django_assert_max_num_queries(8):
        response = staff_api.get(f"{BASE}/movements/")
    assert response.status_code == 200 and response.json()["count"] == 5
    filtered = staff_api.get(
        f"{BASE}/movements/", {"kind": "payment_received", "date_from": "2025-06-03"}
    ).json()
    assert filtered["count"] == 2
    movement_id = filtered["results"][0]["id"]
    detail = staff_api.get(f"{BASE}/movements/{movement_id}/").json()
    assert sum(Decimal(p["amount"]) for p in detail["postings"]) == 0
    with django_assert_max_num_queries(8):
        balances = staff_api.get(f"{BASE}/balances/").json()
    assert balances["totals"]["receivable"] == "560.00" and balances["totals"]["cash"] == "40.00"
    mine = _api(investor).get(f"{BASE}/balances/").json()
    assert [row["receivable"] for row in mine["results"]] == ["560.00"]
    assert mine["totals"]["cash"] == "0.00"


def test_distributions_create_list_and_pay(
    staff_api, build, county_staff, households, investor, django_assert_max_num_queries
):
    contract = build.collection([(households[0], "1/3"), (households[1], "2/3")], rate=Decimal("1"))
    settlement.record_investor_payment(
        actor=county_staff,
        contract=build.trade(assets_of(contract), installments=("100.00",)),
        amount="100.00",
        occurred_on=datetime.date(2025, 6, 1),
        reference="B",
    )
    payload = {
        "contract": contract.pk,
        "kind": "dividend",
        "period_start": "2025-01-01",
        "period_end": "2026-01-01",
    }
    assert _api(investor).post(f"{BASE}/distributions/", payload).status_code in (400, 403)
    created = staff_api.post(f"{BASE}/distributions/", payload)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["amount"] == "100.00" and [line["amount"] for line in body["lines"]] == ["33.33", "66.67"]
    duplicate = staff_api.post(f"{BASE}/distributions/", payload)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "period_overlap"
    assert Distribution.objects.count() == 1
    for n in range(3):
        other = build.collection([(households[2], 1)])
        dist.declare_distribution(
            actor=county_staff,
            contract=other,
            kind="dividend",
            period_start=datetime.date(2025, 1, 1),
            period_end=datetime.date(2025, 2, n + 1),
        )
    with django_assert_max_num_queries(8):
        listing = staff_api.get(f"{BASE}/distributions/")
    assert listing.json()["count"] == 4
    pay_url = f"{BASE}/distributions/{body['id']}/pay/"
    assert staff_api.post(pay_url, {"occurred_on": "2026-01-05"}).status_code == 400
    paid = staff_api.post(pay_url, {"occurred_on": "2026-01-05", "reference": "P"})
    assert paid.status_code == 201 and paid.json()["kind"] == MovementKind.PAYOUT
    assert staff_api.post(pay_url, {"occurred_on": "2026-01-05", "reference": "P"}).status_code == 409
    assert ledger_total() == 0
