"""The bank-facing collateral lookup: one lookup key, scoped answers, masked persons, another
bank's securities hidden, own appraisals only, holder lookups only with the borrower's authorisation,
a constant number of queries."""

import datetime
import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from directory.models import (
    ApiRequestLog,
    Organization,
    OrganizationKind,
    PersonAccessGrant,
    PersonalDataAccess,
)
from directory.services import ensure_party, grant_person_access, issue_api_client, revoke_person_access
from finance.models import CollateralAppraisal
from resources import services as registry
from resources.models import SQ_M_PER_MU, Registration, RegistrationStatus, Right
from tmcs import crypto
from tmcs.ids import national_id_check_char, uscc_check_char

URL = "/api/v1/finance/collateral/"
PAST = datetime.date(2026, 1, 15)


def token_client(organization, issued_by, name="信贷系统"):
    token, raw = issue_api_client(organization=organization, name=name, issued_by=issued_by)
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


def national_id(person):
    return crypto.decrypt(person.national_id_ciphertext)


def assert_error(response, status, code):
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"code", "detail", "fields"} and body["code"] == code and body["detail"]
    return body


@pytest.fixture
def encumbered(
    valued_right, make_product, make_application, make_appraisal, make_pledge, second_bank, county_staff
):
    """A household's forest right valued at 100,000 元/年, pledged to the second bank at rank 1 and
    to `bank` at rank 2, leased to an enterprise, then frozen by a dispute; one appraisal each."""
    right = valued_right()
    asset = right.asset
    Right.objects.filter(pk=right.pk).update(certificate_number="浙(2020)莲都区林权第0000777号")
    other_product = make_product(bank_org=second_bank)
    other_application = make_application(rights=[right], product=other_product)
    other_appraisal = make_appraisal(right, other_product, application=other_application)
    other_pledge = make_pledge(other_application, other_appraisal, Decimal("200000"), rank=1)
    own_application = make_application(rights=[right])
    own_appraisal = make_appraisal(
        right, own_application.product, application=own_application, appraised_value=Decimal("790000")
    )
    own_pledge = make_pledge(own_application, own_appraisal, Decimal("150000"), rank=2)
    own_pledge.bank_reference = "LS-2026-0001"
    own_pledge.save(update_fields=["bank_reference"])
    lessee = ensure_party(
        Organization.objects.get(kind=OrganizationKind.ENTERPRISE, name__contains="生态旅游")
    )
    registry.add_lease(
        actor=county_staff,
        asset=asset,
        holder=lessee,
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2030, 12, 31),
        source_document="租赁合同（测试）",
    )
    registry.freeze_for_dispute(
        actor=county_staff,
        asset=asset,
        reason="相邻林地界址争议",
        source_document="调解受理书（测试）",
        start=PAST,
    )
    return {
        "right": right,
        "asset": asset,
        "own_pledge": own_pledge,
        "other_pledge": other_pledge,
        "own_appraisal": own_appraisal,
        "other_appraisal": other_appraisal,
    }


def only_result(response):
    body = response.json()
    assert response.status_code == 200, body
    assert body["count"] == 1
    return body["results"][0]


