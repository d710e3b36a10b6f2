# ruff: noqa: F811  (fixtures imported from test_loans_fixtures)
"""`/api/v1/finance/loans/`: scoped reads with the position, disbursement and repayment reports with
a durable Idempotency-Key, schedule, statement and the delinquency summary; another bank gets 404."""

import datetime
from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from directory.models import ApiRequestLog
from directory.services import issue_api_client
from finance.models import BankRequestKey, Loan, Repayment
from finance.services import loans

from .test_loans_fixtures import A, approved, disbursed, unsecured_product  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
URL = "/api/v1/finance/loans/"
FEB15 = "2025-02-15"


def token_client(organization, issued_by):
    token, raw = issue_api_client(organization=organization, name="信贷系统", issued_by=issued_by)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    client.token = token
    return client


@pytest.fixture
def bank_api(bank, bank_officer):
    return token_client(bank, bank_officer)


@pytest.fixture
def second_bank_api(second_bank, second_bank_officer):
    return token_client(second_bank, second_bank_officer)


@pytest.fixture
def staff_api(county_staff):
    client = APIClient()
    client.force_authenticate(county_staff)
    return client


def assert_error(response, status_code, code):
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["code"] == code and body["detail"], body
    return body


@pytest.fixture
def book(disbursed, make_product, second_bank, second_bank_officer):
    """Three loans of the bank (one with a repayment) and one of the second bank."""
    own = [disbursed() for _ in range(3)]
    loans.record_repayment(
        actor=own[0].recorded_by, loan=own[0], amount=A, paid_on=datetime.date(2025, 2, 15)
    )
    other = disbursed(product=make_product(bank_org=second_bank), actor=second_bank_officer)
    return own, other


def test_list_and_retrieve_are_scoped_with_the_position(
    book, disbursed, bank_api, second_bank_api, staff_api, django_assert_max_num_queries
):
    own, _other = book
    with django_assert_max_num_queries(8):
        response = bank_api.get(URL)
    body = response.json()
    assert response.status_code == 200 and body["count"] == 3
    assert {row["number"] for row in body["results"]} == {loan.number for loan in own}
    row = next(r for r in body["results"] if r["id"] == own[0].pk)
    assert row["outstanding_principal"] == "292096.09"
    assert (
        row["overdue_principal"] != "0.00" and row["bucket"] == "90_plus" and row["classification"] == "loss"
    )
    assert row["days_past_due"] > 600 and row["next_due_date"] is not None and D(row["penalty_accrued"]) > 0
    assert D(row["payoff"]) > D(row["outstanding_principal"])
    # more loans, the same number of queries
    own.extend(disbursed() for _ in range(3))
    with django_assert_max_num_queries(8):
        assert bank_api.get(URL).json()["count"] == 6
    assert second_bank_api.get(URL).json()["count"] == 1
    assert staff_api.get(URL).json()["count"] == 7
    assert bank_api.get(f"{URL}{own[0].pk}/").json()["number"] == own[0].number
    assert_error(second_bank_api.get(f"{URL}{own[0].pk}/"), 404, "not_found")
    assert bank_api.get(URL, {"bucket": "current"}).json()["count"] == 0
    assert bank_api.get(URL, {"bucket": "90_plus", "status": "active"}).json()["count"] == 6
    assert bank_api.get(URL, {"q": own[1].number}).json()["count"] == 1
    assert bank_api.get(URL, {"bucket": "nonsense"}).status_code == 400


def test_bank_reads_of_borrowers_are_in_the_api_log(book, bank_api):
    own, _other = book
    bank_api.get(f"{URL}{own[0].pk}/")
    log = ApiRequestLog.objects.get(path=f"{URL}{own[0].pk}/")
    assert log.personal_data == [{"person": own[0].borrower.person_id, "fields": ["name"]}]


