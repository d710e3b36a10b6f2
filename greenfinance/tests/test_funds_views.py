# ruff: noqa: F811  (fixtures imported from fixtures_funds)
"""Green funds pages: the register (with finance's risk compensation funds read-only), a fund's
page, the operation forms (refusals shown in place, nothing written), reversal, closing, the
movement list and the XLSX statement; scope and permissions."""

import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role, User
from finance.services import risk
from greenfinance.models import FundKind, FundMovement, FundMovementKind, FundStatus, GreenFund
from greenfinance.services import funds

from .fixtures_funds import (  # noqa: F401  (fixtures)
    LATER,
    PAID,
    active_fund,
    bureau,
    commitment,
    fund,
    loan,
    make_fund,
    project,
)

pytestmark = pytest.mark.django_db
K = FundMovementKind


@pytest.fixture
def risk_fund(county_staff, bureau, county_cooperative):
    """Finance's risk compensation fund, with 800,000 元 in it."""
    made = risk.create_fund(
        actor=county_staff,
        name="莲都区生态贷风险补偿基金（金融）",
        manager=bureau,
        division=county_cooperative.division,
        source="莲财〔2026〕2号",
    )
    risk.contribute(
        actor=county_staff,
        fund=made,
        contributor=bureau,
        amount="800000.00",
        occurred_on=PAID,
        reference="FX-1",
    )
    return made


@pytest.fixture
def auditor(demo_region):
    return User.objects.get(username="auditor")


@pytest.fixture
def deployed(active_fund, county_staff, project, loan):
    """The active fund after a drawdown to the project and one to the loan."""
    to_project = funds.draw_down(
        actor=county_staff,
        fund=active_fund,
        amount="1000000.00",
        occurred_on=LATER,
        recipient=project.owner,
        project=project,
        reference="TF-P",
        memo="康养基地建设",
    )
    to_loan = funds.draw_down(
        actor=county_staff,
        fund=active_fund,
        amount="200000.00",
        occurred_on=LATER,
        recipient=loan.borrower,
        loan=loan,
        reference="TF-L",
        memo="贷款配资",
    )
    return active_fund, to_project, to_loan


def page_of(response):
    assert response.status_code == 200
    return response.content.decode()


# --- register ---------------------------------------------------------------------------------


