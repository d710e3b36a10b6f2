"""`/api/v1/exchange/consents/` and `/credit-exports/`: staff record, revoke and export; recipients
list, read and download only their own exports (404 for the others); bad input; query counts."""

# ruff: noqa: F811  (fixtures)
import datetime
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ..models import CreditConsent, CreditExport, ExchangeLog
from ..services import credit
from .fixtures_credit import (  # noqa: F401  (fixtures)
    BOTH,
    consent,
    enterprise,
    guarantor,
    guarantor_officer,
    lianduqu,
    make_borrowing,
    make_score,
    other_platform,
    other_platform_officer,
    person_of,
    qingtian,
    qingtian_party,
)

pytestmark = pytest.mark.django_db
CONSENTS = "/api/v1/exchange/consents/"
EXPORTS = "/api/v1/exchange/credit-exports/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(party, recipient, **overrides):
    today = timezone.localdate()
    body = {
        "party": party.pk,
        "recipient": recipient.pk,
        "purpose": "申请担保",
        "scopes": BOTH,
        "document": "授权书-A1",
        "signed_on": today.isoformat(),
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=365)).isoformat(),
    }
    body.update(overrides)
    return body


def test_create_list_and_revoke_consents(county_staff, households, guarantor, django_assert_max_num_queries):
    client = api(county_staff)
    created = client.post(CONSENTS, _body(households[0], guarantor), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["state"] == "valid" and data["scopes"] == BOTH and data["party_kind"] == "person"
    assert data["recipient_name"] == guarantor.name and data["number"].startswith("XQ")
    for party in households[1:]:
        client.post(CONSENTS, _body(party, guarantor), format="json")
    with django_assert_max_num_queries(8):
        listing = client.get(CONSENTS).json()
    assert listing["count"] == 3
    duplicate = client.post(CONSENTS, _body(households[0], guarantor, document="另一份"), format="json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_consent"
    url = f"{CONSENTS}{data['id']}/revoke/"
    assert client.post(url, {}, format="json").status_code == 400
    revoked = client.post(url, {"reason": "本人撤回"}, format="json")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert revoked.json()["revoke_reason"] == "本人撤回"
    again = client.post(url, {"reason": "再撤"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_revoked"
    assert client.get(CONSENTS, {"status": "revoked"}).json()["count"] == 1
    assert client.get(CONSENTS, {"status": "nonsense"}).status_code == 400


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["tax"]}, "scopes"),
        ({"purpose": ""}, "purpose"),
        ({"signed_on": "2099-01-01", "valid_from": "2099-01-01", "valid_until": "2099-02-01"}, "signed_on"),
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"signed_on": "not a date"}, "signed_on"),
        ({"recipient": 999999}, "recipient"),
        ({"party": "abc"}, "party"),
    ],
)
def test_bad_consent_input(county_staff, households, guarantor, overrides, field):
    response = api(county_staff).post(
        CONSENTS, {**_body(households[0], guarantor), **overrides}, format="json"
    )
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert not CreditConsent.objects.exists()


def test_consent_reach_and_permissions(
    county_staff, households, qingtian_party, guarantor, guarantor_officer, bank_officer, enterprise
):
    outside = api(county_staff).post(CONSENTS, _body(qingtian_party, guarantor), format="json")
    assert outside.status_code == 404
    not_a_recipient = api(county_staff).post(
        CONSENTS, _body(households[0], enterprise.organization), format="json"
    )
    assert not_a_recipient.status_code == 400 and "recipient" in not_a_recipient.json()["fields"]
    for user in (guarantor_officer, bank_officer):
        assert api(user).get(CONSENTS).status_code == 403
        assert api(user).post(CONSENTS, _body(households[0], guarantor), format="json").status_code == 403
    assert APIClient().get(CONSENTS).status_code in (401, 403)
    assert not CreditConsent.objects.exists()


def test_consent_outside_reach_is_404(city_admin, county_staff, qingtian_party, guarantor):
    made = api(city_admin).post(CONSENTS, _body(qingtian_party, guarantor), format="json")
    assert made.status_code == 201
    pk = made.json()["id"]
    assert api(county_staff).get(f"{CONSENTS}{pk}/").status_code == 404
    assert (
        api(county_staff).post(f"{CONSENTS}{pk}/revoke/", {"reason": "x"}, format="json").status_code == 404
    )


@pytest.fixture
def two_exports(
    households, make_score, make_borrowing, consent, guarantor, other_platform, county_staff, lianduqu
):
    for party in households:
        make_score(party)
    make_borrowing(households[0])
    consent(households[0])
    consent(households[1], recipient=other_platform)
    today = timezone.localdate()
    mine = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today
    )
    theirs = credit.create_credit_export(
        actor=county_staff, recipient=other_platform, division=lianduqu, as_of=today
    )
    return mine, theirs


