"""The public trace page of a batch in headless Chromium: on a phone (390×844) and a desktop, no
login, the origin polygon drawn on the offline map, nothing pushing the page sideways, and no
personal data. Screenshots go to /tmp/shots_trace/ for a person to look at."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from brand.tests.fixtures_brand import *  # noqa: F403  (brand fixtures)
from journal.services import PERSONAL_NUMBER
from resources.tests.conftest import catalog, forest_type, make_asset, village  # noqa: F401
from tests.test_browser import browser  # noqa: F401  (browser is a fixture)
from tests.test_browser_greenfinance import _no_horizontal_overflow
from transactions.tests.test_packages_services import make_valuation

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots_trace")  # noqa: S108  (screenshots for a person to look at, outside the repo)
D = datetime.date


@pytest.fixture
def traced_batch(make_licence, make_batch, tea_garden, county_staff, producer_user):
    from brand.services import lifecycle, records
    from directory.models import Party, PartyKind
    from resources import services as registry

    garden = tea_garden(name="松阳银猴茶园")
    holder = Party.objects.filter(kind=PartyKind.PERSON).first()
    registry.grant_right(
        actor=county_staff, asset=garden, holder=holder, kind="contract", share=1,
        start=D(2020, 1, 1), source_document="承包经营权证（测试）",
    )  # fmt: skip
    make_valuation(garden, [Decimal("86000"), Decimal("54000")], user=county_staff)
    licence = make_licence(origins=[garden])
    batch = make_batch(licence, product_name="丽水山耕·松阳银猴（明前）")
    records.record_test(
        actor=producer_user, batch=batch, tested_on=D(2026, 4, 26), laboratory="丽水市农产品质量安全检测中心",
        report_number="JC-2026-0426", passed=True,
        items=[{"item": "农药残留（62项）", "value": "未检出", "passed": True}, {"item": "铅", "value": "0.21", "unit": "mg/kg", "passed": True}],
    )  # fmt: skip
    records.add_certificate(
        actor=producer_user,
        batch=batch,
        kind="green_food",
        number="LB-45-26040001",
        issuer="中国绿色食品发展中心",
    )
    lifecycle.record_inspection(
        actor=county_staff, licence=licence, kind="routine", inspected_on=D(2026, 3, 15),
        inspector="丽水山耕品牌运营中心", result="pass", findings="基地生态良好，投入品台账齐全。",
    )  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    return batch, holder


@pytest.mark.parametrize(("name", "size"), [("phone", (390, 844)), ("desktop", (1440, 900))])
def test_trace_page_in_a_browser(browser, live_server, traced_batch, name, size):  # noqa: F811
    batch, holder = traced_batch
    browser.set_window_size(*size)
    browser.get(f"{live_server.url}/trace/{batch.trace_code}/")
    WebDriverWait(browser, 15).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#trace-product")))
    assert "/accounts/login/" not in browser.current_url
    assert browser.find_element(By.ID, "trace-product").text == "丽水山耕·松阳银猴（明前）"
    WebDriverWait(browser, 15).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#trace-map path.leaflet-interactive")
    )
    _no_horizontal_overflow(browser)
    source = browser.page_source
    assert holder.person.name not in source and not PERSONAL_NUMBER.search(
        browser.find_element(By.TAG_NAME, "body").text
    )
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size[0], height + 140)
    assert browser.save_screenshot(str(SHOTS / f"trace-{name}.png"))
