# ruff: noqa: F811  (fixtures imported from test_scoring_fixtures)
"""Eco-behaviour records (polarity, reach, revocation) and scores computed from known records:
exact points, explanations, grade bands, line rounding, idempotent recompute."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from directory.models import Organization, OrganizationKind, Party
from directory.services import ensure_party
from finance.models import (
    CreditGrade,
    CreditScore,
    EcoBehaviourRecord,
    Scorecard,
    ScorecardFactor,
    ScoreSubject,
)
from finance.services import scoring
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from .test_scoring_fixtures import (  # noqa: F401  (fixtures)
    HOUSEHOLD_FACTORS,
    days_ago,
    household_card,
    other_county,
    other_county_staff,
    other_village_clerk,
    record,
    village_clerk,
)

pytestmark = pytest.mark.django_db


def _record_kwargs(who, village, **changes):
    values = dict(
        party=who,
        division=village,
        category="garbage_sorting",
        points=Decimal("1"),
        occurred_on=days_ago(10),
        description="主动分类投放",
        source_document="示范村评议记录",
    )
    values.update(changes)
    return values


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "illegal_discharge", "points": Decimal("3")}, "points"),  # a deduction must be negative
        ({"category": "garbage_sorting", "points": Decimal("-1")}, "points"),  # an addition must be positive
        ({"points": Decimal("0")}, "points"),
        ({"points": Decimal("100.01")}, "points"),
        ({"category": "illegal_logging", "points": Decimal("-101")}, "points"),
        ({"points": Decimal("1.005")}, "points"),
        ({"points": "abc"}, "points"),
        ({"category": "littering"}, "category"),
        ({"occurred_on": days_ago(-1)}, "occurred_on"),
        ({"occurred_on": datetime.date(1999, 12, 31)}, "occurred_on"),
        ({"occurred_on": "2026-01-01"}, "occurred_on"),
        ({"description": "  "}, "description"),
        ({"description": "长" * 301}, "description"),
        ({"source_document": ""}, "source_document"),
        ({"division": None}, "division"),
        ({"party": None}, "party"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_written(households, village, county_staff, changes, field):
    with pytest.raises(DomainError) as exc:
        scoring.record_eco_behaviour(actor=county_staff, **_record_kwargs(households[0], village, **changes))
    assert field in exc.value.fields
    assert EcoBehaviourRecord.objects.count() == 0


def test_polarity_follows_the_category(households, village, county_staff):
    made = scoring.record_eco_behaviour(
        actor=county_staff,
        **_record_kwargs(households[0], village, category="illegal_discharge", points=Decimal("-3")),
    )
    assert made.points == Decimal("-3.00") and made.recorded_by == county_staff
    pilot = scoring.record_eco_behaviour(
        actor=county_staff,
        **_record_kwargs(households[0], village, category="standard_pilot", points=Decimal("30")),
    )
    assert pilot.points == Decimal("30.00")


def test_clerks_record_within_their_reach_only(
    households,
    village,
    village_clerk,
    other_village_clerk,
    other_county,
    bank_officer,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        made = scoring.record_eco_behaviour(actor=village_clerk, **_record_kwargs(households[0], village))
    assert made.pk and len(callbacks) == 1  # the score recompute is scheduled after commit
    with pytest.raises(PermissionDeniedError):  # the place is outside the clerk's village
        scoring.record_eco_behaviour(actor=other_village_clerk, **_record_kwargs(households[0], village))
    with pytest.raises(PermissionDeniedError):  # the place is theirs, the household is not
        scoring.record_eco_behaviour(actor=other_village_clerk, **_record_kwargs(households[0], other_county))
    with pytest.raises(PermissionDeniedError):
        scoring.record_eco_behaviour(actor=bank_officer, **_record_kwargs(households[0], village))
    assert EcoBehaviourRecord.objects.count() == 1


def test_revocation(
    households, record, county_staff, other_village_clerk, django_capture_on_commit_callbacks
):
    made = record(households[0], "garbage_sorting", "1")
    with pytest.raises(DomainError) as exc:
        scoring.revoke_eco_behaviour(actor=county_staff, record=made, reason=" ")
    assert "reason" in exc.value.fields
    with pytest.raises(PermissionDeniedError):
        scoring.revoke_eco_behaviour(actor=other_village_clerk, record=made, reason="记错了")
    made.refresh_from_db()
    assert made.revoked_at is None
    with django_capture_on_commit_callbacks() as callbacks:
        scoring.revoke_eco_behaviour(actor=county_staff, record=made, reason="重复登记")
    assert len(callbacks) == 1
    made.refresh_from_db()
    assert made.revoked_at is not None and made.revoke_reason == "重复登记"
    with pytest.raises(ConflictError) as exc:
        scoring.revoke_eco_behaviour(actor=county_staff, record=made, reason="再次撤销")
    assert exc.value.code == "revoked"
    made.refresh_from_db()
    assert made.revoke_reason == "重复登记"


def _settle(loan, on_time, late):
    """Mark the first `on_time` installments paid on their due date, the next `late` 5 days late."""
    installments = list(loan.installments.order_by("seq"))
    for installment in installments[:on_time]:
        installment.settled_on = installment.due_date
        installment.save(update_fields=["settled_on"])
    for installment in installments[on_time : on_time + late]:
        installment.settled_on = installment.due_date + datetime.timedelta(days=5)
        installment.save(update_fields=["settled_on"])


def test_known_inputs_give_exact_points_and_explanations(
    household_card, households, record, valued_right, make_application, make_loan, county_staff
):
    party = households[0]
    for _n in range(3):
        record(party, "garbage_sorting", "1")
    record(party, "standard_pilot", "30", ago=400)
    record(party, "illegal_discharge", "-3", ago=60)
    record(party, "eco_protection", "10", ago=800)  # older than 24 months: not counted
    scoring.revoke_eco_behaviour(
        actor=county_staff, record=record(party, "volunteering", "5"), reason="重复登记"
    )
    record(households[1], "garbage_sorting", "1")  # someone else's
    right = valued_right(gep=Decimal("100000"))
    loan = make_loan(make_application(rights=[right]))  # monthly from 2026-01-15
    due = [i for i in loan.installments.order_by("seq") if i.due_date < days_ago(0)]
    assert len(due) == 10
    _settle(loan, on_time=8, late=1)  # the 10th is overdue and unpaid

    score = scoring.recompute_credit_score(party.pk)

    factors = {f["key"]: f for f in score.factors}
    assert [f["key"] for f in score.factors] == [f["key"] for f in HOUSEHOLD_FACTORS]
    assert {key: f["points"] for key, f in factors.items()} == {
        "eco_behaviour": "66.00",
        "violations": "-30.00",
        "gep_contribution": "30.00",
        "collection_history": "0.00",
        "repayment_record": "4.00",
    }
    assert factors["eco_behaviour"]["explanation"] == (
        "近 24 个月有效生态加分记录 4 条，合计 33 分；按每分 2 分计 66 分；本项 +66 分。"
    )
    assert factors["violations"]["explanation"] == (
        "近 24 个月有效违规扣分记录 1 条，合计 -3 分；按每分 10 分计 -30 分；本项 -30 分。"
    )
    assert factors["gep_contribution"]["explanation"] == (
        "持有有效权利的资源 1 宗，其中 1 宗有已采纳的 GEP 核算结果，按权利份额计 GEP 合计 100,000.00 元"
        "（10 万元）；按每万元 3 分计 30 分；本项 +30 分。"
    )
    assert factors["collection_history"]["explanation"] == (
        "作为出让方或收益人签订的流转收储合同 0 份（履行中 0 份、已到期 0 份、已续签 0 份）；"
        "按每份 15 分计 0 分；本项 0 分。"
    )
    assert factors["repayment_record"]["explanation"] == (
        "贷款还款计划中按期结清 8 期、逾期后结清 1 期、当前逾期未还 1 期；净值 = 8 − 3 × (1 + 1) = 2；"
        "按每期 2 分计 4 分；本项 +4 分。"
    )
    assert factors["gep_contribution"]["value"] == "10.00" and factors["gep_contribution"]["unit"] == "万元"
    assert score.score == Decimal("670.00")
    assert score.grade == CreditGrade.A
    assert score.suggested_line == Decimal("70000.00")
    assert score.scorecard == household_card and score.is_current
    assert len(score.inputs_digest) == 64


def test_recompute_is_idempotent_and_keeps_one_current_score(household_card, households, record):
    party = households[0]
    first = scoring.recompute_credit_score(party.pk)
    again = scoring.recompute_credit_score(party.pk)
    assert again.pk == first.pk and CreditScore.objects.filter(party=party).count() == 1
    assert first.score == Decimal("600.00") and first.grade == CreditGrade.B and first.suggested_line == 0
    record(party, "garbage_sorting", "1")
    second = scoring.recompute_credit_score(party.pk)
    assert second.pk != first.pk and second.score == Decimal("602.00")
    assert second.inputs_digest != first.inputs_digest
    first.refresh_from_db()
    assert not first.is_current
    assert list(CreditScore.objects.filter(party=party, is_current=True)) == [second]
    assert scoring.current_score(party) == second
    assert scoring.recompute_credit_score(party.pk).pk == second.pk
    assert CreditScore.objects.filter(party=party).count() == 2


def test_revoking_a_record_lowers_the_score_again(household_card, households, record, county_staff):
    party = households[0]
    made = record(party, "standard_pilot", "10")
    assert scoring.recompute_credit_score(party.pk).score == Decimal("620.00")
    scoring.revoke_eco_behaviour(actor=county_staff, record=made, reason="试点未获批")
    back = scoring.recompute_credit_score(party.pk)
    assert back.score == Decimal("600.00")
    assert back.factors[0]["explanation"].startswith("近 24 个月有效生态加分记录 0 条")


def test_points_are_clamped_and_the_explanation_says_so(household_card, households, record):
    party = households[0]
    for _n in range(3):
        record(party, "standard_pilot", "30")  # 90 × 2 = 180 > 150
    for _n in range(7):
        record(party, "illegal_chemicals", "-3")  # −21 × 10 = −210 < −200
    score = scoring.recompute_credit_score(party.pk)
    factors = {f["key"]: f for f in score.factors}
    assert factors["eco_behaviour"]["points"] == "150.00"
    assert factors["eco_behaviour"]["explanation"] == (
        "近 24 个月有效生态加分记录 3 条，合计 90 分；按每分 2 分计 180 分，超过上限，按 150 分计；本项 +150 分。"
    )
    assert factors["violations"]["points"] == "-200.00"
    assert (
        "按每分 10 分计 -210 分，低于下限，按 -200 分计；本项 -200 分。"
        in factors["violations"]["explanation"]
    )
    assert score.score == Decimal("550.00") and score.grade == CreditGrade.B


def test_the_total_is_clamped_to_the_scorecard_range(city_admin, households, record):
    scoring.create_scorecard(
        actor=city_admin,
        subject=ScoreSubject.HOUSEHOLD,
        name="低基础分",
        factors=[{"key": "violations", "points_per_unit": "100", "min_points": "-500", "max_points": "0"}],
        base_score=Decimal("350"),
        min_score=Decimal("300"),
        line_floor_score=Decimal("600"),
    )
    record(households[0], "illegal_logging", "-2")
    score = scoring.recompute_credit_score(households[0].pk)
    assert score.score == Decimal("300.00") and score.grade == CreditGrade.C
    assert score.suggested_line == Decimal("0.00")


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("1000", "AAA"),
        ("850", "AAA"),
        ("849.99", "AA"),
        ("750", "AA"),
        ("749.99", "A"),
        ("650", "A"),
        ("649.99", "B"),
        ("550", "B"),
        ("549.99", "C"),
        ("300", "C"),
    ],
)
def test_grade_bands(score, grade):
    assert scoring.grade_for(Decimal(score)) == grade


def test_grade_bands_are_a_setting(settings):
    settings.TMCS_CREDIT_GRADE_BANDS = [(900, "AAA"), (800, "AA"), (700, "A"), (600, "B")]
    assert scoring.grade_for(Decimal("850")) == "AA"
    assert scoring.grade_for(Decimal("599")) == "C"


@pytest.mark.parametrize(
    ("score", "per_point", "cap", "line"),
    [
        ("612.37", "1234.56", "300000", "15200.00"),  # 12.37 × 1234.56 = 15271.51 → 15200
        ("600.99", "100", "300000", "0.00"),  # 99 元 rounds down to nothing
        ("601", "100", "300000", "100.00"),
        ("599.99", "1000", "300000", "0.00"),  # below the floor
        ("1000", "1000", "300050", "300000.00"),  # the cap, rounded down too
        ("900", "1000", "300000", "300000.00"),
    ],
)
def test_line_is_rounded_down_to_hundreds(score, per_point, cap, line):
    card = Scorecard(
        line_floor_score=Decimal("600"), line_per_point=Decimal(per_point), line_cap=Decimal(cap)
    )
    assert scoring.suggested_line(card, Decimal(score)) == Decimal(line)


def test_subjects_and_missing_scorecards(household_card, households, demo_region, county_cooperative):
    collective = ensure_party(Organization.objects.get(kind=OrganizationKind.VILLAGE_COLLECTIVE))
    company = ensure_party(
        Organization.objects.create(
            name="示范强村公司（测试）",
            kind=OrganizationKind.STRONG_VILLAGE_COMPANY,
            division=county_cooperative.division,
        )
    )
    investor = ensure_party(Organization.objects.get(kind=OrganizationKind.ENTERPRISE))
    assert scoring.subject_for(households[0]) == ScoreSubject.HOUSEHOLD
    assert scoring.subject_for(collective) == ScoreSubject.COLLECTIVE
    assert scoring.subject_for(company) == ScoreSubject.COLLECTIVE
    assert scoring.subject_for(investor) == ScoreSubject.ENTERPRISE
    # Only the household scorecard is active: the collective keeps having no score.
    assert scoring.recompute_credit_score(collective.pk) is None
    assert scoring.recompute_credit_score(999_999_999) is None
    assert CreditScore.objects.filter(party=collective).count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"factors": []}, "factors"),
        (
            {"factors": [{"key": "luck", "points_per_unit": "1", "min_points": "0", "max_points": "1"}]},
            "factors",
        ),
        ({"factors": HOUSEHOLD_FACTORS[:1] * 2}, "factors"),
        (
            {
                "factors": [
                    {"key": "violations", "points_per_unit": "1", "min_points": "5", "max_points": "0"}
                ]
            },
            "factors",
        ),
        (
            {
                "factors": [
                    {"key": "violations", "points_per_unit": "1.00001", "min_points": "0", "max_points": "1"}
                ]
            },
            "factors",
        ),
        ({"subject": "planet"}, "subject"),
        ({"name": ""}, "name"),
        ({"base_score": Decimal("200")}, "base_score"),
        ({"min_score": Decimal("900"), "max_score": Decimal("800")}, "max_score"),
        ({"line_floor_score": Decimal("1200")}, "line_floor_score"),
        ({"line_per_point": Decimal("-1")}, "line_per_point"),
        ({"line_cap": Decimal("-1")}, "line_cap"),
        ({"source": "源" * 301}, "source"),
    ],
)
def test_bad_scorecards_are_refused(city_admin, changes, field):
    values = dict(subject=ScoreSubject.HOUSEHOLD, name="测试", factors=HOUSEHOLD_FACTORS)
    values.update(changes)
    with pytest.raises(DomainError) as exc:
        scoring.create_scorecard(actor=city_admin, **values)
    assert field in exc.value.fields
    assert Scorecard.objects.count() == 0 and ScorecardFactor.objects.count() == 0


def test_scorecards_are_versioned_by_city_admins_only(city_admin, county_staff, household_card):
    with pytest.raises(PermissionDeniedError):
        scoring.create_scorecard(actor=county_staff, subject="household", name="x", factors=HOUSEHOLD_FACTORS)
    second = scoring.create_scorecard(
        actor=city_admin, subject="household", name="第二版", factors=HOUSEHOLD_FACTORS
    )
    draft = scoring.create_scorecard(
        actor=city_admin, subject="household", name="草稿", factors=HOUSEHOLD_FACTORS, activate=False
    )
    household_card.refresh_from_db()
    assert (household_card.version, second.version, draft.version) == (1, 2, 3)
    assert list(Scorecard.objects.filter(subject="household", is_active=True)) == [second]
    assert second.factors.count() == len(HOUSEHOLD_FACTORS)


def test_a_new_scorecard_version_gives_a_new_score(city_admin, household_card, households):
    first = scoring.recompute_credit_score(households[0].pk)
    card = scoring.create_scorecard(
        actor=city_admin,
        subject="household",
        name="第二版",
        factors=HOUSEHOLD_FACTORS,
        base_score=Decimal("650"),
    )
    second = scoring.recompute_credit_score(households[0].pk)
    assert second.pk != first.pk and second.scorecard == card and second.score == Decimal("650.00")


def test_default_scorecards(city_admin):
    made = scoring.default_scorecards(city_admin)
    assert sorted(card.subject for card in made) == ["collective", "enterprise", "household"]
    assert scoring.default_scorecards(city_admin) == []
    for card in made:
        assert card.is_active and card.factors.count() >= 5
        assert "雾溪" in card.source and "墨脱" in card.source and len(card.source) <= 300
        assert all(len(f.note) <= 200 for f in card.factors.all())
    household = Scorecard.objects.get(subject="household", is_active=True)
    assert household.line_cap == Decimal("300000.00")  # 雾溪 credit-only loans ≤ 300k 元
    assert not household.factors.filter(key="contract_history").exists()


def test_recompute_all_and_the_command(household_card, households, record, bank, capsys):
    record(households[0], "garbage_sorting", "1")
    visited, written = scoring.recompute_all_credit_scores()
    parties = Party.objects.count()
    banks_and_coops = Party.objects.filter(
        organization__kind__in=[
            OrganizationKind.BANK,
            OrganizationKind.COOPERATIVE,
            OrganizationKind.GUARANTOR,
            OrganizationKind.GOVERNMENT,
            OrganizationKind.INSURER,
        ]
    ).count()
    assert visited == parties - banks_and_coops
    assert written == 3  # the three demo villagers (only the household scorecard is active)
    assert not CreditScore.objects.filter(party=ensure_party(bank)).exists()
    call_command("recompute_credit_scores")
    assert "new scores: 0" in capsys.readouterr().out
    record(households[0], "garbage_sorting", "1")
    call_command("recompute_credit_scores", "--party", str(households[0].pk))
    assert "parties: 1, new scores: 1" in capsys.readouterr().out


def test_explanations_are_stored_in_the_platform_language(household_card, households):
    from django.utils import translation

    with translation.override("en"):
        score = scoring.recompute_credit_score(households[0].pk)
    assert score.factors[0]["explanation"].startswith("近 24 个月有效生态加分记录 0 条")
    assert score.factors[0]["label"] == "生态行为"
