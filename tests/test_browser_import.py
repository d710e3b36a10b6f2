"""Bulk import in the browser: upload a file with bad rows, read the row report, download the template."""

import io

import pytest
from openpyxl import Workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.test_browser import SCREENSHOTS, _login, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser

SQUARE = "POLYGON((119.92 28.45, 119.921 28.45, 119.921 28.451, 119.92 28.451, 119.92 28.45))"


def test_import_with_bad_rows_shows_the_report(browser, live_server, demo_region, celery_eager, tmp_path):  # noqa: F811
    from resources.catalog import seed_catalog
    from resources.models import ResourceType

    seed_catalog(ResourceType)  # transactional tests flush the migration-seeded catalog
    book = Workbook()
    sheet = book.active
    sheet.append(["图斑编号", "资源类型编码", "行政区划代码", "资源名称", "属性JSON", "几何WKT"])
    attrs = '{"dominant_species": "杉木", "age_class": "中龄林"}'
    sheet.append(["TB-1", "forest", "331102199201", "东坡林地", attrs, SQUARE])
    sheet.append(["TB-2", "forest", "331102999999", "西坡林地", attrs, SQUARE.replace("119.92 ", "119.925 ")])
    sheet.append(["TB-3", "forest", "331102199201", "南坡林地", attrs, SQUARE])  # overlaps TB-1
    path = tmp_path / "林地调查.xlsx"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())

    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/resources/imports/new/")
    browser.find_element(By.NAME, "file").send_keys(str(path))
    browser.save_screenshot(str(SCREENSHOTS / "import-form.png"))
    browser.find_element(By.CSS_SELECTOR, "form[enctype] button[type=submit]").click()
    WebDriverWait(browser, 20).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#import-status[data-status='failed']"))
    )
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "table.import-errors tbody tr")]
    assert any(r.startswith("3 行政区划代码") for r in rows)
    assert any(r.startswith("4 几何WKT") and "第 2 行" in r for r in rows)
    assert "数据库未作任何改动" in browser.find_element(By.CSS_SELECTOR, ".alert-danger").text
    browser.save_screenshot(str(SCREENSHOTS / "import-report.png"))
