# ruff: noqa: F811  (fixtures imported from test_projects_fixtures)
"""The key project pages: the scoped list (filters, sort, XLSX, pinned queries), detail with the
GEP check, the forms (bad input in place, nothing half-written), review with the shortfall,
evaluation, exit, withdraw, showcase settings, and the criteria pages."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from projects.models import (
    CriteriaSet,
    CriteriaStatus,
    GepBalanceEntry,
    KeyProject,
    ProjectEvaluation,
    ProjectReview,
    ProjectStatus,
)

from .test_projects_fixtures import (  # noqa: F401  (fixtures)
    admitted,
    other_owner,
    owner_member,
    prepare,
    submitted,
)

pytestmark = pytest.mark.django_db
LIST = "/projects/key-projects/"


def test_list_is_scoped_filtered_sorted_exported_and_pinned(
    client, prepare, submitted, county_staff, owner_member, other_owner, django_assert_max_num_queries
):
    from directory.models import Organization

    mine = submitted(name="示范村森林康养基地")
    draft = prepare(actor=county_staff, name="民宿集群改造", category="homestay_cluster")
    for n in range(5):
        prepare(actor=county_staff, name=f"批量项目{n}")
    client.force_login(county_staff)
    with django_assert_max_num_queries(9):
        page = client.get(LIST, {"sort": "-total_investment"}).content.decode()
    assert mine.number in page and draft.number in page and reverse("projects:project-create") in page
    filtered = client.get(LIST, {"status": "submitted"}).content.decode()
    assert mine.number in filtered and draft.number not in filtered
    by_category = client.get(LIST, {"category": "homestay_cluster"}).content.decode()
    assert draft.number in by_category and mine.number not in by_category
    by_division = client.get(LIST, {"division": mine.division_id}).content.decode()
    assert mine.number in by_division
    rows = list(
        load_workbook(io.BytesIO(client.get(LIST, {"export": "xlsx"}).content)).active.iter_rows(
            values_only=True
        )
    )
    assert rows[0][0] == "项目编号" and len(rows) == 8
    # The owner sees its own organization's projects only; another owner sees none of them.
    client.force_login(owner_member)
    with django_assert_max_num_queries(9):
        own = client.get(LIST).content.decode()
    assert all(p.number in own for p in KeyProject.objects.filter(owner=mine.owner))
    client.force_login(other_owner)
    other = client.get(LIST).content.decode()
    assert mine.number not in other and draft.number not in other
    assert client.get(reverse("projects:project-detail", args=[mine.pk])).status_code == 404
    assert Organization.objects.get(pk=mine.owner_id).name not in other


def test_detail_shows_links_gep_shortfall_in_red_and_criteria(
    client, submitted, county_staff, gep_rule, gep_credit, valued_asset
):
    gep_credit(Decimal("10000"))
    asset = valued_asset(gep=Decimal("100000"))
    project = submitted(consumptions=[(asset, "0.5", "林地转为建设用地")])
    client.force_login(county_staff)
    page = client.get(project.get_absolute_url()).content.decode()
    assert asset.code in page and asset.get_absolute_url() in page
    assert 'gep-shortfall text-danger fw-bold">40,000.00' in page
    assert "criteria-results" in page and "待评定" in page
    assert reverse("projects:project-review", args=[project.pk]) in page
    assert "变更记录" in page and "submit key project" in page


def test_create_and_edit_through_the_form(
    client, owner_member, investor_org, village, valued_asset, county_staff
):
    asset = valued_asset()
    client.force_login(owner_member)
    url = reverse("projects:project-create")
    form = client.get(url).content.decode()
    assert investor_org.name in form
    data = {
        "owner": investor_org.pk,
        "division": village.pk,
        "name": "示范村森林康养基地",
        "category": "eco_tourism",
        "summary": "利用闲置农房和林地发展森林康养",
        "total_investment": "3000000",
        "social_capital": "2000000",
        "expected_gep_gain": "50000",
        "planned_start": "2026-03-01",
        "planned_end": "2028-03-01",
        "assets": "",
        "consumptions": f"{asset.code}, 0.25, 林地转为建设用地",
        "showcase_contact": "13857800001",
    }
    bad = client.post(url, data)
    assert (
        bad.status_code == 200 and "is-invalid" in bad.content.decode() and "个人手机" in bad.content.decode()
    )
    bad_codes = client.post(url, {**data, "showcase_contact": "", "assets": "NO-SUCH-ASSET"})
    assert "找不到以下编号" in bad_codes.content.decode()
    bad_line = client.post(url, {**data, "showcase_contact": "", "consumptions": "只有编号"})
    assert "格式应为" in bad_line.content.decode()
    bad_dates = client.post(url, {**data, "showcase_contact": "", "planned_end": "2026-01-01"})
    assert "计划完工日期须晚于" in bad_dates.content.decode()
    assert not KeyProject.objects.exists()
    response = client.post(url, {**data, "showcase_contact": "0578-2123456"})
    project = KeyProject.objects.get()
    assert response.status_code == 302 and response["Location"] == project.get_absolute_url()
    assert project.consumptions.get().asset == asset and project.created_by == owner_member
    edit = reverse("projects:project-edit", args=[project.pk])
    assert asset.code in client.get(edit).content.decode()
    client.post(edit, {**data, "showcase_contact": "", "name": "改名后的项目", "consumptions": ""})
    project.refresh_from_db()
    assert project.name == "改名后的项目" and not project.consumptions.exists()


def test_review_page_admits_or_shows_the_shortfall(
    client, submitted, county_staff, gep_rule, gep_credit, valued_asset, owner_member
):
    gep_credit(Decimal("10000"))
    project = submitted(consumptions=[(valued_asset(gep=Decimal("100000")), "0.5", "林地转为建设用地")])
    url = reverse("projects:project-review", args=[project.pk])
    client.force_login(owner_member)
    assert client.get(url).status_code == 403
    client.force_login(county_staff)
    page = client.get(url).content.decode()
    assert "40,000.00" in page and "C4" in page
    criterion = project.criteria_set.criteria.get(code="C4")
    marks = {f"mark_{criterion.pk}": "met", f"reason_{criterion.pk}": "符合规划"}
    no_reason = client.post(url, {"decision": "admit", f"mark_{criterion.pk}": "met"})
    assert "请填写评定理由" in no_reason.content.decode()
    no_note = client.post(url, {"decision": "reject", "note": ""})
    assert "请填写审核意见" in no_note.content.decode()
    short = client.post(url, {"decision": "admit", "note": "", **marks})
    assert short.status_code == 200 and "缺口 40000.00 元" in short.content.decode()
    assert not ProjectReview.objects.exists() and not GepBalanceEntry.objects.filter(project=project).exists()
    gep_credit(Decimal("40000"))
    done = client.post(url, {"decision": "admit", "note": "同意", **marks})
    assert done.status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.ADMITTED
    detail = client.get(project.get_absolute_url()).content.decode()
    assert "同意入库" in detail and "ZB" in detail  # the review and the ledger entry


def test_submit_evaluate_showcase_and_exit_pages(
    client, prepare, admitted, county_staff, owner_member, published_criteria
):
    draft = prepare()
    client.force_login(owner_member)
    assert client.post(reverse("projects:project-submit", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ProjectStatus.SUBMITTED
    project = admitted()
    KeyProject.objects.filter(pk=project.pk).update(admitted_on="2026-01-15")
    client.force_login(county_staff)
    evaluate = reverse("projects:project-evaluate", args=[project.pk])
    values = {
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "investment_to_date": "3000000",
        "jobs_created": "8",
        "progress_note": "主体工程完工",
        "outcome": "good",
        "note": "达到预期",
    }
    assert "is-invalid" in client.post(evaluate, {**values, "period_end": "2025-12-01"}).content.decode()
    assert client.post(evaluate, values).status_code == 302
    assert ProjectEvaluation.objects.get().jobs_created == 8
    showcase = reverse("projects:project-showcase", args=[project.pk])
    refused = client.post(showcase, {"showcase": "on", "contact": "138-5780-0001"})
    assert "个人手机" in refused.content.decode()
    assert client.post(showcase, {"showcase": "on", "contact": "0578-2123456"}).status_code == 302
    client.force_login(owner_member)
    exit_url = reverse("projects:project-exit", args=[project.pk])
    owner_form = client.get(exit_url).content.decode()
    assert 'value="owner_request"' in owner_form and 'value="completed"' not in owner_form
    client.force_login(county_staff)
    assert (
        client.post(
            exit_url, {"reason": "completed", "exited_on": "2026-11-01", "note": "建成运营"}
        ).status_code
        == 302
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.EXITED and project.showcase is False


def test_withdraw_page(client, prepare, owner_member, other_owner):
    project = prepare()
    url = reverse("projects:project-withdraw", args=[project.pk])
    client.force_login(other_owner)
    assert client.get(url).status_code == 404
    client.force_login(owner_member)
    assert "is-invalid" in client.post(url, {"reason": ""}).content.decode()
    assert client.post(url, {"reason": "调整计划"}).status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.WITHDRAWN


def test_criteria_pages_draft_edit_publish(client, city_admin, county_staff):
    url = reverse("projects:criteria-create")
    client.force_login(county_staff)
    assert client.get(url).status_code == 403
    client.force_login(city_admin)
    management = {
        "criteria-TOTAL_FORMS": "3",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "30",
    }
    head = {"name": "丽水市重点项目评定标准", "version": "2026-1", "source": "丽水市重点项目管理办法"}
    rows = {
        "criteria-0-code": "A1",
        "criteria-0-title": "总投资不低于 100 万元",
        "criteria-0-method": "min_investment",
        "criteria-0-threshold": "1000000",
        "criteria-0-applies_to_evaluation": "on",
        "criteria-1-code": "A2",
        "criteria-1-title": "符合规划",
        "criteria-1-method": "manual",
    }
    bad = client.post(url, {**management, **head, **rows, "criteria-0-threshold": ""})
    assert "须填写阈值" in bad.content.decode() and not CriteriaSet.objects.exists()
    response = client.post(url, {**management, **head, **rows})
    criteria_set = CriteriaSet.objects.get()
    assert response.status_code == 302 and criteria_set.criteria.count() == 2
    assert criteria_set.criteria.get(code="A2").applies_to_evaluation is False
    edit = reverse("projects:criteria-edit", args=[criteria_set.pk])
    assert "A1" in client.get(edit).content.decode()
    client.post(reverse("projects:criteria-publish", args=[criteria_set.pk]))
    criteria_set.refresh_from_db()
    assert criteria_set.status == CriteriaStatus.PUBLISHED
    assert client.get(edit).status_code == 403
    listing = client.get(reverse("projects:criteria-list")).content.decode()
    assert criteria_set.name in listing and "已发布" in listing
    client.force_login(county_staff)
    detail = client.get(criteria_set.get_absolute_url()).content.decode()
    assert "A1" in detail and reverse("projects:criteria-publish", args=[criteria_set.pk]) not in detail


def test_preparer_cannot_open_the_review_page(client, prepare, published_criteria, county_staff, reviewer):
    project = prepare(actor=county_staff)
    client.force_login(county_staff)
    client.post(reverse("projects:project-submit", args=[project.pk]))
    page = client.get(project.get_absolute_url()).content.decode()
    assert "maker-checker-note" in page and reverse("projects:project-review", args=[project.pk]) not in page
    assert client.get(reverse("projects:project-review", args=[project.pk])).status_code == 403
    client.force_login(reviewer)
    assert client.get(reverse("projects:project-review", args=[project.pk])).status_code == 200
