# ruff: noqa: F811  (fixtures imported from test_scoring_fixtures)
"""`/api/v1/finance/credit-scores/` and `/api/v1/finance/eco-behaviour/`: who sees which scores and
records, what a bank's call logs, and bad input."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from directory.models import ApiRequestLog
from directory.services import issue_api_client
from finance.models import ApplicationStatus, CreditScore, EcoBehaviourRecord
from finance.services import scoring

from .test_scoring_fixtures import (  # noqa: F401  (fixtures)
    days_ago,
    household_card,
    other_county,
    other_county_staff,
    other_village_clerk,
    record,
    village_clerk,
)

pytestmark = pytest.mark.django_db
SCORES = "/api/v1/finance/credit-scores/"
RECORDS = "/api/v1/finance/eco-behaviour/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def token_client(organization, issued_by):
    _token, raw = issue_api_client(organization=organization, name="信贷系统", issued_by=issued_by)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def scored(
    household_card, households, record, make_product, make_application, second_bank, second_bank_officer
):
    """Three scored villagers: the first applied to the demo bank (sent on), the second to the
    second bank (sent on), the third to the demo bank (still a draft)."""
    for party in households:
        record(party, "garbage_sorting", "1")
        scoring.recompute_credit_score(party.pk)
    make_application(applicant=households[0], status=ApplicationStatus.APPROVED)
    make_application(
        applicant=households[1],
        status=ApplicationStatus.BANK_APPROVED,
        product=make_product(bank_org=second_bank, created_by=second_bank_officer),
    )
    make_application(applicant=households[2], status=ApplicationStatus.DRAFT)
    return {party.pk: scoring.current_score(party) for party in households}


def test_staff_and_clerks_see_the_scores_of_their_reach(
    scored, households, county_staff, village_clerk, other_village_clerk, django_assert_max_num_queries
):
    client = api(county_staff)
    with django_assert_max_num_queries(8):
        body = client.get(SCORES).json()
    assert body["count"] == 3
    first = next(row for row in body["results"] if row["party"] == households[0].pk)
    assert first["party_name"] == "张山林" and first["subject"] == "household"
    assert first["score"] == "602.00" and first["grade"] == "B" and first["suggested_line"] == "2000.00"
    assert first["factors"][0]["explanation"].startswith("近 24 个月有效生态加分记录 1 条")
    assert api(village_clerk).get(SCORES).json()["count"] == 3
    assert api(other_village_clerk).get(SCORES).json()["count"] == 0
    score = scored[households[0].pk]
    assert api(other_village_clerk).get(f"{SCORES}{score.pk}/").status_code == 404
    assert client.get(SCORES, {"party": households[1].pk}).json()["count"] == 1
    assert client.get(SCORES, {"is_current": "false"}).json()["count"] == 0
    assert client.get(SCORES, {"grade": "AAA"}).json()["count"] == 0


def test_banks_see_only_their_applicants_and_the_call_is_logged(
    scored, households, bank, bank_officer, second_bank, second_bank_officer, django_assert_max_num_queries
):
    own, other, draft = (scored[party.pk] for party in households)
    client = token_client(bank, bank_officer)
    with django_assert_max_num_queries(12):
        body = client.get(SCORES).json()
    assert [row["id"] for row in body["results"]] == [own.pk]
    assert client.get(f"{SCORES}{other.pk}/").status_code == 404
    assert client.get(f"{SCORES}{draft.pk}/").status_code == 404  # not sent to the bank yet
    detail = client.get(f"{SCORES}{own.pk}/").json()
    assert detail["party"] == households[0].pk and len(detail["factors"]) == 5
    logs = list(ApiRequestLog.objects.order_by("pk"))
    assert [log.status_code for log in logs] == [200, 404, 404, 200]
    assert logs[0].personal_data == [{"person": households[0].person_id, "fields": ["credit_score", "name"]}]
    assert logs[1].personal_data == [] and logs[3].organization == bank
    second = token_client(second_bank, second_bank_officer)
    assert [row["id"] for row in second.get(SCORES).json()["results"]] == [other.pk]
    assert second.get(f"{SCORES}{own.pk}/").status_code == 404
    assert client.post(SCORES, {}, format="json").status_code == 405


def test_eco_behaviour_api_records_and_revokes(
    household_card, households, county_staff, village, django_capture_on_commit_callbacks
):
    client = api(county_staff)
    payload = {
        "party": households[0].pk,
        "division": village.code,
        "category": "illegal_discharge",
        "points": "-3",
        "occurred_on": str(days_ago(5)),
        "description": "生活污水直排溪沟",
        "source_document": "示范村找茬团评议记录 2026-11",
    }
    with django_capture_on_commit_callbacks() as callbacks:
        made = client.post(RECORDS, payload, format="json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (
        body["points"] == "-3.00" and body["party_name"] == "张山林" and body["division_code"] == village.code
    )
    assert len(callbacks) == 1  # the recompute is scheduled
    revoked = client.post(f"{RECORDS}{body['id']}/revoke/", {"reason": "误记"}, format="json")
    assert revoked.status_code == 200 and revoked.json()["revoke_reason"] == "误记"
    again = client.post(f"{RECORDS}{body['id']}/revoke/", {"reason": "误记"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "revoked"
    assert client.get(RECORDS, {"revoked": "true"}).json()["count"] == 1
    assert client.get(RECORDS, {"revoked": "false"}).json()["count"] == 0


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"points": "3"}, 400, "points"),  # a deduction recorded as a plus
        ({"points": "0"}, 400, "points"),
        ({"points": "101"}, 400, "points"),
        ({"points": "1.234"}, 400, "points"),
        ({"division": "999999999999"}, 400, "division"),
        ({"division": "3311"}, 400, "division"),
        ({"occurred_on": "2099-01-01"}, 400, "occurred_on"),
        ({"category": "littering"}, 400, "category"),
        ({"description": ""}, 400, "description"),
        ({"party": 999999999}, 404, None),
    ],
)
def test_bad_eco_behaviour_is_refused(households, county_staff, village, changes, status, field):
    payload = {
        "party": households[0].pk,
        "division": village.code,
        "category": "illegal_discharge",
        "points": "-3",
        "occurred_on": str(days_ago(5)),
        "description": "生活污水直排",
        "source_document": "评议记录",
    }
    payload.update(changes)
    response = api(county_staff).post(RECORDS, payload, format="json")
    assert response.status_code == status
    if field:
        assert field in response.json()["fields"]
    assert EcoBehaviourRecord.objects.count() == 0


def test_eco_behaviour_is_for_staff_within_reach(
    households,
    record,
    village,
    other_village_clerk,
    bank_officer,
    county_staff,
    django_assert_max_num_queries,
):
    for party in households:
        record(party, "garbage_sorting", "1")
    with django_assert_max_num_queries(8):
        assert api(county_staff).get(RECORDS).json()["count"] == 3
    made = EcoBehaviourRecord.objects.first()
    payload = {
        "party": households[0].pk,
        "division": village.code,
        "category": "garbage_sorting",
        "points": "1",
        "occurred_on": str(days_ago(1)),
        "description": "分类投放",
        "source_document": "评议记录",
    }
    clerk = api(other_village_clerk)
    assert clerk.get(RECORDS).json()["count"] == 0
    assert clerk.post(RECORDS, payload, format="json").status_code == 404  # the party is not theirs
    assert clerk.post(f"{RECORDS}{made.pk}/revoke/", {"reason": "x"}, format="json").status_code == 404
    bank = api(bank_officer)
    assert bank.get(RECORDS).json()["count"] == 0
    refused = bank.post(RECORDS, payload, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert EcoBehaviourRecord.objects.count() == 3 and not CreditScore.objects.exists()
    assert Decimal(api(county_staff).get(f"{RECORDS}{made.pk}/").json()["points"]) == Decimal("1")