def test_disbursement_report_is_idempotent(approved, bank_api, bank):
    application = approved()
    payload = {
        "application": application.pk,
        "principal": "300000.00",
        "disbursed_on": "2025-01-15",
        "bank_reference": "JJ-API-1",
    }
    first = bank_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="disb-1")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["principal"] == "300000.00" and body["bank_reference"] == "JJ-API-1"
    assert body["maturity_date"] == "2028-01-15" and body["status"] == "active"
    again = bank_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="disb-1")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Loan.objects.count() == 1
    changed = dict(payload, principal="200000.00")
    assert_error(
        bank_api.post(URL, changed, format="json", HTTP_IDEMPOTENCY_KEY="disb-1"),
        409,
        "idempotency_key_reused",
    )
    # without a key the application is no longer awaiting disbursement
    assert_error(bank_api.post(URL, payload, format="json"), 409, "not_bank_approved")
    assert BankRequestKey.objects.filter(organization=bank, endpoint="loans").count() == 1


def test_a_refused_disbursement_leaves_the_key_free(approved, bank_api, make_appraisal, make_pledge):
    application = approved(pledged=False)
    payload = {
        "application": application.pk,
        "principal": "300000.00",
        "disbursed_on": "2025-01-15",
        "bank_reference": "JJ-API-2",
    }
    assert_error(
        bank_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="disb-2"), 409, "pledge_required"
    )
    assert not BankRequestKey.objects.exists() and not Loan.objects.exists()
    right = application.collateral.get().right
    make_pledge(application, make_appraisal(right, application.product, application=application), D("300000"))
    assert bank_api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="disb-2").status_code == 201


@pytest.mark.parametrize(
    ("change", "status_code", "code", "field"),
    [
        ({"disbursed_on": "2099-01-01"}, 400, "invalid", "disbursed_on"),
        ({"principal": "abc"}, 400, "invalid", "principal"),
        ({"principal": "1.001"}, 400, "invalid", "principal"),
        ({"bank_reference": ""}, 400, "invalid", "bank_reference"),
        ({"first_due_date": "2025-01-10"}, 400, "invalid", "first_due_date"),
    ],
)
def test_bad_disbursement_reports(approved, bank_api, change, status_code, code, field):
    application = approved()
    payload = {
        "application": application.pk,
        "principal": "300000.00",
        "disbursed_on": "2025-01-15",
        "bank_reference": "JJ-API-3",
    }
    body = assert_error(bank_api.post(URL, {**payload, **change}, format="json"), status_code, code)
    assert field in body["fields"]
    assert not Loan.objects.exists()


def test_disbursement_by_staff_or_for_another_bank(approved, staff_api, second_bank_api, bank_api):
    application = approved()
    payload = {
        "application": application.pk,
        "principal": "300000.00",
        "disbursed_on": "2025-01-15",
        "bank_reference": "JJ-API-4",
    }
    assert_error(staff_api.post(URL, payload, format="json"), 403, "permission_denied")
    assert_error(second_bank_api.post(URL, payload, format="json"), 404, "not_found")
    assert_error(bank_api.post(URL, {**payload, "application": 999999}, format="json"), 404, "not_found")
    assert_error(bank_api.post(URL, {**payload, "bank_reference": "x" * 61}, format="json"), 400, "invalid")
    assert not Loan.objects.exists()


