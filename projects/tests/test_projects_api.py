# ruff: noqa: F811  (fixtures imported from test_projects_fixtures)
"""`/api/v1/projects/projects/`: scoped reads (404 outside reach, pinned queries), create with
codes, bad input as {code, detail, fields}, the review with the 409 shortfall (nothing written),
evaluation, exit, withdraw and showcase actions."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from projects.models import GepBalanceEntry, KeyProject, ProjectReview, ProjectStatus

from .test_projects_fixtures import (  # noqa: F401  (fixtures)
    admitted,
    other_owner,
    owner_member,
    prepare,
    submitted,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/projects/projects/"
MANUAL = [{"code": "C4", "met": True, "reason": "符合国土空间规划"}]


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def payload(investor_org, village, **overrides):
    body = {
        "owner": investor_org.pk,
        "division": village.code,
        "name": "示范村森林康养基地",
        "category": "eco_tourism",
        "summary": "利用闲置农房和林地发展森林康养",
        "total_investment": "3000000.00",
        "social_capital": "2000000.00",
        "expected_gep_gain": "50000.00",
        "planned_start": "2026-03-01",
        "planned_end": "2028-03-01",
        "showcase_contact": "0578-2123456",
    }
    body.update(overrides)
    return body


def test_list_and_retrieve_are_scoped_and_pinned(
    prepare, submitted, county_staff, owner_member, other_owner, bank_officer, django_assert_max_num_queries
):
    for _n in range(4):
        prepare(actor=county_staff)
    project = submitted()
    with django_assert_max_num_queries(10):
        body = api(county_staff).get(URL).json()
    assert body["count"] == 5 and body["results"][0]["number"] == project.number
    with django_assert_max_num_queries(10):
        assert api(owner_member).get(URL).json()["count"] == 5
    assert api(other_owner).get(URL).json()["count"] == 0
    assert api(bank_officer).get(URL).json()["count"] == 0
    missing = api(other_owner).get(f"{URL}{project.pk}/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert (
        api(other_owner).post(f"{URL}{project.pk}/withdraw/", {"reason": "x"}, format="json").status_code
        == 404
    )
    filtered = api(county_staff).get(URL, {"status": "submitted"}).json()
    assert [row["number"] for row in filtered["results"]] == [project.number]


def test_create_with_codes_and_bad_input(owner_member, investor_org, village, valued_asset, bank_officer):
    asset = valued_asset()
    client = api(owner_member)
    created = client.post(
        URL,
        payload(
            investor_org,
            village,
            consumptions=[{"asset": asset.code, "fraction": "0.25", "note": "林地转为建设用地"}],
        ),
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["assets"] == [asset.code]
    assert body["consumptions"] == [{"asset": asset.code, "fraction": "0.250000", "note": "林地转为建设用地"}]
    for overrides, field in [
        ({"division": "999999999999"}, "division"),
        ({"total_investment": "abc"}, "total_investment"),
        ({"category": "casino"}, "category"),
        ({"assets": ["NO-SUCH"]}, "assets"),
        ({"consumptions": [{"asset": "NO-SUCH", "fraction": "0.5", "note": "x"}]}, "consumptions"),
        ({"social_capital": "3000000.01"}, "social_capital"),
        ({"showcase_contact": "13857800001"}, "showcase_contact"),
        ({"planned_end": "2026-01-01"}, "planned_end"),
    ]:
        bad = client.post(URL, payload(investor_org, village, **overrides), format="json")
        assert bad.status_code == 400 and field in bad.json()["fields"], (overrides, bad.json())
        assert set(bad.json()) == {"code", "detail", "fields"}
    assert KeyProject.objects.count() == 1
    refused = api(bank_officer).post(URL, payload(investor_org, village), format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"


def test_update_keeps_untouched_links_and_submit_needs_criteria(
    prepare, county_staff, owner_member, gep_rule, gep_credit, valued_asset
):
    gep_credit(Decimal("10000"))
    asset = valued_asset(gep=Decimal("100000"))
    project = prepare(consumptions=[(asset, "0.5", "林地转为建设用地")])
    owner = api(owner_member)
    patched = owner.patch(f"{URL}{project.pk}/", {"name": "改名后的项目"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "改名后的项目"
    assert patched.json()["consumptions"][0]["asset"] == asset.code  # untouched
    no_criteria = owner.post(f"{URL}{project.pk}/submit/")
    assert no_criteria.status_code == 409 and no_criteria.json()["code"] == "no_published_criteria"


def test_review_shortfall_is_409_and_writes_nothing(
    submitted, county_staff, owner_member, gep_rule, gep_credit, valued_asset
):
    gep_credit(Decimal("10000"))
    project = submitted(consumptions=[(valued_asset(gep=Decimal("100000")), "0.5", "林地转为建设用地")])
    staff = api(county_staff)
    check = staff.get(f"{URL}{project.pk}/gep-check/").json()
    assert check["gep_check"]["shortfall"] == "40000.00" and check["criteria_version"] == "T-1"
    url = f"{URL}{project.pk}/review/"
    short = staff.post(url, {"decision": "admit", "manual": MANUAL}, format="json")
    assert short.status_code == 409
    assert short.json()["code"] == "gep_shortfall" and short.json()["fields"]["shortfall"] == "40000.00"
    assert not ProjectReview.objects.exists() and not GepBalanceEntry.objects.filter(project=project).exists()
    assert KeyProject.objects.get(pk=project.pk).status == ProjectStatus.SUBMITTED
    assert api(owner_member).post(url, {"decision": "admit"}, format="json").status_code == 403
    bad = staff.post(url, {"decision": "maybe"}, format="json")
    assert bad.status_code == 400 and "decision" in bad.json()["fields"]
    unmarked = staff.post(url, {"decision": "admit"}, format="json")
    assert unmarked.status_code == 400 and unmarked.json()["code"] == "manual_criteria_unmarked"
    gep_credit(Decimal("40000"))
    admitted_ = staff.post(url, {"decision": "admit", "note": "同意", "manual": MANUAL}, format="json")
    assert admitted_.status_code == 201 and admitted_.json()["project_status"] == "admitted"
    assert admitted_.json()["gep_check"]["balance_after"] == "0.00"


def test_reviewer_who_prepared_is_refused(prepare, published_criteria, county_staff):
    project = prepare(actor=county_staff)
    staff = api(county_staff)
    assert staff.post(f"{URL}{project.pk}/submit/").json()["status"] == "submitted"
    refused = staff.post(f"{URL}{project.pk}/review/", {"decision": "reject", "note": "x"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "maker_checker"


def test_evaluate_showcase_exit_and_withdraw(admitted, prepare, county_staff, owner_member, other_owner):
    project = admitted()
    KeyProject.objects.filter(pk=project.pk).update(admitted_on="2026-01-15")
    staff = api(county_staff)
    evaluation = {
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "investment_to_date": "3000000.00",
        "progress_note": "主体完工",
        "jobs_created": 5,
        "outcome": "good",
        "note": "良好",
    }
    bad = staff.post(f"{URL}{project.pk}/evaluate/", {**evaluation, "jobs_created": -1}, format="json")
    assert bad.status_code == 400 and "jobs_created" in bad.json()["fields"]
    done = staff.post(f"{URL}{project.pk}/evaluate/", evaluation, format="json")
    assert done.status_code == 201 and done.json()["outcome"] == "good"
    again = staff.post(f"{URL}{project.pk}/evaluate/", evaluation, format="json")
    assert again.status_code == 409 and again.json()["code"] == "duplicate"
    mobile = staff.post(
        f"{URL}{project.pk}/showcase/", {"showcase": True, "contact": "13857800001"}, format="json"
    )
    assert mobile.status_code == 400 and mobile.json()["code"] == "personal_phone"
    shown = staff.post(
        f"{URL}{project.pk}/showcase/", {"showcase": True, "contact": "0578-2123456"}, format="json"
    )
    assert shown.json()["showcase"] is True
    owner = api(owner_member)
    wrong = owner.post(
        f"{URL}{project.pk}/exit/",
        {"reason": "completed", "note": "x", "exited_on": "2026-11-01"},
        format="json",
    )
    assert wrong.status_code == 403
    left = staff.post(
        f"{URL}{project.pk}/exit/",
        {"reason": "completed", "note": "建成运营", "exited_on": "2026-11-01"},
        format="json",
    )
    assert left.status_code == 200 and left.json()["status"] == "exited" and left.json()["showcase"] is False
    draft = prepare()
    assert (
        api(other_owner).post(f"{URL}{draft.pk}/withdraw/", {"reason": "x"}, format="json").status_code == 404
    )
    withdrawn = owner.post(f"{URL}{draft.pk}/withdraw/", {"reason": "调整"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
