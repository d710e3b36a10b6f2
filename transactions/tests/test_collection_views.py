# ruff: noqa: F811  (fixtures imported from test_collection_services are parameters here)
"""流转收储 pages: list (filters, export, reach), create/edit form, detail actions and the PDF."""

import datetime
import subprocess
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from directory.models import Notification
from resources.models import AssetStatus, Right, RightKind
from transactions.models import CollectionContract, ContractStatus, PaymentFrequency, RevenueModel
from transactions.services import collection as svc

from .conftest import TERM_END, TERM_START
from .test_collection_services import (  # noqa: F401  (fixtures)
    other_county_staff,
    parcels,
    signed,
    terms,
    village_clerk,
    village_division,
)

D = datetime.date
LIST = reverse("transactions:collection-list")
CREATE = reverse("transactions:collection-create")


@pytest.fixture
def many(county_staff, registered_asset, households, terms):
    """Five contracts over separate parcels: three drafts, two signed."""
    contracts = []
    for n in range(5):
        asset = registered_asset([(households[n % 3], 1)], name=f"批量林地{n}", dx=0.01 + 0.002 * n)
        contract = svc.create_collection_contract(actor=county_staff, **terms(assets=[asset]))
        if n < 2:
            svc.sign_collection_contract(actor=county_staff, contract=contract)
        contracts.append(contract)
    return contracts


def form_data(collective, village_division, codes, **overrides):
    data = {
        "division": village_division.pk,
        "grantor": collective.pk,
        "source_right_kind": RightKind.CONTRACT,
        "granted_right_kind": RightKind.MANAGEMENT,
        "start_date": "2026-01-01",
        "end_date": "2031-01-01",
        "revenue_model": RevenueModel.FIXED_RENT,
        "annual_amount": "8000",
        "dividend_rate": "0",
        "payment_frequency": PaymentFrequency.SEMIANNUAL,
        "first_payment_date": "2026-03-01",
        "obligations": "不得改变林地用途。",
        "asset_codes": "\n".join(codes),
    }
    data.update(overrides)
    return data


def test_list_filters_sorts_exports_with_few_queries(
    client, county_staff, many, django_assert_max_num_queries
):
    client.force_login(county_staff)
    with django_assert_max_num_queries(12):
        response = client.get(LIST)
    page = response.content.decode()
    assert response.status_code == 200
    assert all(c.number in page for c in many) and CREATE in page
    response = client.get(LIST, {"status": ContractStatus.SIGNED, "sort": "number"})
    page = response.content.decode()
    assert many[0].number in page and many[4].number not in page
    with django_assert_max_num_queries(12):
        response = client.get(LIST, {"export": "xlsx", "revenue_model": RevenueModel.FIXED_RENT})
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "合同编号" and len(rows) == 6
    response = client.get(LIST, {"number": many[2].number})
    assert many[2].number in response.content.decode() and many[3].number not in response.content.decode()


def test_list_reach(client, many, village_clerk, investor, other_county_staff):
    client.force_login(village_clerk)
    page = client.get(LIST).content.decode()
    assert all(c.number in page for c in many) and CREATE not in page
    for outsider in (investor, other_county_staff):
        client.force_login(outsider)
        page = client.get(LIST).content.decode()
        assert not any(c.number in page for c in many)
        assert client.get(many[0].get_absolute_url()).status_code == 404
        assert client.get(reverse("transactions:collection-pdf", args=[many[0].pk])).status_code == 404


def test_create_page_saves_a_draft(client, county_staff, collective, village_division, parcels):
    client.force_login(county_staff)
    page = client.get(CREATE)
    assert page.status_code == 200 and parcels[0].code in page.content.decode()
    data = form_data(collective, village_division, [parcels[0].code])
    data["assets"] = [parcels[1].pk]
    response = client.post(CREATE, data)
    contract = CollectionContract.objects.get()
    assert response.status_code == 302 and response["Location"] == contract.get_absolute_url()
    assert contract.status == ContractStatus.DRAFT and contract.items.count() == 2
    assert contract.payment_frequency == PaymentFrequency.SEMIANNUAL


def test_create_page_shows_errors_in_place(client, county_staff, collective, village_division, parcels):
    client.force_login(county_staff)
    response = client.post(CREATE, form_data(collective, village_division, ["NOPE-1"]))
    assert response.status_code == 400 and "找不到资源编号：NOPE-1" in response.content.decode()
    response = client.post(CREATE, form_data(collective, village_division, [], asset_codes=""))
    assert "请至少填写或选择一项资源" in response.content.decode()
    response = client.post(
        CREATE, form_data(collective, village_division, [parcels[0].code], dividend_rate="0.2")
    )
    page = response.content.decode()
    assert (
        response.status_code == 400 and "固定租金模式的分红比例须为0" in page and "invalid-feedback" in page
    )
    response = client.post(CREATE, form_data(collective, village_division, [parcels[0].code], end_date="x"))
    assert response.status_code == 400
    assert not CollectionContract.objects.exists()


def test_create_page_is_for_staff_only(client, investor, village_clerk):
    for user in (investor, village_clerk):
        client.force_login(user)
        assert client.get(CREATE).status_code == 403


