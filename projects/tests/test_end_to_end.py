"""From a project application to its admission with a GEP offset, through the services only:

two registered forests → real GEP accounting runs for 2024 and 2025, each accepted by a second
person → a county GEP balance rule (1.2 : 1) and published admission criteria → the investor
applies for a project that converts half of one forest → admission refused with the whole debit
as the shortfall (nothing written) → the cooperative credits the other forest's restoration gain
between the two accepted runs → admission succeeds, the debit is posted against that credit, and
the ledger, the review, the notifications and the audit trail all show it.
"""

from decimal import ROUND_HALF_UP, Decimal

import pghistory.models
import pytest
from django.db.models import Sum
from django.utils import timezone

from directory.models import Notification
from projects.models import (
    GepBalance,
    GepBalanceEntry,
    GepEntryKind,
    KeyProject,
    ProjectCategory,
    ProjectReview,
    ProjectStatus,
    ReviewDecision,
)
from projects.services import gep_balance
from projects.services import projects as key_projects
from tmcs.errors import ConflictError
from valuation import services as valuation
from valuation.models import AssetResult
from valuation.tests.test_runs import enter

PLAIN = {"precipitation": ("1650", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")}
RESTORED = {"precipitation": ("2150", "mm"), "runoff": ("300", "mm"), "evapotranspiration": ("800", "mm")}


@pytest.fixture
def accepted_run(celery_eager, django_capture_on_commit_callbacks, city_admin, reviewer, county):
    parameter_set = valuation.load_default_parameter_set(actor=city_admin)

    def run(staff, year):
        with django_capture_on_commit_callbacks(execute=True):
            started = valuation.start_run(
                actor=staff, division=county, year=year, parameter_set=parameter_set
            )
        started.refresh_from_db()
        return valuation.accept_run(actor=reviewer, run=started)

    return run


def _gep(run, asset):
    return AssetResult.objects.filter(run=run, asset=asset).aggregate(s=Sum("value"))["s"]


def test_project_admitted_only_after_its_gep_is_offset(
    registered_asset,
    households,
    county_staff,
    reviewer,
    city_admin,
    county,
    investor,
    investor_org,
    accepted_run,
    django_capture_on_commit_callbacks,
):
    converted = registered_asset([(households[0], 1)], name="将建设的杉木林")
    restored = registered_asset([(households[1], 1)], name="封山育林的马尾松林")

    # GEP: 2024 both plain; 2025 the restored forest retains more water
    for asset in (converted, restored):
        enter(county_staff, asset, PLAIN, year=2024)
    run_2024 = accepted_run(county_staff, 2024)
    enter(county_staff, converted, PLAIN, year=2025)
    enter(county_staff, restored, RESTORED, year=2025)
    run_2025 = accepted_run(county_staff, 2025)
    assert _gep(run_2025, restored) > _gep(run_2024, restored) > 0
    accepted_on = timezone.localdate(run_2025.accepted_at)  # business dates are Beijing dates

    # policy: the county balances GEP 1.2 : 1; the criteria are published
    gep_balance.set_rule(
        actor=city_admin,
        division=county,
        offset_ratio=Decimal("1.2"),
        categories=["material", "regulating", "cultural"],
        warning_balance=Decimal("0"),
        effective_from=accepted_on,
        source="测试：每占用 1 元需补充 1.2 元",
    )
    criteria_set = key_projects.create_criteria_set(
        actor=city_admin,
        name="重点项目评定标准",
        version="E2E-1",
        source="测试",
        criteria=[
            {
                "code": "A1",
                "title": "总投资不低于 100 万元",
                "description": "",
                "method": "min_investment",
                "threshold": Decimal("1000000"),
                "applies_to_evaluation": False,
            },
            {
                "code": "A2",
                "title": "GEP 占补平衡",
                "description": "",
                "method": "gep_balance",
                "threshold": None,
                "applies_to_evaluation": False,
            },
            {
                "code": "A3",
                "title": "符合国土空间规划",
                "description": "",
                "method": "manual",
                "threshold": None,
                "applies_to_evaluation": True,
            },
        ],
    )
    key_projects.publish_criteria_set(actor=city_admin, criteria_set=criteria_set)

    # the investor applies for its own organization
    project = key_projects.create_project(
        actor=investor,
        owner=investor_org,
        division=converted.division,
        name="森林康养综合体",
        category=ProjectCategory.ECO_TOURISM,
        summary="建设森林康养中心和步道",
        description="",
        total_investment=Decimal("5000000.00"),
        social_capital=Decimal("4000000.00"),
        expected_gep_gain=Decimal("0.00"),
        planned_start=accepted_on,
        planned_end=accepted_on.replace(year=2028),
        consumptions=[(converted, Decimal("0.5"), "康养中心占用林地")],
    )
    key_projects.submit_project(actor=investor, project=project)
    debit = (_gep(run_2025, converted) * Decimal("0.5") * Decimal("1.2")).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    manual = {"A3": {"met": True, "reason": "对照国土空间规划核实"}}

    # no credit yet: the whole debit is the shortfall, and nothing is written
    with pytest.raises(ConflictError) as refused:
        key_projects.review_project(
            actor=reviewer, project=project, decision=ReviewDecision.ADMIT, note="同意", manual=manual
        )
    assert refused.value.code == "gep_shortfall"
    assert Decimal(refused.value.fields["shortfall"]) == debit
    assert KeyProject.objects.get(pk=project.pk).status == ProjectStatus.SUBMITTED
    assert not ProjectReview.objects.filter(project=project).exists()
    assert not GepBalanceEntry.objects.exists()

    # the offset: the restored forest's gain between the two accepted runs
    credit = gep_balance.record_restoration(
        actor=county_staff,
        assets=[restored],
        baseline_run=run_2024,
        run=run_2025,
        memo="马尾松林封山育林工程",
        occurred_on=accepted_on,
    )
    gain = (_gep(run_2025, restored) - _gep(run_2024, restored)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert credit.kind == GepEntryKind.RESTORATION and credit.amount == gain
    assert gain > debit, "the test's numbers must leave room for the debit"

    # admission now passes and spends part of the credit
    with django_capture_on_commit_callbacks(execute=True):
        key_projects.review_project(
            actor=reviewer, project=project, decision=ReviewDecision.ADMIT, note="同意入库", manual=manual
        )
    project.refresh_from_db()
    assert project.status == ProjectStatus.ADMITTED and project.admitted_on is not None
    posted = GepBalanceEntry.objects.get(project=project)
    assert posted.kind == GepEntryKind.PROJECT_DEBIT and posted.amount == -debit
    assert posted.run == run_2025
    assert posted.balance_after == gain - debit
    assert GepBalance.objects.get(division=county).balance == gain - debit
    assert GepBalanceEntry.objects.aggregate(s=Sum("amount"))["s"] == gain - debit
    numbers = sorted(int(entry.number[-6:]) for entry in GepBalanceEntry.objects.all())
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "entry numbers are gapless"

    review = ProjectReview.objects.get(project=project)
    assert (
        review.decision == ReviewDecision.ADMIT
        and review.prepared_by == investor
        and review.reviewer == reviewer
    )
    assert all(result["met"] for result in review.criteria_results)
    assert Decimal(review.gep_check["debit"]) == debit
    assert Decimal(review.gep_check["balance_after"]) == gain - debit

    # the owner hears about it; the audit trail names the reviewer
    assert Notification.objects.filter(recipient=investor, link__contains=str(project.pk)).exists()
    events = pghistory.models.Events.objects.references(project).order_by("pgh_created_at")
    statuses = [event.pgh_data["status"] for event in events if event.pgh_model.endswith("KeyProjectEvent")]
    assert statuses[-1] == ProjectStatus.ADMITTED and ProjectStatus.SUBMITTED in statuses
    admitted_event = [event for event in events if event.pgh_data.get("status") == ProjectStatus.ADMITTED][-1]
    assert admitted_event.pgh_context and str(reviewer.pk) in str(admitted_event.pgh_context)
