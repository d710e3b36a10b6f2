# ruff: noqa: F811  (fixtures imported from test_projects_fixtures)
"""Admission criteria: versioned sets (draft → published → retired), bad input, and every
automatic check met and not met, each with a sentence that carries the numbers."""

from decimal import Decimal

import pytest

from projects.models import CriteriaSet, CriteriaStatus, Criterion, CriterionCheck
from projects.services import projects as services
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .test_projects_fixtures import (  # noqa: F401  (fixtures)
    credit_score,
    criteria_with,
    other_county,
    owner_member,
    prepare,
    violation,
)

pytestmark = pytest.mark.django_db

ROWS = [
    {"code": "A1", "title": "总投资不低于 100 万元", "method": "min_investment", "threshold": "1000000"},
    {"code": "A2", "title": "GEP 占补平衡", "method": "gep_balance", "threshold": None},
    {"code": "A3", "title": "符合规划", "method": "manual", "applies_to_evaluation": False},
]


def make_set(actor, version="2026-1", rows=ROWS):
    return services.create_criteria_set(
        actor=actor, name="重点项目评定标准", version=version, source="丽水市重点项目管理办法", criteria=rows
    )


# --- criteria sets ------------------------------------------------------------------------------


def test_draft_edit_publish_retires_the_previous_set(city_admin):
    first = make_set(city_admin)
    assert first.status == CriteriaStatus.DRAFT and first.criteria.count() == 3
    assert first.criteria.get(code="A3").applies_to_evaluation is False
    services.update_criteria_set(
        actor=city_admin,
        criteria_set=first,
        name="新名称",
        version="2026-1",
        source="依据",
        criteria=ROWS[:2],
    )
    first.refresh_from_db()
    assert first.name == "新名称" and first.criteria.count() == 2
    services.publish_criteria_set(actor=city_admin, criteria_set=first)
    assert services.published_criteria_set() == first
    second = make_set(city_admin, version="2026-2")
    services.publish_criteria_set(actor=city_admin, criteria_set=second)
    first.refresh_from_db()
    assert first.status == CriteriaStatus.RETIRED and services.published_criteria_set() == second
    assert CriteriaSet.objects.filter(status=CriteriaStatus.PUBLISHED).count() == 1
    with pytest.raises(ConflictError) as info:  # published sets never change
        services.update_criteria_set(
            actor=city_admin, criteria_set=second, name="x", version="2026-2", source="x", criteria=ROWS
        )
    assert info.value.code == "not_draft"
    with pytest.raises(ConflictError):
        services.publish_criteria_set(actor=city_admin, criteria_set=first)


def test_only_city_admins_set_criteria(county_staff, investor):
    for actor in (county_staff, investor):
        with pytest.raises(PermissionDeniedError):
            make_set(actor)
    assert not CriteriaSet.objects.exists()


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([], "criteria"),
        ([{**ROWS[0], "code": ""}], "criteria.0.code"),
        ([{**ROWS[0], "title": " "}], "criteria.0.title"),
        ([{**ROWS[0], "method": "magic"}], "criteria.0.method"),
        ([{**ROWS[0], "threshold": None}], "criteria.0.threshold"),
        ([{**ROWS[0], "threshold": "-5"}], "criteria.0.threshold"),
        ([{**ROWS[0], "threshold": "abc"}], "criteria.0.threshold"),
        ([{**ROWS[0], "method": "min_social_capital_share", "threshold": "1.5"}], "criteria.0.threshold"),
        ([{**ROWS[0], "method": "owner_no_violations", "threshold": "2.5"}], "criteria.0.threshold"),
        ([{**ROWS[0], "method": "owner_min_credit", "threshold": "5000"}], "criteria.0.threshold"),
        ([ROWS[0], {**ROWS[1], "code": "a1"}], "criteria.1.code"),
    ],
)
def test_bad_criteria_are_refused_and_nothing_is_saved(city_admin, rows, field):
    with pytest.raises(DomainError) as info:
        make_set(city_admin, rows=rows)
    assert field in info.value.fields
    assert not CriteriaSet.objects.exists() and not Criterion.objects.exists()


def test_duplicate_version_and_missing_header(city_admin):
    make_set(city_admin)
    with pytest.raises(ConflictError) as info:
        make_set(city_admin)
    assert info.value.code == "duplicate"
    with pytest.raises(DomainError) as info:
        services.create_criteria_set(actor=city_admin, name="", version="", source="", criteria=ROWS)
    assert set(info.value.fields) == {"name", "version", "source"}
    assert CriteriaSet.objects.count() == 1


def test_threshold_of_manual_criteria_is_dropped(city_admin):
    criteria_set = make_set(city_admin, rows=[{**ROWS[2], "threshold": "5"}])
    assert criteria_set.criteria.get().threshold is None


# --- automatic checks ---------------------------------------------------------------------------


def result_of(project, criteria_set, **kwargs):
    (result,) = services.evaluate_criteria(project, criteria_set, **kwargs)
    return result


def test_min_investment(make_project, criteria_with):
    criteria_set = criteria_with([(CriterionCheck.MIN_INVESTMENT, "3000000")])
    met = result_of(make_project(total_investment=Decimal("3000000.00")), criteria_set)
    assert met["met"] is True and "3,000,000.00" in met["detail"]
    short = result_of(make_project(total_investment=Decimal("2999999.99"), social_capital=0), criteria_set)
    assert short["met"] is False and "2,999,999.99" in short["detail"] and short["automatic"]