def test_lookup_by_asset_id_shows_area_rights_encumbrances_valuations_and_own_appraisals(
    encumbered, bank_api
):
    asset, right = encumbered["asset"], encumbered["right"]
    result = only_result(bank_api.get(URL, {"asset": asset.pk}))
    assert (result["id"], result["code"], result["status"]) == (asset.pk, asset.code, "registered")
    assert result["resource_type"] == {"code": "forest", "name": "林地"}
    assert result["division"]["code"] == asset.division.code
    # Area from PostGIS in EPSG:4549 (stored by resources at registration), in m² and 亩.
    assert Decimal(result["area_m2"]) == asset.area_m2 > Decimal("10000")
    assert Decimal(result["area_mu"]) == (asset.area_m2 / SQ_M_PER_MU).quantize(Decimal("0.01"))
    assert result["four_boundaries"] is None  # none recorded: the bounding box instead
    x0, y0 = 119.920 + 0.002 * 0, 28.450
    assert result["bbox"] == pytest.approx([x0, y0, x0 + 0.001, y0 + 0.001])
    assert result["public_forest"] is False
    assert result["attributes"] == {"dominant_species": "杉木", "age_class": "中龄林"}

    person = right.holder.person
    assert result["rights"] == [
        {
            "id": right.pk,
            "kind": "contract",
            "kind_display": "承包权",
            "holder": {
                "kind": "person",
                "name": person.name,
                "national_id_masked": person.national_id_masked,
                "uscc": None,
            },
            "share": "1",
            "valid_from": "2020-01-01",
            "valid_to": None,
            "certificate_number": "浙(2020)莲都区林权第0000777号",
            "status": "active",
        }
    ]
    assert national_id(person) not in bank_api.get(URL, {"asset": asset.pk}).content.decode()

    by_kind = {(e["kind"], e["rank"]): e for e in result["encumbrances"]}
    assert set(by_kind) == {("pledge", 1), ("pledge", 2), ("lease", None), ("dispute_freeze", None)}
    other = by_kind[("pledge", 1)]
    assert other["holder"] == {"kind": "hidden", "name": "其他机构", "national_id_masked": None, "uscc": None}
    assert (other["own"], other["pledge_number"], other["bank_reference"], other["right"]) == (
        False,
        None,
        None,
        None,
    )
    assert other["secured_amount"] == "200000.00" and other["valid_from"] == str(PAST)
    assert other["registered_at"] and "第二测试银行" not in str(result)
    own = by_kind[("pledge", 2)]
    assert own["own"] is True and own["holder"]["name"] == encumbered["own_pledge"].bank.name
    assert (own["pledge_number"], own["bank_reference"], own["right"], own["secured_amount"]) == (
        encumbered["own_pledge"].number,
        "LS-2026-0001",
        right.pk,
        "150000.00",
    )
    assert by_kind[("lease", None)]["holder"]["kind"] == "organization"
    assert by_kind[("lease", None)]["valid_to"] == "2030-12-31"
    assert by_kind[("dispute_freeze", None)]["reason"] == "相邻林地界址争议"
    assert by_kind[("lease", None)]["reason"] == ""

    [valuation] = result["valuations"]
    assert (valuation["year"], Decimal(valuation["total"]), valuation["standard"]) == (
        2025,
        Decimal("100000"),
        "DB33/T 2274-2025",
    )
    assert valuation["parameter_set"] == "测试参数集 v1" and valuation["accepted_at"]

    [appraisal] = result["appraisals"]  # the second bank's appraisal is not shown
    assert appraisal["number"] == encumbered["own_appraisal"].number
    assert (appraisal["appraised_value"], appraisal["right"], appraisal["product_code"]) == (
        "790000.00",
        right.pk,
        encumbered["own_appraisal"].product.code,
    )
    assert appraisal["is_valid"] is (encumbered["own_appraisal"].valid_until >= timezone.localdate())

    # The same answer by code.
    assert only_result(bank_api.get(URL, {"asset": asset.code})) == result


def test_the_other_bank_sees_its_own_pledge_and_appraisal_and_staff_see_all(
    encumbered, second_bank_api, staff_api, bank
):
    result = only_result(second_bank_api.get(URL, {"asset": encumbered["asset"].code}))
    by_rank = {e["rank"]: e for e in result["encumbrances"] if e["kind"] == "pledge"}
    assert by_rank[1]["own"] is True and by_rank[1]["pledge_number"] == encumbered["other_pledge"].number
    assert by_rank[2]["holder"]["name"] == "其他机构" and by_rank[2]["pledge_number"] is None
    assert [a["number"] for a in result["appraisals"]] == [encumbered["other_appraisal"].number]

    staff_view = only_result(staff_api.get(URL, {"asset": encumbered["asset"].pk}))
    names = {e["rank"]: e["holder"]["name"] for e in staff_view["encumbrances"] if e["kind"] == "pledge"}
    assert names == {1: "第二测试银行（测试）", 2: bank.name}
    assert {a["number"] for a in staff_view["appraisals"]} == {
        encumbered["own_appraisal"].number,
        encumbered["other_appraisal"].number,
    }


def test_lookup_by_certificate_number_of_a_right_or_of_the_registration(encumbered, bank_api, county_staff):
    asset = encumbered["asset"]
    assert only_result(bank_api.get(URL, {"certificate": "浙(2020)莲都区林权第0000777号"}))["id"] == asset.pk
    Registration.objects.create(
        asset=asset,
        applicant=county_staff,
        status=RegistrationStatus.REGISTERED,
        certificate_number="LSDJ2026-000123",
    )
    assert only_result(bank_api.get(URL, {"certificate": " LSDJ2026-000123 "}))["id"] == asset.pk
    assert_error(bank_api.get(URL, {"certificate": "浙(2020)莲都区林权第9999999号"}), 404, "not_found")


