# ruff: noqa: F811  (fixtures imported from other modules are parameters here)
"""Savings-slip pages: the list (filters, XLSX, reach, query count), detail, issuing from the
contract page, cancelling, the printed slip (PDF text) and the public check page (no personal
data; unknown codes answer 404 without a hint)."""

import datetime
import subprocess
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from resources import services as registry
from tmcs import crypto
from transactions.models import SavingsSlip, SlipStatus
from transactions.pdf import amount_in_words
from transactions.services import savings

from .fixtures_savings import (  # noqa: F401  (fixtures)
    issued_slips,
    make_savings_contract,
    savings_contract,
    savings_parcels,
)
from .test_collection_services import other_county_staff, village_clerk  # noqa: F401

LIST = reverse("transactions:slip-list")


def pledge(staff, slip):
    bank = Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")
    return registry.add_pledge(
        actor=staff,
        right=slip.income_right,
        holder=ensure_party(bank),
        rank=1,
        secured_amount="10000",
        start=datetime.date(2026, 2, 1),
        end=datetime.date(2029, 2, 1),
        source_document="抵质押登记 ZY-PAGE（贷款申请 SQ-PAGE）",
    )


def pdf_text(content):
    result = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True)
    return "".join(result.stdout.decode().split())


def test_list_filters_exports_with_few_queries(
    client, county_staff, issued_slips, django_assert_max_num_queries
):
    pledge(county_staff, issued_slips[2])
    client.force_login(county_staff)
    with django_assert_max_num_queries(12):
        response = client.get(LIST)
    page = response.content.decode()
    assert response.status_code == 200 and all(s.number in page for s in issued_slips)
    page = client.get(LIST, {"pledged": "true"}).content.decode()
    assert issued_slips[2].number in page and issued_slips[0].number not in page
    page = client.get(LIST, {"pledged": "false", "sort": "-number"}).content.decode()
    assert issued_slips[2].number not in page and issued_slips[0].number in page
    contract = issued_slips[0].contract.number
    page = client.get(LIST, {"contract": contract, "status": SlipStatus.CANCELLED}).content.decode()
    assert not any(s.number in page for s in issued_slips)
    page = client.get(LIST, {"q": issued_slips[1].number}).content.decode()
    assert issued_slips[1].number in page and issued_slips[0].number not in page
    with django_assert_max_num_queries(12):
        response = client.get(LIST, {"export": "xlsx", "contract": contract})
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[0][0] == "储蓄单号" and len(rows) == 4
    exported = {row[0]: row for row in rows[1:]}
    assert exported[issued_slips[2].number][9] == "是" and exported[issued_slips[0].number][9] == "否"


def test_list_and_detail_reach(
    client, issued_slips, village_clerk, investor, bank_officer, other_county_staff
):
    slip = issued_slips[0]
    client.force_login(village_clerk)
    assert slip.number in client.get(LIST).content.decode()
    assert client.get(slip.get_absolute_url()).status_code == 200
    for outsider in (investor, bank_officer, other_county_staff):
        client.force_login(outsider)
        assert slip.number not in client.get(LIST).content.decode()
        assert client.get(slip.get_absolute_url()).status_code == 404
        assert client.get(reverse("transactions:slip-pdf", args=[slip.pk])).status_code == 404


def test_detail_shows_right_pledge_and_history(client, county_staff, issued_slips):
    slip = issued_slips[2]
    pledge(county_staff, slip)
    client.force_login(county_staff)
    page = client.get(slip.get_absolute_url()).content.decode()
    assert slip.number in page and slip.verification_code in page
    assert "已质押" in page and "ZY-PAGE" in page and "仅可质押一次" in page
    assert f"issue savings slip {slip.number}" in page  # the history row's reason
    assert slip.holder.person.national_id_masked in page
    assert "注销储蓄单" in page


def test_issue_button_on_the_contract_page(client, county_staff, savings_contract, village_clerk):
    client.force_login(county_staff)
    page = client.get(savings_contract.get_absolute_url()).content.decode()
    issue = reverse("transactions:slip-issue", args=[savings_contract.pk])
    assert issue in page and "签发储蓄单" in page
    response = client.post(issue)
    assert response.status_code == 302 and response["Location"].startswith(LIST)
    assert SavingsSlip.objects.filter(contract=savings_contract).count() == 3
    response = client.post(issue, follow=True)
    assert "未重复签发" in response.content.decode() and SavingsSlip.objects.count() == 3
    client.force_login(village_clerk)
    assert issue not in client.get(savings_contract.get_absolute_url()).content.decode()
    assert client.post(issue).status_code == 403
    assert client.get(issue).status_code == 405


