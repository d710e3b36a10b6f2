"""End-to-end checks in Debian's headless Chromium (Selenium + chromium-driver).

Screenshots are written to .local/screenshots/ so a person can look at what users see.
"""

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import DEMO_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parent.parent / ".local" / "screenshots"
pytestmark = pytest.mark.browser


@pytest.fixture
def browser(settings):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,900",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(2)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _login(browser, live_server, username):
    browser.get(f"{live_server.url}/")
    assert "/accounts/login/" in browser.current_url
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "stat-divisions")))


def _click_and_load(browser, element, timeout=15):
    """Click something that loads a new page and wait until the old page is gone.

    Without the wait, a lookup right after the click can find the old page's element,
    which then goes stale mid-read (seen as a flaky StaleElementReferenceException).
    """
    old_page = browser.find_element(By.TAG_NAME, "html")
    if isinstance(element, tuple):  # a locator: find it again if the page swapped it under us
        for attempt in range(3):
            try:
                WebDriverWait(browser, timeout).until(ec.element_to_be_clickable(element)).click()
                break
            except WebDriverException:
                if attempt == 2:
                    raise
    else:
        element.click()
    WebDriverWait(browser, timeout).until(ec.staleness_of(old_page))


def test_dashboard_in_chinese_with_live_system_status(browser, live_server, demo_region):
    _login(browser, live_server, "city_admin")
    assert browser.find_element(By.TAG_NAME, "h1").text == "工作台"
    assert browser.find_element(By.ID, "stat-divisions").text == "12"
    # HTMX loaded the system-status panel from the server.
    checks = WebDriverWait(browser, 15).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "ul.system-checks"))
    )
    assert "数据库（PostGIS）" in checks.text
    # Bootstrap (vendored) is applied: the navbar is laid out as a flex row with our green.
    navbar = browser.find_element(By.CSS_SELECTOR, "nav.navbar")
    assert navbar.value_of_css_property("display") == "flex"
    assert "gradient" in navbar.value_of_css_property("background-image")
    browser.save_screenshot(str(SCREENSHOTS / "dashboard-zh.png"))


def test_language_switcher_in_the_navbar(browser, live_server, demo_region):
    _login(browser, live_server, "coop_staff")
    Select(browser.find_element(By.NAME, "language")).select_by_value("en")
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    )
    assert browser.find_element(By.TAG_NAME, "h1").text == "Dashboard"
    browser.save_screenshot(str(SCREENSHOTS / "dashboard-en.png"))
    browser.get(f"{live_server.url}/directory/")
    assert "Lianduqu" not in browser.page_source and "莲都区" in browser.page_source  # names stay Chinese
    browser.save_screenshot(str(SCREENSHOTS / "directory-en.png"))


def test_login_error_and_404_page(browser, live_server, demo_region):
    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys("city_admin")
    browser.find_element(By.NAME, "password").send_keys("wrong")
    _click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    alert = browser.find_element(By.CSS_SELECTOR, ".alert-danger")
    assert "请输入一个正确的" in alert.text
    browser.save_screenshot(str(SCREENSHOTS / "login-error.png"))
    _login(browser, live_server, "city_admin")
    browser.get(f"{live_server.url}/no-such-page/")
    assert "页面不存在" in browser.find_element(By.TAG_NAME, "h1").text
    browser.save_screenshot(str(SCREENSHOTS / "404.png"))


def test_register_a_person_then_reveal_the_id_with_a_logged_purpose(browser, live_server, demo_region):
    from directory.models import PersonalDataAccess

    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/directory/persons/new/")
    browser.find_element(By.NAME, "name").send_keys("周山水")
    browser.find_element(By.NAME, "national_id").send_keys("331102198001010018")  # wrong check digit
    Select(browser.find_element(By.NAME, "division")).select_by_visible_text("331102199201 示范村（演示）")
    _click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    assert "身份证号码校验位不正确" in browser.find_element(By.CSS_SELECTOR, ".invalid-feedback").text
    browser.save_screenshot(str(SCREENSHOTS / "person-form-error.png"))

    field = browser.find_element(By.NAME, "national_id")
    field.clear()
    field.send_keys("331102198001010019")
    browser.find_element(By.NAME, "phone").send_keys("13857801234")
    _click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "masked-id")))
    assert browser.find_element(By.ID, "masked-id").text == "331102********0019"
    browser.save_screenshot(str(SCREENSHOTS / "person-detail.png"))

    browser.find_element(By.ID, "id_purpose").send_keys("核对土地承包合同")
    _click_and_load(browser, (By.CSS_SELECTOR, "form[action$='/reveal/'] button"))
    assert browser.find_element(By.ID, "full-id").text == "331102198001010019"
    assert PersonalDataAccess.objects.get().purpose == "核对土地承包合同"
    browser.save_screenshot(str(SCREENSHOTS / "person-revealed.png"))

    browser.get(f"{live_server.url}/directory/persons/")
    assert "331102********0019" in browser.page_source and "331102198001010019" not in browser.page_source
    browser.save_screenshot(str(SCREENSHOTS / "person-list.png"))


