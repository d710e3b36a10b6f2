# ruff: noqa: F811  (fixtures imported from test_projects_fixtures)
"""Admitted projects: periodic evaluation (criteria re-run, GEP change of the project's assets,
outcome refused when a criterion fails) and every exit rule met and not met."""

import datetime
from decimal import Decimal

import pytest

from directory.models import Notification
from projects.models import CriterionCheck, EvaluationOutcome, ExitReason, ProjectEvaluation, ProjectStatus
from projects.services import projects as services
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.tests.test_packages_services import make_valuation

from .test_projects_fixtures import (  # noqa: F401  (fixtures)
    MANUAL_OK,
    admitted,
    criteria_with,
    days_ago,
    other_owner,
    owner_member,
    prepare,
    submitted,
    violation,
)

pytestmark = pytest.mark.django_db
ADMITTED_ON = datetime.date(2026, 1, 15)


@pytest.fixture
def live(admitted):
    """live(**fields) → an admitted project whose admission is back-dated to 2026-01-15 (so that a
    whole evaluation period lies between admission and today)."""

    def make(**fields):
        project = admitted(**fields)
        type(project).objects.filter(pk=project.pk).update(admitted_on=ADMITTED_ON)
        project.refresh_from_db()
        return project

    return make


def evaluate(actor, project, **overrides):
    values = dict(
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 6, 30),
        investment_to_date=Decimal("1200000.00"),
        progress_note="完成农房改造 6 栋，步道 1.5 公里。",
        jobs_created=12,
        outcome=EvaluationOutcome.PASS,
        note="进度符合计划",
    )
    values.update(overrides)
    return services.evaluate_project(actor=actor, project=project, **values)


# --- evaluation -------------------------------------------------------------------------------------


def test_evaluation_reruns_criteria_and_records_the_gep_change(
    live, county_staff, valued_asset, owner_member, django_capture_on_commit_callbacks
):
    asset = valued_asset(gep=Decimal("100000"), year=2025)
    project = live(assets=[asset])
    make_valuation(asset, [Decimal("70000"), Decimal("45000")], year=2026, user=county_staff)
    with django_capture_on_commit_callbacks(execute=True):
        evaluation = evaluate(county_staff, project)
    assert [r["code"] for r in evaluation.criteria_results] == ["C1", "C2", "C3", "C4"]
    assert all(r["met"] is not False for r in evaluation.criteria_results)
    change = evaluation.gep_change
    assert Decimal(change["baseline"]) == Decimal("100000") and Decimal(change["current"]) == Decimal(
        "115000"
    )
    assert Decimal(change["change"]) == Decimal("15000") and change["incomplete"] == []
    line = change["assets"][0]
    assert line["baseline_year"] == 2025 and line["current_year"] == 2026
    assert Notification.objects.filter(recipient=owner_member, title__startswith="重点项目定期评价").exists()


def test_gep_change_without_a_run_since_admission_is_incomplete(live, county_staff, valued_asset):
    asset = valued_asset(year=2025)
    evaluation = evaluate(county_staff, live(assets=[asset]))
    assert evaluation.gep_change["incomplete"] == [asset.code]
    assert evaluation.gep_change["assets"][0]["current"] is None


def test_good_or_pass_refused_when_a_criterion_fails(live, county_staff, criteria_with, violation):
    criteria_with([(CriterionCheck.OWNER_NO_VIOLATIONS, "12"), (CriterionCheck.MIN_INVESTMENT, "1", False)])
    project = live()
    criteria_with([(CriterionCheck.MIN_INVESTMENT, "1")])  # a newer set does not change the project's
    violation(ago=150)
    for outcome in (EvaluationOutcome.GOOD, EvaluationOutcome.PASS):
        with pytest.raises(DomainError) as info:
            evaluate(county_staff, project, outcome=outcome)
        assert info.value.code == "outcome_conflicts_with_criteria" and "K1" in info.value.detail
    assert not ProjectEvaluation.objects.exists()
    evaluation = evaluate(county_staff, project, outcome=EvaluationOutcome.FAIL, note="业主滥伐林木")
    # only the criteria flagged for evaluation are re-run (K2 is not)
    assert [r["code"] for r in evaluation.criteria_results] == ["K1"]
    assert evaluation.criteria_results[0]["met"] is False


def test_manual_criteria_marked_not_met_also_refuse_a_pass(live, county_staff):
    project = live()
    with pytest.raises(DomainError):
        evaluate(county_staff, project, manual={"C4": {"met": False, "reason": "擅自扩大用地"}})
    evaluation = evaluate(county_staff, project, manual=MANUAL_OK, outcome=EvaluationOutcome.GOOD)
    assert evaluation.criteria_results[3]["met"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period_end": datetime.date(2026, 1, 1)}, "period_end"),
        (
            {"period_end": datetime.date(2026, 1, 10), "period_start": datetime.date(2025, 12, 1)},
            "period_end",
        ),
        ({"period_end": days_ago(-5)}, "period_end"),
        ({"period_start": "2026-01-01"}, "period_start"),
        ({"investment_to_date": "-1"}, "investment_to_date"),
        ({"jobs_created": -3}, "jobs_created"),
        ({"progress_note": ""}, "progress_note"),
        ({"note": " "}, "note"),
        ({"outcome": "excellent"}, "outcome"),
    ],
)
def test_bad_evaluation_input(live, county_staff, overrides, field):
    project = live()
    with pytest.raises(DomainError) as info:
        evaluate(county_staff, project, **overrides)
    assert field in info.value.fields
    assert not ProjectEvaluation.objects.exists()