def test_repayment_posted_twice_with_one_key_is_one_repayment(
    disbursed, bank_api, second_bank_api, staff_api
):
    loan = disbursed()
    url = f"{URL}{loan.pk}/repayments/"
    payload = {"amount": str(A), "paid_on": FEB15, "bank_reference": "LS-1"}
    first = bank_api.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="rep-1")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["kind"] == "regular" and body["lines"] == [
        {"seq": 1, "principal": "7903.91", "interest": "900.00", "penalty": "0.00"}
    ]
    again = bank_api.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="rep-1")
    assert (
        again.status_code == 200
        and again.json()["id"] == body["id"]
        and again["Idempotent-Replayed"] == "true"
    )
    assert Repayment.objects.count() == 1
    assert_error(
        bank_api.post(url, {**payload, "amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="rep-1"),
        409,
        "idempotency_key_reused",
    )
    other_loan = disbursed()
    assert_error(
        bank_api.post(
            f"{URL}{other_loan.pk}/repayments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="rep-1"
        ),
        409,
        "idempotency_key_reused",
    )
    # without a key the same bank reference is refused as a duplicate
    assert_error(bank_api.post(url, payload, format="json"), 409, "duplicate_bank_reference")
    assert_error(
        second_bank_api.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="rep-1"), 404, "not_found"
    )
    listed = bank_api.get(url).json()
    assert [r["id"] for r in listed] == [body["id"]]
    # staff of the division may report too, in their own key space
    staff = staff_api.post(
        url, {"amount": "100.00", "paid_on": FEB15}, format="json", HTTP_IDEMPOTENCY_KEY="rep-1"
    )
    assert staff.status_code == 201 and Repayment.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "status_code", "code", "field"),
    [
        ({"amount": "0"}, 400, "invalid", "amount"),
        ({"amount": "-1"}, 400, "invalid", "amount"),
        ({"amount": "1.001"}, 400, "invalid", "amount"),
        ({"paid_on": "2025-01-14"}, 400, "invalid", "paid_on"),
        ({"paid_on": "yesterday"}, 400, "invalid", "paid_on"),
        ({"prepayment": "skip"}, 400, "invalid", "prepayment"),
        ({"amount": "300900.01"}, 409, "overpayment", "amount"),
    ],
)
def test_bad_repayment_reports(disbursed, bank_api, change, status_code, code, field):
    loan = disbursed()
    payload = {"amount": str(A), "paid_on": FEB15, **change}
    body = assert_error(
        bank_api.post(f"{URL}{loan.pk}/repayments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k"),
        status_code,
        code,
    )
    assert field in body["fields"]
    assert not Repayment.objects.exists() and not BankRequestKey.objects.exists()
    if code == "overpayment":
        assert "300900.00" in body["detail"]
    bad_key = bank_api.post(
        f"{URL}{loan.pk}/repayments/", payload, format="json", HTTP_IDEMPOTENCY_KEY="sp ace"
    )
    assert_error(bad_key, 400, "invalid")


def test_schedule_statement_and_delinquency(book, bank_api, second_bank_api, staff_api):
    own, _other = book
    schedule = bank_api.get(f"{URL}{own[0].pk}/schedule/").json()
    assert len(schedule) == 36 and sum(D(r["principal_due"]) for r in schedule) == D("300000.00")
    assert schedule[0]["settled_on"] == FEB15 and schedule[0]["outstanding"] == "0.00"
    statement = bank_api.get(f"{URL}{own[0].pk}/statement/", {"start": "2025-01-01", "end": "2025-02-28"})
    assert statement.status_code == 200
    body = statement.json()
    assert (body["opening_balance"], body["disbursed"], body["principal_paid"], body["closing_balance"]) == (
        "0.00",
        "300000.00",
        "7903.91",
        "292096.09",
    )
    assert body["repayments"][0]["lines"][0]["interest"] == "900.00" and body["scheduled"][0]["seq"] == 1
    bad = bank_api.get(f"{URL}{own[0].pk}/statement/", {"start": "2025-03-01", "end": "2025-02-01"})
    assert "end" in assert_error(bad, 400, "invalid")["fields"]
    assert "start" in assert_error(bank_api.get(f"{URL}{own[0].pk}/statement/"), 400, "invalid")["fields"]
    for path in ("schedule/", "statement/?start=2025-01-01&end=2025-02-01", "repayments/"):
        assert_error(second_bank_api.get(f"{URL}{own[0].pk}/{path}"), 404, "not_found")
    summary = {row["bucket"]: row for row in bank_api.get(f"{URL}delinquency/").json()}
    assert list(summary) == ["current", "1_30", "31_60", "61_90", "90_plus"]
    assert summary["90_plus"]["count"] == 3 and summary["current"]["count"] == 0
    assert D(summary["90_plus"]["outstanding"]) == D("892096.09")
    assert sum(row["count"] for row in second_bank_api.get(f"{URL}delinquency/").json()) == 1
    assert sum(row["count"] for row in staff_api.get(f"{URL}delinquency/").json()) == 4


def test_openapi_schema_documents_the_loan_endpoints(staff_api):
    schema = staff_api.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        URL,
        f"{URL}{{id}}/repayments/",
        f"{URL}{{id}}/schedule/",
        f"{URL}{{id}}/statement/",
        f"{URL}delinquency/",
    ):
        assert path in paths, path
    assert "Idempotency-Key" in str(paths[URL]["post"]["parameters"])
