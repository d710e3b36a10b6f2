# ruff: noqa: F811  (fixtures imported from fixtures_performance and the browser tests)
"""The comparison page in headless Chromium: the grouped bars and the radar are drawn from the
vendored ECharts (no network), and a screenshot is kept in .local/screenshots/."""

import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from projects.services import performance
from tests.test_browser import SCREENSHOTS, _login, browser  # noqa: F401  (fixture)

from .fixtures_performance import (  # noqa: F401  (fixtures)
    P_END,
    P_START,
    admitted_project,
    jinyun,
    make_county_coop,
    make_scheme,
    qingtian,
    scheme,
)

pytestmark = pytest.mark.browser


def test_comparison_charts_render(
    browser, live_server, scheme, city_admin, county_cooperative, qingtian, jinyun, admitted_project
):
    for coop, n in ((county_cooperative, 3), (qingtian[0], 1), (jinyun[0], 2)):
        for day in range(1, n + 1):
            admitted_project(datetime.date(2026, 2, day), division=coop.division)
    performance.evaluate_peers(
        actor=city_admin, scheme=scheme, level="county", period_start=P_START, period_end=P_END
    )
    _login(browser, live_server, "city_admin")
    browser.get(
        f"{live_server.url}/projects/performance/schemes/{scheme.pk}/compare/"
        "?period_start=2026-01-01&period_end=2026-07-01&level=county"
    )
    wait = WebDriverWait(browser, 15)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#performance-bars canvas")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#performance-radar canvas")))
    assert browser.find_element(By.ID, "performance-bars").get_attribute("data-series") == "3"
    rows = browser.find_elements(By.CSS_SELECTOR, ".comparison-table tbody tr")
    assert [row.find_elements(By.TAG_NAME, "td")[1].text for row in rows] == [
        county_cooperative.name,
        jinyun[0].name,
        qingtian[0].name,
    ]
    browser.save_screenshot(str(SCREENSHOTS / "performance-comparison.png"))
