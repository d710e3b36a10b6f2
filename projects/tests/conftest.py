"""Fixtures for the projects desk. Upstream records (valued assets, loans, GEP credits,
criteria) are built directly with the ORM so that each area's tests do not depend on another
area's services."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision
from finance.tests.conftest import (  # noqa: F401  (fixtures)
    bank,
    catalog,
    checker,
    collective,
    farmland_type,
    forest_type,
    household,
    households,
    make_application,
    make_asset,
    make_loan,
    make_pledge,
    make_product,
    registered_asset,
    second_bank,
    second_bank_officer,
    square,
    valued_right,
    village,
)
from projects.models import (
    CriteriaSet,
    CriteriaStatus,
    Criterion,
    CriterionCheck,
    GepBalance,
    GepBalanceEntry,
    GepBalanceRule,
    GepEntryKind,
    KeyProject,
    ProjectCategory,
    ProjectConsumption,
)
from transactions.tests.conftest import investor, investor_org  # noqa: F401
from transactions.tests.test_packages_services import make_valuation

PAST = datetime.date(2026, 1, 15)  # business dates in the past: services refuse future dates


@pytest.fixture
def county(county_cooperative):
    """莲都区: the county of the demo village and of the county cooperative."""
    return county_cooperative.division


@pytest.fixture
def reviewer(checker):  # noqa: F811
    """A second staff member of the county cooperative: reviews what `county_staff` prepared."""
    return checker


@pytest.fixture
def make_gep_rule(county, county_staff):
    def make(
        division=None, offset_ratio=Decimal("1.0"), categories=None, warning=Decimal("0"), effective_from=None
    ):
        return GepBalanceRule.objects.create(
            division=division or county,
            offset_ratio=offset_ratio,
            categories=categories if categories is not None else ["material", "regulating", "cultural"],
            warning_balance=warning,
            effective_from=effective_from or datetime.date(2024, 1, 1),
            source="测试规则",
            created_by=county_staff,
        )

    return make


@pytest.fixture
def gep_rule(make_gep_rule):
    """A 1:1 rule for the county, counting all three categories."""
    return make_gep_rule()


@pytest.fixture
def valued_asset(registered_asset, households, county_staff):  # noqa: F811
    """valued_asset(gep=…, year=2025) → a registered forest asset with an accepted GEP run
    (results in the regulating category, 60 % + 40 % of `gep`)."""

    def make(gep=Decimal("100000"), holder=None, year=2025, **fields):
        asset = registered_asset([(holder or households[0], 1)], **fields)
        make_valuation(asset, [gep * Decimal("0.6"), gep * Decimal("0.4")], year=year, user=county_staff)
        return asset

    return make


@pytest.fixture
def gep_credit(gep_rule, county_staff):
    """gep_credit(amount, division=county) → a posted restoration credit (ORM, balance row kept
    equal to the sum of entries)."""
    counter = iter(range(1, 10000))

    def make(amount, division=None):
        division = division or gep_rule.division
        row, _created = GepBalance.objects.get_or_create(division=division)
        row.balance += Decimal(amount)
        row.save()
        return GepBalanceEntry.objects.create(
            number=f"ZBT{next(counter):06d}",
            division=division,
            kind=GepEntryKind.RESTORATION,
            amount=Decimal(amount),
            rule=gep_rule,
            calculation={"test": True},
            memo="测试补充",
            occurred_on=PAST,
            balance_after=row.balance,
            recorded_by=county_staff,
        )

    return make


@pytest.fixture
def published_criteria(county_staff):
    """A published criteria set: investment ≥ 1,000,000 元, GEP balance, assets registered, and a
    manual planning criterion."""
    criteria_set = CriteriaSet.objects.create(
        name="丽水市两山合作社重点项目评定标准（测试）",
        version="T-1",
        source="测试",
        status=CriteriaStatus.PUBLISHED,
        published_at=timezone.now(),
        published_by=county_staff,
        created_by=county_staff,
    )
    rows = [
        ("C1", "总投资不低于 100 万元", CriterionCheck.MIN_INVESTMENT, Decimal("1000000")),
        ("C2", "GEP 占补平衡", CriterionCheck.GEP_BALANCE, None),
        ("C3", "关联资源已确权登记", CriterionCheck.ASSETS_REGISTERED, None),
        ("C4", "符合国土空间规划和生态保护红线要求", CriterionCheck.MANUAL, None),
    ]
    for order, (code, title, method, threshold) in enumerate(rows, 1):
        Criterion.objects.create(
            criteria_set=criteria_set, order=order, code=code, title=title, method=method, threshold=threshold
        )
    return criteria_set


@pytest.fixture
def make_project(county_staff, investor_org, village):  # noqa: F811
    """make_project(consumptions=[(asset, fraction)], status=draft, **fields) → a key project (ORM)."""
    counter = iter(range(1, 10000))

    def make(consumptions=(), assets=(), division=None, owner=None, created_by=None, **fields):
        n = next(counter)
        values = dict(
            number=f"XMT{n:06d}",
            name=f"测试生态旅游项目{n}",
            category=ProjectCategory.ECO_TOURISM,
            owner=owner or investor_org,
            division=division or village,
            summary="利用村内闲置农房和林地发展森林康养",
            total_investment=Decimal("3000000.00"),
            social_capital=Decimal("2000000.00"),
            expected_gep_gain=Decimal("50000.00"),
            planned_start=datetime.date(2026, 3, 1),
            planned_end=datetime.date(2028, 3, 1),
            created_by=created_by or county_staff,
        )
        values.update(fields)
        project = KeyProject.objects.create(**values)
        for asset, fraction in consumptions:
            ProjectConsumption.objects.create(
                project=project, asset=asset, fraction=Decimal(fraction), note="测试占用"
            )
        project.assets.add(*[asset for asset, _fraction in consumptions], *assets)
        return project

    return make


def county_of(division):
    return AdministrativeDivision.objects.get(code=division.code[:6].ljust(12, "0"))
