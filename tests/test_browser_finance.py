"""The finance desk in headless Chromium on the demo data: the overview of the county staff and of
the bank, an application with its maker-checker trail, the loan page with the overdue installment,
the public pledge check (no login, no personal data), and the pledge certificate and appraisal as
PDFs rendered to images."""

import pytest
from django.test import Client
from selenium.webdriver.common.by import By

from tests.test_browser import SCREENSHOTS, _login, browser  # noqa: F401  (browser is a fixture)
from tests.test_browser_trading import _pdf_to_png

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_loan(demo_region, settings, tmp_path):
    from finance.demo import load_demo_finance
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading
    from valuation.demo import load_demo_valuation

    settings.MEDIA_ROOT = tmp_path
    load_demo_assets()
    load_demo_valuation()
    load_demo_trading()
    return load_demo_finance()


def test_finance_desk_pages_and_documents(browser, live_server, demo_loan):  # noqa: F811
    from directory.models import User
    from finance.models import Pledge

    loan = demo_loan
    application = loan.application
    pledge = Pledge.objects.get(application=application)
    borrower = loan.borrower.person

    _login(browser, live_server, "coop_staff")
    browser.get(f"{live_server.url}/finance/")
    assert browser.find_element(By.ID, "stat-overdue").text == "1"
    browser.save_screenshot(str(SCREENSHOTS / "finance-overview-staff.png"))

    browser.get(f"{live_server.url}{application.get_absolute_url()}")
    page = browser.page_source
    assert application.number in page and "市级管理员" in page  # the checker is a second person
    browser.save_screenshot(str(SCREENSHOTS / "finance-application.png"))

    browser.get(f"{live_server.url}{loan.get_absolute_url()}")
    assert browser.find_elements(By.CSS_SELECTOR, "tr.table-danger"), "the overdue installment is marked"
    assert "认定违约" in browser.page_source
    browser.save_screenshot(str(SCREENSHOTS / "finance-loan.png"))

    # The bank sees its own book, without the cooperative's tools.
    browser.delete_all_cookies()
    _login(browser, live_server, "bank_officer")
    browser.get(f"{live_server.url}/finance/")
    assert "丽水示范农村商业银行" in browser.find_element(By.TAG_NAME, "h1").text
    assert "风险补偿基金" not in browser.page_source
    browser.save_screenshot(str(SCREENSHOTS / "finance-overview-bank.png"))

    # Anyone may check a pledge certificate; the holder stays private.
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/finance-check/pledges/{pledge.verification_code}/")
    assert "/accounts/login/" not in browser.current_url
    assert pledge.number in browser.page_source
    assert borrower.name not in browser.page_source and borrower.national_id_masked not in browser.page_source
    browser.save_screenshot(str(SCREENSHOTS / "finance-pledge-check.png"))

    client = Client()
    client.force_login(User.objects.get(username="coop_staff"))
    text = _pdf_to_png(client, f"/finance/pledges/{pledge.pk}/certificate.pdf", "finance-pledge-certificate")
    assert pledge.number in text and "抵质押登记证明" in text.replace(" ", "")
    appraisal = pledge.appraisal
    text = _pdf_to_png(client, f"/finance/appraisals/{appraisal.pk}/appraisal.pdf", "finance-appraisal")
    assert appraisal.number in text
