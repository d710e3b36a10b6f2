# ruff: noqa: F811  (fixtures imported from test_contracts_fixtures)
import datetime
import io
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from transactions.models import ContractStatus, ListingStatus, PaymentFrequency, TradeContract, TradeKind
from transactions.services import contracts

from .test_contracts_fixtures import (  # noqa: F401  (fixtures)
    collected_assets,
    other_county_staff,
    sold_listing,
    village_clerk,
)

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def make_contract(staff, listing, sign=True, frequency=PaymentFrequency.ANNUAL):
    contract = contracts.create_trade_contract(actor=staff, listing=listing, payment_frequency=frequency)
    return contracts.sign_trade_contract(actor=staff, contract=contract) if sign else contract


def test_list_scoped_filtered_exported_and_pinned(
    client,
    sold_listing,
    county_staff,
    investor,
    second_investor,
    other_county_staff,
    django_assert_max_num_queries,
):
    mine = [make_contract(county_staff, sold_listing(n=1)) for _i in range(3)]
    theirs = make_contract(
        county_staff,
        sold_listing(n=1, winner=(second_investor, second_investor.memberships.get().organization)),
    )
    url = reverse("transactions:contract-list")
    login(client, county_staff)
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    for contract in [*mine, theirs]:
        assert contract.number in page
    assert "第二投资有限公司（测试）" in page
    filtered = client.get(
        url, {"investor": theirs.investor_id, "status": "signed", "kind": "lease"}
    ).content.decode()
    assert theirs.number in filtered and mine[0].number not in filtered
    assert mine[0].number not in client.get(url, {"status": "terminated"}).content.decode()
    sheet = load_workbook(io.BytesIO(client.get(url, {"export": "xlsx"}).content)).active
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        c.number for c in [*mine, theirs]
    }

    login(client, investor)
    page = client.get(url).content.decode()
    assert all(c.number in page for c in mine) and theirs.number not in page
    login(client, other_county_staff)
    assert mine[0].number not in client.get(url).content.decode()
    assert client.get(reverse("transactions:contract-detail", args=[mine[0].pk])).status_code == 404


def test_detail_shows_parties_items_installments_movements(
    client, sold_listing, county_staff, investor, django_assert_max_num_queries
):
    contract = make_contract(county_staff, sold_listing(n=3), frequency=PaymentFrequency.QUARTERLY)
    url = reverse("transactions:contract-detail", args=[contract.pk])
    login(client, county_staff)
    with django_assert_max_num_queries(30):
        page = client.get(url).content.decode()
    assert "丽水示范生态旅游开发有限公司（演示）" in page and "莲都区两山合作社" in page
    for item in contract.items.select_related("asset"):
        assert item.asset.get_absolute_url() in page
    assert "保证金转价款" in page and "确认应收价款" in page
    assert "90000.00" in page  # outstanding after the deposit
    assert reverse("transactions:contract-terminate", args=[contract.pk]) in page
    assert reverse("transactions:contract-renew", args=[contract.pk]) in page
    login(client, investor)
    page = client.get(url).content.decode()
    assert (
        contract.number in page and reverse("transactions:contract-terminate", args=[contract.pk]) not in page
    )


def test_create_sign_through_pages(client, sold_listing, county_staff):
    listing = sold_listing()
    login(client, county_staff)
    url = reverse("transactions:contract-create") + f"?listing={listing.pk}"
    page = client.get(url).content.decode()
    assert listing.code in page and "保持林地用途不变。" in page
    bad = client.post(url, {"payment_frequency": "weekly"})
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()
    assert not TradeContract.objects.exists()
    response = client.post(url, {"payment_frequency": "semiannual", "obligations": "保护古树。"})
    contract = TradeContract.objects.get()
    assert response.url == contract.get_absolute_url() and contract.obligations == "保护古树。"
    assert client.get(url).status_code == 404  # the listing has its contract now
    response = client.post(reverse("transactions:contract-sign", args=[contract.pk]), follow=True)
    assert "合同已签订" in response.content.decode()
    contract.refresh_from_db()
    listing.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED and listing.status == ListingStatus.CONTRACTED
    response = client.post(reverse("transactions:contract-sign", args=[contract.pk]), follow=True)
    assert "状态不能从" in response.content.decode()


