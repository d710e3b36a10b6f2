# ruff: noqa: F811  (fixtures imported from test_risk_fixtures)
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from finance.models import DefaultStatus, Disposal, LoanDefault
from finance.services import defaults

from .test_risk_fixtures import (  # noqa: F401  (fixtures)
    DECLARED_ON,
    fund,
    funded,
    government,
    guarantor,
    pledged_loan,
    scheme,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/finance/defaults/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_declare_buy_back_and_compensate_through_the_api(pledged_loan, scheme, funded, county_staff):
    funded(Decimal("100000.00"))
    loan, (pledge,) = pledged_loan(scheme=scheme)
    client = api(county_staff)
    declared = client.post(
        URL, {"loan": loan.pk, "reason": "逾期", "declared_on": DECLARED_ON.isoformat()}, format="json"
    )
    assert declared.status_code == 201
    body = declared.json()
    assert (
        body["loan_status"] == "defaulted"
        and body["status"] == "declared"
        and body["borrower"] == loan.borrower_id
    )
    assert Decimal(body["claim"]) == sum(Decimal(v) for v in body["remaining"].values())
    url = f"{URL}{body['id']}/"
    again = client.post(URL, {"loan": loan.pk, "reason": "逾期"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_declared"
    step = {
        "pledge": pledge.pk,
        "price": "120000.00",
        "executed_on": "2026-07-01",
        "source_document": "回购协议",
    }
    bought = client.post(f"{url}buy-back/", step, format="json", HTTP_IDEMPOTENCY_KEY="buy-1")
    assert bought.status_code == 200
    replay = client.post(f"{url}buy-back/", step, format="json", HTTP_IDEMPOTENCY_KEY="buy-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert Disposal.objects.count() == 1
    waterfall = bought.json()["disposals"][0]["waterfall"]
    assert [line["what"] for line in waterfall] == ["penalty", "interest", "principal"]
    assert sum(Decimal(line["amount"]) for line in waterfall) == Decimal("120000.00")
    assert "name" not in waterfall[0]  # no names in the API: parties by id
    twice = client.post(f"{url}buy-back/", step, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "pledge_not_active"
    bad = client.post(
        f"{url}compensate/", {"executed_on": "2099-01-01", "source_document": "x"}, format="json"
    )
    assert bad.status_code == 400 and "executed_on" in bad.json()["fields"]
    closed = client.post(
        f"{url}compensate/", {"executed_on": "2026-07-02", "source_document": "代偿"}, format="json"
    )
    assert closed.status_code == 200
    result = closed.json()
    assert result["status"] == "settled" and result["loan_status"] == "closed"
    allocations = result["disposals"][1]["allocations"]
    assert {a["role"] for a in allocations} == {"guarantor", "cooperative", "bank", "government_fund"}
    assert sum(Decimal(a["amount"]) for a in allocations) == Decimal(result["disposals"][1]["amount"])


def test_foreign_pledge_and_malformed_input(pledged_loan, county_staff):
    loan, _pledges = pledged_loan()
    _other, (foreign,) = pledged_loan()
    client = api(county_staff)
    assert client.post(URL, {"loan": loan.pk}, format="json").status_code == 400
    assert client.post(URL, {"loan": 999999, "reason": "x"}, format="json").status_code == 404
    default = defaults.declare_default(actor=county_staff, loan=loan, reason="逾期", declared_on=DECLARED_ON)
    foreign_step = {
        "pledge": foreign.pk,
        "price": "1.00",
        "executed_on": "2026-07-01",
        "source_document": "x",
    }
    response = client.post(f"{URL}{default.pk}/buy-back/", foreign_step, format="json")
    assert response.status_code == 400 and "pledge" in response.json()["fields"]
    malformed = client.post(f"{URL}{default.pk}/buy-back/", {**foreign_step, "price": "abc"}, format="json")
    assert malformed.status_code == 400 and "price" in malformed.json()["fields"]
    assert not Disposal.objects.exists()


def test_banks_read_only_their_own_defaults(
    pledged_loan,
    county_staff,
    bank,
    bank_officer,
    second_bank,
    second_bank_officer,
    django_assert_max_num_queries,
):
    mine = [pledged_loan()[0] for _i in range(3)]
    theirs, (their_pledge,) = pledged_loan(bank_org=second_bank)
    made = [
        defaults.declare_default(actor=county_staff, loan=loan, reason="逾期", declared_on=DECLARED_ON)
        for loan in [*mine, theirs]
    ]
    defaults.buy_back(
        actor=county_staff,
        default=made[-1],
        pledge=their_pledge,
        price="1000.00",
        executed_on=DECLARED_ON,
        source_document="x",
    )
    client = api(bank_officer)
    with django_assert_max_num_queries(12):
        body = client.get(URL).json()
    assert body["count"] == 3 and {r["loan"] for r in body["results"]} == {loan.pk for loan in mine}
    assert client.get(f"{URL}{made[-1].pk}/").status_code == 404
    assert client.post(f"{URL}{made[-1].pk}/compensate/", {}, format="json").status_code == 404
    own = client.post(f"{URL}{made[0].pk}/compensate/", {"executed_on": "2026-07-01", "source_document": "x"})
    assert own.status_code == 403
    other = api(second_bank_officer)
    assert other.get(URL).json()["count"] == 1 and other.get(f"{URL}{made[0].pk}/").status_code == 404
    # a bank cannot declare: 403 on its own loan, 404 on another bank's
    fresh_mine, fresh_theirs = pledged_loan()[0], pledged_loan(bank_org=second_bank)[0]
    assert client.post(URL, {"loan": fresh_mine.pk, "reason": "x"}, format="json").status_code == 403
    assert client.post(URL, {"loan": fresh_theirs.pk, "reason": "x"}, format="json").status_code == 404
    assert LoanDefault.objects.count() == 4
    with django_assert_max_num_queries(12):
        staff_body = api(county_staff).get(URL).json()
    assert staff_body["count"] == 4
    assert {r["status"] for r in staff_body["results"]} == {DefaultStatus.DECLARED}
