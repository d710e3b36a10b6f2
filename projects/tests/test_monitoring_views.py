# ruff: noqa: F811  (fixtures imported from fixtures_monitoring)
"""Monitoring pages and API: who may see what (VIEW_OVERSIGHT, alerts within the user's divisions),
the job list with the beat schedules, “run now” (MANAGE_OVERSIGHT), lists with filters and XLSX
export, and pinned query counts of the list endpoints."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from directory.models import AdministrativeDivision
from projects.models import MonitorAlert, MonitorJob, MonitorRun, MonitorRunStatus
from projects.monitors import JOB_MODULES
from projects.services.monitoring import run_monitor
from projects.tests.fixtures_monitoring import (  # noqa: F401  (fixtures)
    loan_with,
    other_county_staff,
    run_job,
    seed_defaults,
    today,
)

pytestmark = pytest.mark.django_db

OVERDUE = MonitorJob.INSTALLMENTS_OVERDUE


@pytest.fixture
def overdue_alert(loan_with, run_job):
    loan_with([(today() - datetime.timedelta(days=4), Decimal("900.00"), Decimal("9.00"))])
    run = run_job(OVERDUE)
    return run, MonitorAlert.objects.get()


@pytest.fixture
def foreign_alert(overdue_alert):
    """An alert of 青田县 (outside 莲都区 staff's reach) raised by the same run."""
    run, _alert = overdue_alert
    return MonitorAlert.objects.create(
        job=MonitorJob.STALE_DATA,
        key="observations:qingtian",
        title="青田县 有 2 项资源超过 400 天无监测记录",
        division=AdministrativeDivision.objects.get(code="331121000000"),
        raised_by=run,
        last_seen_at=run.started_at,
    )


def login(user):
    client = Client()
    client.force_login(user)
    return client


# --- pages --------------------------------------------------------------------------------------


def test_index_lists_the_nine_jobs_with_their_schedules(seed_defaults, city_admin, overdue_alert):
    run, _alert = overdue_alert
    page = login(city_admin).get(reverse("projects:monitor-index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="monitor-job"') == len(JOB_MODULES)
    for job in MonitorJob:
        assert str(job.label) in html
    task = PeriodicTask.objects.get(name="监测：租赁/交易合同即将到期")
    assert "每天 08:05" in html and "days=60" in html
    # city admins are sent to the beat admin to change a schedule
    assert reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]) in html
    assert reverse("projects:monitor-run-detail", args=[run.pk]) in html
    assert f"{reverse('projects:monitor-alert-list')}?job={OVERDUE}&amp;state=open" in html
    assert reverse("projects:monitor-run-now", args=[OVERDUE]) in html


def test_staff_see_the_page_without_admin_links_or_run_buttons(seed_defaults, county_staff):
    page = login(county_staff).get(reverse("projects:monitor-index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "admin/django_celery_beat" not in html
    assert "/run/" not in html


def test_a_schedule_naming_no_job_is_flagged(seed_defaults, city_admin):
    PeriodicTask.objects.filter(name="监测：贷款逾期").update(
        kwargs=json.dumps({"job": "installment_overdue"})
    )
    html = login(city_admin).get(reverse("projects:monitor-index")).content.decode()
    assert "monitor-orphans" in html and "监测：贷款逾期" in html


@pytest.mark.parametrize("username", ["bank_officer", "investor", "village_clerk"])
def test_pages_refused_without_view_oversight(demo_region, username):
    from directory.models import User

    client = login(User.objects.get(username=username))
    for name in ("projects:monitor-index", "projects:monitor-run-list", "projects:monitor-alert-list"):
        assert client.get(reverse(name)).status_code == 403


def test_run_now_dispatches_and_shows_the_run(
    city_admin, loan_with, celery_eager, django_capture_on_commit_callbacks
):
    loan_with([(today() - datetime.timedelta(days=2), Decimal("100.00"), Decimal("1.00"))])
    client = login(city_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("projects:monitor-run-now", args=[OVERDUE]))
    run = MonitorRun.objects.get()
    assert response["Location"] == reverse("projects:monitor-run-detail", args=[run.pk])
    assert (run.status, run.raised, run.triggered_by) == (MonitorRunStatus.SUCCEEDED, 1, city_admin)
    page = client.get(response["Location"]).content.decode()
    assert "手动" in page and MonitorAlert.objects.get().title in page


def test_run_now_with_days_and_bad_days(city_admin, celery_eager, django_capture_on_commit_callbacks):
    client = login(city_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("projects:monitor-run-now", args=[MonitorJob.LEASES_EXPIRING]), {"days": "30"})
    assert MonitorRun.objects.get().params == {"days": 30}
    response = client.post(
        reverse("projects:monitor-run-now", args=[MonitorJob.LEASES_EXPIRING]), {"days": "-3"}
    )
    assert response["Location"] == reverse("projects:monitor-index")
    response = client.post(
        reverse("projects:monitor-run-now", args=[MonitorJob.NOTICE_ENDING]), {"days": "90"}
    )
    page = client.get(response["Location"]).content.decode()
    assert "0 到 60" in page
    assert MonitorRun.objects.count() == 1  # refused requests leave no run behind
    assert client.post(reverse("projects:monitor-run-now", args=["nope"])).status_code == 404
    assert client.get(reverse("projects:monitor-run-now", args=[OVERDUE])).status_code == 405


def test_run_now_refused_to_staff(county_staff):
    response = login(county_staff).post(reverse("projects:monitor-run-now", args=[OVERDUE]))
    assert response.status_code == 403
    assert not MonitorRun.objects.exists()


def test_alert_list_scoped_filtered_and_exported(county_staff, city_admin, overdue_alert, foreign_alert):
    _run, alert = overdue_alert
    url = reverse("projects:monitor-alert-list")
    html = login(county_staff).get(url).content.decode()
    assert alert.title in html and foreign_alert.title not in html
    html = login(city_admin).get(url).content.decode()
    assert alert.title in html and foreign_alert.title in html
    html = login(city_admin).get(url, {"job": OVERDUE, "state": "open"}).content.decode()
    assert alert.title in html and foreign_alert.title not in html
    html = login(city_admin).get(url, {"state": "resolved"}).content.decode()
    assert alert.title not in html
    response = login(county_staff).get(url, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "标题" and len(rows) == 2 and rows[1][0] == alert.title
    assert rows[1][2] == "严重"


def test_alert_and_run_details(county_staff, overdue_alert, foreign_alert):
    run, alert = overdue_alert
    client = login(county_staff)
    page = client.get(reverse("projects:monitor-alert-detail", args=[alert.pk])).content.decode()
    assert alert.key in page and alert.link in page
    assert str(county_staff) in page  # a recipient
    assert client.get(reverse("projects:monitor-alert-detail", args=[foreign_alert.pk])).status_code == 404
    page = client.get(reverse("projects:monitor-run-detail", args=[run.pk])).content.decode()
    assert alert.title in page and foreign_alert.title not in page


def test_run_list_and_failed_run_detail(county_staff, db):
    failed = run_monitor("leases_expiring", params={"days": -1})
    client = login(county_staff)
    html = client.get(reverse("projects:monitor-run-list"), {"status": "failed"}).content.decode()
    assert "租赁/交易合同即将到期" in html and "失败" in html
    page = client.get(reverse("projects:monitor-run-detail", args=[failed.pk])).content.decode()
    assert "run-error" in page and "days" in page


# --- API --------------------------------------------------------------------------------------------


def test_api_runs_and_alerts_scoped(
    county_staff, city_admin, overdue_alert, foreign_alert, django_assert_max_num_queries
):
    run, alert = overdue_alert
    client = login(county_staff)
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/projects/monitor-alerts/").json()
    assert [row["id"] for row in body["results"]] == [alert.pk]
    assert (
        body["results"][0]["is_open"] is True and body["results"][0]["division_code"] == alert.division.code
    )
    assert client.get(f"/api/v1/projects/monitor-alerts/{foreign_alert.pk}/").status_code == 404
    body = login(city_admin).get("/api/v1/projects/monitor-alerts/", {"job": MonitorJob.STALE_DATA}).json()
    assert [row["id"] for row in body["results"]] == [foreign_alert.pk]
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/projects/monitor-runs/").json()
    assert body["results"][0]["id"] == run.pk and body["results"][0]["raised"] == 1


def test_api_list_query_count_does_not_grow(county_staff, overdue_alert, django_assert_max_num_queries):
    run, alert = overdue_alert
    for n in range(20):
        MonitorAlert.objects.create(
            job=MonitorJob.STALE_DATA,
            key=f"k{n}",
            title=f"t{n}",
            division=alert.division,
            raised_by=run,
            last_seen_at=run.started_at,
        )
        MonitorRun.objects.create(job=MonitorJob.STALE_DATA, status=MonitorRunStatus.SUCCEEDED)
    client = login(county_staff)
    with django_assert_max_num_queries(8):
        assert len(client.get("/api/v1/projects/monitor-alerts/").json()["results"]) == 21
    with django_assert_max_num_queries(8):
        assert len(client.get("/api/v1/projects/monitor-runs/").json()["results"]) == 21


def test_api_refuses_without_capability(demo_region):
    from directory.models import User

    client = login(User.objects.get(username="bank_officer"))
    response = client.get("/api/v1/projects/monitor-alerts/")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert client.get("/api/v1/projects/monitor-runs/").status_code == 403
    assert (
        client.post(
            "/api/v1/projects/monitor-runs/", {"job": OVERDUE}, content_type="application/json"
        ).status_code
        == 403
    )


def test_api_post_run(city_admin, county_staff, loan_with, celery_eager, django_capture_on_commit_callbacks):
    loan_with([(today() - datetime.timedelta(days=2), Decimal("100.00"), Decimal("1.00"))])
    client = login(city_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/projects/monitor-runs/", {"job": OVERDUE, "params": {}}, content_type="application/json"
        )
    assert response.status_code == 202
    body = response.json()
    assert body["job"] == OVERDUE and body["triggered_by"] == "city_admin" and body["params"] == {}
    # queued after commit: the answer shows the run as it was then, the task has since finished it
    assert body["status"] == "running"
    run = client.get(f"/api/v1/projects/monitor-runs/{body['id']}/").json()
    assert run["status"] == "succeeded" and run["raised"] == 1

    bad = [
        ({"job": "nope"}, "job"),
        ({"job": MonitorJob.LEASES_EXPIRING, "params": {"days": -1}}, "days"),
        ({"job": MonitorJob.LEASES_EXPIRING, "params": {"weeks": 2}}, "weeks"),
        ({"job": MonitorJob.LEASES_EXPIRING, "params": "days=3"}, "params"),
        ({}, "job"),
    ]
    for payload, field in bad:
        response = client.post("/api/v1/projects/monitor-runs/", payload, content_type="application/json")
        assert response.status_code == 400, payload
        assert field in response.json()["fields"], payload
    assert MonitorRun.objects.count() == 1
    response = login(county_staff).post(
        "/api/v1/projects/monitor-runs/", {"job": OVERDUE}, content_type="application/json"
    )
    assert response.status_code == 403 and MonitorRun.objects.count() == 1
