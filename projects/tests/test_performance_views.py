# ruff: noqa: F811  (fixtures imported from fixtures_performance)
"""Pages of performance evaluation: schemes, the evaluate form, evaluation detail and PDF report,
and the comparison of counties (table, chart data, XLSX, PDF)."""

import datetime
import io
import json
import re
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from projects.models import EvaluationScheme, PerformanceEvaluation
from projects.services import performance
from transactions.models import RevenueModel, ScheduleKind
from transactions.services import settlement

from .fixtures_performance import (  # noqa: F401  (fixtures)
    P_END,
    P_START,
    admitted_project,
    auditor,
    build,
    make_county_coop,
    make_scheme,
    qingtian,
    scheme,
)

pytestmark = pytest.mark.django_db
PERIOD = {"period_start": "2026-01-01", "period_end": "2026-07-01", "level": "county"}


@pytest.fixture
def scene(
    scheme, city_admin, county_staff, county_cooperative, qingtian, admitted_project, build, households
):
    """莲都: 2 projects admitted (4,000,000 元 social capital), one collected asset, 200 元 rent
    paid to two households → 25 + 8 + 5 + 0 + 5 = 43.00; 青田: 1 project → 4 + 2.5 = 6.50."""
    qt_coop, _qt_staff = qingtian
    admitted_project(datetime.date(2026, 2, 1))
    admitted_project(datetime.date(2026, 3, 1))
    admitted_project(datetime.date(2026, 3, 1), division=qt_coop.division)
    rent = build.collection(
        [(households[0], "1/2"), (households[1], "1/2")], model=RevenueModel.FIXED_RENT, annual=Decimal("200")
    )
    build.schedule(
        rent,
        kind=ScheduleKind.RENT,
        due=datetime.date(2026, 1, 1),
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2026, 1, 1),
        amount="100.00",
    )
    settlement.pay_scheduled_payments(
        actor=county_staff,
        contract=rent,
        due_on_or_before=datetime.date(2026, 1, 1),
        reference="RENT-1",
        occurred_on=datetime.date(2026, 2, 1),
    )
    ranked = performance.evaluate_peers(
        actor=city_admin, scheme=scheme, level="county", period_start=P_START, period_end=P_END
    )
    assert [(e.total_score, e.rank) for e in ranked] == [(Decimal("43.00"), 1), (Decimal("6.50"), 2)]
    return {e.cooperative_id: e for e in ranked}


def pdf_text(content):
    return subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


# --- schemes ----------------------------------------------------------------------------------


def test_scheme_list_scoped_by_capability_exported_and_pinned(
    client, scheme, city_admin, county_staff, investor, django_assert_max_num_queries
):
    url = reverse("projects:scheme-list")
    client.force_login(city_admin)
    with django_assert_max_num_queries(10):
        page = client.get(url).content.decode()
    assert scheme.name in page and reverse("projects:scheme-create") in page
    assert scheme.get_absolute_url() in page
    rows = list(
        load_workbook(io.BytesIO(client.get(url, {"export": "xlsx"}).content)).active.iter_rows(
            values_only=True
        )
    )
    assert rows[1][:2] == (scheme.name, scheme.version)
    client.force_login(county_staff)
    page = client.get(url).content.decode()
    assert scheme.name in page and reverse("projects:scheme-create") not in page
    client.force_login(investor)
    assert client.get(url).status_code == 403
    assert client.get(scheme.get_absolute_url()).status_code == 403


def _scheme_post(**changes):
    data = {"name": "丽水市绩效评价办法", "version": "2026-A", "source": "市社办公会纪要"}
    for key, weight, target in (
        ("resource_activation", "25", "0.6"),
        ("investment_attracted", "20", "100000000"),
        ("projects_admitted", "10", "5"),
        ("financial_leverage", "20", "10"),
        ("farmer_income", "25", "10000000"),
    ):
        data[f"{key}_weight"], data[f"{key}_target"], data[f"{key}_note"] = weight, target, ""
    data.update(changes)
    return data


