# ruff: noqa: F811  (fixtures imported from fixtures_performance)
"""`/api/v1/projects/evaluation-schemes/` and `/api/v1/projects/performance/`."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from projects.models import EvaluationScheme, PerformanceEvaluation
from projects.services import performance

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
SCHEMES = "/api/v1/projects/evaluation-schemes/"
EVALUATIONS = "/api/v1/projects/performance/"
PERIOD = {"period_start": "2026-01-01", "period_end": "2026-07-01"}


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ranked(scheme, city_admin, county_cooperative, qingtian, jinyun, admitted_project):
    for coop, n in ((county_cooperative, 2), (qingtian[0], 3), (jinyun[0], 1)):
        for day in range(1, n + 1):
            admitted_project(datetime.date(2026, 2, day), division=coop.division)
    return performance.evaluate_peers(
        actor=city_admin, scheme=scheme, level="county", period_start=P_START, period_end=P_END
    )


# --- schemes ----------------------------------------------------------------------------------


def test_scheme_list_create_and_deactivate(scheme, city_admin, county_staff, investor):
    body = api(county_staff).get(SCHEMES).json()
    assert body["count"] == 1 and body["results"][0]["indicators"][0]["key"] == "resource_activation"
    assert body["results"][0]["indicators"][0]["target"] == "0.600000"
    assert api(investor).get(SCHEMES).status_code == 403
    payload = {"name": "办法", "version": "2026-API", "source": "纪要", "indicators": ALL_FIVE}
    assert api(county_staff).post(SCHEMES, payload, format="json").status_code == 403
    created = api(city_admin).post(SCHEMES, payload, format="json")
    assert created.status_code == 201 and len(created.json()["indicators"]) == 5
    duplicate = api(city_admin).post(SCHEMES, payload, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate"
    bad_sum = api(city_admin).post(
        SCHEMES, {**payload, "version": "X", "indicators": ALL_FIVE[:4]}, format="json"
    )
    assert bad_sum.status_code == 400 and "indicators" in bad_sum.json()["fields"]
    bad_key = api(city_admin).post(
        SCHEMES,
        {**payload, "version": "Y", "indicators": [{"key": "gdp", "weight": "100", "target": "1"}]},
        format="json",
    )
    assert bad_key.status_code == 400 and "indicators" in bad_key.json()["fields"]
    assert EvaluationScheme.objects.count() == 2
    url = f"{SCHEMES}{created.json()['id']}/deactivate/"
    assert api(county_staff).post(url).status_code == 403
    assert api(city_admin).post(url).json()["is_active"] is False
    assert api(city_admin).post(url).status_code == 409
    assert api(county_staff).get(SCHEMES, {"is_active": "true"}).json()["count"] == 1


# --- evaluations ------------------------------------------------------------------------------


def test_list_in_reach_filtered_and_pinned(
    ranked, scheme, make_scheme, auditor, qingtian, county_cooperative, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        body = api(auditor).get(EVALUATIONS).json()
    assert [
        (r["cooperative_name"], r["rank"], r["peer_count"], r["total_score"]) for r in body["results"]
    ] == [
        (qingtian[0].name, 1, 3, "19.50"),  # 3 projects: 7.5 + 6,000,000 元 ÷ 10,000,000 × 20 = 12
        (county_cooperative.name, 2, 3, "13.00"),
        (ranked[-1].cooperative.name, 3, 3, "6.50"),
    ]
    row = body["results"][0]
    assert row["level"] == "county" and row["division_code"] == "331121000000"
    assert {i["key"]: i["value"] for i in row["indicators"]}["projects_admitted"] == "3"
    other = make_scheme()
    assert api(auditor).get(EVALUATIONS, {"scheme": other.pk}).json()["count"] == 0
    assert api(auditor).get(EVALUATIONS, {"cooperative": county_cooperative.pk}).json()["count"] == 1
    assert api(auditor).get(EVALUATIONS, {**PERIOD, "scheme": scheme.pk}).json()["count"] == 3
    assert api(auditor).get(EVALUATIONS, {"period_start": "2025-01-01"}).json()["count"] == 0
    assert api(auditor).get(EVALUATIONS, {"period_start": "not-a-date"}).status_code == 400
    # a county desk reads its own county only; another county's evaluation is not found
    mine = api(qingtian[1]).get(EVALUATIONS).json()
    assert [r["cooperative"] for r in mine["results"]] == [qingtian[0].pk]
    theirs = next(e for e in ranked if e.cooperative_id == county_cooperative.pk)
    assert api(qingtian[1]).get(f"{EVALUATIONS}{theirs.pk}/").status_code == 404


def test_list_query_count_does_not_grow(
    scheme, city_admin, auditor, make_county_coop, django_assert_max_num_queries
):
    for code in ("331123", "331124", "331125", "331126"):
        make_county_coop(code)
    performance.evaluate_peers(
        actor=city_admin, scheme=scheme, level="county", period_start=P_START, period_end=P_END
    )
    with django_assert_max_num_queries(6):
        assert api(auditor).get(EVALUATIONS).json()["count"] == 5


def test_evaluate_one_and_peers(
    scheme, county_staff, county_cooperative, qingtian, investor, auditor, admitted_project
):
    admitted_project(datetime.date(2026, 3, 1))
    payload = {"scheme": scheme.pk, "cooperative": county_cooperative.pk, **PERIOD}
    assert api(investor).post(EVALUATIONS, payload, format="json").status_code == 403
    assert api(auditor).post(EVALUATIONS, payload, format="json").status_code == 403
    outside = api(county_staff).post(EVALUATIONS, {**payload, "cooperative": qingtian[0].pk}, format="json")
    assert outside.status_code == 404
    reversed_ = api(county_staff).post(EVALUATIONS, {**payload, "period_end": "2025-06-01"}, format="json")
    assert reversed_.status_code == 400 and "period_end" in reversed_.json()["fields"]
    future = api(county_staff).post(EVALUATIONS, {**payload, "period_end": "2099-01-01"}, format="json")
    assert future.status_code == 400 and "period_end" in future.json()["fields"]
    malformed = api(county_staff).post(EVALUATIONS, {**payload, "period_start": "2026-13-01"}, format="json")
    assert malformed.status_code == 400 and "period_start" in malformed.json()["fields"]
    assert not PerformanceEvaluation.objects.exists()
    created = api(county_staff).post(EVALUATIONS, payload, format="json")
    assert created.status_code == 201
    assert created.json()["total_score"] == "6.50"  # 1 project: 2.5 + 2,000,000 ÷ 10,000,000 × 20
    peers = api(county_staff).post(
        f"{EVALUATIONS}peers/", {"scheme": scheme.pk, "level": "county", **PERIOD}, format="json"
    )
    assert peers.status_code == 201 and [r["cooperative"] for r in peers.json()] == [county_cooperative.pk]
    bad_level = api(county_staff).post(
        f"{EVALUATIONS}peers/", {"scheme": scheme.pk, "level": "village", **PERIOD}, format="json"
    )
    assert bad_level.status_code == 400 and "level" in bad_level.json()["fields"]
    assert PerformanceEvaluation.objects.count() == 1
    assert PerformanceEvaluation.objects.get().total_score == Decimal("6.50")
