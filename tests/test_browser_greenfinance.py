"""Green finance, savings slips and data exchange in headless Chromium, on the demo data (every demo
loader up to green finance and exchange): the public savings slip check on a phone (no login, the
holder masked, no ID, phone or bank), the staff's green finance front page, the homestay policy and
the eco fund with its cash chart, the forestry bureau's officer on the data exchange pages, and the
printed slip rendered to an image. Screenshots go to /tmp/shots_gf/ for a person to look at."""

import importlib
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.test_browser import _click_and_load, _login, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots_gf")  # noqa: S108  (screenshots for a person to look at, outside the repo)
PHONE = (390, 844)
DESKTOP = (1440, 900)
HOMESTAY_POLICY = "MSBX-演示-2026-0001"
BANK = "丽水示范农村商业银行"


def _seed_red_lines():
    """The default red lines of migration 0003, which the projects demo computes against (re-seeded:
    a transactional test before this one flushed them)."""
    from django.apps import apps

    importlib.import_module("projects.migrations.0003_defaults_and_schedules").create(apps, None)


@pytest.fixture
def demo_greenfinance(demo_region, settings, tmp_path):
    """Every demo up to green finance and the data exchange, loaded once per test; the savings slip."""
    from exchange.demo import load_demo_exchange
    from finance.demo import load_demo_finance
    from greenfinance.demo import load_demo_greenfinance
    from projects.demo import load_demo_projects
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading
    from valuation.demo import load_demo_valuation

    settings.MEDIA_ROOT = tmp_path
    load_demo_assets()
    load_demo_valuation()
    load_demo_trading()
    load_demo_finance()
    _seed_red_lines()
    load_demo_projects()
    slip = load_demo_greenfinance()
    assert slip is not None
    assert load_demo_exchange() is not None
    SHOTS.mkdir(parents=True, exist_ok=True)
    return slip


def _wait(browser, selector, timeout=15):  # noqa: F811  (the driver, passed on)
    return WebDriverWait(browser, timeout).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, selector))
    )


def _shot(browser, name, *, full=False):  # noqa: F811
    """A viewport screenshot; `full` first grows the window until the whole page is in view (the
    window is taller than its viewport by the browser's own chrome)."""
    if full:
        width, inner, outer, page = browser.execute_script(
            "return [window.innerWidth, window.innerHeight, window.outerHeight,"
            " document.documentElement.scrollHeight]"
        )
        if page > inner:
            browser.set_window_size(browser.get_window_size()["width"], page + (outer - inner) + 20)
        assert browser.execute_script("return window.innerWidth") == width
    assert browser.save_screenshot(str(SHOTS / f"{name}.png"))


def _no_horizontal_overflow(browser):  # noqa: F811
    """Nothing pushes the page sideways, and the user menu (when logged in) is wholly in view."""
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[1], widths
    right = browser.execute_script(
        "const menu = document.querySelector('nav.navbar .dropdown-toggle');"
        "return menu && menu.offsetParent ? menu.getBoundingClientRect().right : null;"
    )
    assert right is None or right <= widths[1], (right, widths)


def test_public_slip_check_on_a_phone(browser, live_server, demo_greenfinance):  # noqa: F811
    from directory.models import User
    from tmcs import crypto
    from transactions.selectors_savings import mask_name

    slip = demo_greenfinance
    person = slip.holder.person
    assert person is not None and len(person.name) > 1

    browser.set_window_size(*PHONE)
    browser.get(f"{live_server.url}/trading/slip-check/{slip.verification_code}/")
    _wait(browser, "#slip-check-ok")
    assert "/accounts/login/" not in browser.current_url
    assert browser.execute_script("return window.innerWidth") == PHONE[0]

    facts = {}
    for dt in browser.find_elements(By.CSS_SELECTOR, "dl.slip-check dt"):
        facts[dt.text.strip()] = dt.find_element(By.XPATH, "following-sibling::dd[1]").text.strip()
    assert facts["储蓄单号"] == slip.number
    assert facts["状态"] == "有效"
    assert facts["储蓄期限"].startswith(f"{slip.start_date:%Y-%m-%d} — {slip.end_date:%Y-%m-%d}"), facts[
        "储蓄期限"
    ]
    assert facts["每年保底收益（元）"] == "5,600.00"
    assert facts["是否已质押"] == "是"
    assert browser.find_element(By.CSS_SELECTOR, "dd.slip-pledged").text == "是"
    assert facts["储户"] == mask_name(person.name) == person.name[0] + "*" * (len(person.name) - 1)
    assert facts["资源编号"] == slip.asset.code

    source = browser.page_source
    national_id = crypto.decrypt(person.national_id_ciphertext)
    private = [person.name, national_id, person.national_id_masked, BANK]
    if person.phone_ciphertext:
        private += [crypto.decrypt(person.phone_ciphertext), person.phone_masked]
    for value in private:
        assert value and value not in source, value

    _no_horizontal_overflow(browser)
    _shot(browser, "slip-check-phone", full=True)
    _no_horizontal_overflow(browser)
    browser.set_window_size(*DESKTOP)

    # The printed slip: the same code and number, the ID masked only.
    client = Client()
    client.force_login(User.objects.get(username="coop_staff"))
    response = client.get(f"/transactions/slips/{slip.pk}/slip.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = SHOTS / "slip.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-singlefile", str(pdf), str(SHOTS / "slip-pdf")],
        check=True,
    )
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert slip.number in text and slip.verification_code in text and slip.asset.code in text
    assert "伍仟陆佰元整" in text.replace(" ", "")
    assert national_id not in text and person.national_id_masked in text


