"""Fixtures of the key-project tests (imported by the other test_projects_* modules): the owner's
member, a project prepared through the service, submission, manual marks, eco-behaviour records
and credit scores of the owner, and criteria sets with one method each."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from finance.models import (
    CreditGrade,
    CreditScore,
    EcoBehaviourCategory,
    EcoBehaviourRecord,
    Scorecard,
    ScoreSubject,
)
from projects.models import CriteriaSet, CriteriaStatus, Criterion, CriterionCheck, ProjectStatus
from projects.services import projects as services

PLAN_START = datetime.date(2026, 3, 1)
PLAN_END = datetime.date(2028, 3, 1)
MANUAL_OK = {"C4": {"met": True, "reason": "符合国土空间规划和生态保护红线要求"}}


def days_ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def owner_member(investor):
    """The investor's representative: a member of the owner organization (APPLY_PROJECTS)."""
    return investor


@pytest.fixture
def village_clerk(demo_region):
    return User.objects.get(username="village_clerk")


@pytest.fixture
def other_county(demo_region):
    return AdministrativeDivision.objects.get(code="331121000000")


@pytest.fixture
def other_owner(demo_region, make_member, county_cooperative):
    """A second enterprise in the same county and its representative."""
    org = Organization.objects.create(
        name="第二生态开发有限公司（测试）",
        kind=OrganizationKind.ENTERPRISE,
        division=county_cooperative.division,
    )
    ensure_party(org)
    return make_member(Role.INVESTOR, org, username="investor-two")


@pytest.fixture
def other_county_staff(other_county, make_member):
    org = Organization.objects.create(
        name="青田县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=other_county
    )
    return make_member(Role.COOP_STAFF, org, username="staff-qingtian")


def project_values(**overrides):
    values = dict(
        name="示范村森林康养基地",
        category="eco_tourism",
        summary="利用闲置农房和林地发展森林康养",
        description="改造农房 12 栋，建设林下步道 3 公里。",
        total_investment=Decimal("3000000.00"),
        social_capital=Decimal("2000000.00"),
        expected_gep_gain=Decimal("50000.00"),
        planned_start=PLAN_START,
        planned_end=PLAN_END,
    )
    values.update(overrides)
    return values


@pytest.fixture
def prepare(owner_member, investor_org, village):
    """prepare(actor=investor, consumptions=[(asset, fraction, note)], **fields) → a DRAFT project
    made through the service."""

    def make(actor=None, owner=None, division=None, **fields):
        return services.create_project(
            actor=actor or owner_member,
            owner=owner or investor_org,
            division=division or village,
            **project_values(**fields),
        )

    return make


@pytest.fixture
def submitted(prepare, published_criteria, owner_member):
    """submitted(**fields) → a project prepared and submitted by the owner's member."""

    def make(actor=None, **fields):
        project = prepare(actor=actor, **fields)
        return services.submit_project(actor=actor or owner_member, project=project)

    return make


@pytest.fixture
def admitted(submitted, county_staff):
    """admitted(**fields) → a project admitted by county staff (reviewer ≠ the owner's member)."""

    def make(**fields):
        project = submitted(**fields)
        manual = {  # every manual criterion of the set marked as met
            c.code: {"met": True, "reason": "经现场核实符合要求"}
            for c in project.criteria_set.criteria.filter(method=CriterionCheck.MANUAL)
        }
        services.review_project(actor=county_staff, project=project, decision="admit", note="", manual=manual)
        project.refresh_from_db()
        assert project.status == ProjectStatus.ADMITTED
        return project

    return make


@pytest.fixture
def violation(investor_org, county_staff, village):
    """violation(days_ago=30, category=illegal_logging, revoked=False) → an eco-behaviour record of
    the owner (ORM: the scoring service would queue a recompute)."""

    def make(ago=30, category=EcoBehaviourCategory.ILLEGAL_LOGGING, revoked=False, points=Decimal("-20")):
        return EcoBehaviourRecord.objects.create(
            party=ensure_party(investor_org),
            division=village,
            category=category,
            points=points,
            occurred_on=days_ago(ago),
            description="测试记录",
            source_document="丽林罚〔2026〕12号",
            recorded_by=county_staff,
            revoked_at=timezone.now() if revoked else None,
        )

    return make


@pytest.fixture
def credit_score(investor_org, city_admin):
    """credit_score(points) → the owner's current eco-credit score (ORM)."""
    card = Scorecard.objects.create(
        subject=ScoreSubject.ENTERPRISE,
        version=99,
        name="测试企业评分卡",
        is_active=False,
        created_by=city_admin,
    )

    def make(points):
        return CreditScore.objects.create(
            party=ensure_party(investor_org),
            scorecard=card,
            score=Decimal(points),
            grade=CreditGrade.A,
            suggested_line=Decimal("0"),
            inputs_digest="test",
        )

    return make


@pytest.fixture
def criteria_with(city_admin):
    """criteria_with([(method, threshold, applies_to_evaluation)]) → a published set with one
    criterion per row (codes K1, K2…), retiring whatever was published."""
    counter = iter(range(1, 1000))

    def make(rows):
        CriteriaSet.objects.filter(status=CriteriaStatus.PUBLISHED).update(status=CriteriaStatus.RETIRED)
        criteria_set = CriteriaSet.objects.create(
            name="测试标准",
            version=f"K-{next(counter)}",
            source="测试",
            status=CriteriaStatus.PUBLISHED,
            published_at=timezone.now(),
            published_by=city_admin,
            created_by=city_admin,
        )
        for order, row in enumerate(rows, 1):
            method, threshold, *rest = row
            Criterion.objects.create(
                criteria_set=criteria_set,
                order=order,
                code=f"K{order}",
                title=CriterionCheck(method).label,
                method=method,
                threshold=None if threshold is None else Decimal(threshold),
                applies_to_evaluation=rest[0] if rest else True,
            )
        return criteria_set

    return make


def test_fixtures_make_a_draft_of_the_owner(prepare, investor_org, owner_member):
    project = prepare()
    assert project.status == ProjectStatus.DRAFT and project.owner == investor_org
    assert project.created_by == owner_member and project.number.startswith("XM")