def test_scheme_create_form(client, city_admin, county_staff):
    url = reverse("projects:scheme-create")
    client.force_login(county_staff)
    assert client.get(url).status_code == 403
    client.force_login(city_admin)
    page = client.get(url).content.decode()
    assert "仅为示例" in page and 'name="farmer_income_weight"' in page
    bad = client.post(url, _scheme_post(farmer_income_weight="15"))
    assert bad.status_code == 200 and "合计须恰好等于 100 分，现为 90 分" in bad.content.decode()
    missing = client.post(url, _scheme_post(farmer_income_target=""))
    assert missing.status_code == 200 and "须填写满分目标值" in missing.content.decode()
    assert not EvaluationScheme.objects.exists()
    # a blank weight leaves the indicator out
    done = client.post(url, _scheme_post(farmer_income_weight="", projects_admitted_weight="35"))
    scheme = EvaluationScheme.objects.get(version="2026-A")
    assert done.status_code == 302 and done["Location"] == scheme.get_absolute_url()
    assert sorted(scheme.indicators.values_list("key", flat=True)) == [
        "financial_leverage",
        "investment_attracted",
        "projects_admitted",
        "resource_activation",
    ]
    duplicate = client.post(url, _scheme_post())
    assert duplicate.status_code == 200 and "已存在" in duplicate.content.decode()


def test_scheme_detail_lists_periods_and_deactivates(client, scene, scheme, city_admin, county_staff):
    client.force_login(county_staff)
    page = client.get(scheme.get_absolute_url()).content.decode()
    assert "10000000" in page and "1E+7" not in page and "盘活率 60% 满分" in page
    assert "2026-01-01 至 2026-06-30" in page  # the period's last day, not the exclusive end
    deactivate = reverse("projects:scheme-deactivate", args=[scheme.pk])
    assert deactivate not in page
    assert client.post(deactivate).status_code == 403
    client.force_login(city_admin)
    assert deactivate in client.get(scheme.get_absolute_url()).content.decode()
    assert client.post(deactivate).status_code == 302
    scheme.refresh_from_db()
    assert not scheme.is_active
    again = client.post(deactivate, follow=True).content.decode()
    assert "不能从" in again


# --- evaluate ---------------------------------------------------------------------------------


def test_evaluate_form_one_and_peers(client, scheme, county_staff, county_cooperative, qingtian, auditor):
    url = reverse("projects:performance-evaluate")
    client.force_login(auditor)
    assert client.get(url).status_code == 403
    client.force_login(county_staff)
    page = client.get(url).content.decode()
    qt_coop, _staff = qingtian
    assert county_cooperative.name in page and qt_coop.name not in page
    data = {"scheme": scheme.pk, "scope": "one", "cooperative": county_cooperative.pk, **PERIOD}
    bad = client.post(url, {**data, "period_end": "2025-12-01"})
    assert bad.status_code == 200 and "评价期止须晚于评价期起" in bad.content.decode()
    outside = client.post(url, {**data, "cooperative": qt_coop.pk})
    assert outside.status_code == 200 and "is-invalid" in outside.content.decode()
    assert not PerformanceEvaluation.objects.exists()
    done = client.post(url, data)
    evaluation = PerformanceEvaluation.objects.get()
    assert done.status_code == 302 and done["Location"] == evaluation.get_absolute_url()
    peers = client.post(url, {**data, "scope": "peers", "cooperative": ""})
    assert peers.status_code == 302
    assert peers["Location"].startswith(reverse("projects:performance-compare", args=[scheme.pk]))
    assert "period_end=2026-07-01" in peers["Location"]


# --- evaluation detail and PDF ----------------------------------------------------------------


def test_evaluation_detail_shows_every_number(client, scene, county_staff, county_cooperative, qingtian):
    evaluation = scene[county_cooperative.pk]
    client.force_login(county_staff)
    page = client.get(evaluation.get_absolute_url()).content.decode()
    for text in (
        "43.00",
        "同级第 1 名 / 共 2 家",
        "200.00 元",
        "4000000.00 元",
        "25.00",
        "无法计算",
        "2026-06-30",
    ):
        assert text in page, text
    for row in evaluation.indicators:
        assert row["explanation"] in page
    qt_evaluation = scene[qingtian[0].pk]
    assert client.get(qt_evaluation.get_absolute_url()).status_code == 404
    client.force_login(qingtian[1])
    assert client.get(evaluation.get_absolute_url()).status_code == 404
    assert client.get(qt_evaluation.get_absolute_url()).status_code == 200