def test_register_lists_green_and_risk_funds_filters_sorts_and_exports(
    client, deployed, risk_fund, make_fund, county_staff, django_assert_max_num_queries
):
    fund = deployed[0]
    bond = make_fund(kind=FundKind.GREEN_BOND, name="丽水市绿色债券2026（测试）")
    client.force_login(county_staff)
    url = reverse("greenfinance:fund-list")
    with django_assert_max_num_queries(12):
        page = page_of(client.get(url, {"sort": "-cash"}))
    assert fund.get_absolute_url() in page and bond.get_absolute_url() in page
    assert reverse("finance:fund-detail", args=[risk_fund.pk]) in page and "贷款风险分担（只读）" in page
    assert "1800000.00" in page and "800000.00" in page  # cash of the green fund and the risk fund
    assert page.index(fund.name) < page.index(risk_fund.name) < page.index(bond.name)  # by cash, descending
    assert reverse("greenfinance:fund-create") in page

    only_bonds = page_of(client.get(url, {"kind": FundKind.GREEN_BOND}))
    assert bond.name in only_bonds and fund.name not in only_bonds and risk_fund.name not in only_bonds
    risk_only = page_of(client.get(url, {"kind": FundKind.RISK_COMPENSATION}))
    assert risk_fund.name in risk_only and fund.name not in risk_only
    raising = page_of(client.get(url, {"status": FundStatus.RAISING}))
    assert bond.name in raising and risk_fund.name not in raising and fund.name not in raising
    by_manager = page_of(client.get(url, {"manager": risk_fund.manager_id}))
    assert risk_fund.name in by_manager and bond.name not in by_manager
    township = AdministrativeDivision.objects.get(code="331102199000")  # the funds cover the whole county
    assert "没有符合条件的记录" in page_of(client.get(url, {"division": township.pk}))
    qingtian = AdministrativeDivision.objects.get(code="331121000000")  # outside the user's reach
    assert "筛选条件有误" in page_of(client.get(url, {"division": qingtian.pk}))
    assert "筛选条件有误" in page_of(client.get(url, {"kind": "lottery"}))

    sheet = load_workbook(io.BytesIO(client.get(url, {"export": "xlsx", "sort": "name"}).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "名称" and len(rows) == 4
    names = {row[1]: row for row in rows[1:]}
    assert Decimal(str(names[fund.name][7])) == Decimal("1800000.00")
    assert names[risk_fund.name][11] == "贷款风险分担（只读）" and not names[risk_fund.name][0]


def test_register_and_pages_are_scoped(client, deployed, risk_fund, bank_officer, auditor, make_member):
    fund = deployed[0]
    url = reverse("greenfinance:fund-list")
    client.force_login(bank_officer)
    assert client.get(url).status_code == 403
    assert client.get(fund.get_absolute_url()).status_code == 404
    client.force_login(auditor)
    page = page_of(client.get(url))
    assert fund.name in page and reverse("greenfinance:fund-create") not in page
    detail = page_of(client.get(fund.get_absolute_url()))
    assert "办理业务" not in detail and reverse("greenfinance:fund-draw-down", args=[fund.pk]) not in detail
    assert client.get(reverse("greenfinance:fund-draw-down", args=[fund.pk])).status_code == 403
    qingtian_coop = Organization.objects.create(
        name="青田县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    outsider = make_member(Role.COOP_STAFF, qingtian_coop)
    client.force_login(outsider)
    assert fund.name not in page_of(client.get(url))
    assert client.get(fund.get_absolute_url()).status_code == 404
    assert client.get(reverse("greenfinance:fund-income", args=[fund.pk])).status_code == 404


# --- a fund's page ----------------------------------------------------------------------------


def test_fund_page_shows_position_backing_journal_and_chart(
    client, deployed, county_staff, project, loan, django_assert_max_num_queries
):
    fund, to_project, to_loan = deployed
    funds.record_return(actor=county_staff, drawdown=to_project, amount="250000.00", occurred_on=LATER)
    client.force_login(county_staff)
    with django_assert_max_num_queries(16):
        page = page_of(client.get(fund.get_absolute_url()))
    assert project.get_absolute_url() in page and loan.get_absolute_url() in page
    assert "出资协议（测试）" in page  # the contributors table
    assert "2050000.00" in page  # cash after the return
    assert "950000.00" in page  # deployed: 750,000 + 200,000
    running = re.findall(r'running-cash">([\d.-]+)<', page)
    assert running == ["3000000.00", "2000000.00", "1800000.00", "2050000.00"]
    series = json.loads(re.search(r'id="fund-cash-series"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert series == [["2026-03-01", "3000000.00"], ["2026-06-01", "2050000.00"]]
    assert "vendor/echarts/echarts.min.js" in page
    assert reverse("greenfinance:fund-movement-reverse", args=[to_loan.pk]) in page
    assert reverse("greenfinance:fund-statement", args=[fund.pk]) in page


def test_create_fund_through_the_form(client, county_staff, county_cooperative, bureau):
    client.force_login(county_staff)
    url = reverse("greenfinance:fund-create")
    assert "规模（元）" in page_of(client.get(url))
    data = {
        "name": "丽水绿色债券（表单）",
        "kind": FundKind.GREEN_BOND,
        "manager": county_cooperative.pk,
        "division": county_cooperative.division_id,
        "size": "5000000",
        "issue_date": "2026-02-01",
        "coupon_rate": "0.032",
        "purpose": "生态修复",
        "source": "发改批复（测试）",
    }
    bad = page_of(client.post(url, data))  # a bond needs its maturity date
    assert "绿色债券须填写到期日" in bad and "is-invalid" in bad
    assert not GreenFund.objects.exists()
    response = client.post(url, {**data, "maturity_date": "2029-02-01"})
    bond = GreenFund.objects.get()
    assert response.status_code == 302 and response["Location"] == bond.get_absolute_url()
    assert bond.coupon_rate == Decimal("0.032") and bond.status == FundStatus.RAISING


# --- operations -------------------------------------------------------------------------------


def test_operations_through_the_forms(client, fund, county_staff, bureau, project):
    client.force_login(county_staff)

    def post(name, data):
        return client.post(reverse(f"greenfinance:fund-{name}", args=[fund.pk]), data)

    assert (
        post(
            "commit",
            {"contributor": bureau.pk, "amount": "4000000", "committed_on": "2026-02-01", "document": "协议"},
        ).status_code
        == 302
    )
    commitment = fund.commitments.get()
    page = page_of(client.get(reverse("greenfinance:fund-contribute", args=[fund.pk])))
    assert str(bureau.name) in page
    response = post(
        "contribute",
        {"commitment": commitment.pk, "amount": "2000000", "occurred_on": "2026-03-01", "reference": "CZ-9"},
    )
    assert response.status_code == 302
    again = page_of(
        post(
            "contribute",
            {"commitment": commitment.pk, "amount": "1", "occurred_on": "2026-03-01", "reference": "CZ-9"},
        )
    )
    assert "不能重复登记" in again and FundMovement.objects.count() == 1

    form = page_of(client.get(reverse("greenfinance:fund-draw-down", args=[fund.pk])))
    assert project.number in form
    too_much = page_of(
        post(
            "draw-down",
            {
                "project": project.pk,
                "amount": "2000000.01",
                "occurred_on": "2026-06-01",
                "reference": "T",
                "memo": "投放",
            },
        )
    )
    assert "缺口 0.01 元" in too_much and FundMovement.objects.count() == 1
    neither = page_of(
        post("draw-down", {"amount": "1", "occurred_on": "2026-06-01", "reference": "T", "memo": "x"})
    )
    assert "投放须指明支持的重点项目或贷款" in neither
    assert (
        post(
            "draw-down",
            {
                "project": project.pk,
                "amount": "1500000",
                "occurred_on": "2026-06-01",
                "reference": "TF-1",
                "memo": "投放",
            },
        ).status_code
        == 302
    )
    drawdown = FundMovement.objects.get(kind=K.DRAWDOWN)
    assert drawdown.counterparty.organization == project.owner
    assert (
        post(
            "return",
            {"drawdown": drawdown.pk, "amount": "500000", "occurred_on": "2026-06-01", "reference": "SH-1"},
        ).status_code
        == 302
    )
    over = page_of(
        post(
            "write-off",
            {"drawdown": drawdown.pk, "amount": "1000000.01", "occurred_on": "2026-06-01", "reason": "停建"},
        )
    )
    assert "未收回余额 1000000.00 元" in over
    assert (
        post(
            "write-off",
            {"drawdown": drawdown.pk, "amount": "100000", "occurred_on": "2026-06-01", "reason": "停建"},
        ).status_code
        == 302
    )
    assert (
        post(
            "income", {"amount": "3000", "occurred_on": "2026-06-01", "reference": "LX-1", "memo": "利息"}
        ).status_code
        == 302
    )
    assert (
        post(
            "expense",
            {
                "amount": "2000",
                "occurred_on": "2026-06-01",
                "reference": "GL-1",
                "memo": "管理费",
                "counterparty": bureau.pk,
            },
        ).status_code
        == 302
    )
    assert (
        post(
            "redeem",
            {
                "commitment": commitment.pk,
                "amount": "1001000",
                "occurred_on": "2026-06-01",
                "reference": "DF-1",
            },
        ).status_code
        == 302
    )
    position = funds.fund_position(fund)
    assert position["cash"] == Decimal("0.00") and position["deployed"] == Decimal("900000.00")
    assert [m.kind for m in FundMovement.objects.order_by("pk")] == [
        K.CONTRIBUTION,
        K.DRAWDOWN,
        K.RETURN,
        K.WRITE_OFF,
        K.INCOME,
        K.EXPENSE,
        K.REDEMPTION,
    ]


def test_reverse_and_close_through_the_pages(client, active_fund, commitment, county_staff):
    client.force_login(county_staff)
    contribution = FundMovement.objects.get(kind=K.CONTRIBUTION)
    url = reverse("greenfinance:fund-movement-reverse", args=[contribution.pk])
    assert "冲正将按原分录反向记账" in page_of(client.get(url))
    assert "is-invalid" in page_of(client.post(url, {"reason": ""}))
    assert FundMovement.objects.count() == 1
    assert client.post(url, {"reason": "金额录错"}).status_code == 302
    assert FundMovement.objects.filter(kind=K.REVERSAL, reverses=contribution).exists()
    again = page_of(client.post(url, {"reason": "再冲"}))
    assert "已冲正" in again and FundMovement.objects.count() == 2

    close = reverse("greenfinance:fund-close", args=[active_fund.pk])
    assert client.get(close).status_code == 405
    response = client.post(close, follow=True)
    assert "已清算" in response.content.decode()
    active_fund.refresh_from_db()
    assert active_fund.status == FundStatus.CLOSED
    page = page_of(client.get(active_fund.get_absolute_url()))
    assert "办理业务" not in page and url not in page


def test_close_refused_while_money_remains(client, active_fund, county_staff):
    client.force_login(county_staff)
    page = client.post(
        reverse("greenfinance:fund-close", args=[active_fund.pk]), follow=True
    ).content.decode()
    assert "须全部收回或兑付后才能清算" in page
    active_fund.refresh_from_db()
    assert active_fund.status == FundStatus.ACTIVE


# --- movements and statement ------------------------------------------------------------------


def test_movement_list_filters_and_exports(client, deployed, county_staff, django_assert_max_num_queries):
    fund = deployed[0]
    client.force_login(county_staff)
    url = reverse("greenfinance:fund-movement-list")
    with django_assert_max_num_queries(12):
        page = page_of(client.get(url, {"fund": fund.pk, "kind": K.DRAWDOWN}))
    assert "TF-P" in page and "TF-L" in page and "CZ-1" not in page
    sheet = load_workbook(
        io.BytesIO(client.get(url, {"export": "xlsx", "sort": "occurred_on"}).content)
    ).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[8] for row in rows[1:]] == ["CZ-1", "TF-P", "TF-L"]
    assert "筛选条件有误" in page_of(client.get(url, {"occurred_after": "not-a-date"}))


def test_statement_xlsx_for_a_period(client, deployed, county_staff):
    fund = deployed[0]
    client.force_login(county_staff)
    url = reverse("greenfinance:fund-statement", args=[fund.pk])
    response = client.get(url, {"start": "2026-04-01", "end": "2026-11-23"})
    assert response["Content-Disposition"].endswith(f'{fund.number}-2026-04-01-2026-11-23.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(values_only=True)}
    assert Decimal(str(summary["期初存款（元）"])) == Decimal("3000000.00")
    assert Decimal(str(summary["期末存款（元）"])) == Decimal("1800000.00")
    rows = list(book["资金流水"].iter_rows(values_only=True))
    assert rows[1][1] == "期初余额" and Decimal(str(rows[1][9])) == Decimal("3000000.00")
    assert [row[6] for row in rows[2:]] == ["TF-P", "TF-L"]
    assert Decimal(str(rows[-1][9])) == Decimal("1800000.00") and Decimal(str(rows[-1][8])) == Decimal(
        "200000.00"
    )
    bad = client.get(url, {"start": "2026-12-01", "end": "2026-01-01"}, follow=True)
    assert "请填写有效的对账期间" in bad.content.decode()