def test_holder_lookup_by_national_id_needs_the_borrowers_authorisation(
    encumbered, bank_api, bank, county_staff
):
    person = encumbered["right"].holder.person
    number = national_id(person)
    refused = assert_error(bank_api.get(URL, {"holder_id": number}), 404, "not_authorised_by_holder")
    # A valid number nobody has gets exactly the same answer: the bank learns nothing.
    body = "33110219990101123"
    unknown = body + national_id_check_char(body)
    assert bank_api.get(URL, {"holder_id": unknown}).json() == refused

    grant = grant_person_access(actor=county_staff, person=person, organization=bank, reason="授权书 SQ-001")
    body = bank_api.get(URL, {"holder_id": number.lower()}).json()  # a lower-case x is accepted too
    assert [r["id"] for r in body["results"]] == [encumbered["asset"].pk]
    assert number not in str(body)
    assert body["results"][0]["rights"][0]["holder"]["national_id_masked"] == person.national_id_masked

    revoke_person_access(actor=county_staff, grant=grant)
    assert_error(bank_api.get(URL, {"holder_id": number}), 404, "not_authorised_by_holder")
    assert PersonAccessGrant.objects.filter(person=person, revoked_at__isnull=True).count() == 0


def test_staff_look_up_holders_in_their_divisions_without_a_grant(encumbered, staff_api):
    number = national_id(encumbered["right"].holder.person)
    body = staff_api.get(URL, {"holder_id": number}).json()
    assert [r["id"] for r in body["results"]] == [encumbered["asset"].pk]


def test_malformed_national_ids_and_usccs_are_refused_with_field_errors(bank_api, demo_region):
    body17 = "33110219650312013"
    wrong = "1" if national_id_check_char(body17) != "1" else "2"
    body = assert_error(bank_api.get(URL, {"holder_id": body17 + wrong}), 400, "invalid")
    assert body["fields"] == {"holder_id": ["身份证号码校验位不正确。"]}
    assert_error(bank_api.get(URL, {"holder_id": "12345"}), 400, "invalid")
    body = assert_error(bank_api.get(URL, {"holder_uscc": "91331100MA2D00004X"}), 400, "invalid")
    assert list(body["fields"]) == ["holder_uscc"]
    assert not PersonalDataAccess.objects.exists()


def test_holder_lookup_by_uscc(registered_asset, collective, bank_api):
    asset = registered_asset([(collective, 1)])
    uscc = collective.organization.uscc
    result = only_result(bank_api.get(URL, {"holder_uscc": uscc.lower()}))
    assert result["id"] == asset.pk
    assert result["rights"][0]["holder"] == {
        "kind": "organization",
        "name": collective.organization.name,
        "national_id_masked": None,
        "uscc": uscc,
    }
    body = "91331100MA2D09999"
    assert_error(bank_api.get(URL, {"holder_uscc": body + uscc_check_char(body)}), 404, "not_found")


@pytest.mark.parametrize(
    "params, fields",
    [
        ({}, {"asset", "certificate", "holder_id", "holder_uscc"}),
        ({"asset": "  "}, {"asset", "certificate", "holder_id", "holder_uscc"}),
        ({"asset": "1", "holder_uscc": "x"}, {"asset", "holder_uscc"}),
        ({"asset": "1", "certificate": "c", "holder_id": "i"}, {"asset", "certificate", "holder_id"}),
    ],
)
def test_exactly_one_lookup_parameter(bank_api, demo_region, params, fields):
    body = assert_error(bank_api.get(URL, params), 400, "invalid")
    assert set(body["fields"]) == fields


def test_who_may_look_up(encumbered, make_member, demo_region):
    from directory.models import Role, User

    auditor = make_member(
        Role.AUDITOR,
        Organization.objects.get(kind=OrganizationKind.COOPERATIVE, division__code="331100000000"),
    )
    for user in (
        auditor,
        User.objects.get(username="investor"),
        User.objects.get(username="guarantor_officer"),
    ):
        client = APIClient()
        client.force_authenticate(user)
        assert_error(client.get(URL, {"asset": encumbered["asset"].pk}), 403, "permission_denied")
    assert_error(APIClient().get(URL, {"asset": encumbered["asset"].pk}), 401, "not_authenticated")
    city_admin = APIClient()
    city_admin.force_authenticate(User.objects.get(username="city_admin"))
    assert only_result(city_admin.get(URL, {"asset": encumbered["asset"].pk}))["id"] == encumbered["asset"].pk


def test_banks_do_not_see_assets_outside_the_registered_ledger(make_asset, bank_api, staff_api):
    draft = make_asset(name="草稿林地")
    assert_error(bank_api.get(URL, {"asset": draft.pk}), 404, "not_found")
    assert_error(bank_api.get(URL, {"asset": "99999999"}), 404, "not_found")
    assert only_result(staff_api.get(URL, {"asset": draft.code}))["status"] == "draft"


