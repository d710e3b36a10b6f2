# ruff: noqa: F811  (fixtures imported from test_risk_fixtures)
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from directory.models import PersonalDataAccess
from finance.models import DefaultStatus, Disposal, LoanDefault, LoanStatus, PledgeStatus
from finance.services import defaults
from resources.models import RightStatus

from .test_risk_fixtures import (  # noqa: F401  (fixtures)
    DECLARED_ON,
    fund,
    funded,
    government,
    guarantor,
    pledged_loan,
    scheme,
)

pytestmark = pytest.mark.django_db


def declared(staff, loan):
    return defaults.declare_default(actor=staff, loan=loan, reason="逾期未还", declared_on=DECLARED_ON)


def test_declare_from_the_loan_page(client, pledged_loan, county_staff):
    loan, _pledges = pledged_loan()
    client.force_login(county_staff)
    url = f"{reverse('finance:default-declare')}?loan={loan.pk}"
    form = client.get(url).content.decode()
    assert loan.number in form and "今日逾期天数" in form
    bad = client.post(url, {"reason": "逾期", "declared_on": "2099-01-01"})
    assert bad.status_code == 200 and "日期不能晚于今天" in bad.content.decode()
    assert not LoanDefault.objects.exists()
    response = client.post(url, {"reason": "连续逾期", "declared_on": DECLARED_ON.isoformat()})
    default = LoanDefault.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "finance:default-detail", args=[default.pk]
    )
    # declaring again just leads to the default
    assert client.get(url)["Location"] == reverse("finance:default-detail", args=[default.pk])
    assert client.get(reverse("finance:default-declare")).status_code == 404


def test_declare_refusal_is_shown_in_place(client, pledged_loan, county_staff):
    loan, _pledges = pledged_loan()
    client.force_login(county_staff)
    url = f"{reverse('finance:default-declare')}?loan={loan.pk}"
    response = client.post(url, {"reason": "逾期", "declared_on": "2026-02-15"})
    assert response.status_code == 200 and "没有逾期，不能认定违约" in response.content.decode()
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE


def test_banks_cannot_declare_and_see_only_their_own_defaults(
    client, pledged_loan, county_staff, bank_officer, second_bank_officer
):
    loan, _pledges = pledged_loan()
    client.force_login(bank_officer)
    url = f"{reverse('finance:default-declare')}?loan={loan.pk}"
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "x", "declared_on": "2026-06-01"}).status_code == 403
    default = declared(county_staff, loan)
    detail = reverse("finance:default-detail", args=[default.pk])
    page = client.get(detail).content.decode()
    assert loan.number in page and reverse("finance:default-buy-back", args=[default.pk]) not in page
    # the borrower's name was shown to the bank: the read is logged (PIPL)
    assert PersonalDataAccess.objects.filter(viewer=bank_officer, person=loan.borrower.person).exists()
    assert client.get(reverse("finance:default-buy-back", args=[default.pk])).status_code == 403
    assert loan.number in client.get(reverse("finance:default-list")).content.decode()
    client.force_login(second_bank_officer)
    assert client.get(url).status_code == 404
    assert client.get(detail).status_code == 404
    assert client.get(reverse("finance:default-buy-back", args=[default.pk])).status_code == 404
    assert loan.number not in client.get(reverse("finance:default-list")).content.decode()


def test_disposal_pages_end_to_end(
    client, pledged_loan, scheme, funded, county_staff, django_assert_max_num_queries
):
    funded(Decimal("100000.00"))
    loan, (pledge,) = pledged_loan(scheme=scheme)
    default = declared(county_staff, loan)
    client.force_login(county_staff)
    detail_url = reverse("finance:default-detail", args=[default.pk])
    page = client.get(detail_url).content.decode()
    assert str(default.claim) in page and pledge.number in page and "合作社回购" in page
    assert reverse("finance:default-compensate", args=[default.pk]) not in page  # a pledge is still open
    buy_url = reverse("finance:default-buy-back", args=[default.pk])
    form = client.get(buy_url, {"pledge": pledge.pk}).content.decode()
    assert f'value="{pledge.pk}" selected' in form and str(default.claim) in form
    bad = client.post(
        buy_url, {"pledge": pledge.pk, "price": "0", "executed_on": "2026-07-01", "source_document": "协议"}
    )
    assert bad.status_code == 200 and not Disposal.objects.exists()
    response = client.post(
        buy_url,
        {
            "pledge": pledge.pk,
            "price": "150000.00",
            "executed_on": "2026-07-01",
            "source_document": "回购协议 1 号",
        },
    )
    assert response["Location"] == detail_url
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.ENFORCED and pledge.right.status == RightStatus.ENDED
    with django_assert_max_num_queries(25):
        page = client.get(detail_url).content.decode()
    assert "disposal-waterfall" in page and "150000.00" in page and "违约回购" in page
    assert reverse("finance:default-compensate", args=[default.pk]) in page
    compensate_url = reverse("finance:default-compensate", args=[default.pk])
    preview = client.get(compensate_url).content.decode()
    assert "compensate-preview" in preview and "政府风险补偿基金" in preview
    response = client.post(compensate_url, {"executed_on": "2026-07-02", "source_document": "代偿审批"})
    assert response["Location"] == detail_url
    default.refresh_from_db()
    assert default.status == DefaultStatus.SETTLED
    page = client.get(detail_url).content.decode()
    assert "disposal-allocations" in page and "担保机构" in page and "代偿损失" in page
    assert reverse("finance:default-compensate", args=[default.pk]) not in page


def test_compensation_refusal_is_shown(client, pledged_loan, scheme, funded, county_staff):
    funded(Decimal("1.00"))
    loan, (pledge,) = pledged_loan(scheme=scheme)
    default = declared(county_staff, loan)
    defaults.buy_back(
        actor=county_staff,
        default=default,
        pledge=pledge,
        price="100.00",
        executed_on=datetime.date(2026, 7, 1),
        source_document="x",
    )
    client.force_login(county_staff)
    response = client.post(
        reverse("finance:default-compensate", args=[default.pk]),
        {"executed_on": "2026-07-02", "source_document": "代偿审批"},
    )
    assert response.status_code == 200 and "缺口" in response.content.decode()
    default.refresh_from_db()
    assert default.status == DefaultStatus.DECLARED


def test_default_list_filtered_and_pinned(client, pledged_loan, county_staff, django_assert_max_num_queries):
    made = [declared(county_staff, pledged_loan()[0]) for _i in range(3)]
    client.force_login(county_staff)
    url = reverse("finance:default-list")
    with django_assert_max_num_queries(10):
        page = client.get(url).content.decode()
    for default in made:
        assert default.loan.number in page
    assert not PersonalDataAccess.objects.exists()  # staff reads are not logged
    only = client.get(url, {"q": made[0].loan.number}).content.decode()
    assert made[0].loan.number in only and made[1].loan.number not in only
    assert made[0].loan.number not in client.get(url, {"status": "settled"}).content.decode()
