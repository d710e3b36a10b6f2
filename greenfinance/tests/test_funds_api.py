# ruff: noqa: F811  (fixtures imported from fixtures_funds)
"""`/api/v1/greenfinance/funds/` and `/fund-movements/`: scope (404 outside reach, 403 without
the capability), every operation, Idempotency-Key replays, the error format on bad input, the
position from the ledger and pinned query counts."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from greenfinance.models import (
    FundCommitment,
    FundKind,
    FundMovement,
    FundMovementKind,
    FundStatus,
    GreenFund,
)
from greenfinance.services import funds
from transactions.models import Movement

from .fixtures_funds import (  # noqa: F401  (fixtures)
    LATER,
    active_fund,
    assert_books_agree,
    bureau,
    commitment,
    fund,
    loan,
    make_fund,
    project,
)

pytestmark = pytest.mark.django_db
FUNDS = "/api/v1/greenfinance/funds/"
MOVEMENTS = "/api/v1/greenfinance/fund-movements/"
K = FundMovementKind


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def auditor(demo_region):
    return User.objects.get(username="auditor")


@pytest.fixture
def outsider(make_member):
    qingtian_coop = Organization.objects.create(
        name="青田县两山合作社（API测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    return make_member(Role.COOP_STAFF, qingtian_coop)


def test_list_and_retrieve_are_scoped_with_ledger_balances(
    active_fund, make_fund, county_staff, auditor, bank_officer, outsider, django_assert_max_num_queries
):
    for n in range(3):
        make_fund(name=f"基金{n}")
    with django_assert_max_num_queries(8):
        body = api(county_staff).get(FUNDS).json()
    assert body["count"] == 4
    row = next(r for r in body["results"] if r["id"] == active_fund.pk)
    assert row["cash"] == "3000000.00" and row["committed"] == "5000000.00" and row["deployed"] == "0.00"
    assert row["status"] == FundStatus.ACTIVE and row["number"] == active_fund.number
    assert api(auditor).get(f"{FUNDS}{active_fund.pk}/").json()["cash"] == "3000000.00"
    assert api(bank_officer).get(FUNDS).json()["count"] == 0
    assert api(bank_officer).get(f"{FUNDS}{active_fund.pk}/").status_code == 404
    assert api(outsider).get(f"{FUNDS}{active_fund.pk}/").status_code == 404
    assert api(outsider).get(f"{FUNDS}{active_fund.pk}/position/").status_code == 404
    filtered = api(county_staff).get(FUNDS, {"status": FundStatus.ACTIVE}).json()
    assert [r["id"] for r in filtered["results"]] == [active_fund.pk]
    assert api(county_staff).get(FUNDS, {"kind": "lottery"}).status_code == 400


def test_create_fund(county_staff, county_cooperative, bank_officer, auditor):
    payload = {
        "name": "丽水市绿色债券（API）",
        "kind": FundKind.GREEN_BOND,
        "manager": county_cooperative.pk,
        "division": county_cooperative.division.code,
        "size": "20000000.00",
        "issue_date": "2026-02-01",
        "maturity_date": "2031-02-01",
        "coupon_rate": "0.031",
        "purpose": "生态修复和绿色产业",
        "source": "发改批复（测试）",
    }
    created = api(county_staff).post(FUNDS, payload, format="json")
    assert created.status_code == 201
    body = created.json()
    assert (
        body["status"] == FundStatus.RAISING and body["cash"] == "0.00" and body["coupon_rate"] == "0.031000"
    )
    no_maturity = api(county_staff).post(FUNDS, {**payload, "maturity_date": None}, format="json")
    assert no_maturity.status_code == 400 and "maturity_date" in no_maturity.json()["fields"]
    bad = api(county_staff).post(FUNDS, {**payload, "size": "-5", "issue_date": "2099-01-01"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid" and "size" in bad.json()["fields"]
    future = api(county_staff).post(FUNDS, {**payload, "issue_date": "2099-01-01"}, format="json")
    assert future.status_code == 400 and "issue_date" in future.json()["fields"]
    elsewhere = api(county_staff).post(FUNDS, {**payload, "division": "331121000000"}, format="json")
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "permission_denied"
    assert api(bank_officer).post(FUNDS, payload, format="json").status_code == 403
    assert api(auditor).post(FUNDS, payload, format="json").status_code == 403
    assert GreenFund.objects.count() == 1


def test_capital_operations_with_idempotency(fund, county_staff, bureau, auditor, outsider):
    client = api(county_staff)
    key_c, key_p = f"c-{uuid.uuid4().hex}", f"p-{uuid.uuid4().hex}"  # Redis outlives the test database
    url = f"{FUNDS}{fund.pk}/commitments/"
    commit = {
        "contributor": bureau.pk,
        "amount": "5000000.00",
        "committed_on": "2026-02-01",
        "document": "协议",
    }
    first = client.post(url, commit, format="json", HTTP_IDEMPOTENCY_KEY=key_c)
    assert first.status_code == 201 and first.json()["contributor_name"] == bureau.name
    replay = client.post(url, commit, format="json", HTTP_IDEMPOTENCY_KEY=key_c)
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    duplicate = client.post(url, commit, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_commitment"
    assert FundCommitment.objects.count() == 1

    pay_url = f"{FUNDS}{fund.pk}/contributions/"
    pay = {
        "commitment": first.json()["id"],
        "amount": "2000000.00",
        "occurred_on": "2026-03-01",
        "reference": "CZ-1",
    }
    paid = client.post(pay_url, pay, format="json", HTTP_IDEMPOTENCY_KEY=key_p)
    assert paid.status_code == 201
    assert paid.json()["kind"] == K.CONTRIBUTION and paid.json()["cash_effect"] == "2000000.00"
    again = client.post(pay_url, pay, format="json", HTTP_IDEMPOTENCY_KEY=key_p)
    assert again.status_code == 200 and again.json()["id"] == paid.json()["id"]
    changed = client.post(pay_url, {**pay, "amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key_p)
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"
    same_reference = client.post(pay_url, pay, format="json")
    assert same_reference.status_code == 409 and same_reference.json()["code"] == "duplicate_reference"
    over = client.post(pay_url, {**pay, "amount": "3000000.01", "reference": "CZ-2"}, format="json")
    assert over.status_code == 409 and over.json()["code"] == "over_commitment"
    assert client.post(pay_url, {**pay, "commitment": 999999}, format="json").json()["fields"] == {
        "commitment": ["本基金没有这条认缴记录。"]
    }
    malformed = client.post(
        pay_url, {"commitment": "x", "amount": "1.234", "occurred_on": "yesterday"}, format="json"
    )
    assert malformed.status_code == 400
    assert set(malformed.json()["fields"]) == {"commitment", "amount", "occurred_on"}
    assert api(auditor).post(pay_url, {**pay, "reference": "CZ-3"}, format="json").status_code == 403
    assert api(outsider).post(pay_url, {**pay, "reference": "CZ-3"}, format="json").status_code == 404
    assert FundMovement.objects.count() == 1 and Movement.objects.count() == 1

    redeem = client.post(
        f"{FUNDS}{fund.pk}/redemptions/",
        {"commitment": first.json()["id"], "amount": "500000.00", "occurred_on": "2026-06-01"},
        format="json",
    )
    assert redeem.status_code == 201 and redeem.json()["cash_effect"] == "-500000.00"
    assert assert_books_agree(fund)["capital"] == Decimal("1500000.00")


def test_deployment_operations_and_position(active_fund, county_staff, project, loan, bank):
    client = api(county_staff)
    base = f"{FUNDS}{active_fund.pk}"
    to_project = client.post(
        f"{base}/drawdowns/",
        {
            "amount": "1000000.00",
            "occurred_on": "2026-06-01",
            "project": project.pk,
            "reference": "TF-1",
            "memo": "建设",
        },
        format="json",
    )
    assert to_project.status_code == 201 and to_project.json()["project_number"] == project.number
    to_loan = client.post(
        f"{base}/drawdowns/",
        {"amount": "200000.00", "occurred_on": "2026-06-01", "loan": loan.pk, "memo": "配资"},
        format="json",
    )
    assert to_loan.status_code == 201 and to_loan.json()["counterparty"] == loan.borrower_id
    wrong = client.post(
        f"{base}/drawdowns/",
        {
            "amount": "1.00",
            "occurred_on": "2026-06-01",
            "loan": loan.pk,
            "recipient": ensure_party(bank).pk,
            "memo": "x",
        },
        format="json",
    )
    assert wrong.status_code == 400 and "recipient" in wrong.json()["fields"]
    short = client.post(
        f"{base}/drawdowns/",
        {"amount": "1800000.01", "occurred_on": "2026-06-01", "project": project.pk, "memo": "x"},
        format="json",
    )
    assert (
        short.status_code == 409
        and short.json()["code"] == "insufficient_cash"
        and "0.01" in short.json()["detail"]
    )
    nothing = client.post(
        f"{base}/drawdowns/", {"amount": "1.00", "occurred_on": "2026-06-01", "memo": "x"}, format="json"
    )
    assert nothing.status_code == 400 and {"project", "loan"} <= set(nothing.json()["fields"])
    missing = client.post(
        f"{base}/drawdowns/",
        {"amount": "1.00", "occurred_on": "2026-06-01", "project": 999999, "memo": "x"},
        format="json",
    )
    assert missing.status_code == 400 and "project" in missing.json()["fields"]

    drawdown = to_project.json()["id"]
    back = client.post(
        f"{base}/returns/",
        {"drawdown": drawdown, "amount": "300000.00", "occurred_on": "2026-06-01"},
        format="json",
    )
    assert back.status_code == 201 and back.json()["drawdown"] == drawdown
    loss = client.post(
        f"{base}/write-offs/",
        {"drawdown": drawdown, "amount": "100000.00", "occurred_on": "2026-06-01", "reason": "停建核销"},
        format="json",
    )
    assert loss.status_code == 201 and loss.json()["cash_effect"] == "0.00"
    over = client.post(
        f"{base}/returns/",
        {"drawdown": drawdown, "amount": "600000.01", "occurred_on": "2026-06-01"},
        format="json",
    )
    assert over.status_code == 409 and over.json()["code"] == "over_outstanding"
    not_drawdown = client.post(
        f"{base}/returns/",
        {"drawdown": back.json()["id"], "amount": "1", "occurred_on": "2026-06-01"},
        format="json",
    )
    assert not_drawdown.status_code == 400 and "drawdown" in not_drawdown.json()["fields"]
    income = client.post(
        f"{base}/income/",
        {"amount": "5000.00", "occurred_on": "2026-06-01", "memo": "利息", "counterparty": bank.pk},
        format="json",
    )
    assert income.status_code == 201 and income.json()["counterparty_name"] == bank.name
    expense = client.post(
        f"{base}/expenses/",
        {"amount": "1000.00", "occurred_on": "2026-06-01", "memo": "管理费"},
        format="json",
    )
    assert expense.status_code == 201

    reversal = client.post(
        f"{base}/reversals/", {"fund_movement": expense.json()["id"], "reason": "重复"}, format="json"
    )
    assert reversal.status_code == 201 and reversal.json()["reverses"] == expense.json()["id"]
    twice = client.post(
        f"{base}/reversals/", {"fund_movement": expense.json()["id"], "reason": "重复"}, format="json"
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_reversed"
    followups = client.post(f"{base}/reversals/", {"fund_movement": drawdown, "reason": "错"}, format="json")
    assert followups.status_code == 409 and followups.json()["code"] == "has_followups"

    position = client.get(f"{base}/position/").json()
    assert position["cash"] == "2105000.00"  # 3,000,000 − 1,200,000 + 300,000 + 5,000
    assert position["deployed"] == "800000.00" and position["losses"] == "100000.00"
    assert position["expense"] == "0.00" and position["income"] == "5000.00"
    assert position["projects"] == [
        {
            "id": project.pk,
            "number": project.number,
            "drawn": "1000000.00",
            "returned": "300000.00",
            "written_off": "100000.00",
            "outstanding": "600000.00",
        }
    ]
    assert position["loans"][0]["outstanding"] == "200000.00"
    assert position["contributors"][0]["paid_in"] == "3000000.00"
    assert {d["drawdown"]: d["outstanding"] for d in position["drawdowns"]} == {
        drawdown: "600000.00",
        to_loan.json()["id"]: "200000.00",
    }
    assert_books_agree(active_fund)


def test_close_and_refusals_after(active_fund, commitment, county_staff):
    client = api(county_staff)
    base = f"{FUNDS}{active_fund.pk}"
    refused = client.post(f"{base}/close/")
    assert refused.status_code == 409 and refused.json()["code"] == "fund_not_empty"
    funds.redeem(actor=county_staff, commitment=commitment, amount="3000000.00", occurred_on=LATER)
    closed = client.post(f"{base}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == FundStatus.CLOSED
    late = client.post(
        f"{base}/income/", {"amount": "1.00", "occurred_on": "2026-06-01", "memo": "利息"}, format="json"
    )
    assert late.status_code == 409 and late.json()["code"] == "fund_status"


def test_movements_list_filters_scope_and_query_count(
    active_fund, county_staff, project, outsider, django_assert_max_num_queries
):
    for n in range(4):
        funds.draw_down(
            actor=county_staff,
            fund=active_fund,
            amount="1000.00",
            occurred_on=LATER,
            recipient=project.owner,
            project=project,
            reference=f"TF-{n}",
            memo="投放",
        )
    client = api(county_staff)
    with django_assert_max_num_queries(8):
        body = client.get(MOVEMENTS, {"fund": active_fund.pk, "kind": K.DRAWDOWN}).json()
    assert body["count"] == 4 and {r["reference"] for r in body["results"]} == {
        "TF-0",
        "TF-1",
        "TF-2",
        "TF-3",
    }
    assert body["results"][0]["project_number"] == project.number
    dated = client.get(MOVEMENTS, {"occurred_before": "2026-03-31"}).json()
    assert [r["kind"] for r in dated["results"]] == [K.CONTRIBUTION]
    assert client.get(MOVEMENTS, {"reference": "tf-2"}).json()["count"] == 1
    assert client.get(MOVEMENTS, {"occurred_after": "nope"}).status_code == 400
    assert api(outsider).get(MOVEMENTS).json()["count"] == 0
    one = FundMovement.objects.filter(kind=K.DRAWDOWN).first()
    assert api(outsider).get(f"{MOVEMENTS}{one.pk}/").status_code == 404
    assert client.get(f"{MOVEMENTS}{one.pk}/").json()["movement"] == one.movement_id
