"""Unit pages: list with filters/export, detail, issue/transfer/retire forms, holdings, public check."""

from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import User
from directory.services import ensure_party
from resources.models import ResourceType, RightKind
from transactions.models import UnitBlockStatus, UnitIssuance, UnitTransfer
from transactions.services import units

from .test_units_services import carbon_type  # noqa: F401  (fixture)

YEAR = timezone.localdate().year


@pytest.fixture
def carbon_rights(registered_asset, carbon_type, household):  # noqa: F811
    def make(n=1):
        return [
            registered_asset(
                [(household, 1)],
                kind=RightKind.CARBON_SINK,
                resource_type=carbon_type,
                attributes={"methodology": "CCER-14-001-V01"},
                quantity=Decimal("5000"),
            ).rights.get()
            for _ in range(n)
        ]

    return make


@pytest.fixture
def issuance(carbon_rights, county_staff):
    [right] = carbon_rights(1)
    return units.issue_units(
        actor=county_staff, right=right, vintage_year=YEAR - 1, quantity=100, methodology="CCER-14-001-V01"
    )


def login(client, username):
    client.force_login(User.objects.get(username=username))
    return client


def test_issue_form_shows_errors_in_place_and_issues(client, carbon_rights, county_staff):
    [right] = carbon_rights(1)
    login(client, "coop_staff")
    url = f"/transactions/units/issue/?right={right.pk}"
    page = client.get(url)
    assert page.status_code == 200 and right.asset.code in page.content.decode()
    bad = client.post(
        url, {"right": right.pk, "vintage_year": YEAR - 1, "quantity": 6000, "methodology": "CCER"}
    )
    assert (
        bad.status_code == 400
        and "年产量 5000" in bad.content.decode()
        and "invalid-feedback" in bad.content.decode()
    )
    future = client.post(
        url, {"right": right.pk, "vintage_year": YEAR + 1, "quantity": 1, "methodology": "m"}
    )
    assert future.status_code == 400 and "不能晚于今年" in future.content.decode()
    assert not UnitIssuance.objects.exists()
    ok = client.post(
        url, {"right": right.pk, "vintage_year": YEAR - 1, "quantity": 100, "methodology": "CCER"}
    )
    issuance = UnitIssuance.objects.get()
    assert ok.status_code == 302 and ok.url == f"/transactions/units/{issuance.pk}/"


def test_staff_pages_refuse_others(client, carbon_rights, issuance):
    [right] = carbon_rights(1)
    for username in ("investor", "village_clerk", "bank_officer"):
        login(client, username)
        response = client.post(
            f"/transactions/units/issue/?right={right.pk}",
            {"right": right.pk, "vintage_year": YEAR - 1, "quantity": 1, "methodology": "m"},
        )
        assert response.status_code in (403, 404), username
        assert client.get(f"/transactions/units/{issuance.pk}/transfer/").status_code in (403, 404)
    assert UnitIssuance.objects.count() == 1


def test_transfer_and_retire_forms(client, issuance, household, investor_org):
    buyer = ensure_party(investor_org)
    login(client, "coop_staff")
    url = f"/transactions/units/{issuance.pk}/transfer/"
    form = client.get(url)
    assert form.status_code == 200 and 'name="idempotency_key"' in form.content.decode()
    data = {"from_party": household.pk, "to_party": buyer.pk, "quantity": 101, "idempotency_key": "web-1"}
    too_many = client.post(url, data)
    assert too_many.status_code == 400 and "可用数量不足，持有 100" in too_many.content.decode()
    data["quantity"], data["price"] = 40, "3000.00"
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # a double submission records it once
    assert UnitTransfer.objects.filter(kind="transfer").count() == 1
    retire = client.post(
        f"/transactions/units/{issuance.pk}/retire/",
        {"party": buyer.pk, "quantity": 10, "reason": "大型活动碳中和", "idempotency_key": "web-2"},
    )
    assert retire.status_code == 302
    detail = client.get(f"/transactions/units/{issuance.pk}/").content.decode()
    assert "大型活动碳中和" in detail and "3000.00" in detail and "1–10" in detail
    holdings = client.get("/transactions/units/holdings/", {"party": buyer.pk}).content.decode()
    assert issuance.serial_prefix in holdings and "<td>30</td><td>10</td>" in holdings


def test_investor_sees_own_holdings_with_other_holders_masked(
    client, issuance, county_staff, household, investor_org
):
    buyer = ensure_party(investor_org)
    units.transfer_units(
        actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=5
    )
    login(client, "investor")
    detail = client.get(f"/transactions/units/{issuance.pk}/").content.decode()
    assert household.person.name not in detail and household.person.name[0] + "*" in detail
    assert "登记转让" not in detail
    holdings = client.get("/transactions/units/holdings/", {"party": buyer.pk})
    assert issuance.serial_prefix in holdings.content.decode()
    other = client.get("/transactions/units/holdings/", {"party": household.pk}).content.decode()
    assert issuance.serial_prefix not in other  # not a party the investor may look up


def test_public_serial_page(client, issuance, county_staff, household, investor_org):
    buyer = ensure_party(investor_org)
    units.transfer_units(
        actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=10
    )
    units.retire_units(actor=county_staff, issuance=issuance, party=buyer, quantity=5, reason="会议碳中和")
    base = f"/trading/units/{issuance.serial_prefix}"
    retired = client.get(f"{base}/3/").content.decode()
    assert "已于" in retired and "会议碳中和" in retired and investor_org.name in retired
    held = client.get(f"{base}/50/").content.decode()
    name = household.person.name
    assert 'id="serial-held"' in held and name not in held and name[0] + "*" * (len(name) - 1) in held
    assert issuance.right.asset.code in held and "331102" not in held.split("serial-held")[0][-200:]
    assert client.get(f"{base}/101/").status_code == 404
    assert client.get("/trading/units/TMCS-NONE/1/").status_code == 404


def test_list_filters_export_and_query_count(
    client, carbon_rights, county_staff, django_assert_max_num_queries
):
    for right in carbon_rights(4):
        units.issue_units(
            actor=county_staff, right=right, vintage_year=YEAR - 1, quantity=10, methodology="m"
        )
    water = ResourceType.objects.get(code="water_right")
    login(client, "coop_staff")
    with django_assert_max_num_queries(12):
        page = client.get("/transactions/units/").content.decode()
    assert page.count("TMCS-331102-CS-") == 4
    assert (
        "TMCS-"
        not in client.get("/transactions/units/", {"kind": "water"}).content.decode().split("<tbody>")[1]
    )
    assert (
        client.get("/transactions/units/", {"vintage_year": YEAR - 1}).content.decode().count("TMCS-331102")
        == 4
    )
    export = client.get("/transactions/units/", {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert water.unit.startswith("万")
    login(client, "investor")
    assert "TMCS-" not in client.get("/transactions/units/").content.decode().split("<tbody>")[1]


def test_detail_query_count(
    client, issuance, county_staff, household, investor_org, django_assert_max_num_queries
):
    buyer = ensure_party(investor_org)
    for _ in range(5):
        units.transfer_units(
            actor=county_staff, issuance=issuance, from_party=household, to_party=buyer, quantity=3
        )
    login(client, "coop_staff")
    with django_assert_max_num_queries(12):
        response = client.get(f"/transactions/units/{issuance.pk}/")
    assert response.content.decode().count("<tr") >= 12
    assert issuance.blocks.filter(status=UnitBlockStatus.SPLIT).count() == 5