def test_staff_pages_refuse_investor_and_clerk(client, sold_listing, county_staff, investor, village_clerk):
    listing = sold_listing()
    draft = make_contract(county_staff, listing, sign=False)
    login(client, investor)
    assert client.post(reverse("transactions:contract-sign", args=[draft.pk])).status_code == 403
    assert client.get(reverse("transactions:contract-terminate", args=[draft.pk])).status_code == 403
    assert client.get(reverse("transactions:contract-create") + f"?listing={listing.pk}").status_code == 404
    login(client, village_clerk)
    assert client.post(reverse("transactions:contract-sign", args=[draft.pk])).status_code == 404
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT


def test_terminate_and_renew_pages(client, sold_listing, county_staff):
    contract = make_contract(county_staff, sold_listing())
    login(client, county_staff)
    url = reverse("transactions:contract-terminate", args=[contract.pk])
    response = client.post(url, {"effective_date": "2035-01-01", "reason": "违约"})
    assert response.status_code == 200
    page = response.content.decode()
    print(page[page.find("<main") :][:3000])
    assert "解除生效日须在合同期限内" in page and "is-invalid" in page
    renew_url = reverse("transactions:contract-renew", args=[contract.pk])
    response = client.post(renew_url, {"end_date": "2036-01-01", "price": "0", "payment_frequency": "annual"})
    assert response.status_code == 200 and not TradeContract.objects.filter(renewal_of=contract).exists()
    response = client.post(
        renew_url, {"end_date": "2036-01-01", "price": "88000.00", "payment_frequency": "annual"}
    )
    renewal = TradeContract.objects.get(renewal_of=contract)
    assert response.url == renewal.get_absolute_url() and renewal.price == Decimal("88000.00")
    response = client.post(url, {"effective_date": "2027-06-01", "reason": "受让方违约"})
    contract.refresh_from_db()
    assert response.status_code == 302 and contract.status == ContractStatus.TERMINATED


def test_abandon_page(client, sold_listing, county_staff):
    listing = sold_listing(closed_at=timezone.now() - datetime.timedelta(days=10))
    draft = make_contract(county_staff, listing, sign=False)
    login(client, county_staff)
    assert (
        reverse("transactions:contract-abandon", args=[listing.pk])
        in client.get(draft.get_absolute_url()).content.decode()
    )
    url = reverse("transactions:contract-abandon", args=[listing.pk])
    assert "is-invalid" in client.post(url, {"reason": ""}).content.decode()
    response = client.post(url, {"reason": "逾期未签约"})
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.status == ListingStatus.FAILED and not TradeContract.objects.exists()


@pytest.mark.parametrize("kind", [TradeKind.LEASE, TradeKind.TRANSFER])
def test_contract_pdf_text(client, sold_listing, county_staff, investor, kind, tmp_path):
    listing = sold_listing(kind=kind, price=Decimal("100000.01"))
    contract = make_contract(county_staff, listing, frequency=PaymentFrequency.QUARTERLY)
    login(client, investor)
    response = client.get(f"/transactions/contracts/{contract.pk}/contract.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "c.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    compact = "".join(text.split())
    assert ("资源租赁合同" if kind == TradeKind.LEASE else "经营权流转合同") in compact
    assert "甲方（出让方）：莲都区两山合作社" in compact
    assert "丽水示范生态旅游开发有限公司（演示）" in compact and (contract.investor.uscc or "") in compact
    assert listing.code in compact and contract.number in compact
    assert "壹拾万元零壹分" in compact  # 100000.01 in capitals
    assert "壹万元整" in compact  # the deposit applied
    for item in contract.items.select_related("asset"):
        assert item.asset.code in compact
    assert "森林防火" in compact and "恢复原状" in compact and "仲裁" in compact and "乙方（盖章）" in compact
    assert "2026-04-01" in compact  # second quarterly installment
    client.logout()
    assert client.get(f"/transactions/contracts/{contract.pk}/contract.pdf").status_code in (302, 403)