def test_min_social_capital_share(make_project, criteria_with):
    criteria_set = criteria_with([(CriterionCheck.MIN_SOCIAL_CAPITAL_SHARE, "0.5")])
    met = result_of(make_project(social_capital=Decimal("1500000.00")), criteria_set)
    assert met["met"] is True and "50.00%" in met["detail"]
    short = result_of(make_project(social_capital=Decimal("1499999.99")), criteria_set)
    assert short["met"] is False and "49.99%" in short["detail"]


def test_gep_balance(make_project, criteria_with, gep_rule, gep_credit, valued_asset):
    criteria_set = criteria_with([(CriterionCheck.GEP_BALANCE, None)])
    nothing = result_of(make_project(), criteria_set)
    assert nothing["met"] is True and "不占用" in nothing["detail"]
    gep_credit(Decimal("10000"))
    short = result_of(make_project(consumptions=[(valued_asset(gep=Decimal("100000")), "0.5")]), criteria_set)
    assert short["met"] is False and "缺口 40,000.00 元" in short["detail"]
    gep_credit(Decimal("40000"))
    met = result_of(make_project(consumptions=[(valued_asset(gep=Decimal("100000")), "0.5")]), criteria_set)
    assert met["met"] is True and "入库后余额 0.00 元" in met["detail"]


def test_gep_balance_not_met_without_valuation_or_rule(
    make_project, criteria_with, registered_asset, households
):
    criteria_set = criteria_with([(CriterionCheck.GEP_BALANCE, None)])
    asset = registered_asset([(households[0], 1)])
    no_rule = result_of(make_project(consumptions=[(asset, "0.1")]), criteria_set)
    assert no_rule["met"] is False and "占补平衡规则" in no_rule["detail"]


def test_gep_balance_not_met_when_a_consumed_asset_is_not_valued(
    make_project, criteria_with, registered_asset, households, gep_rule, gep_credit
):
    criteria_set = criteria_with([(CriterionCheck.GEP_BALANCE, None)])
    gep_credit(Decimal("999999"))
    asset = registered_asset([(households[0], 1)])
    missing = result_of(make_project(consumptions=[(asset, "0.1")]), criteria_set)
    assert missing["met"] is False and asset.code in missing["detail"]


def test_assets_registered(
    make_project, criteria_with, registered_asset, make_asset, households, other_county
):
    criteria_set = criteria_with([(CriterionCheck.ASSETS_REGISTERED, None)])
    assert result_of(make_project(), criteria_set)["met"] is True  # nothing linked
    good = registered_asset([(households[0], 1)])
    met = result_of(make_project(assets=[good]), criteria_set)
    assert met["met"] is True and "1 项均已确权登记" in met["detail"]
    draft = make_asset(name="未登记林地", geometry=None)
    unregistered = result_of(make_project(assets=[good, draft]), criteria_set)
    assert (
        unregistered["met"] is False
        and draft.code in unregistered["detail"]
        and "草稿" in unregistered["detail"]
    )
    outside = result_of(make_project(assets=[good], division=other_county), criteria_set)
    assert (
        outside["met"] is False and "不在项目所在区划" in outside["detail"] and good.code in outside["detail"]
    )
    consumed_draft = result_of(make_project(consumptions=[(draft, "0.2")]), criteria_set)
    assert consumed_draft["met"] is False  # consumed assets count too
    good.status = "retired"
    good.save(update_fields=["status"])
    assert result_of(make_project(assets=[good]), criteria_set)["met"] is False


def test_owner_no_violations(make_project, criteria_with, violation):
    criteria_set = criteria_with([(CriterionCheck.OWNER_NO_VIOLATIONS, "12")])
    project = make_project()
    assert result_of(project, criteria_set)["met"] is True
    violation(ago=400)  # older than 12 months
    violation(ago=10, revoked=True)  # revoked
    violation(ago=10, category="garbage_sorting", points=Decimal("5"))  # a positive act
    clean = result_of(project, criteria_set)
    assert clean["met"] is True and "近 12 个月" in clean["detail"]
    record = violation(ago=30)
    found = result_of(project, criteria_set)
    assert (
        found["met"] is False
        and record.occurred_on.isoformat() in found["detail"]
        and "1 条" in found["detail"]
    )


def test_owner_min_credit(make_project, criteria_with, credit_score):
    criteria_set = criteria_with([(CriterionCheck.OWNER_MIN_CREDIT, "650")])
    project = make_project()
    none = result_of(project, criteria_set)
    assert none["met"] is False and "尚无生态信用评分" in none["detail"]
    score = credit_score("649.99")
    low = result_of(project, criteria_set)
    assert low["met"] is False and "649.99" in low["detail"]
    score.score = Decimal("650")
    score.save(update_fields=["score"])
    assert result_of(project, criteria_set)["met"] is True


def test_manual_marks(make_project, criteria_with):
    criteria_set = criteria_with([(CriterionCheck.MANUAL, None), (CriterionCheck.MIN_INVESTMENT, "1")])
    project = make_project()
    unmarked, _auto = services.evaluate_criteria(project, criteria_set)
    assert unmarked["met"] is None and not unmarked["automatic"]
    marked, _auto = services.evaluate_criteria(
        project, criteria_set, {"K1": {"met": False, "reason": "选址在红线内"}}
    )
    assert marked["met"] is False and marked["detail"] == "选址在红线内"
    for manual, message in [
        ({"K9": {"met": True, "reason": "x"}}, "没有编号"),
        ({"K2": {"met": True, "reason": "x"}}, "自动评定"),
        ({"K1": {"met": True, "reason": " "}}, "理由"),
        ({"K1": {"met": "yes", "reason": "x"}}, "符合或不符合"),
    ]:
        with pytest.raises(DomainError) as info:
            services.evaluate_criteria(project, criteria_set, manual)
        assert message in info.value.detail and "manual" in info.value.fields