def test_public_forest_flag_four_boundaries_and_personal_attributes(registered_asset, households, bank_api):
    asset = registered_asset(
        [(households[1], 1)],
        attributes={
            "dominant_species": "马尾松",
            "age_class": "成熟林",
            "forest_class": "公益林",
            "four_boundaries": {"east": "至山脊", "south": "至村道", "west": "至溪沟", "north": "至王家林地"},
            "qualification_holder_household": "王某某户",
        },
    )
    result = only_result(bank_api.get(URL, {"asset": asset.pk}))
    assert result["public_forest"] is True
    assert result["four_boundaries"] == {
        "east": "至山脊",
        "south": "至村道",
        "west": "至溪沟",
        "north": "至王家林地",
    }
    assert result["attributes"] == {
        "dominant_species": "马尾松",
        "age_class": "成熟林",
        "forest_class": "公益林",
    }
    assert result["valuations"] == [] and result["appraisals"] == [] and result["encumbrances"] == []


def test_query_count_does_not_grow_with_assets_rights_and_restrictions(
    registered_asset,
    collective,
    households,
    bank,
    bank_officer,
    make_product,
    make_appraisal,
    make_application,
    make_pledge,
    django_assert_max_num_queries,
):
    from transactions.tests.test_packages_services import make_valuation

    product = make_product()

    def add_encumbered_asset():
        """Three holders of a third each, two pledges, three accepted valuations, one appraisal."""
        asset = registered_asset([(collective, "1/3"), (households[0], "1/3"), (households[1], "1/3")])
        for year in (2023, 2024, 2025):
            make_valuation(asset, [Decimal("1000"), Decimal("2000")], year=year, user=bank_officer)
        right = asset.rights.get(holder=collective)
        application = make_application(rights=[right], product=product)
        appraisal = make_appraisal(right, product, application=application)
        make_pledge(application, appraisal, Decimal("1000"), rank=1)
        make_pledge(application, appraisal, Decimal("1000"), rank=2)
        return asset

    client = token_client(bank, bank_officer)
    uscc = collective.organization.uscc
    add_encumbered_asset()
    client.get(URL, {"holder_uscc": uscc})  # warm: token last-used stamp, content types
    with django_assert_max_num_queries(12) as small:
        assert client.get(URL, {"holder_uscc": uscc}).json()["count"] == 1
    for _ in range(4):
        add_encumbered_asset()
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        body = client.get(URL, {"holder_uscc": uscc}).json()
    assert body["count"] == 5
    assert all(len(r["rights"]) == 3 and len(r["encumbrances"]) == 2 for r in body["results"])
    assert all([v["year"] for v in r["valuations"]] == [2025, 2024, 2023] for r in body["results"])
    assert all(v["total"] == "3000.00" for r in body["results"] for v in r["valuations"])
    assert all(len(r["appraisals"]) == 1 for r in body["results"])
    assert len(large.captured_queries) == len(small.captured_queries)
    assert ApiRequestLog.objects.filter(token=client.token).count() == 3
    assert CollateralAppraisal.objects.count() == 5


def load_client_example():
    path = Path(__file__).resolve().parents[2] / "docs" / "bank_client_example.py"
    spec = importlib.util.spec_from_file_location("bank_client_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db(transaction=True)
def test_the_documented_client_example_works_against_a_live_server(
    live_server, catalog, registered_asset, collective, bank, bank_officer
):
    example = load_client_example()
    asset = registered_asset([(collective, 1)])
    _token, raw = issue_api_client(organization=bank, name="示例客户端", issued_by=bank_officer)
    client = example.TmcsClient(live_server.url, raw, attempts=1)
    [found] = client.collateral(asset=asset.code)
    assert (found["id"], found["rights"][0]["holder"]["uscc"]) == (asset.pk, collective.organization.uscc)
    with pytest.raises(example.ApiError) as exc:
        client.collateral(asset=asset.code, holder_uscc=collective.organization.uscc)
    assert (exc.value.status, exc.value.code, set(exc.value.fields)) == (
        400,
        "invalid",
        {"asset", "holder_uscc"},
    )
    with pytest.raises(example.ApiError) as exc:
        example.TmcsClient(live_server.url, "wrong-token", attempts=1).collateral(asset=asset.code)
    assert (exc.value.status, exc.value.code) == (401, "authentication_failed")
    assert list(ApiRequestLog.objects.values_list("status_code", flat=True).order_by("pk")) == [200, 400]
