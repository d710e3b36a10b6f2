"""The GEP run page and its PDF report in headless Chromium, on the demo accounting."""

import subprocess

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.test_browser import SCREENSHOTS, _click_and_load, _login, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser


def test_run_page_draws_its_charts_and_the_report_prints(browser, live_server, demo_region, tmp_path):  # noqa: F811
    from resources.demo import load_demo_assets
    from valuation.demo import load_demo_valuation

    load_demo_assets()
    run = load_demo_valuation()[-1]
    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/valuation/runs/")
    _click_and_load(browser, browser.find_element(By.LINK_TEXT, str(run.pk)))
    WebDriverWait(browser, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#chart-indicators[data-drawn]"))
    )
    for chart in ("chart-categories", "chart-trend"):
        assert browser.find_element(By.ID, chart).get_attribute("data-drawn") == "1"
    assert "万元" in browser.find_element(By.ID, "gep-total").text
    browser.save_screenshot(str(SCREENSHOTS / "gep-run.png"))
    browser.get(f"{live_server.url}/valuation/parameter-sets/")
    _click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "table a"))
    browser.save_screenshot(str(SCREENSHOTS / "gep-parameter-set.png"))

    pdf = tmp_path / "report.pdf"
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    import requests

    response = requests.get(
        f"{live_server.url}/valuation/runs/{run.pk}/report.pdf", cookies=cookies, timeout=60
    )
    assert response.headers["Content-Type"] == "application/pdf"
    pdf.write_bytes(response.content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(pdf), str(SCREENSHOTS / "gep-report")],
        check=True,
    )
