"""Entering GEP inputs in the browser: water conservation for a forest parcel, refused while the
runoff exceeds the precipitation, then saved."""

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from resources.tests.conftest import catalog, forest_type, make_asset, village  # noqa: F401  (fixtures)
from tests.test_browser import SCREENSHOTS, _login, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser


def _fill(driver, key, value, unit=None):
    field = driver.find_element(By.NAME, f"value_{key}")
    field.clear()
    field.send_keys(value)
    if unit:
        Select(driver.find_element(By.NAME, f"unit_{key}")).select_by_visible_text(unit)


def _click(driver, selector):
    element = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def test_enter_water_conservation_inputs_for_an_asset(browser, live_server, make_asset):  # noqa: F811
    from valuation.models import EcologicalInput

    asset = make_asset(name="东坡林地")
    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/valuation/inputs/new/")
    browser.find_element(By.NAME, "code").send_keys(asset.code)
    year = browser.find_element(By.NAME, "year")
    year.clear()
    year.send_keys("2025")
    _click(browser, "form.input-start button[type=submit]")
    overview = WebDriverWait(browser, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "table.indicator-overview"))
    )
    assert "R1 水源涵养" in overview.text and "休闲旅游" not in overview.text
    row = next(r for r in overview.find_elements(By.TAG_NAME, "tr") if "R1 水源涵养" in r.text)
    row.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "inputs-form")))
    assert "Q = (P − R − ET) × A" in browser.find_element(By.CSS_SELECTOR, ".indicator-doc").text

    browser.find_element(By.NAME, "source").send_keys("丽水市水文年鉴（2025）")
    _fill(browser, "precipitation", "900")
    _fill(browser, "runoff", "950")
    _fill(browser, "evapotranspiration", "100")
    _fill(browser, "area", "15", unit="亩")
    _click(browser, "#inputs-form button[type=submit]")
    runoff_row = WebDriverWait(browser, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "tr[data-input='runoff'] .invalid-feedback"))
    )
    assert runoff_row.text == "地表径流量（R）不能大于降水量（P）。"
    assert "is-invalid" in browser.find_element(By.NAME, "value_runoff").get_attribute("class")
    assert "未保存任何数值" in browser.find_element(By.CSS_SELECTOR, "#inputs-form .alert-danger").text
    # what the user typed is kept, including the unit
    assert browser.find_element(By.NAME, "value_area").get_attribute("value") == "15"
    assert Select(browser.find_element(By.NAME, "unit_area")).first_selected_option.text == "亩"
    assert EcologicalInput.objects.count() == 0
    browser.save_screenshot(str(SCREENSHOTS / "valuation-inputs-error.png"))

    _fill(browser, "runoff", "300")
    _click(browser, "#inputs-form button[type=submit]")
    alert = WebDriverWait(browser, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".alert-success"))
    )
    assert "已保存“水源涵养” 2025 年的 4 项输入。" in alert.text
    saved = dict(EcologicalInput.objects.filter(asset=asset).values_list("input_key", "value"))
    assert saved == {
        "precipitation": Decimal("900"),
        "runoff": Decimal("300"),
        "evapotranspiration": Decimal("100"),
        "area": Decimal("15"),
    }
    browser.save_screenshot(str(SCREENSHOTS / "valuation-inputs-saved.png"))
