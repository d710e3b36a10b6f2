"""The leaders' dashboard (领导驾驶舱) in headless Chromium on the demo data (assets, GEP runs, a
collection and a trade contract, a loan) plus a few key projects, a GEP balance and red-line
readings: the city administrator's view of the counties and the county staff member's view of
its townships, screenshotted at desktop width once the charts and the map have drawn."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.test_browser import SCREENSHOTS, _click_and_load, _login, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser

CHARTS = ("chart-gep-years", "chart-gep-children", "chart-trading", "chart-buckets", "chart-projects")


@pytest.fixture
def demo_dashboard(demo_region, settings, tmp_path):
    from directory.models import AdministrativeDivision, Organization, OrganizationKind, User
    from finance.demo import load_demo_finance
    from projects.models import (
        GepBalance,
        GepBalanceRule,
        KeyProject,
        ProjectCategory,
        ProjectStatus,
        RedLineDirection,
        RedLineKey,
        RedLineReading,
        RedLineStatus,
    )
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading
    from valuation.demo import load_demo_valuation

    settings.MEDIA_ROOT = tmp_path
    load_demo_assets()
    load_demo_valuation()
    load_demo_trading()
    load_demo_finance()
    staff = User.objects.get(username="coop_staff")
    county = AdministrativeDivision.objects.get(code="331102000000")
    village = AdministrativeDivision.objects.get(code="331102199201")
    owner = Organization.objects.get(kind=OrganizationKind.ENTERPRISE, name__contains="生态旅游")
    coop = Organization.objects.get(kind=OrganizationKind.COOPERATIVE, division=county)
    projects = [
        (
            "示范村森林康养基地（演示）",
            ProjectCategory.ECO_TOURISM,
            ProjectStatus.ADMITTED,
            "12000000",
            "9000000",
        ),
        (
            "示范村民宿集群（演示）",
            ProjectCategory.HOMESTAY_CLUSTER,
            ProjectStatus.ADMITTED,
            "6500000",
            "5000000",
        ),
        (
            "示范村林下经济（演示）",
            ProjectCategory.UNDERSTOREY,
            ProjectStatus.SUBMITTED,
            "2000000",
            "1500000",
        ),
        ("示范村碳汇开发（演示）", ProjectCategory.CARBON, ProjectStatus.ADMITTED, "3000000", "1000000"),
    ]
    for n, (name, category, status, total, social) in enumerate(projects, 1):
        KeyProject.objects.create(
            number=f"XM-DEMO-{n}",
            name=name,
            category=category,
            owner=owner,
            division=village,
            summary="演示项目",
            total_investment=Decimal(total),
            social_capital=Decimal(social),
            planned_start=datetime.date(2025, 3, 1),
            planned_end=datetime.date(2027, 3, 1),
            status=status,
            admitted_on=datetime.date(2025, 6, n) if status == ProjectStatus.ADMITTED else None,
            created_by=staff,
        )
    GepBalanceRule.objects.create(
        division=county,
        offset_ratio=Decimal("1.2"),
        categories=["material", "regulating", "cultural"],
        warning_balance=Decimal("100000"),
        effective_from=datetime.date(2025, 1, 1),
        source="演示规则",
        created_by=staff,
    )
    GepBalance.objects.create(division=county, balance=Decimal("356800.00"))
    for key, direction, value, limit, warning, status in (
        (RedLineKey.DEBT_RATIO, RedLineDirection.MAX, "0.62", "0.7", "0.6", RedLineStatus.WARNING),
        (RedLineKey.LIQUIDITY, RedLineDirection.MIN, "1.8", "1.0", "1.2", RedLineStatus.OK),
    ):
        RedLineReading.objects.create(
            cooperative=coop,
            key=key,
            as_of=datetime.date(2026, 11, 1),
            value=Decimal(value),
            limit=Decimal(limit),
            warning=Decimal(warning),
            direction=direction,
            status=status,
        )


def _wait_until_drawn(driver):
    try:
        WebDriverWait(driver, 20).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "#dashboard-map[data-features]"))
        )
        for chart in CHARTS:
            WebDriverWait(driver, 20).until(
                ec.presence_of_element_located((By.CSS_SELECTOR, f"#{chart}[data-drawn]"))
            )
    except TimeoutException:
        driver.save_screenshot(str(SCREENSHOTS / "dashboard-not-drawn.png"))
        raise AssertionError(f"dashboard not drawn: {driver.get_log('browser')}") from None
        # a drawn chart has a canvas that is not blank
        assert driver.execute_script(
            "const c = document.querySelector(arguments[0] + ' canvas');"
            "return c && c.width > 0 && c.toDataURL().length > 5000;",
            f"#{chart}",
        ), chart


def _full_page_screenshot(driver, name):
    """The whole page at desktop width (1440 px): the viewport grows to the page's height, the
    charts and the map follow the resize, then the picture is taken."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1440, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return window.innerHeight") >= height - 2)
    driver.execute_script("window.dispatchEvent(new Event('resize'))")
    driver.save_screenshot(str(SCREENSHOTS / name))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_dashboard_for_the_city_and_for_a_county(browser, live_server, demo_dashboard):  # noqa: F811
    _login(browser, live_server, "city_admin")
    browser.get(f"{live_server.url}/projects/dashboard/")
    _wait_until_drawn(browser)
    assert "领导驾驶舱 · 丽水市" in browser.find_element(By.ID, "dashboard-title").text
    assert "万元" in browser.find_element(By.ID, "kpi-gep").text
    assert int(browser.find_element(By.ID, "dashboard-map").get_attribute("data-features")) >= 3
    rows = browser.find_elements(By.CSS_SELECTOR, "#table-children tbody tr")
    assert len(rows) == 9 and "莲都区" in rows[0].text
    # every chart offers its picture for download (ECharts' toolbox)
    assert browser.execute_script(
        "return echarts.getInstanceByDom(document.getElementById('chart-gep-years'))"
        ".getOption().toolbox[0].feature.saveAsImage.name"
    ).startswith("丽水市-gep-years-")
    # no request left the machine: every script and stylesheet is served by the platform
    sources = browser.execute_script(
        "return [...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)"
    )
    assert all(s.startswith(live_server.url) for s in sources), sources
    _full_page_screenshot(browser, "dashboard-city.png")

    # drill down to the county: the comparison table links to it, the picker opens it
    link = browser.find_element(By.CSS_SELECTOR, "#table-children tbody tr:first-child a")
    assert link.get_attribute("href").endswith(f"?division=331102000000&year={timezone.localdate().year}")
    browser.execute_script("window.scrollTo(0, 0)")
    Select(browser.find_element(By.ID, "pick-division")).select_by_value("331102000000")
    _click_and_load(browser, (By.CSS_SELECTOR, "#dashboard-picker button[type=submit]"))
    _wait_until_drawn(browser)
    assert "莲都区" in browser.find_element(By.ID, "dashboard-title").text

    browser.delete_all_cookies()
    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/projects/dashboard/")
    _wait_until_drawn(browser)
    assert "领导驾驶舱 · 莲都区" in browser.find_element(By.ID, "dashboard-title").text
    assert "示范镇（演示）" in browser.find_element(By.ID, "table-children").text
    assert "35.68 万元" in browser.find_element(By.ID, "kpi-balance").text
    assert "突破红线" not in browser.find_element(By.ID, "table-red-lines").text
    _full_page_screenshot(browser, "dashboard-county.png")

    # the print stylesheet: no navigation, pickers or map controls on paper
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    for selector in ("nav.navbar", "#dashboard-picker", "footer", ".leaflet-control-zoom"):
        assert not browser.find_element(By.CSS_SELECTOR, selector).is_displayed(), selector
    assert browser.find_element(By.ID, "table-children").is_displayed()
    _full_page_screenshot(browser, "dashboard-county-print.png")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

    # the county's staff cannot open the city
    browser.get(f"{live_server.url}/projects/dashboard/?division=331100000000")
    assert "页面不存在" in browser.find_element(By.TAG_NAME, "h1").text