def test_bank_officer_opens_an_api_client(browser, live_server, demo_region):
    _login(browser, live_server, "bank_officer")
    browser.get(f"{live_server.url}/directory/api-clients/")
    Select(browser.find_element(By.NAME, "organization")).select_by_index(1)
    browser.find_element(By.NAME, "name").send_keys("信贷系统")
    _click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    secret = browser.find_element(By.CSS_SELECTOR, "#issued-secret code").text
    assert len(secret) > 30
    browser.save_screenshot(str(SCREENSHOTS / "api-clients.png"))


def test_organization_list_for_city_admin(browser, live_server, demo_region):
    _login(browser, live_server, "city_admin")
    browser.get(f"{live_server.url}/directory/organizations/")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.object-list tbody tr")
    assert len(rows) == 8  # the demo region's organizations, investor, insurer and forestry bureau included
    browser.save_screenshot(str(SCREENSHOTS / "organization-list.png"))
    browser.get(f"{live_server.url}/directory/")
    assert "示范村（演示）" in browser.page_source
    browser.save_screenshot(str(SCREENSHOTS / "division-tree.png"))


def test_registry_map_and_asset_page(browser, live_server, demo_region):
    from resources.demo import load_demo_assets
    from resources.models import Asset

    load_demo_assets()
    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/resources/")
    # The map re-renders as features and tiles arrive: read it again on a stale element.
    settled = WebDriverWait(browser, 15, ignored_exceptions=(WebDriverException,))
    settled.until(lambda d: d.find_element(By.ID, "asset-map").get_attribute("data-features") == "3")
    settled.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#asset-map canvas.leaflet-tile-loaded"))
    browser.save_screenshot(str(SCREENSHOTS / "asset-list-map.png"))
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    browser.get(f"{live_server.url}/resources/assets/{forest.pk}/")
    assert "亩" in browser.find_element(By.ID, "asset-area").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.rights-table tbody tr")) == 2
    browser.save_screenshot(str(SCREENSHOTS / "asset-detail.png"))
    chart = browser.find_element(By.ID, "observation-chart")
    browser.execute_script("arguments[0].scrollIntoView()", chart)
    assert chart.get_attribute("data-points") == "5"  # ECharts drew the five demo surveys
    assert chart.find_element(By.TAG_NAME, "canvas")
    # The viewport, not the element: element screenshots time out in a loaded renderer (seen in CI).
    browser.save_screenshot(str(SCREENSHOTS / "asset-monitoring.png"))


