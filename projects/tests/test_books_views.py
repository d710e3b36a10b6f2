# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""The books pages: balance sheet, the capital/borrowing/stake forms (a double submission records
once, refusals shown in place), stake detail and disposal; reach and capabilities."""

from decimal import Decimal

import pytest
from django.urls import reverse

from directory.services import ensure_party
from projects.models import Borrowing, BorrowingKind, EquityStake
from transactions.models import AccountKind, Movement, MovementKind
from transactions.services import ledger

from .fixtures_red_lines import (  # noqa: F401  (fixtures)
    PAST,
    auditor,
    borrow,
    capital,
    coop_scheme,
    firm,
    invest,
    lend,
    lender,
    second_lender,
    village_clerk,
)

pytestmark = pytest.mark.django_db


def test_books_page_shows_balance_sheet_lenders_and_stakes(
    client,
    capital,
    borrow,
    invest,
    lender,
    county_staff,
    auditor,
    county_cooperative,
    investor_org,
    django_assert_max_num_queries,
):
    capital("1000000")
    borrow("300000")
    stake = invest("200000")
    client.force_login(county_staff)
    url = reverse("projects:books", args=[county_cooperative.pk])
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    assert '<td class="text-end total-assets">1300000.00</td>' in page
    assert '<td class="text-end total-liabilities">300000.00</td>' in page
    assert '<td class="text-end net-assets">1000000.00</td>' in page
    assert lender.name in page and investor_org.name in page and stake.get_absolute_url() in page
    assert '<td class="text-end outstanding">300000.00</td>' in page and "unassigned-borrowing" not in page
    assert '<td class="text-end text-muted accumulated-result">0.00</td>' in page
    assert "资本金到账" in page and reverse("projects:books-capital", args=[county_cooperative.pk]) in page
    assert "attribution-problems" not in page
    client.force_login(auditor)  # reads, cannot write
    page = client.get(url).content.decode()
    assert (
        "1300000.00" in page and reverse("projects:books-capital", args=[county_cooperative.pk]) not in page
    )
    assert client.get(reverse("projects:books-capital", args=[county_cooperative.pk])).status_code == 403


def test_capital_form_records_once_and_shows_errors(
    client, county_staff, county_cooperative, city_cooperative
):
    client.force_login(county_staff)
    url = reverse("projects:books-capital", args=[county_cooperative.pk])
    form = client.get(url).content.decode()
    token = form.split('name="token" value="')[1].split('"')[0]
    data = {
        "amount": "500000",
        "occurred_on": "2026-03-01",
        "reference": "ZB-1",
        "memo": "区国资委出资",
        "token": token,
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the same form submitted twice
    assert Movement.objects.filter(kind=MovementKind.CAPITAL_CONTRIBUTION).count() == 1
    bad = client.post(url, {**data, "token": "other", "occurred_on": "2099-01-01"})
    assert (
        bad.status_code == 200
        and "is-invalid" in bad.content.decode()
        and "不能晚于今天" in bad.content.decode()
    )
    bad = client.post(url, {**data, "token": "other", "amount": "-1"})
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()
    assert Movement.objects.count() == 1
    assert client.get(reverse("projects:books-capital", args=[city_cooperative.pk])).status_code == 404


def test_borrowing_and_repayment_forms(
    client, county_staff, county_cooperative, lender, second_lender, django_assert_max_num_queries
):
    client.force_login(county_staff)
    borrow_url = reverse("projects:books-borrowing", args=[county_cooperative.pk])
    repay_url = reverse("projects:books-repayment", args=[county_cooperative.pk])
    base = {"occurred_on": "2026-03-01", "reference": "JK", "memo": "流动资金"}
    assert (
        client.post(borrow_url, {**base, "lender": lender.pk, "amount": "100000", "token": "a"}).status_code
        == 302
    )
    refused = client.post(repay_url, {**base, "lender": second_lender.pk, "amount": "1", "token": "b"})
    assert (
        refused.status_code == 200
        and "超过" in refused.content.decode()
        and "is-invalid" in refused.content.decode()
    )
    form = client.get(repay_url).content.decode()  # what each lender is owed, next to the form
    assert "lender-balances" in form and lender.name in form and "100000.00" in form
    ok = client.post(repay_url, {**base, "lender": lender.pk, "amount": "40000", "token": "c"})
    assert ok.status_code == 302
    assert (
        client.post(repay_url, {**base, "lender": lender.pk, "amount": "40000", "token": "c"}).status_code
        == 302
    )
    assert ledger.balance(AccountKind.BORROWINGS, ensure_party(county_cooperative)) == Decimal("-60000.00")
    assert Borrowing.objects.filter(kind=BorrowingKind.REPAY).count() == 1  # the form submitted twice
    with django_assert_max_num_queries(16):
        page = client.get(reverse("projects:books", args=[county_cooperative.pk])).content.decode()
    lenders = page.split('class="table table-sm mb-0 lenders"')[1].split("</table>")[0]
    assert lender.name in lenders and "100000.00" in lenders and "40000.00" in lenders
    assert '<td class="text-end outstanding">60000.00</td>' in lenders
    rows = page.split('class="table table-sm align-middle mb-0 borrowings"')[1].split("</table>")[0]
    assert rows.count("<tr") == 3 and "借入" in rows and "归还" in rows
    assert "unassigned-borrowing" not in page
    assert (
        client.post(
            borrow_url, {**base, "lender": county_cooperative.pk, "amount": "1", "token": "d"}
        ).status_code
        == 200
    )
    assert Borrowing.objects.count() == 2


def test_books_page_flags_borrowings_without_a_lender(client, capital, county_staff, county_cooperative):
    """BORROWINGS posted straight through the ledger (not through the books service) have no
    Borrowing row: the page says how much has no lender rather than hiding it."""
    capital("100000")
    party = ensure_party(county_cooperative)
    ledger.post(
        actor=county_staff,
        kind=MovementKind.BORROWING,
        memo="直接记账",
        lines=[
            ledger.debit(AccountKind.CASH, party, 5000),
            ledger.credit(AccountKind.BORROWINGS, party, 5000),
        ],
        occurred_on=PAST,
    )
    client.force_login(county_staff)
    page = client.get(reverse("projects:books", args=[county_cooperative.pk])).content.decode()
    assert "unassigned-borrowing" in page and "5000.00 元未登记出借方" in page


def test_stake_form_detail_and_disposal(
    client, capital, lend, county_staff, auditor, county_cooperative, investor_org, firm
):
    capital("1000000")
    client.force_login(county_staff)
    url = reverse("projects:stake-create", args=[county_cooperative.pk])
    data = {
        "investee": investor_org.pk,
        "amount": "200000",
        "share": "0.3",
        "acquired_on": "2026-02-01",
        "source_document": "三重一大纪要 2026-3 号",
        "reference": "TZ-1",
        "token": "t-1",
    }
    response = client.post(url, data)
    stake = EquityStake.objects.get()
    assert response.status_code == 302 and response["Location"] == stake.get_absolute_url()
    duplicate = client.post(url, {**data, "token": "t-2"})
    assert duplicate.status_code == 200 and "尚未退出" in duplicate.content.decode()
    assert EquityStake.objects.count() == 1
    loan = lend("100000", ensure_party(investor_org), share="0.3")
    detail = client.get(stake.get_absolute_url()).content.decode()
    assert "突破红线" in detail and loan.number in detail and "30000.00" in detail
    assert reverse("projects:stake-dispose", args=[stake.pk]) in detail
    client.force_login(auditor)
    assert client.get(stake.get_absolute_url()).status_code == 200
    assert client.get(reverse("projects:stake-dispose", args=[stake.pk])).status_code == 403
    client.force_login(county_staff)
    dispose = reverse("projects:stake-dispose", args=[stake.pk])
    early = client.post(dispose, {"proceeds": "250000", "disposed_on": "2026-01-01", "reference": "TC"})
    assert early.status_code == 200 and "不能早于投资日期" in early.content.decode()
    assert (
        client.post(
            dispose, {"proceeds": "250000", "disposed_on": "2026-06-01", "reference": "TC"}
        ).status_code
        == 302
    )
    stake.refresh_from_db()
    assert str(stake.disposed_on) == "2026-06-01"
    detail = client.get(stake.get_absolute_url()).content.decode()
    assert "已退出" in detail and "突破红线" not in detail and dispose not in detail
    assert "收回股权投资" in detail


def test_books_refused_outside_reach(
    client, invest, county_staff, city_admin, city_cooperative, investor_org
):
    stake = invest("1000", cooperative=city_cooperative, actor=city_admin)
    client.force_login(county_staff)
    assert client.get(reverse("projects:books", args=[city_cooperative.pk])).status_code == 404
    assert client.get(stake.get_absolute_url()).status_code == 404
    assert client.post(reverse("projects:stake-dispose", args=[stake.pk]), {}).status_code == 404


def test_books_index_goes_to_the_only_cooperative_or_lists_them(
    client, county_staff, city_admin, village_clerk, county_cooperative, city_cooperative
):
    url = reverse("projects:books")
    client.force_login(county_staff)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse(
        "projects:books", args=[county_cooperative.pk]
    )
    client.force_login(city_admin)
    page = client.get(url).content.decode()
    assert reverse("projects:books", args=[city_cooperative.pk]) in page
    assert reverse("projects:books", args=[county_cooperative.pk]) in page
    client.force_login(village_clerk)
    assert client.get(url).status_code == 403
