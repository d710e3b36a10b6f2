"""Fixtures of the eco-credit tests: a household scorecard with known weights, clerks inside and
outside the demo village, and a helper recording eco behaviour through the service."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from finance.models import ScoreSubject
from finance.services import scoring

HOUSEHOLD_FACTORS = [
    {"key": "eco_behaviour", "points_per_unit": "2", "min_points": "0", "max_points": "150"},
    {"key": "violations", "points_per_unit": "10", "min_points": "-200", "max_points": "0"},
    {"key": "gep_contribution", "points_per_unit": "3", "min_points": "0", "max_points": "90"},
    {"key": "collection_history", "points_per_unit": "15", "min_points": "0", "max_points": "60"},
    {"key": "repayment_record", "points_per_unit": "2", "min_points": "-200", "max_points": "100"},
]


def days_ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def household_card(city_admin):
    return scoring.create_scorecard(
        actor=city_admin,
        subject=ScoreSubject.HOUSEHOLD,
        name="农户测试评分卡",
        factors=HOUSEHOLD_FACTORS,
        base_score=Decimal("600"),
        line_floor_score=Decimal("600"),
        line_per_point=Decimal("1000"),
        line_cap=Decimal("300000"),
        source="测试",
    )


@pytest.fixture
def village_clerk(demo_region):
    return User.objects.get(username="village_clerk")


@pytest.fixture
def other_county(demo_region):
    return AdministrativeDivision.objects.get(code="331121000000")


@pytest.fixture
def other_village_clerk(other_county, make_member):
    """A clerk of a village collective in 青田县: outside the demo village."""
    org = Organization.objects.create(
        name="青田测试村股份经济合作社", kind=OrganizationKind.VILLAGE_COLLECTIVE, division=other_county
    )
    ensure_party(org)
    return make_member(Role.VILLAGE_CLERK, org, username="clerk-qingtian")


@pytest.fixture
def other_county_staff(other_county, make_member):
    org = Organization.objects.create(
        name="青田县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=other_county
    )
    ensure_party(org)
    return make_member(Role.COOP_STAFF, org, username="staff-qingtian")


@pytest.fixture
def record(county_staff, village):
    """record(party, category, points, days_ago=30) → an eco-behaviour record made by the service."""

    def make(party, category, points, ago=30, actor=None, **fields):
        return scoring.record_eco_behaviour(
            actor=actor or county_staff,
            party=party,
            division=fields.pop("division", village),
            category=category,
            points=Decimal(points),
            occurred_on=days_ago(ago),
            description=fields.pop("description", "测试记录"),
            source_document=fields.pop("source_document", "示范村评议记录（测试）"),
        )

    return make