def test_asset_map_draws_vector_tiles_and_opens_a_popup_on_a_parcel(browser, live_server, demo_region):
    """The list's map paints the PostGIS vector tiles (no GeoJSON), filtered like the list, and a
    click on a parcel finds it in the decoded tile."""
    from resources.demo import load_demo_assets
    from resources.models import Asset

    load_demo_assets()
    forest = Asset.objects.get(name="示范村后山杉木林（演示）")
    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/resources/")
    element = browser.find_element(By.ID, "asset-map")
    WebDriverWait(browser, 15).until(lambda d: int(element.get_attribute("data-features") or 0) >= 3)
    assert int(element.get_attribute("data-tiles-loaded")) >= 1
    assert element.get_attribute("data-min-zoom") == "0"  # three parcels: drawn at any zoom
    requested = browser.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => entry.name)"
    )
    assert any(".mvt" in name for name in requested)
    assert not any("map.geojson" in name for name in requested)
    # Parcels are painted in their status colour: the registered forest's centre is green-tinted.
    centroid = forest.geometry.centroid
    x, y = browser.execute_script(
        "const p = arguments[0]._tmcsMap.latLngToContainerPoint([arguments[1], arguments[2]]);"
        "return [p.x, p.y];",
        element,
        centroid.y,
        centroid.x,
    )
    ActionChains(browser).move_to_element_with_offset(
        element, int(x - element.size["width"] / 2), int(y - element.size["height"] / 2)
    ).click().perform()
    popup = WebDriverWait(browser, 5).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "#asset-map .leaflet-popup-content"))
    )
    link = popup.find_element(By.TAG_NAME, "a")
    assert link.text == forest.code
    assert link.get_attribute("href").endswith(f"/resources/assets/{forest.pk}/")
    assert "林地 · 已登记" in popup.text
    browser.execute_script("arguments[0].scrollIntoView()", element)
    browser.save_screenshot(str(SCREENSHOTS / "asset-map-tiles.png"))

    # The list's filter travels to the tiles: only the farmland is under review or in notice.
    status = Asset.objects.get(name="示范村东畈耕地（演示）").status
    browser.get(f"{live_server.url}/resources/?status={status}")
    element = browser.find_element(By.ID, "asset-map")
    WebDriverWait(browser, 15).until(lambda d: element.get_attribute("data-tiles-loaded") not in (None, "0"))
    assert element.get_attribute("data-features") == "1" and element.get_attribute("data-assets") == "1"
    assert f"status={status}" in element.get_attribute("data-tile-url")
    assert (
        browser.find_element(By.ID, "asset-geojson-export")
        .get_attribute("href")
        .endswith(f"/resources/map.geojson?status={status}")
    )


def test_registration_notice_certificate_and_verification(browser, live_server, demo_region, tmp_path):
    import subprocess

    from resources.certificates import render_certificate_pdf
    from resources.demo import load_demo_assets
    from resources.models import Registration

    load_demo_assets()
    registered = Registration.objects.get(status="registered")
    submitted = Registration.objects.get(status="submitted")
    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/resources/registrations/{submitted.pk}/")
    _click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "button[value=approve]"))
    assert browser.find_element(By.CSS_SELECTOR, ".registration-status").text == "公示中"
    browser.save_screenshot(str(SCREENSHOTS / "registration-detail.png"))
    browser.get(f"{live_server.url}/notices/{submitted.pk}/")
    browser.save_screenshot(str(SCREENSHOTS / "public-notice.png"))
    browser.get(f"{live_server.url}/verify/{registered.verification_code}/")
    assert "核验通过" in browser.find_element(By.ID, "verify-ok").text
    browser.save_screenshot(str(SCREENSHOTS / "verify.png"))
    pdf = SCREENSHOTS / "certificate.pdf"
    pdf.write_bytes(render_certificate_pdf(registered))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(SCREENSHOTS / "certificate")],
        check=True,
    )
    assert (SCREENSHOTS / "certificate.png").exists()


def test_village_clerk_follows_a_listing(browser, live_server, demo_region):
    from resources.demo import load_demo_assets

    load_demo_assets()
    _login(browser, live_server, "village_clerk")
    browser.get(f"{live_server.url}/resources/listings/")
    _click_and_load(browser, browser.find_element(By.LINK_TEXT, "示范村闲置老粮仓（演示）"))
    assert browser.find_element(By.CSS_SELECTOR, ".listing-status").text == "待审核"
    browser.save_screenshot(str(SCREENSHOTS / "listing-detail.png"))
    _login_as_staff_and_review(browser, live_server)


def _login_as_staff_and_review(browser, live_server):
    from resources.models import IdleAssetListing

    listing = IdleAssetListing.objects.get(title="示范村闲置老粮仓（演示）")
    browser.delete_all_cookies()
    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}{listing.get_absolute_url()}")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/request-info/'] textarea").send_keys(
        "请补充房屋安全鉴定报告"
    )
    _click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "form[action$='/request-info/'] button"))
    assert browser.find_element(By.CSS_SELECTOR, ".listing-status").text == "待补充材料"
    browser.save_screenshot(str(SCREENSHOTS / "listing-review.png"))
