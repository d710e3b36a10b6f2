"""`/api/v1/finance/pledges/`: scoped reads (another bank's pledge is 404), pledge requests with a
durable Idempotency-Key, release, and bad input answered with {code, detail, fields}."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from directory.models import ApiRequestLog
from directory.services import issue_api_client
from finance.models import ApplicationStatus, BankRequestKey, Pledge, PledgeStatus
from resources.models import Restriction, RestrictionKind, RightStatus

pytestmark = pytest.mark.django_db
URL = "/api/v1/finance/pledges/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def pledgeable(valued_right, make_product, make_application, make_appraisal):
    """pledgeable(bank_org=None) → (application, right) ready for a pledge (max loan 240,000 元)."""

    def make(bank_org=None, status=ApplicationStatus.APPROVED):
        right = valued_right()
        product = make_product(bank_org=bank_org)
        application = make_application(rights=[right], product=product, status=status)
        make_appraisal(right, product, appraised_value=Decimal("500000"))
        return application, right

    return make


def body(application, right, **extra):
    return {"application": application.pk, "right": right.pk, "secured_amount": "100000.00", **extra}


def test_list_and_retrieve_are_scoped_and_pinned(
    pledgeable, second_bank, bank_officer, second_bank_officer, county_staff, django_assert_max_num_queries
):
    own = []
    for _i in range(3):
        application, right = pledgeable()
        own.append(api(county_staff).post(URL, body(application, right), format="json").json())
    application, right = pledgeable(bank_org=second_bank)
    foreign = api(second_bank_officer).post(URL, body(application, right), format="json")
    assert foreign.status_code == 201
    foreign = foreign.json()

    client = api(bank_officer)
    with django_assert_max_num_queries(4):
        listed = client.get(URL).json()
    assert listed["count"] == 3 and {p["number"] for p in listed["results"]} == {p["number"] for p in own}
    first = listed["results"][0]
    assert first["bank_name"] and first["asset_code"] and first["appraisal_number"]
    assert first["rank"] == 1 and first["secured_amount"] == "100000.00" and first["status"] == "active"
    assert client.get(f"{URL}{own[0]['id']}/").json()["number"] == own[0]["number"]
    # another bank's pledge does not exist for this bank, whatever the call
    assert client.get(f"{URL}{foreign['id']}/").status_code == 404
    assert client.post(f"{URL}{foreign['id']}/release/", {"reason": "x"}, format="json").status_code == 404
    assert client.get(f"{URL}{foreign['id']}/certificate/").status_code == 404
    assert api(second_bank_officer).get(URL).json()["count"] == 1
    # staff see all four within their division; filters work
    staff = api(county_staff)
    assert staff.get(URL).json()["count"] == 4
    assert staff.get(URL, {"bank": second_bank.pk}).json()["count"] == 1
    assert staff.get(URL, {"status": "released"}).json()["count"] == 0
    assert staff.get(URL, {"q": own[1]["asset_code"]}).json()["count"] == 1


def test_no_personal_data_in_answers(pledgeable, bank_officer, households):
    application, right = pledgeable()
    answer = api(bank_officer).post(URL, body(application, right), format="json")
    assert answer.status_code == 201
    person = households[0].person
    assert (
        person.name not in answer.content.decode()
        and person.national_id_masked not in answer.content.decode()
    )


def test_idempotency_key_replays_and_refuses_a_different_body(pledgeable, bank_officer, bank):
    application, right = pledgeable()
    client = api(bank_officer)
    first = client.post(URL, body(application, right), format="json", HTTP_IDEMPOTENCY_KEY="req-42")
    assert first.status_code == 201
    again = client.post(URL, body(application, right), format="json", HTTP_IDEMPOTENCY_KEY="req-42")
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    assert again["Idempotent-Replayed"] == "true"
    other = client.post(
        URL, body(application, right, secured_amount="1.00"), format="json", HTTP_IDEMPOTENCY_KEY="req-42"
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Pledge.objects.count() == 1
    record = BankRequestKey.objects.get()
    assert (record.organization, record.endpoint, record.key) == (bank, "pledges", "req-42")
    assert record.object_id == first.json()["id"]


def test_a_refused_request_leaves_its_key_free(pledgeable, bank_officer):
    application, right = pledgeable()
    client = api(bank_officer)
    refused = client.post(
        URL, body(application, right, secured_amount="999999.00"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "over_max_loan"
    assert not BankRequestKey.objects.exists() and not Pledge.objects.exists()
    corrected = client.post(URL, body(application, right), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert corrected.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "空格 不行", "tab\tkey"])
def test_malformed_idempotency_key(pledgeable, bank_officer, key):
    application, right = pledgeable()
    answer = api(bank_officer).post(URL, body(application, right), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()["fields"]
    assert not Pledge.objects.exists() and not BankRequestKey.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"secured_amount": "-1"}, "secured_amount"),
        ({"secured_amount": "abc"}, "secured_amount"),
        ({"secured_amount": "1.001"}, "secured_amount"),
        ({"rank": 0}, "rank"),
        ({"rank": 100}, "rank"),
        ({"bank_reference": "x" * 61}, "bank_reference"),
        ({"application": "x"}, "application"),
        ({"right": None}, "right"),
    ],
)
def test_malformed_body(pledgeable, bank_officer, change, field):
    application, right = pledgeable()
    answer = api(bank_officer).post(URL, {**body(application, right), **change}, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid" and field in answer.json()["fields"]
    assert not Pledge.objects.exists()


def test_domain_refusals(
    pledgeable, valued_right, bank_officer, county_staff, second_bank_officer, make_application
):
    application, right = pledgeable()
    client = api(bank_officer)
    stranger = valued_right()
    answer = client.post(URL, body(application, stranger), format="json")
    assert (
        answer.status_code == 400
        and answer.json()["code"] == "not_collateral"
        and "right" in answer.json()["fields"]
    )
    answer = client.post(URL, {**body(application, right), "right": 999999}, format="json")
    assert answer.status_code == 400 and answer.json()["code"] == "not_collateral"
    # the other bank's officer cannot even see the application
    answer = api(second_bank_officer).post(URL, body(application, right), format="json")
    assert answer.status_code == 404
    # a draft application: invisible to the bank (404), refused to staff (409)
    draft, draft_right = pledgeable(status=ApplicationStatus.DRAFT)
    assert client.post(URL, body(draft, draft_right), format="json").status_code == 404
    answer = api(county_staff).post(URL, body(draft, draft_right), format="json")
    assert answer.status_code == 409 and answer.json()["code"] == "application_status"
    # rank taken
    assert client.post(URL, body(application, right, rank=1), format="json").status_code == 201
    other = make_application(rights=[right], product=application.product)
    answer = api(county_staff).post(URL, body(other, right, rank=1), format="json")
    assert (
        answer.status_code == 409
        and answer.json()["code"] == "rank_taken"
        and "rank" in answer.json()["fields"]
    )
    assert Pledge.objects.count() == 1


def test_release(pledgeable, bank_officer):
    application, right = pledgeable()
    client = api(bank_officer)
    pledge = client.post(URL, body(application, right), format="json").json()
    missing = client.post(f"{URL}{pledge['id']}/release/", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["fields"]
    released = client.post(f"{URL}{pledge['id']}/release/", {"reason": "已结清"}, format="json")
    assert released.status_code == 200 and released.json()["status"] == PledgeStatus.RELEASED
    assert released.json()["release_reason"] == "已结清"
    restriction = Restriction.objects.get(pk=pledge["restriction"])
    assert restriction.status == RightStatus.ENDED and restriction.kind == RestrictionKind.PLEDGE
    again = client.post(f"{URL}{pledge['id']}/release/", {"reason": "再次"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_bank_token_calls_are_logged(pledgeable, bank, bank_officer):
    application, right = pledgeable()
    token, raw = issue_api_client(organization=bank, name="核心系统", issued_by=bank_officer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    created = client.post(URL, body(application, right), format="json", HTTP_IDEMPOTENCY_KEY="core-1")
    assert created.status_code == 201
    assert client.get(URL).json()["count"] == 1
    logs = ApiRequestLog.objects.filter(token=token).order_by("pk")
    pledge = Pledge.objects.get()
    certificate = client.get(f"{URL}{pledge.pk}/certificate/")
    assert certificate.status_code == 200 and certificate["Content-Type"] == "application/pdf"
    assert certificate.content.startswith(b"%PDF")
    holder = right.holder.person
    assert [(log.method, log.status_code, log.personal_data) for log in logs] == [
        ("POST", 201, []),
        ("GET", 200, []),
        ("GET", 200, [{"person": holder.pk, "fields": ["name", "national_id_masked"]}]),
    ]


def test_anonymous_and_outsiders(pledgeable, make_member, demo_region):
    from directory.models import Organization, OrganizationKind, Role

    application, right = pledgeable()
    assert APIClient().get(URL).status_code in (401, 403)
    investor_org = Organization.objects.filter(kind=OrganizationKind.ENTERPRISE).first()
    investor = make_member(Role.INVESTOR, investor_org, username="inv-x")
    answer = api(investor).post(URL, body(application, right), format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
    assert api(investor).get(URL).json()["count"] == 0
    assert not Pledge.objects.exists()