def test_recompute_button(client, scene, county_staff, county_cooperative, admitted_project, auditor):
    evaluation = scene[county_cooperative.pk]
    url = reverse("projects:performance-recompute", args=[evaluation.pk])
    client.force_login(auditor)
    assert client.post(url).status_code == 403
    admitted_project(datetime.date(2026, 4, 1))
    client.force_login(county_staff)
    assert client.post(url).status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.total_score == Decimal("49.50")  # + 2.5 (projects) + 4 (investment)


def test_evaluation_pdf_has_the_numbers(client, scene, auditor, county_cooperative):
    evaluation = scene[county_cooperative.pk]
    client.force_login(auditor)
    response = client.get(reverse("projects:performance-pdf", args=[evaluation.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = re.sub(r"\s+", "", pdf_text(response.content))
    for expected in (
        "两山合作社建设绩效评价报告",
        county_cooperative.name,
        "43.00",
        "同级第1名/共2家",
        "200.00元",
        "4000000.00元",
        "2026-01-01至2026-06-30",
        "计算说明",
    ):
        assert expected in text, expected


# --- comparison -------------------------------------------------------------------------------


def test_comparison_table_charts_xlsx_and_pdf(
    client, scene, scheme, auditor, county_cooperative, qingtian, django_assert_max_num_queries
):
    url = reverse("projects:performance-compare", args=[scheme.pk])
    client.force_login(auditor)
    with django_assert_max_num_queries(10):
        page = client.get(url, PERIOD).content.decode()
    qt_coop = qingtian[0]
    assert page.index(county_cooperative.name) < page.index(qt_coop.name)
    assert "vendor/echarts/echarts.min.js" in page
    chart = json.loads(re.search(r'id="performance-chart-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert chart["indicators"][0] == "生态资源盘活率"
    assert chart["series"][0]["name"] == county_cooperative.name and chart["series"][0]["total"] == 43.0
    assert chart["series"][0]["scores"] == [25.0, 8.0, 5.0, 0.0, 5.0]
    assert chart["series"][1]["attainment"] == [0.0, 20.0, 25.0, 0.0, 0.0]
    # without parameters the latest period is shown
    assert county_cooperative.name in client.get(url).content.decode()
    bad = client.get(url, {**PERIOD, "period_end": "2025-01-01"}).content.decode()
    assert "评价期止须晚于评价期起" in bad and "performance-chart-data" not in bad

    sheet = load_workbook(io.BytesIO(client.get(url + "xlsx/", PERIOD).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r and r[0] == "同级排名"))
    first, second = rows[header + 1], rows[header + 2]
    assert first[:2] == (1, county_cooperative.name) and Decimal(str(first[-1])) == Decimal("43.00")
    assert second[:2] == (2, qt_coop.name) and Decimal(str(second[-1])) == Decimal("6.50")
    assert Decimal(str(first[3])) == Decimal("1")  # resource activation value: 1 of 1 asset

    text = re.sub(r"\s+", "", pdf_text(client.get(url + "pdf/", PERIOD).content))
    for expected in ("绩效评价结果对比", county_cooperative.name, qt_coop.name, "43.00", "6.50", "200.00元"):
        assert expected in text, expected


def test_comparison_shows_only_peers_in_reach(client, scene, scheme, qingtian, county_cooperative):
    client.force_login(qingtian[1])
    page = client.get(reverse("projects:performance-compare", args=[scheme.pk]), PERIOD).content.decode()
    assert qingtian[0].name in page and county_cooperative.name not in page


def test_evaluation_list_filters_and_is_pinned(
    client, scene, scheme, auditor, county_cooperative, qingtian, django_assert_max_num_queries
):
    url = reverse("projects:performance-list")
    client.force_login(auditor)
    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()
    assert "1/2" in page and "2/2" in page and "2026年6月30日" in page  # the last day, not the exclusive end
    filtered = client.get(url, {"cooperative": qingtian[0].pk}).content.decode()
    table = filtered[filtered.index("<tbody") :]
    assert qingtian[0].name in table and county_cooperative.name not in table
    rows = list(
        load_workbook(io.BytesIO(client.get(url, {"export": "xlsx"}).content)).active.iter_rows(
            values_only=True
        )
    )
    assert {row[0] for row in rows[1:]} == {county_cooperative.name, qingtian[0].name}
    assert reverse("projects:performance-evaluate") not in page  # auditors read only