def test_staff_green_finance_policy_and_fund(browser, live_server, demo_greenfinance):  # noqa: F811
    from greenfinance.models import GreenFund, InsurancePolicy
    from greenfinance.services.funds import fund_position

    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/greenfinance/")
    overview = _wait(browser, "#greenfinance-overview")
    assert browser.find_element(By.ID, "stat-policies").text == "2"  # homestay and forest
    assert browser.find_element(By.ID, "stat-expiring").text == "1"  # the homestay policy ends soon
    assert browser.find_element(By.ID, "stat-claims").text == "0"  # the forest claim is paid
    assert browser.find_element(By.ID, "stat-funds").text == "1"  # the eco fund; the bond is raising
    # the county's staff see the county's eco fund, not the city's bond being subscribed
    assert "募集中 0 只" in overview.text and "规模合计 50000000.00 元" in overview.text.replace(",", "")
    _no_horizontal_overflow(browser)
    _shot(browser, "greenfinance-index")

    # The policy list, then the homestay policy from it.
    browser.get(f"{live_server.url}/greenfinance/insurance/policies/")
    _wait(browser, ".insurance-tabs")
    assert HOMESTAY_POLICY in browser.page_source and "SLBX-演示-2026-0001" in browser.page_source
    _click_and_load(browser, (By.LINK_TEXT, HOMESTAY_POLICY))
    _wait(browser, "dl.policy-terms")
    policy = InsurancePolicy.objects.get(number=HOMESTAY_POLICY)
    assert HOMESTAY_POLICY in browser.find_element(By.TAG_NAME, "h1").text
    terms = browser.find_element(By.CSS_SELECTOR, "dl.policy-terms").text
    assert "民宿" in terms and policy.insurer.name in terms and BANK in terms
    assert browser.find_element(By.CSS_SELECTOR, ".policy-subsidy").text == "450.00"
    links = browser.find_element(By.CSS_SELECTOR, "dl.policy-links").text
    assert policy.application.number in links and "示范村闲置农房（演示）" in links
    assert "暂无理赔" in browser.find_element(By.CSS_SELECTOR, "table.policy-claims").text
    _no_horizontal_overflow(browser)
    _shot(browser, "greenfinance-policy-homestay", full=True)
    browser.set_window_size(*DESKTOP)

    # The eco fund: its position, the backed project, the journal and the cash chart.
    fund = GreenFund.objects.get(kind="eco_fund")
    position = fund_position(fund)
    browser.get(f"{live_server.url}/greenfinance/funds/{fund.pk}/")
    _wait(browser, ".fund-info")
    assert fund.name in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.CSS_SELECTOR, ".fund-cash").text == str(position["cash"])
    assert "示范村森林康养步道（演示）" in browser.find_element(By.CSS_SELECTOR, "table.fund-backed").text
    movements = browser.find_elements(By.CSS_SELECTOR, "tr.fund-movement")
    assert len(movements) == fund.movements.count() == 5  # two contributions, draw-down, return, income
    assert movements[-1].find_element(By.CSS_SELECTOR, ".running-cash").text == str(position["cash"])
    WebDriverWait(browser, 15).until(
        lambda d: d.execute_script(
            "const c = document.querySelector('#fund-cash-chart canvas, #fund-cash-chart svg');"
            "return c !== null && c.getBoundingClientRect().width > 300"
            " && c.getBoundingClientRect().height > 100;"
        )
    )
    points = browser.find_element(By.ID, "fund-cash-chart").get_attribute("data-points")
    assert int(points) >= 2
    _no_horizontal_overflow(browser)
    _shot(browser, "greenfinance-fund-detail", full=True)
    browser.set_window_size(*DESKTOP)


def test_department_officer_on_the_data_exchange(browser, live_server, demo_greenfinance):  # noqa: F811
    from exchange.models import Dataset, ExchangeLog

    log = ExchangeLog.objects.get(dataset=Dataset.HARVEST_PERMITS)
    _login(browser, live_server, "forestry_officer")
    browser.get(f"{live_server.url}/exchange/")
    recent = _wait(browser, "#recent-logs")
    assert log.number in recent.text and "导入 · 林业：林木采伐许可" in recent.text
    datasets = browser.find_element(By.ID, "dataset-links").text
    assert "林业：林木采伐许可" in datasets and "自然资源：资源地块与权属" in datasets
    assert "信用信息授权" not in browser.page_source  # consents are the cooperative's
    _no_horizontal_overflow(browser)
    _shot(browser, "exchange-index-forestry")

    _click_and_load(browser, (By.PARTIAL_LINK_TEXT, "林业：林木采伐许可"))
    _wait(browser, "table.recent-logs")
    assert browser.find_element(By.TAG_NAME, "h1").text == "林业：林木采伐许可"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.recent-logs tbody tr")
    row = next(r for r in rows if log.number in r.text)
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    assert cells[2] == "导入" and cells[3] == "JSON" and cells[5] == "1" and cells[6] == "成功", cells
    assert cells[4] == "林业部门数据专员"
    assert browser.find_elements(By.CSS_SELECTOR, "form.import-form input[type=file].form-control")
    # every field of both forms carries Bootstrap's look, not the browser's bare controls
    bare = browser.execute_script(
        "return [...document.querySelectorAll('form.export-form select, form.export-form input,"
        " form.import-form select, form.import-form input')]"
        ".filter(e => !['hidden', 'checkbox'].includes(e.type))"
        ".filter(e => !e.matches('.form-select, .form-control')).map(e => e.name);"
    )
    assert bare == [], bare
    assert "volume_m3" in browser.find_element(By.CSS_SELECTOR, "table.dataset-columns").text
    _no_horizontal_overflow(browser)
    _shot(browser, "exchange-harvest-permits", full=True)
    browser.set_window_size(*DESKTOP)