def test_staff_create_export_via_api(county_staff, households, make_score, consent, guarantor, lianduqu):
    make_score(households[0])
    make_score(households[1])
    consent(households[0])
    response = api(county_staff).post(
        EXPORTS,
        {"recipient": guarantor.pk, "division": lianduqu.code, "as_of": timezone.localdate().isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["parties_requested"], body["parties_exported"], body["parties_withheld"]) == (2, 1, 1)
    (line,) = body["lines"]
    assert line["identifier"] == person_of(households[0]).national_id_hash and line["scopes"] == BOTH
    assert "eco_credit" not in json.dumps(line["party_name"]) and "score" not in line
    log = ExchangeLog.objects.get(number=body["log_number"])
    assert log.channel == "api" and log.format == "json"


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"as_of": "2099-01-01"}, 400, "as_of"),
        ({"as_of": "yesterday"}, 400, "as_of"),
        ({"division": "331121000000"}, 404, None),
        ({"division": "999999999999"}, 404, None),
        ({"parties": ["a"]}, 400, "parties"),
        ({"recipient": None}, 400, "recipient"),
    ],
)
def test_bad_export_input(
    county_staff, households, make_score, guarantor, lianduqu, overrides, status, field
):
    make_score(households[0])
    body = {"recipient": guarantor.pk, "division": lianduqu.code, "as_of": timezone.localdate().isoformat()}
    body.update(overrides)
    response = api(county_staff).post(EXPORTS, body, format="json")
    assert response.status_code == status, response.json()
    if field:
        assert field in response.json()["fields"]
    assert not CreditExport.objects.exists() and not ExchangeLog.objects.exists()


def test_export_with_parties_outside_the_division(
    county_staff, households, qingtian_party, guarantor, lianduqu
):
    body = {
        "recipient": guarantor.pk,
        "division": lianduqu.code,
        "as_of": timezone.localdate().isoformat(),
        "parties": [households[0].pk, qingtian_party.pk],
    }
    response = api(county_staff).post(EXPORTS, body, format="json")
    assert response.status_code == 400 and "parties" in response.json()["fields"]


def test_recipients_are_isolated(
    two_exports,
    guarantor_officer,
    other_platform_officer,
    bank_officer,
    county_staff,
    django_assert_max_num_queries,
):
    mine, theirs = two_exports
    client = api(guarantor_officer)
    with django_assert_max_num_queries(6):
        listing = client.get(EXPORTS).json()
    assert [e["number"] for e in listing["results"]] == [mine.number]
    detail = client.get(f"{EXPORTS}{mine.pk}/").json()
    assert detail["parties_exported"] == 1 and len(detail["lines"]) == 1
    assert client.get(f"{EXPORTS}{theirs.pk}/").status_code == 404
    assert client.get(f"{EXPORTS}{theirs.pk}/download/", {"format": "json"}).status_code == 404
    assert client.post(EXPORTS, {}, format="json").status_code == 403
    other = api(other_platform_officer).get(EXPORTS).json()
    assert [e["number"] for e in other["results"]] == [theirs.number]
    assert api(bank_officer).get(EXPORTS).status_code == 403
    staff = api(county_staff).get(EXPORTS).json()
    assert sorted(e["number"] for e in staff["results"]) == sorted([mine.number, theirs.number])


def test_download_formats_are_logged(two_exports, guarantor_officer, guarantor, households):
    mine, _theirs = two_exports
    client = api(guarantor_officer)
    before = ExchangeLog.objects.count()
    plain = client.get(f"{EXPORTS}{mine.pk}/download/")
    assert plain.status_code == 200 and plain["Content-Type"] == "application/json"
    document = json.loads(plain.content)
    assert document["export"]["number"] == mine.number and len(document["lines"]) == 1
    assert document["lines"][0]["loan_performance"]["loans"][0]["principal"] == "120000.00"
    csv_file = client.get(f"{EXPORTS}{mine.pk}/download/", {"format": "csv"})
    assert csv_file.status_code == 200 and csv_file["Content-Type"].startswith("text/csv")
    xlsx = client.get(f"{EXPORTS}{mine.pk}/download/", {"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bad = client.get(f"{EXPORTS}{mine.pk}/download/", {"format": "pdf"})
    assert bad.status_code == 400 and "format" in bad.json()["fields"]
    logs = list(ExchangeLog.objects.order_by("pk")[before:])
    assert [(log.format, log.channel, log.actor_id) for log in logs] == [
        ("json", "api", guarantor_officer.pk),
        ("csv", "api", guarantor_officer.pk),
        ("xlsx", "api", guarantor_officer.pk),
    ]
    assert xlsx["X-Exchange-Log"] == logs[-1].number
    assert person_of(households[1]).national_id_hash not in plain.content.decode()


def test_schema_documents_the_endpoints(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert f"{CONSENTS}{{id}}/revoke/" in schema["paths"]
    download = schema["paths"][f"{EXPORTS}{{id}}/download/"]["get"]
    assert {p["name"] for p in download["parameters"]} >= {"id", "format"}
