# ruff: noqa: F811  (fixtures imported from test_risk_fixtures)
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from finance.models import RiskCompensationFund, RiskSharingScheme
from finance.services import risk
from transactions.models import Movement, MovementKind

from .test_risk_fixtures import (  # noqa: F401  (fixtures)
    fund,
    funded,
    government,
    guarantor,
    scheme,
)

pytestmark = pytest.mark.django_db


def test_fund_list_shows_balances_sorted_exported_and_pinned(
    client, funded, fund, scheme, county_staff, django_assert_max_num_queries
):
    funded(Decimal("1234567.89"))
    client.force_login(county_staff)
    url = reverse("finance:fund-list")
    with django_assert_max_num_queries(10):
        page = client.get(url, {"sort": "-balance"}).content.decode()
    assert (
        fund.name in page and "1234567.89" in page and reverse("finance:fund-detail", args=[fund.pk]) in page
    )
    assert reverse("finance:fund-create") in page
    sheet = load_workbook(io.BytesIO(client.get(url, {"export": "xlsx"}).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == fund.name and Decimal(str(rows[1][3])) == Decimal("1234567.89")
    assert fund.name not in client.get(url, {"q": "不存在"}).content.decode()


def test_fund_detail_lists_movements_with_running_balance(client, funded, fund, scheme, county_staff):
    funded(Decimal("100.00"), reference="R-1")
    funded(Decimal("50.50"), reference="R-2")
    client.force_login(county_staff)
    page = client.get(reverse("finance:fund-detail", args=[fund.pk])).content.decode()
    assert "R-1" in page and "R-2" in page and "150.50" in page and scheme.name in page
    assert reverse("finance:fund-contribute", args=[fund.pk]) in page


def test_create_fund_and_contribute_through_the_forms(client, county_staff, government, county_cooperative):
    client.force_login(county_staff)
    create_url = reverse("finance:fund-create")
    assert client.get(create_url).status_code == 200
    bad = client.post(
        create_url,
        {"name": "基金", "manager": government.pk, "division": county_cooperative.division_id, "source": ""},
    )
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()
    response = client.post(
        create_url,
        {
            "name": "莲都基金",
            "manager": government.pk,
            "division": county_cooperative.division_id,
            "source": "文件",
        },
    )
    created = RiskCompensationFund.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "finance:fund-detail", args=[created.pk]
    )
    url = reverse("finance:fund-contribute", args=[created.pk])
    form = client.get(url).content.decode()
    token = form.split('name="token" value="')[1].split('"')[0]
    data = {
        "contributor": government.pk,
        "amount": "30000.00",
        "occurred_on": "2026-05-01",
        "reference": "财拨-9",
        "token": token,
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # a double submission is counted once
    assert Movement.objects.filter(kind=MovementKind.FUND_CONTRIBUTION).count() == 1
    assert risk.fund_balance(created) == Decimal("30000.00")
    future = client.post(url, {**data, "occurred_on": "2099-01-01", "token": "other"})
    assert future.status_code == 200 and "日期不能晚于今天" in future.content.decode()


def test_bank_cannot_open_desk_forms_and_sees_only_its_schemes(
    client, bank_officer, fund, scheme, make_product, second_bank_officer
):
    client.force_login(bank_officer)
    assert client.get(reverse("finance:fund-create")).status_code == 403
    assert client.get(reverse("finance:scheme-create")).status_code == 403
    assert client.get(reverse("finance:scheme-detail", args=[scheme.pk])).status_code == 404
    make_product(risk_scheme=scheme)
    assert client.get(reverse("finance:scheme-detail", args=[scheme.pk])).status_code == 200
    assert client.get(reverse("finance:fund-detail", args=[fund.pk])).status_code == 200
    assert client.get(reverse("finance:fund-contribute", args=[fund.pk])).status_code == 403
    client.force_login(second_bank_officer)
    assert client.get(reverse("finance:fund-detail", args=[fund.pk])).status_code == 404
    assert scheme.name not in client.get(reverse("finance:scheme-list")).content.decode()


def test_create_scheme_through_the_form(client, county_staff, county_cooperative, fund, guarantor, bank):
    client.force_login(county_staff)
    url = reverse("finance:scheme-create")
    form = client.get(url).content.decode()
    assert 'value="0.4"' in form and "4321" in form
    data = {
        "name": "莲都区生态贷风险分担",
        "division": county_cooperative.division_id,
        "fund": fund.pk,
        "source": "协议",
        "guarantor_party": guarantor.pk,
        "guarantor_share": "0.5",
        "cooperative_party": county_cooperative.pk,
        "cooperative_share": "0.3",
        "bank_party": bank.pk,
        "bank_share": "0.2",
        "government_fund_share": "0.1",
    }
    bad = client.post(url, data)
    assert bad.status_code == 200 and "合计须恰好等于1" in bad.content.decode()
    assert not RiskSharingScheme.objects.exists()
    response = client.post(url, {**data, "guarantor_share": "0.4"})
    created = RiskSharingScheme.objects.get()
    assert response["Location"] == reverse("finance:scheme-detail", args=[created.pk])
    detail = client.get(response["Location"]).content.decode()
    # 100,000 元 split 40/30/20/10, and the bank share goes to the lending bank
    assert "40000.00" in detail and "10000.00" in detail and "实际由放款银行承担" in detail


def test_scheme_list_pinned(client, county_staff, scheme, django_assert_max_num_queries):
    client.force_login(county_staff)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("finance:scheme-list")).content.decode()
    assert scheme.name in page and reverse("finance:scheme-detail", args=[scheme.pk]) in page
