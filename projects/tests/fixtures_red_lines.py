"""Fixtures of the books and red-line tests: money moved through the real services (the books
services, the transactions ledger, finance's risk schemes and repayments); loans and their
schedules come from finance's `make_loan` (ORM), as in the finance tests."""

import datetime
import importlib
from decimal import Decimal

import pytest

from directory.models import Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from finance.models import RiskRole
from finance.services import risk as risk_services
from projects.models import ProjectStatus, RedLine
from projects.services import books

PAST = datetime.date(2026, 1, 15)
LATER = datetime.date(2026, 6, 1)


@pytest.fixture
def red_line_defaults(db):
    """The default thresholds seeded by migration 0003 (re-seeded: transactional tests flush them)."""
    seeded = importlib.import_module("projects.migrations.0003_defaults_and_schedules").RED_LINES
    for key, direction, limit, warning, source in seeded:
        RedLine.objects.get_or_create(
            cooperative=None,
            key=key,
            defaults={
                "direction": direction,
                "limit": Decimal(limit),
                "warning": Decimal(warning),
                "source": source,
            },
        )


@pytest.fixture
def auditor(demo_region):
    return User.objects.get(username="auditor")


@pytest.fixture
def village_clerk(demo_region):
    return User.objects.get(username="village_clerk")


@pytest.fixture
def lender(demo_region):
    """A bank the cooperative borrows from (the demo bank also lends to borrowers)."""
    return Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")


@pytest.fixture
def second_lender(county_cooperative):
    return Organization.objects.create(
        name="第二出借银行（测试）", kind=OrganizationKind.BANK, division=county_cooperative.division
    )


@pytest.fixture
def firm(county_cooperative):
    """A second enterprise (not the demo investor) the cooperative may invest in."""
    return Organization.objects.create(
        name="莲都示范林下经济有限公司（测试）",
        kind=OrganizationKind.ENTERPRISE,
        division=county_cooperative.division,
    )


@pytest.fixture
def township_cooperative(demo_region, village, make_member):
    """A third cooperative, under the county (its staff reach only the township)."""
    coop = Organization.objects.create(
        name="示范镇两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=village.parent
    )
    return coop


@pytest.fixture
def capital(county_staff, county_cooperative):
    """capital(amount, cooperative=county, on=PAST) → paid-in capital through the books service."""

    def make(amount, cooperative=None, on=PAST, actor=None):
        return books.record_capital(
            actor=actor or county_staff,
            cooperative=cooperative or county_cooperative,
            amount=Decimal(amount),
            occurred_on=on,
            reference=f"ZB-{amount}",
            memo="国资出资（测试）",
        )

    return make


@pytest.fixture
def borrow(county_staff, county_cooperative, lender):
    def make(amount, cooperative=None, who=None, on=PAST, actor=None):
        return books.record_borrowing(
            actor=actor or county_staff,
            cooperative=cooperative or county_cooperative,
            lender=who or lender,
            amount=Decimal(amount),
            occurred_on=on,
            reference=f"JK-{amount}",
            memo="流动资金借款（测试）",
        )

    return make


@pytest.fixture
def invest(county_staff, county_cooperative, investor_org):
    def make(amount, investee=None, cooperative=None, share="0.3", on=PAST, actor=None):
        return books.record_equity_stake(
            actor=actor or county_staff,
            cooperative=cooperative or county_cooperative,
            investee=investee or investor_org,
            amount=Decimal(amount),
            share=Decimal(share),
            acquired_on=on,
            source_document="三重一大会议纪要（测试）",
            reference=f"TZ-{amount}",
        )

    return make


@pytest.fixture
def coop_scheme(county_staff, county_cooperative, bank):
    """coop_scheme(share, cooperative=county) → a risk-sharing scheme (finance.services.risk) in
    which the cooperative bears `share` and the bank the rest."""

    def make(share="0.5", cooperative=None, actor=None):
        cooperative = cooperative or county_cooperative
        share = Decimal(share)
        shares = [(RiskRole.COOPERATIVE, ensure_party(cooperative), share)]
        if share < 1:
            shares.append((RiskRole.BANK, ensure_party(bank), Decimal(1) - share))
        return risk_services.create_scheme(
            actor=actor or county_staff,
            name=f"测试分担方案 {cooperative.pk}-{share}",
            division=cooperative.division,
            shares=shares,
            source="测试协议",
        )

    return make


@pytest.fixture
def lend(make_product, make_application, make_loan, coop_scheme, village):
    """lend(principal, borrower=party, scheme=None, **) → a loan under a product whose risk scheme
    gives the cooperative its share (12 monthly installments of equal principal from PAST)."""
    schemes = {}

    def make(principal, borrower, share="0.5", scheme=None, division=None, disbursed_on=PAST):
        if scheme is None:
            scheme = schemes.get(share) or schemes.setdefault(share, coop_scheme(share))
        product = make_product(risk_scheme=scheme)
        application = make_application(
            applicant=borrower, product=product, amount=Decimal(principal), division=division or village
        )
        return make_loan(application, principal=Decimal(principal), disbursed_on=disbursed_on)

    return make


@pytest.fixture
def admitted_project(make_project):
    def make(**fields):
        fields.setdefault("status", ProjectStatus.ADMITTED)
        fields.setdefault("admitted_on", PAST)
        return make_project(**fields)

    return make


@pytest.fixture
def township_staff(township_cooperative, make_member):
    return make_member(Role.COOP_STAFF, township_cooperative, username="township-staff")