def test_issue_button_refusal_is_shown(client, county_staff, make_savings_contract, savings_parcels):
    draft = make_savings_contract(savings_parcels, sign=False)
    client.force_login(county_staff)
    response = client.post(reverse("transactions:slip-issue", args=[draft.pk]), follow=True)
    assert "只有履行中的合同可以签发储蓄单" in response.content.decode()
    assert not SavingsSlip.objects.exists()


def test_cancel_form(client, county_staff, issued_slips, village_clerk):
    slip, pledged = issued_slips[0], issued_slips[2]
    pledge(county_staff, pledged)
    url = reverse("transactions:slip-cancel", args=[slip.pk])
    client.force_login(village_clerk)
    assert client.post(url, {"reason": "遗失"}).status_code == 403
    client.force_login(county_staff)
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400 and "invalid-feedback" in response.content.decode()
    response = client.post(reverse("transactions:slip-cancel", args=[pledged.pk]), {"reason": "储户退出"})
    assert response.status_code == 400 and "须先解除后才能注销" in response.content.decode()
    response = client.post(url, {"reason": "储蓄单遗失"})
    assert response.status_code == 302
    statuses = dict(SavingsSlip.objects.values_list("pk", "status"))
    assert statuses[slip.pk] == SlipStatus.CANCELLED and statuses[pledged.pk] == SlipStatus.ACTIVE


def test_printed_slip(client, county_staff, issued_slips, county_cooperative):
    slip = issued_slips[1]
    client.force_login(county_staff)
    response = client.get(reverse("transactions:slip-pdf", args=[slip.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    person = slip.holder.person
    for expected in (
        "生态资源储蓄单",
        slip.number,
        slip.verification_code,
        person.name,
        person.national_id_masked,
        slip.asset.code,
        f"{slip.guaranteed_annual_amount}",
        amount_in_words(slip.guaranteed_annual_amount),
        "2026年1月1日至2036年1月1日",
        "共10年",
        county_cooperative.name,
        "储蓄分红",
        f"/trading/slip-check/{slip.verification_code}/",
    ):
        assert expected in text, expected
    assert crypto.decrypt(person.national_id_ciphertext) not in text


def test_public_check_page_shows_status_without_personal_data(client, county_staff, issued_slips):
    slip = issued_slips[2]
    url = reverse("slip-check", args=[slip.verification_code])
    assert url == f"/trading/slip-check/{slip.verification_code}/"
    response = client.get(url)  # anonymous
    page = response.content.decode()
    person = slip.holder.person
    assert response.status_code == 200 and "核验通过" in page
    assert slip.number in page and slip.asset.code in page and slip.asset.division.name in page
    assert f"{slip.guaranteed_annual_amount:,}" in page
    assert person.name[0] + "*" in page and person.name not in page
    assert person.national_id_masked not in page and crypto.decrypt(person.national_id_ciphertext) not in page
    if person.phone_masked:
        assert person.phone_masked not in page
    assert 'slip-pledged">否' in page
    pledge(county_staff, slip)
    page = client.get(url).content.decode()
    bank = Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")
    assert 'slip-pledged">是' in page and bank.name not in page  # yes/no only, never the bank


def test_public_check_unknown_code_and_form(client, county_staff, issued_slips):
    response = client.get(reverse("slip-check", args=["ABCDEFGHJKLM"]))
    page = response.content.decode()
    assert response.status_code == 404 and "没有找到" in page
    assert not any(s.number in page for s in issued_slips)
    form = reverse("slip-check-form")
    response = client.get(form)
    assert response.status_code == 200 and "没有找到" not in response.content.decode()
    slip, other = issued_slips[0], issued_slips[1]
    response = client.get(form, {"number": slip.number.lower(), "code": f" {slip.verification_code} "})
    assert response.status_code == 200 and "核验通过" in response.content.decode()
    response = client.get(form, {"number": other.number, "code": slip.verification_code})
    assert response.status_code == 404 and slip.number not in response.content.decode()
    assert client.get(form, {"number": "", "code": ""}).status_code == 404
    savings.cancel_slip(actor=county_staff, slip=slip, reason="遗失")
    page = client.get(reverse("slip-check", args=[slip.verification_code])).content.decode()
    assert "已不再有效" in page and "已注销" in page


@pytest.mark.parametrize("path", ["/trading/slip-check/", "/trading/slip-check/XXXX/"])
def test_public_pages_need_no_login(client, demo_region, path):
    assert client.get(path).status_code in (200, 404)
    assert "login" not in client.get(path).get("Location", "")
