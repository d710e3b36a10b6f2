"""Fixtures of the performance evaluation tests: evaluation schemes, extra county cooperatives
(青田县, 缙云县) with their own staff, and builders of the upstream records the indicators read
(assets, contracts, key projects, loans, funds, payouts), made through the ORM or the upstream
services."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role
from directory.services import ensure_party
from finance.services import risk
from projects.models import ProjectStatus
from projects.services import performance
from transactions.tests.test_settlement_support import Builder, build

P_START = datetime.date(2026, 1, 1)
P_END = datetime.date(2026, 7, 1)  # exclusive: the first half of 2026


def moment(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


ALL_FIVE = [
    {"key": "resource_activation", "weight": "25", "target": "0.6", "note": "盘活率 60% 满分"},
    {"key": "investment_attracted", "weight": "20", "target": "10000000"},
    {"key": "projects_admitted", "weight": "10", "target": "4"},
    {"key": "financial_leverage", "weight": "20", "target": "5"},
    {"key": "farmer_income", "weight": "25", "target": "1000"},
]


@pytest.fixture
def make_scheme(city_admin):
    counter = iter(range(1, 1000))

    def make(indicators=None, version=None, **fields):
        return performance.create_scheme(
            actor=city_admin,
            name=fields.pop("name", "丽水市两山合作社绩效评价办法（测试）"),
            version=version or f"T-{next(counter)}",
            source=fields.pop("source", "测试依据"),
            indicators=indicators if indicators is not None else ALL_FIVE,
        )

    return make


@pytest.fixture
def scheme(make_scheme):
    return make_scheme()


def _county(code):
    return AdministrativeDivision.objects.get(code=code)


@pytest.fixture
def make_county_coop(demo_region, make_member):
    """make_county_coop("331121") → (cooperative, staff user) for that county."""

    def make(code, name=None):
        division = _county(f"{code}000000")
        coop = Organization.objects.create(
            name=name or f"{division.name}两山合作社（测试）",
            kind=OrganizationKind.COOPERATIVE,
            division=division,
        )
        ensure_party(coop)
        staff = make_member(Role.COOP_STAFF, coop, username=f"staff-{code}")
        return coop, staff

    return make


@pytest.fixture
def qingtian(make_county_coop):
    return make_county_coop("331121")


@pytest.fixture
def jinyun(make_county_coop):
    return make_county_coop("331122")


@pytest.fixture
def auditor(demo_region):
    from directory.models import User

    return User.objects.get(username="auditor")


@pytest.fixture
def admitted_project(make_project):
    """admitted_project(admitted_on, social_capital=…, division=…) → an admitted key project (ORM)."""

    def make(admitted_on, social_capital=Decimal("2000000.00"), status=ProjectStatus.ADMITTED, **fields):
        if status == ProjectStatus.EXITED:
            fields.setdefault("exited_on", admitted_on + datetime.timedelta(days=30))
            fields.setdefault("exit_reason", "completed")
        return make_project(
            status=status, admitted_on=admitted_on, social_capital=Decimal(social_capital), **fields
        )

    return make


@pytest.fixture
def make_fund(county_staff):
    """make_fund(division, name) → a risk compensation fund run by a new finance bureau there."""
    counter = iter(range(1, 100))

    def make(division, actor=None, name=None):
        n = next(counter)
        bureau = Organization.objects.create(
            name=f"{division.name}财政局{n}（测试）", kind=OrganizationKind.GOVERNMENT, division=division
        )
        fund = risk.create_fund(
            actor=actor or county_staff,
            name=name or f"{division.name}风险补偿基金{n}",
            manager=bureau,
            division=division,
            source="测试文件",
        )
        return fund, bureau

    return make


def contribute(actor, fund, bureau, amount, on, reference):
    return risk.contribute(
        actor=actor,
        fund=fund,
        contributor=bureau,
        amount=Decimal(amount),
        occurred_on=on,
        reference=reference,
    )


__all__ = [
    "ALL_FIVE",
    "P_END",
    "P_START",
    "Builder",
    "admitted_project",
    "auditor",
    "build",
    "contribute",
    "jinyun",
    "make_county_coop",
    "make_fund",
    "make_scheme",
    "moment",
    "qingtian",
    "scheme",
]
