# ruff: noqa: F811  (fixtures imported from test_applications_fixtures and test_collateral_api)
"""`/api/v1/finance/applications/` and `/api/v1/finance/appraisals/`: scoping (a bank sees its own
products' applications once approved, 404 otherwise), staff writes, the bank's decision, the
maker-checker refusal, error bodies, personal-data logging and pinned query counts."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from directory.models import ApiRequestLog, PersonalDataAccess
from finance.models import ApplicationStatus, CollateralAppraisal, LoanApplication
from finance.services import applications as services

from .test_applications_fixtures import (  # noqa: F401  (fixtures)
    PAST,
    approved,
    draft,
    other_county_staff,
    submitted,
)
from .test_collateral_api import token_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/finance/applications/"
APPRAISALS = "/api/v1/finance/appraisals/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["detail"]
    if field:
        assert field in body["fields"], body


def test_lists_are_scoped_and_pinned(
    draft,
    submitted,
    approved,
    bank_officer,
    second_bank_officer,
    county_staff,
    other_county_staff,
    make_product,
    second_bank,
    django_assert_max_num_queries,
):
    draft()
    submitted()
    visible = [approved()[0] for _i in range(3)]
    other_bank_product = make_product(bank_org=second_bank)
    foreign, _right = approved(product=other_bank_product)
    with django_assert_max_num_queries(12):
        body = api(county_staff).get(URL).json()
    assert body["count"] == 6
    assert body["results"][0]["collateral"][0]["appraisal_number"].startswith("PG")
    with django_assert_max_num_queries(12):
        seen = api(bank_officer).get(URL).json()
    assert sorted(r["id"] for r in seen["results"]) == sorted(a.pk for a in visible)
    assert {r["status"] for r in seen["results"]} == {"approved"}
    assert [r["id"] for r in api(second_bank_officer).get(URL).json()["results"]] == [foreign.pk]
    assert api(other_county_staff).get(URL).json()["count"] == 0
    assert api(county_staff).get(URL, {"status": "draft"}).json()["count"] == 1
    assert api(county_staff).get(URL, {"product": other_bank_product.pk}).json()["count"] == 1
    assert api(county_staff).get(URL, {"bank": second_bank.pk}).json()["count"] == 1


def test_other_banks_get_404_everywhere(approved, draft, second_bank_officer, bank_officer):
    application, _right = approved()
    hidden, _right = draft()
    client = api(second_bank_officer)
    assert_error(client.get(f"{URL}{application.pk}/"), 404, "not_found")
    assert_error(client.post(f"{URL}{application.pk}/decide/", {"approve": True}), 404, "not_found")
    assert_error(api(bank_officer).get(f"{URL}{hidden.pk}/"), 404, "not_found")  # not yet approved for it
    appraisal = application.collateral.get().appraisal
    assert_error(client.get(f"{APPRAISALS}{appraisal.pk}/"), 404, "not_found")
    assert api(bank_officer).get(f"{APPRAISALS}{appraisal.pk}/").json()["number"] == appraisal.number
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_staff_prepare_submit_and_check_through_the_api(valued_right, make_product, county_staff, checker):
    right = valued_right()
    product = make_product()
    payload = {
        "applicant": right.holder_id,
        "product": product.pk,
        "amount": "150000.00",
        "term_months": 36,
        "repayment_method": "equal_installment",
        "payment_frequency": "monthly",
        "annual_rate": "0.036000",
        "purpose": "林下经济种植",
        "rights": [right.pk],
        "consent_document": "AUTH-1",
    }
    maker = api(county_staff)
    assert_error(maker.post(URL, {**payload, "amount": "5"}, format="json"), 400, "invalid", "amount")
    assert_error(maker.post(URL, {**payload, "rights": [999999]}, format="json"), 400, "invalid", "rights")
    assert_error(
        maker.post(URL, {**payload, "term_months": "x"}, format="json"), 400, "invalid", "term_months"
    )
    assert not LoanApplication.objects.exists()
    created = maker.post(URL, payload, format="json")
    assert created.status_code == 201 and created.json()["status"] == "draft"
    pk = created.json()["id"]
    patched = maker.patch(f"{URL}{pk}/", {"purpose": "茶园改造"}, format="json")
    assert patched.status_code == 200 and patched.json()["purpose"] == "茶园改造"
    assert_error(maker.post(f"{URL}{pk}/submit/"), 409, "appraisal_missing")
    appraised = maker.post(
        APPRAISALS, {"right": right.pk, "product": product.pk, "application": pk, "appraised_on": str(PAST)}
    )
    assert appraised.status_code == 201
    assert Decimal(appraised.json()["max_loan"]) > Decimal("150000")
    assert appraised.json()["calculation"]["chosen"] == "income"
    submitted = maker.post(f"{URL}{pk}/submit/")
    assert (
        submitted.status_code == 200
        and submitted.json()["collateral"][0]["appraisal"] == appraised.json()["id"]
    )
    assert_error(maker.post(f"{URL}{pk}/check/", {"approve": True}), 403, "maker_checker")
    assert_error(api(checker).post(f"{URL}{pk}/check/", {"approve": False}), 400, "invalid", "note")
    checked = api(checker).post(f"{URL}{pk}/check/", {"approve": True, "note": "同意"})
    assert checked.status_code == 200 and checked.json()["status"] == "approved"
    assert checked.json()["checked_by"] == str(checker)


def test_banks_may_not_prepare_or_appraise(valued_right, make_product, bank_officer):
    right = valued_right()
    product = make_product()
    client = api(bank_officer)
    assert_error(client.post(URL, {"applicant": right.holder_id}, format="json"), 403, "permission_denied")
    assert_error(
        client.post(APPRAISALS, {"right": right.pk, "product": product.pk}), 403, "permission_denied"
    )
    assert not CollateralAppraisal.objects.exists()


def test_the_bank_decides_through_its_token_and_the_read_is_logged(approved, bank, bank_officer, households):
    application, _right = approved()
    client = token_client(bank, bank_officer)
    assert_error(
        client.post(f"{URL}{application.pk}/decide/", {"approve": True, "approved_amount": "999999"}),
        400,
        "invalid",
        "approved_amount",
    )
    response = client.post(
        f"{URL}{application.pk}/decide/", {"approve": True, "approved_amount": "100000.00"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "bank_approved" and response.json()["approved_amount"] == "100000.00"
    assert_error(
        client.post(f"{URL}{application.pk}/decide/", {"approve": False, "note": "x"}),
        409,
        "invalid_transition",
    )
    body = client.get(f"{URL}{application.pk}/").json()
    assert body["applicant_name"] == households[0].person.name
    read = ApiRequestLog.objects.filter(method="GET").get()
    assert read.personal_data == [{"person": households[0].person_id, "fields": ["name"]}]
    assert not PersonalDataAccess.objects.exists()  # token calls are logged once, in the API log


def test_a_bank_officer_in_the_browser_is_logged_as_a_personal_data_read(approved, bank_officer, households):
    approved()
    assert api(bank_officer).get(URL).json()["count"] == 1
    access = PersonalDataAccess.objects.get()
    assert (access.viewer, access.person) == (bank_officer, households[0].person)


def test_a_withdrawn_application_stays_visible_to_the_bank_it_reached(
    approved, draft, county_staff, bank_officer
):
    reached, _right = approved()
    services.withdraw_application(actor=county_staff, application=reached, reason="借款人放弃")
    never, _right = draft()
    services.withdraw_application(actor=county_staff, application=never, reason="录入错误")
    ids = [r["id"] for r in api(bank_officer).get(URL).json()["results"]]
    assert ids == [reached.pk]


def test_appraisal_list_is_scoped(
    approved, draft, county_staff, bank_officer, second_bank_officer, django_assert_max_num_queries
):
    application, _right = approved()
    other, right = draft()
    from finance.services.appraisal import appraise

    appraise(actor=county_staff, right=right, product=other.product, application=other, appraised_on=PAST)
    with django_assert_max_num_queries(8):
        staff = api(county_staff).get(APPRAISALS).json()
    assert staff["count"] == 2
    with django_assert_max_num_queries(8):
        bank = api(bank_officer).get(APPRAISALS).json()
    assert [a["application_number"] for a in bank["results"]] == [application.number]
    assert api(second_bank_officer).get(APPRAISALS).json()["count"] == 0
