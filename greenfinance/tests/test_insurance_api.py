# ruff: noqa: F811  (fixtures imported from fixtures_insurance)
"""`/api/v1/greenfinance/policies/` and `/claims/`: the desk records and runs them; bad input is
a 400 with the field (nothing written), a duplicate a 409; a bank reads only the policies securing
its own business (404 otherwise, 403 on any write) and its reads of insured persons are logged;
another county's staff get 404; the lists are pinned in queries."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from directory.models import PersonalDataAccess
from directory.services import issue_api_client
from greenfinance.models import ClaimPayout, ClaimStatus, InsuranceClaim, InsurancePolicy, PolicyStatus
from greenfinance.services import insurance as services

from .fixtures_insurance import (  # noqa: F401  (fixtures)
    INCIDENT,
    auditor,
    forest_asset,
    insurer,
    make_policy,
    policy,
    qingtian_staff,
)

pytestmark = pytest.mark.django_db
POLICIES = "/api/v1/greenfinance/policies/"
CLAIMS = "/api/v1/greenfinance/claims/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def payload(insurer, households, forest_asset):
    return {
        "number": "API-001",
        "kind": "forest",
        "insurer": insurer.pk,
        "insured": households[0].pk,
        "division": "331102199201",
        "sum_insured": "300000.00",
        "premium": "1200.00",
        "subsidy_rate": "0.6",
        "start_date": "2026-03-01",
        "end_date": "2027-03-01",
        "assets": [forest_asset.pk],
    }


@pytest.fixture
def secured(make_policy, make_application, forest_asset):
    application = make_application(rights=[forest_asset.rights.get()])
    return make_policy(application=application, assets=[forest_asset], number="SEC-API")


def test_create_a_policy(payload, county_staff, forest_asset, make_application):
    application = make_application(rights=[forest_asset.rights.get()])
    response = api(county_staff).post(POLICIES, {**payload, "application": application.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "API-001" and body["kind_label"] == "森林火灾及病虫害保险"
    assert body["subsidy_amount"] == "720.00" and body["remaining"] == "300000.00"
    assert body["asset_codes"] == [forest_asset.code] and body["application_number"] == application.number
    assert body["insured_name"] == "张山林" and body["status"] == "active" and body["loan_number"] is None
    again = api(county_staff).post(POLICIES, payload, format="json")
    assert (
        again.status_code == 409
        and again.json()["code"] == "duplicate"
        and "number" in again.json()["fields"]
    )
    assert InsurancePolicy.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": ""}, "number"),
        ({"kind": "fire"}, "kind"),
        ({"sum_insured": "0"}, "sum_insured"),
        ({"premium": "-1"}, "premium"),
        ({"premium": "1.234"}, "premium"),
        ({"subsidy_rate": "1.5"}, "subsidy_rate"),
        ({"end_date": "2026-03-01"}, "end_date"),
        ({"start_date": "someday"}, "start_date"),
        ({"division": "999999999999"}, "division"),
        ({"insurer": 999999}, "insurer"),
        ({"insured": 999999}, "insured"),
        ({"beneficiary": 999999}, "beneficiary"),
        ({"assets": [999999]}, "assets"),
        ({"assets": "1"}, "assets"),
        ({"application": 999999}, "application"),
        ({"loan": 999999}, "loan"),
        ({"project": 999999}, "project"),
    ],
)
def test_bad_policies_are_refused(payload, county_staff, change, field):
    response = api(county_staff).post(POLICIES, {**payload, **change}, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert not InsurancePolicy.objects.exists()


def test_repeated_assets_and_other_refusals(payload, county_staff, forest_asset, bank, bank_officer, auditor):
    repeated = api(county_staff).post(POLICIES, {**payload, "assets": [forest_asset.pk] * 2}, format="json")
    assert repeated.status_code == 400 and "assets" in repeated.json()["fields"]
    not_insurer = api(county_staff).post(POLICIES, {**payload, "insurer": bank.pk}, format="json")
    assert not_insurer.status_code == 400 and "insurer" in not_insurer.json()["fields"]
    assert api(bank_officer).post(POLICIES, payload, format="json").status_code == 403
    assert api(auditor).post(POLICIES, payload, format="json").status_code == 403
    assert not InsurancePolicy.objects.exists()


def test_lists_are_scoped_filtered_and_pinned(
    make_policy,
    secured,
    county_staff,
    bank_officer,
    second_bank_officer,
    qingtian_staff,
    django_assert_max_num_queries,
):
    for n in range(4):
        make_policy(
            number=f"L-{n}", kind="crop" if n % 2 else "forest", end_date=datetime.date(2026, 12, 1 + n)
        )
    with django_assert_max_num_queries(8):
        body = api(county_staff).get(POLICIES).json()
    assert body["count"] == 5
    assert {p["number"] for p in api(county_staff).get(POLICIES, {"kind": "crop"}).json()["results"]} == {
        "L-1",
        "L-3",
    }
    soon = api(county_staff).get(POLICIES, {"expiring_within": 9}).json()["results"]
    assert {p["number"] for p in soon} == {"L-0", "L-1", "L-2"}  # ending 1–3 December, today 23 Nov
    assert api(county_staff).get(POLICIES, {"expiring_within": "x"}).status_code == 400
    assert api(county_staff).get(POLICIES, {"application": secured.application_id}).json()["count"] == 1
    assert api(county_staff).get(POLICIES, {"division": "331102000000"}).json()["count"] == 5
    # a bank: only the policy securing its application, read only
    with django_assert_max_num_queries(12):
        mine = api(bank_officer).get(POLICIES).json()
    assert [p["number"] for p in mine["results"]] == ["SEC-API"]
    assert PersonalDataAccess.objects.filter(viewer=bank_officer).count() >= 1
    other = InsurancePolicy.objects.get(number="L-0")
    assert api(bank_officer).get(f"{POLICIES}{other.pk}/").status_code == 404
    assert api(bank_officer).get(f"{POLICIES}{secured.pk}/").json()["number"] == "SEC-API"
    cancel = api(bank_officer).post(f"{POLICIES}{secured.pk}/cancel/", {"on": "2026-06-01", "reason": "x"})
    assert cancel.status_code == 403
    assert api(second_bank_officer).get(f"{POLICIES}{secured.pk}/").status_code == 404
    assert api(qingtian_staff).get(f"{POLICIES}{secured.pk}/").status_code == 404
    assert api(qingtian_staff).get(POLICIES).json()["count"] == 0


def test_a_bank_system_reads_with_its_token_and_the_call_is_logged(secured, bank, bank_officer):
    from directory.models import ApiRequestLog

    _token, raw = issue_api_client(organization=bank, name="信贷系统", issued_by=bank_officer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    body = client.get(POLICIES).json()
    assert [p["number"] for p in body["results"]] == ["SEC-API"]
    log = ApiRequestLog.objects.filter(path__startswith=POLICIES).latest("pk")
    assert log.personal_data == [{"person": secured.insured.person_id, "fields": ["name"]}]


def test_cancel(policy, county_staff):
    url = f"{POLICIES}{policy.pk}/cancel/"
    bad = api(county_staff).post(url, {"on": "2030-01-01", "reason": "退保"}, format="json")
    assert bad.status_code == 400 and "on" in bad.json()["fields"]
    assert api(county_staff).post(url, {"on": "2026-06-01"}, format="json").status_code == 400
    done = api(county_staff).post(url, {"on": "2026-06-01", "reason": "退保"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == PolicyStatus.CANCELLED
    again = api(county_staff).post(url, {"on": "2026-06-01", "reason": "退保"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_the_claims_api(
    policy, forest_asset, county_staff, households, qingtian_staff, django_assert_max_num_queries
):
    client = api(county_staff)
    report = {
        "policy": policy.pk,
        "incident_date": INCIDENT.isoformat(),
        "cause": "山火",
        "claimed_amount": "200000",
    }
    for change, field in [
        ({"policy": 999999}, "policy"),
        ({"incident_date": "2025-12-31"}, "incident_date"),
        ({"claimed_amount": "0"}, "claimed_amount"),
        ({"asset": 999999}, "asset"),
        ({"cause": ""}, "cause"),
    ]:
        response = client.post(CLAIMS, {**report, **change}, format="json")
        assert response.status_code == 400 and field in response.json()["fields"], (change, response.json())
    assert not InsuranceClaim.objects.exists()
    created = client.post(CLAIMS, {**report, "asset": forest_asset.pk}, format="json")
    assert created.status_code == 201 and created.json()["asset_code"] == forest_asset.code
    url = f"{CLAIMS}{created.json()['id']}/"
    assert client.post(f"{url}approve/", {"approved_amount": "1"}, format="json").status_code == 409
    assert client.post(f"{url}assess/").json()["status"] == ClaimStatus.ASSESSING
    over = client.post(f"{url}approve/", {"approved_amount": "200000.01"}, format="json")
    assert over.status_code == 400 and "approved_amount" in over.json()["fields"]
    approved = client.post(f"{url}approve/", {"approved_amount": "150000", "note": "定损"}, format="json")
    assert approved.status_code == 200 and approved.json()["approved_amount"] == "150000.00"
    pay = {"amount": "100000", "paid_on": "2026-06-01", "payee": households[0].pk, "reference": "P-1"}
    first = client.post(f"{url}payout/", pay, format="json")
    assert first.status_code == 201 and first.json()["paid_amount"] == "100000.00"
    assert client.post(f"{url}payout/", pay, format="json").json()["code"] == "duplicate"
    too_much = client.post(f"{url}payout/", {**pay, "reference": "P-2", "amount": "50000.01"}, format="json")
    assert too_much.status_code == 409 and too_much.json()["code"] == "over_approved"
    stranger = client.post(
        f"{url}payout/", {**pay, "reference": "P-2", "payee": households[1].pk}, format="json"
    )
    assert stranger.status_code == 400 and "payee" in stranger.json()["fields"]
    assert client.post(f"{url}payout/", {**pay, "payee": 999999}, format="json").status_code == 400
    last = client.post(f"{url}payout/", {**pay, "reference": "P-2", "amount": "50000"}, format="json")
    assert last.json()["status"] == ClaimStatus.PAID and len(last.json()["payouts"]) == 2
    assert ClaimPayout.objects.count() == 2

    second = client.post(CLAIMS, {**report, "claimed_amount": "1000"}, format="json").json()
    assert client.post(f"{CLAIMS}{second['id']}/reject/", {}, format="json").status_code == 400
    assert client.post(f"{CLAIMS}{second['id']}/withdraw/", {"note": "撤案"}).json()["status"] == "withdrawn"
    assert client.post(f"{CLAIMS}{second['id']}/reject/", {"note": "x"}).status_code == 409

    for n in range(3):
        services.report_claim(
            actor=county_staff, policy=policy, incident_date=INCIDENT, cause=f"虫害{n}", claimed_amount="10"
        )
    with django_assert_max_num_queries(8):
        listing = client.get(CLAIMS).json()
    assert listing["count"] == 5
    assert client.get(CLAIMS, {"status": "paid"}).json()["count"] == 1
    assert client.get(CLAIMS, {"policy": policy.pk, "kind": "forest"}).json()["count"] == 5
    assert api(qingtian_staff).get(url).status_code == 404
    assert api(qingtian_staff).post(f"{url}assess/").status_code == 404


def test_a_bank_reads_the_claims_of_its_policies_only(secured, policy, county_staff, bank_officer):
    theirs = services.report_claim(
        actor=county_staff, policy=secured, incident_date=INCIDENT, cause="火", claimed_amount="10"
    )
    other = services.report_claim(
        actor=county_staff, policy=policy, incident_date=INCIDENT, cause="火", claimed_amount="10"
    )
    client = api(bank_officer)
    assert [c["number"] for c in client.get(CLAIMS).json()["results"]] == [theirs.number]
    assert client.get(f"{CLAIMS}{other.pk}/").status_code == 404
    assert client.post(f"{CLAIMS}{theirs.pk}/assess/").status_code == 403
    assert client.post(CLAIMS, {}, format="json").status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == ClaimStatus.REPORTED and Decimal(theirs.claimed_amount) == Decimal("10")
