"""Fixtures of the risk-sharing and default tests: a government department running a risk
compensation fund, a 4:3:2:1 scheme, and an overdue pledged loan under a product using it."""

import datetime
from decimal import Decimal

import pytest

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from finance.services import risk

DECLARED_ON = datetime.date(2026, 6, 1)  # four installments (15 Feb … 15 May) unpaid by then
LOAN_PRINCIPAL = Decimal("300000.00")


@pytest.fixture
def government(county_cooperative):
    return Organization.objects.create(
        name="莲都区财政局（测试）", kind=OrganizationKind.GOVERNMENT, division=county_cooperative.division
    )


@pytest.fixture
def guarantor(demo_region):
    return Organization.objects.get(kind=OrganizationKind.GUARANTOR)


@pytest.fixture
def fund(county_staff, government, county_cooperative):
    return risk.create_fund(
        actor=county_staff,
        name="莲都区生态贷风险补偿基金",
        manager=government,
        division=county_cooperative.division,
        source="莲财〔2026〕1号（测试）",
    )


@pytest.fixture
def funded(fund, county_staff, government):
    """funded(amount) → the fund after the finance bureau paid `amount` into it."""

    def pay(amount=Decimal("1000000.00"), reference="财政拨款-1"):
        risk.contribute(
            actor=county_staff,
            fund=fund,
            contributor=government,
            amount=amount,
            occurred_on=datetime.date(2026, 3, 1),
            reference=reference,
        )
        return fund

    return pay


@pytest.fixture
def scheme(county_staff, county_cooperative, fund, guarantor, bank):
    return risk.default_scheme(
        actor=county_staff,
        division=county_cooperative.division,
        fund=fund,
        guarantor_party=ensure_party(guarantor),
        cooperative_party=ensure_party(county_cooperative),
        bank_party=ensure_party(bank),
    )


@pytest.fixture
def pledged_loan(valued_right, make_product, make_application, make_appraisal, make_pledge, make_loan):
    """pledged_loan(scheme=…, rights=1) → (loan, [pledges]): 300,000 元 lent on 15 Jan 2026, 12
    monthly installments from 15 Feb, nothing repaid, each right pledged for the whole amount."""

    def make(scheme=None, rights=1, bank_org=None, installments=None, **product_fields):
        product = make_product(bank_org=bank_org, risk_scheme=scheme, **product_fields)
        valued = [valued_right() for _i in range(rights)]
        application = make_application(rights=valued, product=product, amount=LOAN_PRINCIPAL)
        pledges = []
        for right in valued:
            appraisal = make_appraisal(right, product, application=application)
            pledges.append(make_pledge(application, appraisal, LOAN_PRINCIPAL))
        return make_loan(application, installments=installments), pledges

    return make