def test_evaluation_only_of_admitted_projects_by_staff_once_per_period(
    live, submitted, county_staff, owner_member
):
    with pytest.raises(ConflictError):
        evaluate(county_staff, submitted())
    project = live()
    with pytest.raises(PermissionDeniedError):
        evaluate(owner_member, project)
    evaluate(county_staff, project)
    with pytest.raises(ConflictError) as info:
        evaluate(county_staff, project, period_start=datetime.date(2026, 2, 1))
    assert info.value.code == "duplicate"
    assert ProjectEvaluation.objects.count() == 1


# --- exit ---------------------------------------------------------------------------------------


def exit_(actor, project, reason, note="退库说明", exited_on=None):
    return services.exit_project(
        actor=actor, project=project, reason=reason, note=note, exited_on=exited_on or days_ago(1)
    )


def test_completed_needs_investment_done(
    live, county_staff, owner_member, django_capture_on_commit_callbacks
):
    project = live()
    services.set_showcase(actor=county_staff, project=project, showcase=True, contact="0578-2123456")
    with pytest.raises(ConflictError) as info:
        exit_(county_staff, project, ExitReason.COMPLETED)  # no evaluation yet
    assert info.value.code == "exit_rule_not_met"
    evaluate(county_staff, project, investment_to_date=Decimal("2999999.99"))
    with pytest.raises(ConflictError) as info:
        exit_(county_staff, project, ExitReason.COMPLETED)
    assert "2,999,999.99" in info.value.detail
    evaluate(
        county_staff,
        project,
        period_start=datetime.date(2026, 7, 1),
        period_end=datetime.date(2026, 10, 31),
        investment_to_date=Decimal("3000000.00"),
        outcome=EvaluationOutcome.GOOD,
    )
    with django_capture_on_commit_callbacks(execute=True):
        exit_(county_staff, project, ExitReason.COMPLETED, note="项目建成运营")
    project.refresh_from_db()
    assert project.status == ProjectStatus.EXITED and project.exit_reason == ExitReason.COMPLETED
    assert project.showcase is False and project.exited_on == days_ago(1)
    assert Notification.objects.filter(recipient=owner_member, title__startswith="重点项目已退库").exists()


def test_failed_criteria_needs_the_latest_evaluation_to_fail(live, county_staff):
    project = live()
    with pytest.raises(ConflictError):
        exit_(county_staff, project, ExitReason.FAILED_CRITERIA)
    evaluate(county_staff, project, outcome=EvaluationOutcome.FAIL, note="进度严重滞后")
    evaluate(
        county_staff,
        project,
        period_start=datetime.date(2026, 7, 1),
        period_end=datetime.date(2026, 10, 31),
        outcome=EvaluationOutcome.PASS,
    )
    with pytest.raises(ConflictError):  # the latest one passed
        exit_(county_staff, project, ExitReason.FAILED_CRITERIA)
    evaluate(
        county_staff,
        project,
        period_start=datetime.date(2026, 11, 1),
        period_end=days_ago(1),
        outcome=EvaluationOutcome.FAIL,
        note="再次滞后",
    )
    exit_(county_staff, project, ExitReason.FAILED_CRITERIA)
    project.refresh_from_db()
    assert project.exit_reason == ExitReason.FAILED_CRITERIA


def test_violation_needs_a_record_since_admission_or_a_cited_penalty(live, county_staff, violation):
    project = live()
    violation(ago=(datetime.date.today() - ADMITTED_ON).days + 30)  # before admission: does not count
    violation(ago=20, revoked=True)  # revoked: does not count
    with pytest.raises(DomainError) as info:
        exit_(county_staff, project, ExitReason.VIOLATION, note="违法")
    assert info.value.code == "exit_rule_not_met" and "note" in info.value.fields
    exit_(county_staff, project, ExitReason.VIOLATION, note="丽水市林业局行政处罚决定书丽林罚〔2026〕12号")
    project.refresh_from_db()
    assert project.status == ProjectStatus.EXITED
    other = live()
    violation(ago=20)
    exit_(county_staff, other, ExitReason.VIOLATION, note="滥伐林木")
    other.refresh_from_db()
    assert other.exit_reason == ExitReason.VIOLATION


def test_owner_request_by_the_owner_or_staff(live, owner_member, other_owner, county_staff):
    project = live()
    with pytest.raises(PermissionDeniedError):
        exit_(other_owner, project, ExitReason.OWNER_REQUEST)
    with pytest.raises(PermissionDeniedError):  # owners ask to leave; the other reasons are staff's
        exit_(owner_member, project, ExitReason.COMPLETED)
    exit_(owner_member, project, ExitReason.OWNER_REQUEST, note="业主资金调整，申请退出")
    project.refresh_from_db()
    assert project.exit_reason == ExitReason.OWNER_REQUEST
    staff_exit = live()
    exit_(county_staff, staff_exit, ExitReason.OWNER_REQUEST, note="业主书面申请")
    assert staff_exit.__class__.objects.get(pk=staff_exit.pk).status == ProjectStatus.EXITED


def test_bad_exit_input_leaves_the_project_admitted(live, submitted, county_staff):
    project = live()
    for kwargs, field in [
        ({"reason": "bored"}, "reason"),
        ({"reason": ExitReason.OWNER_REQUEST, "note": ""}, "note"),
        ({"reason": ExitReason.OWNER_REQUEST, "exited_on": days_ago(-1)}, "exited_on"),
        ({"reason": ExitReason.OWNER_REQUEST, "exited_on": datetime.date(2026, 1, 1)}, "exited_on"),
    ]:
        with pytest.raises(DomainError) as info:
            exit_(county_staff, project, **kwargs)
        assert field in info.value.fields
    project.refresh_from_db()
    assert project.status == ProjectStatus.ADMITTED and project.exited_on is None
    with pytest.raises(ConflictError):
        exit_(county_staff, submitted(), ExitReason.OWNER_REQUEST)
