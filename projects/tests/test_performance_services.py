# ruff: noqa: F811  (fixtures imported from fixtures_performance)
"""Schemes (weights, targets, versions, deactivation), evaluations (upsert, permissions, period
sanity) and the ranking of county cooperatives (standard competition ranking: 1, 1, 3)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Notification
from projects.models import EvaluationIndicator, EvaluationScheme, PerformanceEvaluation
from projects.services import performance
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError

from .fixtures_performance import (  # noqa: F401  (fixtures)
    ALL_FIVE,
    P_END,
    P_START,
    admitted_project,
    auditor,
    jinyun,
    make_county_coop,
    make_scheme,
    qingtian,
    scheme,
)

pytestmark = pytest.mark.django_db
ONLY_PROJECTS = [{"key": "projects_admitted", "weight": "100", "target": "4"}]


# --- schemes ----------------------------------------------------------------------------------


def test_create_scheme_keeps_indicators(scheme):
    rows = list(scheme.indicators.order_by("pk").values_list("key", "weight", "target", "note"))
    assert rows[0] == ("resource_activation", Decimal("25.00"), Decimal("0.600000"), "盘活率 60% 满分")
    assert sum(row[1] for row in rows) == Decimal("100")
    assert scheme.is_active and len(rows) == 5


def _with(index, **changes):
    rows = [dict(row) for row in ALL_FIVE]
    rows[index].update(changes)
    return rows


@pytest.mark.parametrize(
    ("indicators", "message"),
    [
        ([], "至少设置一个"),
        (_with(0, weight="24.99"), "99.99"),  # sums to 99.99
        (_with(0, weight="25.001"), "最多保留 2 位小数"),
        (_with(0, weight="0"), "须大于0"),
        (_with(0, weight="-25"), "须大于0"),
        (_with(0, weight="abc"), "不是有效数字"),
        (_with(1, target="0"), "须大于0"),
        (_with(1, target="1.0000001"), "最多保留 6 位小数"),
        (_with(1, target="1e13"), "超出范围"),
        (_with(2, key="gep_growth"), "无效"),
        (_with(2, key="resource_activation"), "重复"),
        (_with(3, note="说" * 301), "300"),
        (["resource_activation"], "格式有误"),
    ],
)
def test_bad_indicators_are_refused_and_nothing_written(city_admin, indicators, message):
    with pytest.raises(DomainError) as info:
        performance.create_scheme(
            actor=city_admin, name="方案", version="V-bad", source="依据", indicators=indicators
        )
    assert message in str(info.value.detail) and "indicators" in info.value.fields
    assert not EvaluationScheme.objects.exists() and not EvaluationIndicator.objects.exists()


def test_subset_of_indicators_is_allowed_when_weights_make_100(make_scheme):
    scheme = make_scheme(ONLY_PROJECTS)
    assert list(scheme.indicators.values_list("key", flat=True)) == ["projects_admitted"]


@pytest.mark.parametrize(
    ("field", "value"), [("name", " "), ("version", ""), ("source", ""), ("version", "V" * 21)]
)
def test_scheme_text_fields_are_required(city_admin, field, value):
    values = {"name": "方案", "version": "V-1", "source": "依据", field: value}
    with pytest.raises(DomainError) as info:
        performance.create_scheme(actor=city_admin, indicators=ALL_FIVE, **values)
    assert field in info.value.fields
    assert not EvaluationScheme.objects.exists()


def test_duplicate_version_conflicts(make_scheme):
    make_scheme(version="2026-1")
    with pytest.raises(ConflictError) as info:
        make_scheme(version="2026-1")
    assert info.value.code == "duplicate" and "version" in info.value.fields
    assert EvaluationScheme.objects.count() == 1 and EvaluationIndicator.objects.count() == 5


def test_only_city_admins_create_and_deactivate(county_staff, auditor, investor, scheme):
    for user in (county_staff, auditor, investor):
        with pytest.raises(PermissionDeniedError):
            performance.create_scheme(
                actor=user, name="方案", version="X", source="依据", indicators=ALL_FIVE
            )
        with pytest.raises(PermissionDeniedError):
            performance.deactivate_scheme(actor=user, scheme=scheme)
    assert EvaluationScheme.objects.count() == 1
    scheme.refresh_from_db()
    assert scheme.is_active


def test_deactivate_once_and_inactive_scheme_is_not_used(city_admin, scheme, county_cooperative):
    performance.deactivate_scheme(actor=city_admin, scheme=scheme)
    scheme.refresh_from_db()
    assert not scheme.is_active
    with pytest.raises(InvalidTransition):
        performance.deactivate_scheme(actor=city_admin, scheme=scheme)
    with pytest.raises(ConflictError) as info:
        performance.evaluate_cooperative(
            actor=city_admin,
            scheme=scheme,
            cooperative=county_cooperative,
            period_start=P_START,
            period_end=P_END,
        )
    assert info.value.code == "scheme_inactive"
    assert not PerformanceEvaluation.objects.exists()


# --- evaluations ------------------------------------------------------------------------------


def test_evaluate_upserts_and_recomputes_from_the_books(
    make_scheme, county_cooperative, county_staff, reviewer, admitted_project
):
    scheme = make_scheme(ONLY_PROJECTS)
    admitted_project(datetime.date(2026, 3, 1))
    first = performance.evaluate_cooperative(
        actor=county_staff,
        scheme=scheme,
        cooperative=county_cooperative,
        period_start=P_START,
        period_end=P_END,
    )
    assert first.total_score == Decimal("25.00") and (first.rank, first.peer_count) == (1, 1)
    assert first.indicators[0]["value"] == "1" and first.computed_by == county_staff
    admitted_project(datetime.date(2026, 4, 1))
    again = performance.evaluate_cooperative(
        actor=reviewer, scheme=scheme, cooperative=county_cooperative, period_start=P_START, period_end=P_END
    )
    assert again.pk == first.pk and again.total_score == Decimal("50.00") and again.computed_by == reviewer
    assert PerformanceEvaluation.objects.count() == 1


def test_evaluate_permissions(
    scheme, county_cooperative, county_staff, qingtian, auditor, investor, city_admin
):
    qt_coop, qt_staff = qingtian
    for actor, coop in (
        (county_staff, qt_coop),
        (qt_staff, county_cooperative),
        (auditor, county_cooperative),
    ):
        with pytest.raises(PermissionDeniedError):
            performance.evaluate_cooperative(
                actor=actor, scheme=scheme, cooperative=coop, period_start=P_START, period_end=P_END
            )
    with pytest.raises(PermissionDeniedError):
        performance.evaluate_peers(
            actor=investor, scheme=scheme, level="county", period_start=P_START, period_end=P_END
        )
    assert not PerformanceEvaluation.objects.exists()
    done = performance.evaluate_cooperative(
        actor=city_admin, scheme=scheme, cooperative=qt_coop, period_start=P_START, period_end=P_END
    )
    assert done.cooperative == qt_coop


def test_evaluate_refuses_what_is_not_a_cooperative_and_bad_periods(
    scheme, city_admin, investor_org, county_cooperative
):
    with pytest.raises(DomainError) as info:
        performance.evaluate_cooperative(
            actor=city_admin, scheme=scheme, cooperative=investor_org, period_start=P_START, period_end=P_END
        )
    assert "cooperative" in info.value.fields
    today = timezone.localdate()
    for start, end in (
        (P_END, P_START),
        (P_START, today + datetime.timedelta(days=2)),  # its last day is tomorrow
        (P_START, datetime.datetime(2026, 7, 1, 0, 0)),  # a timestamp is not a date
    ):
        with pytest.raises(DomainError) as info:
            performance.evaluate_cooperative(
                actor=city_admin,
                scheme=scheme,
                cooperative=county_cooperative,
                period_start=start,
                period_end=end,
            )
        assert "period_end" in info.value.fields
    with pytest.raises(DomainError) as info:
        performance.evaluate_peers(
            actor=city_admin, scheme=scheme, level="village", period_start=P_START, period_end=P_END
        )
    assert "level" in info.value.fields
    assert not PerformanceEvaluation.objects.exists()
    # a period ending today (exclusive end tomorrow) is over and may be evaluated
    performance.evaluate_cooperative(
        actor=city_admin,
        scheme=scheme,
        cooperative=county_cooperative,
        period_start=P_START,
        period_end=today + datetime.timedelta(days=1),
    )


# --- ranking ----------------------------------------------------------------------------------


def _projects(admitted_project, coop, n):
    for day in range(1, n + 1):
        admitted_project(datetime.date(2026, 2, day), division=coop.division)


def test_peers_are_ranked_with_ties_sharing_a_rank(
    make_scheme,
    city_admin,
    county_cooperative,
    city_cooperative,
    qingtian,
    jinyun,
    admitted_project,
    django_capture_on_commit_callbacks,
):
    scheme = make_scheme(ONLY_PROJECTS)
    (qt_coop, qt_staff), (jy_coop, _jy_staff) = qingtian, jinyun
    _projects(admitted_project, county_cooperative, 2)
    _projects(admitted_project, qt_coop, 2)
    _projects(admitted_project, jy_coop, 1)
    with django_capture_on_commit_callbacks(execute=True):
        ranked = performance.evaluate_peers(
            actor=city_admin, scheme=scheme, level="county", period_start=P_START, period_end=P_END
        )
    summary = [(e.cooperative, e.total_score, e.rank, e.peer_count) for e in ranked]
    assert summary == [
        (county_cooperative, Decimal("50.00"), 1, 3),
        (qt_coop, Decimal("50.00"), 1, 3),
        (jy_coop, Decimal("25.00"), 3, 3),
    ]
    # the city cooperative is of another level, so not a peer
    assert not PerformanceEvaluation.objects.filter(cooperative=city_cooperative).exists()
    # one more project in 缙云 and only 缙云 recomputed: the whole group is re-ranked
    admitted_project(datetime.date(2026, 3, 1), division=jy_coop.division)
    admitted_project(datetime.date(2026, 3, 2), division=jy_coop.division)
    performance.evaluate_cooperative(
        actor=city_admin, scheme=scheme, cooperative=jy_coop, period_start=P_START, period_end=P_END
    )
    stored = {
        e.cooperative_id: (e.total_score, e.rank, e.peer_count)
        for e in PerformanceEvaluation.objects.filter(scheme=scheme)
    }
    assert stored == {
        jy_coop.pk: (Decimal("75.00"), 1, 3),
        county_cooperative.pk: (Decimal("50.00"), 2, 3),
        qt_coop.pk: (Decimal("50.00"), 2, 3),
    }
    # each cooperative's desk hears its result (the actor does not)
    note = Notification.objects.get(recipient=qt_staff)
    assert "1/3" in note.body and qt_coop.name in note.title
    assert not Notification.objects.filter(recipient=city_admin).exists()


def test_county_staff_ranks_the_peers_in_reach_only(
    make_scheme, county_staff, county_cooperative, qingtian, admitted_project
):
    scheme = make_scheme(ONLY_PROJECTS)
    _projects(admitted_project, county_cooperative, 1)
    ranked = performance.evaluate_peers(
        actor=county_staff, scheme=scheme, level="county", period_start=P_START, period_end=P_END
    )
    assert [(e.cooperative, e.rank, e.peer_count) for e in ranked] == [(county_cooperative, 1, 1)]
    with pytest.raises(DomainError) as info:
        performance.evaluate_peers(
            actor=county_staff, scheme=scheme, level="city", period_start=P_START, period_end=P_END
        )
    assert info.value.code == "no_peers"
    assert PerformanceEvaluation.objects.count() == 1


def test_other_periods_and_schemes_are_separate_groups(make_scheme, city_admin, county_cooperative, qingtian):
    scheme, other = make_scheme(ONLY_PROJECTS), make_scheme(ONLY_PROJECTS)
    qt_coop, _staff = qingtian
    for s, coop, start in (
        (scheme, county_cooperative, P_START),
        (scheme, qt_coop, datetime.date(2025, 1, 1)),
        (other, qt_coop, P_START),
    ):
        evaluation = performance.evaluate_cooperative(
            actor=city_admin, scheme=s, cooperative=coop, period_start=start, period_end=P_END
        )
        assert (evaluation.rank, evaluation.peer_count) == (1, 1)