def test_edit_and_delete_draft(client, county_staff, terms, parcels):
    contract = svc.create_collection_contract(actor=county_staff, **terms())
    client.force_login(county_staff)
    url = reverse("transactions:collection-edit", args=[contract.pk])
    page = client.get(url).content.decode()
    assert parcels[0].code in page
    data = form_data(contract.grantor, contract.division, [parcels[1].code], annual_amount="7000.5")
    assert client.post(url, data).status_code == 302
    contract.refresh_from_db()
    assert str(contract.annual_amount) == "7000.50" and contract.items.get().asset == parcels[1]
    response = client.post(reverse("transactions:collection-action", args=[contract.pk, "delete"]))
    assert response["Location"] == LIST and not CollectionContract.objects.exists()


def test_detail_and_sign(client, county_staff, terms, village_clerk, django_assert_max_num_queries):
    contract = svc.create_collection_contract(actor=county_staff, **terms())
    sign = reverse("transactions:collection-action", args=[contract.pk, "sign"])
    client.force_login(village_clerk)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert contract.number in page and sign not in page
    assert client.post(sign).status_code == 403
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
    client.force_login(county_staff)
    response = client.post(sign, follow=True)
    assert "收储合同已签订" in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED
    with django_assert_max_num_queries(14):
        page = client.get(contract.get_absolute_url()).content.decode()
    item = contract.items.select_related("asset").first()
    assert str(item.asset.area_mu) in page and item.asset.get_absolute_url() in page
    assert "granted-right" in page and "12000.00" in page
    assert page.count("<td>2026-01-01</td>") == 3  # three beneficiaries in the first period
    assert Notification.objects.filter(recipient=village_clerk, link=contract.get_absolute_url()).exists()


def test_sign_refusal_is_a_message(client, county_staff, terms, parcels, investor_org):
    from directory.services import ensure_party
    from resources import services as registry

    contract = svc.create_collection_contract(actor=county_staff, **terms())
    registry.grant_right(
        actor=county_staff,
        asset=parcels[0],
        holder=ensure_party(investor_org),
        kind=RightKind.MANAGEMENT,
        start=D(2027, 1, 1),
        source_document="经营权合同",
    )
    client.force_login(county_staff)
    url = reverse("transactions:collection-action", args=[contract.pk, "sign"])
    page = client.post(url, follow=True).content.decode()
    assert "已有有效的经营权" in page
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


def test_terminate_and_renew_from_the_page(client, county_staff, signed, parcels):
    client.force_login(county_staff)
    terminate = reverse("transactions:collection-action", args=[signed.pk, "terminate"])
    page = client.post(
        terminate, {"reason": "", "effective_date": "2027-01-01"}, follow=True
    ).content.decode()
    assert "请填写解除原因" in page
    renew = reverse("transactions:collection-action", args=[signed.pk, "renew"])
    response = client.post(renew, {"end_date": "2036-01-01", "annual_amount": "13000"})
    renewal = CollectionContract.objects.get(renewal_of=signed)
    assert response["Location"] == renewal.get_absolute_url() and renewal.start_date == TERM_END
    renewal.delete()
    client.post(terminate, {"reason": "村民大会决议", "effective_date": "2027-01-01"})
    signed.refresh_from_db()
    assert signed.status == ContractStatus.TERMINATED
    assert {p.status for p in type(parcels[0]).objects.filter(pk__in=[p.pk for p in parcels])} == {
        AssetStatus.REGISTERED
    }
    assert (
        client.post(reverse("transactions:collection-action", args=[signed.pk, "bogus"])).status_code == 404
    )


def _pdf_text(response):
    assert response["Content-Type"] == "application/pdf"
    result = subprocess.run(["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True)
    return "".join(result.stdout.decode().split())  # lines wrap anywhere in Chinese text


def test_contract_pdf(client, county_staff, signed, county_cooperative):
    client.force_login(county_staff)
    text = _pdf_text(client.get(reverse("transactions:collection-pdf", args=[signed.pk])))
    for expected in (
        "流转收储合同",
        signed.number,
        "甲方（出让方）：示范村股份经济合作社（演示）",
        f"乙方（收储方）：{county_cooperative.name}",
        "壹万贰仟元整",  # 12000 in capitals
        "陆万元整",  # 60000 over the term
        "2030年12月31日",
        "争议解决",
        "共分5期支付",
    ):
        assert expected in text, expected
    assert Right.objects.filter(kind=RightKind.MANAGEMENT).count() == 2


def test_contract_pdf_masks_a_household_id(client, county_staff, terms, households, parcels):
    person = households[2].person
    contract = svc.create_collection_contract(
        actor=county_staff,
        **terms(
            grantor=households[2],
            assets=[parcels[1]],
            revenue_model=RevenueModel.GUARANTEED_PLUS_DIVIDEND,
            dividend_rate="0.25",
            start_date=TERM_START,
        ),
    )
    client.force_login(county_staff)
    text = _pdf_text(client.get(reverse("transactions:collection-pdf", args=[contract.pk])))
    assert person.name in text and person.national_id_masked in text
    assert "********" in person.national_id_masked and "25%" in text and "二次分红" in text
