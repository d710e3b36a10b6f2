"""Fixtures of the green insurance tests: an insurer, a household's registered forest asset, a
policy recorded through the service (forest fire and pest insurance, 300,000 元 insured), and
staff of another county who reach none of it."""

import datetime
from decimal import Decimal

import pytest

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role
from directory.services import ensure_party
from greenfinance.services import insurance as services

START = datetime.date(2026, 1, 1)
END = datetime.date(2027, 1, 1)
INCIDENT = datetime.date(2026, 5, 20)


@pytest.fixture
def insurer(demo_region):
    org = Organization.objects.create(
        name="人保财险丽水市分公司（测试）",
        kind=OrganizationKind.INSURER,
        division=AdministrativeDivision.objects.get(code="331100000000"),
    )
    ensure_party(org)
    return org


@pytest.fixture
def forest_asset(registered_asset, households):
    """A registered forest parcel held by households[0]."""
    return registered_asset([(households[0], 1)])


@pytest.fixture
def qingtian_staff(demo_region, make_member):
    """Staff of 青田县's cooperative: reaches nothing in 莲都区."""
    county = AdministrativeDivision.objects.get(code="331121000000")
    coop = Organization.objects.create(
        name="青田县两山合作社（测试保险）", kind=OrganizationKind.COOPERATIVE, division=county
    )
    return make_member(Role.COOP_STAFF, coop, username="qingtian_ins")


@pytest.fixture
def auditor(demo_region):
    from directory.models import User

    return User.objects.get(username="auditor")


def policy_values(**overrides):
    values = dict(
        kind="forest",
        sum_insured=Decimal("300000.00"),
        premium=Decimal("1200.00"),
        subsidy_rate=Decimal("0.6"),
        start_date=START,
        end_date=END,
        terms="火灾、病虫害造成林木损失",
    )
    values.update(overrides)
    return values


@pytest.fixture
def make_policy(county_staff, insurer, households, village):
    """make_policy(**overrides) → a policy recorded by county_staff (default insured
    households[0], no assets unless given)."""
    counter = iter(range(1, 1000))

    def make(**overrides):
        values = dict(
            actor=county_staff,
            number=f"PICC-T-{next(counter):04d}",
            insurer=insurer,
            insured=households[0],
            division=village,
            **policy_values(),
        )
        values.update(overrides)
        return services.create_policy(**values)

    return make


@pytest.fixture
def policy(make_policy, forest_asset):
    return make_policy(assets=[forest_asset])
