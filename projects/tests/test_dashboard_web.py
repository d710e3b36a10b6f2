"""The dashboard page and its XLSX export: what the page carries (KPI cards, chart data, the map,
tables, print and export links), who may open which division, bad input, and the workbook's
sheets and cells."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from projects.tests.fixtures_dashboard import YEAR, auditor, region, village_clerk  # noqa: F401

D = Decimal
URL = "/projects/dashboard/"
EXPORT = "/projects/dashboard/export.xlsx"


def test_url_names():
    from django.urls import reverse

    assert reverse("projects:dashboard") == URL
    assert reverse("projects:dashboard-export") == EXPORT


def test_city_page_shows_cards_charts_map_and_tables(client, region, city_admin):  # noqa: F811
    client.force_login(city_admin)
    response = client.get(URL, {"year": YEAR})  # no division: the city admin's city
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["division"] == region.city
    for element in (
        'id="kpi-gep"',
        'id="chart-gep-years"',
        'id="chart-gep-children"',
        'id="chart-trading"',
        'id="chart-buckets"',
        'id="chart-projects"',
        'id="dashboard-map"',
        'id="dashboard-data"',
        'id="dashboard-map-data"',
        'id="table-children"',
        "vendor/echarts/echarts.min.js",
        "vendor/leaflet/leaflet.js",
        "projects/dashboard.js",
        "projects/dashboard.css",
        f"{EXPORT}?",
        "window.print()",
    ):
        assert element in page, element
    assert (
        "http://" not in page.split("<body")[1].replace("http://testserver", "")
        and "https://" not in page.split("<body")[1]
    )  # nothing from a CDN or the internet
    assert "480.01 元" in page  # 2025 GEP of the city (under 10,000: shown in 元)
    assert "21.00 万元" in page  # outstanding principal 210,000
    assert "19.1%" in page  # non-performing ratio 0.1905
    assert "青田县" in page and "莲都区" in page
    chart = response.context["chart_data"]
    assert chart["gep"]["years"][-1] == {
        "year": 2025,
        "material": "130.00",
        "regulating": "250.01",
        "cultural": "100.00",
        "total": "480.01",
        "run": None,
        "run_division": "",
        "source": "children",
    }
    assert chart["trading"][2]["collection_amount"] == "20000.75"
    assert response.context["map_data"]["shown"] == 6
    assert [d.code for d in response.context["divisions"]][:2] == ["331100000000", "331102000000"]


def test_county_staff_sees_their_county_and_its_townships(client, region, county_staff):  # noqa: F811
    client.force_login(county_staff)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["division"] == region.county
    assert response.context["year"] == timezone.localdate().year
    page = response.content.decode()
    assert "示范镇（演示）" in page
    response = client.get(URL, {"division": region.township.code, "year": YEAR})
    assert response.status_code == 200 and response.context["data"]["division"]["name"] == "示范镇（演示）"


@pytest.mark.parametrize("target", ["other_county", "city", "other_village"])
def test_county_staff_cannot_open_another_county_or_the_city(client, region, county_staff, target):  # noqa: F811
    client.force_login(county_staff)
    code = getattr(region, target).code
    assert client.get(URL, {"division": code}).status_code == 404
    assert client.get(EXPORT, {"division": code}).status_code == 404


def test_auditors_read_banks_investors_and_clerks_do_not(
    client,
    region,  # noqa: F811
    auditor,  # noqa: F811
    bank_officer,
    investor,
    village_clerk,  # noqa: F811
):
    client.force_login(auditor)
    assert client.get(URL, {"division": region.other_county.code}).status_code == 200
    assert client.get(EXPORT).status_code == 200
    for user in (bank_officer, investor, village_clerk):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.get(EXPORT).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302  # to the login page


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"year": "20x5"}, {"year"}),
        ({"year": "1999"}, {"year"}),
        ({"year": str(timezone.localdate().year + 1)}, {"year"}),
        ({"division": "abc"}, {"division"}),
        ({"division": "33110"}, {"division"}),
        ({"division": "3311000000001"}, {"division"}),
        ({"division": "x", "year": "y"}, {"division", "year"}),
    ],
)
def test_bad_input_is_a_400_with_the_field(client, region, city_admin, query, fields):  # noqa: F811
    client.force_login(city_admin)
    response = client.get(URL, query)
    assert response.status_code == 400
    assert set(response.context["errors"]) == fields
    assert "查询条件有误" in response.content.decode()
    assert "dashboard-data" not in response.content.decode()
    response = client.get(EXPORT, query)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")


def test_unknown_division_is_a_404(client, region, city_admin):  # noqa: F811
    client.force_login(city_admin)
    assert client.get(URL, {"division": "339999000000"}).status_code == 404


def test_xlsx_has_one_sheet_per_block_with_exact_numbers(client, region, city_admin):  # noqa: F811
    client.force_login(city_admin)
    response = client.get(EXPORT, {"division": region.city.code, "year": YEAR})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f'filename="dashboard-331100000000-{YEAR}.xlsx"' in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == [
        "概况",
        "GEP历年",
        "GEP下级区划",
        "资源按状态",
        "资源按类别",
        "月度交易",
        "贷款逾期分档",
        "项目状态",
        "项目类型",
        "入库项目",
        "占补平衡",
        "风险红线",
        "下级区划对比",
    ]

    def rows(name):
        return [list(r) for r in book[name].iter_rows(values_only=True)]

    def money(value):
        return D(str(value)).quantize(D("0.01"))

    gep = rows("GEP历年")
    assert gep[0] == ["年份", "物质产品", "调节服务", "文化服务", "合计（元）", "来源"]
    assert [r[0] for r in gep[1:]] == [2023, 2024, 2025]
    assert [money(v) for v in gep[3][1:5]] == [D("130.00"), D("250.01"), D("100.00"), D("480.01")]
    assert gep[3][5] == "下级汇总" and gep[1][5] == "核算批次"
    assert book["GEP历年"]["B2"].number_format == "#,##0.00"
    trading = rows("月度交易")
    assert len(trading) == 13
    assert trading[3][:3] == [3, 2, trading[3][2]] and money(trading[3][2]) == D("20000.75")
    assert money(trading[7][4]) == D("89000.88")
    buckets = rows("贷款逾期分档")
    assert [r[1] for r in buckets[1:]] == [1, 1, 1, 0, 1]
    assert money(buckets[5][2]) == D("30000.00")
    summary = {r[0]: r[1] for r in rows("概况")[1:]}
    assert summary["区划"] == "丽水市（331100000000）"
    assert money(summary["在贷余额（元）"]) == D("210000.00")
    assert money(summary["入库项目总投资（元）"]) == D("6500000.50")
    children = rows("下级区划对比")
    assert len(children) == 10  # header + nine counties
    lianDu = next(r for r in children if r[0] == region.county.code)
    assert lianDu[1] == "莲都区" and money(lianDu[2]) == D("420.01") and lianDu[3] == 5
    assert D(str(lianDu[10])) == D("0.0556")
    balance = rows("占补平衡")
    assert balance[1:] == [
        ["莲都区", "331102000000", 30000, 50000, "预警"],
        ["青田县", "331121000000", -500, 0, "为负"],
    ]
    admitted = rows("入库项目")
    assert len(admitted) == 4 and admitted[1][2] == "民宿集群"
    assert len(rows("风险红线")) == 4
