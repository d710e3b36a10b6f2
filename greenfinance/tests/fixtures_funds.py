"""Fixtures of the green bonds and funds tests: a finance bureau and a bank as contributors, an eco
fund of the county cooperative (raising, or active with money in), an admitted key project and
an active loan to back, and helpers that check the ledger against the fund's records."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from finance.models import ApplicationStatus
from greenfinance.models import FundKind, FundMovement
from greenfinance.services import funds
from projects.models import ProjectStatus
from transactions.models import AccountKind, Posting

ISSUED = datetime.date(2026, 2, 1)
PAID = datetime.date(2026, 3, 1)
LATER = datetime.date(2026, 6, 1)
SIZE = Decimal("10000000.00")


@pytest.fixture
def bureau(county_cooperative):
    """莲都区财政局: commits to and pays into the fund."""
    org = Organization.objects.create(
        name="莲都区财政局（基金测试）",
        kind=OrganizationKind.GOVERNMENT,
        division=county_cooperative.division,
    )
    ensure_party(org)
    return org


@pytest.fixture
def make_fund(county_staff, county_cooperative):
    def make(kind=FundKind.ECO_FUND, size=SIZE, **fields):
        values = dict(
            actor=county_staff,
            name="莲都区生态产业基金（测试）",
            kind=kind,
            manager=county_cooperative,
            division=county_cooperative.division,
            size=size,
            issue_date=ISSUED,
            purpose="支持生态旅游和林下经济项目",
            source="莲政办〔2026〕8号（测试）",
        )
        if kind == FundKind.GREEN_BOND:
            values.update(maturity_date=datetime.date(2029, 2, 1), coupon_rate=Decimal("0.035"))
        values.update(fields)
        return funds.create_fund(**values)

    return make


@pytest.fixture
def fund(make_fund):
    return make_fund()


@pytest.fixture
def commitment(fund, county_staff, bureau):
    return funds.record_commitment(
        actor=county_staff,
        fund=fund,
        contributor=bureau,
        amount=Decimal("5000000.00"),
        committed_on=ISSUED,
        document="出资协议（测试）",
    )


@pytest.fixture
def active_fund(fund, commitment, county_staff):
    """The fund with 3,000,000 元 of the bureau's 5,000,000 paid in (ACTIVE)."""
    funds.record_contribution(
        actor=county_staff,
        commitment=commitment,
        amount=Decimal("3000000.00"),
        occurred_on=PAID,
        reference="CZ-1",
    )
    fund.refresh_from_db()
    return fund


@pytest.fixture
def project(make_project):
    """An admitted key project of the demo investor in the demo village."""
    return make_project(status=ProjectStatus.ADMITTED, admitted_on=datetime.date(2026, 2, 15))


@pytest.fixture
def loan(make_application, make_loan, households):
    """An active loan to the first demo household in the demo village."""
    application = make_application(applicant=households[0], status=ApplicationStatus.APPROVED)
    return make_loan(application)


def ledger_cash(fund):
    total = Posting.objects.filter(
        account__kind=AccountKind.GREEN_FUND_CASH, account__sub_account=fund.number
    ).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")


def movement_cash(fund):
    return FundMovement.objects.filter(fund=fund).aggregate(s=Sum("cash_effect"))["s"] or Decimal("0.00")


def assert_books_agree(fund):
    """Ledger cash == Σ cash effects == position cash ≥ 0, and every movement balances."""
    position = funds.fund_position(fund)
    assert ledger_cash(fund) == movement_cash(fund) == position["cash"] >= 0
    for movement in FundMovement.objects.filter(fund=fund).select_related("movement"):
        assert sum(p.amount for p in movement.movement.postings.all()) == 0
    return position
