"""The trading desk in headless Chromium: the public listing page (no login), the live auction
page of an investor, and the contracts as PDFs rendered to images, on the demo trading desk."""

import datetime
import subprocess
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.test_browser import SCREENSHOTS, _login, browser  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser


def _pdf_to_png(client, url, name):
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = SCREENSHOTS / f"{name}.pdf"
    pdf.write_bytes(response.content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-singlefile", str(pdf), str(SCREENSHOTS / name)],
        check=True,
    )
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text


def test_public_listing_auction_and_contract_pdfs(browser, live_server, demo_region, settings, tmp_path):  # noqa: F811
    from directory.models import User
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading
    from transactions.models import CollectionContract, Listing, ListingStatus
    from transactions.services import auctions, contracts

    settings.MEDIA_ROOT = tmp_path
    load_demo_assets()
    listing = load_demo_trading()

    # The public page, with no session at all.
    browser.get(f"{live_server.url}{listing.get_public_url()}")
    assert "/accounts/login/" not in browser.current_url
    assert listing.title in browser.find_element(By.TAG_NAME, "h1").text
    assert "600000" in browser.page_source.replace(",", "")
    assert "张山林" not in browser.page_source  # the contracting household stays private
    browser.save_screenshot(str(SCREENSHOTS / "trading-public-listing.png"))

    # The notice ends (as if ten days had passed); the demo investor bids and watches the live page.
    now = timezone.now()
    Listing.objects.filter(pk=listing.pk).update(
        notice_end=now, bidding_start=now, bidding_end=now + datetime.timedelta(hours=1)
    )
    listing.refresh_from_db()
    auctions.end_notice(listing=listing, now=now)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.BIDDING
    investor = User.objects.get(username="investor")
    auctions.place_bid(
        actor=investor, listing=listing, amount=Decimal("600000.00"), now=listing.bidding_start
    )
    _login(browser, live_server, "investor")
    browser.get(f"{live_server.url}/transactions/listings/{listing.pk}/auction/")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "auction-live")))
    assert browser.find_element(By.ID, "highest-price").text.replace(",", "").startswith("600000")
    assert browser.find_element(By.ID, "minimum-bid").text.replace(",", "").startswith("610000")
    browser.save_screenshot(str(SCREENSHOTS / "trading-auction.png"))

    # The server closes the auction at the deadline; the contract is made and signed.
    listing = auctions.close_listing(listing=listing, now=listing.bidding_end + datetime.timedelta(seconds=1))
    assert listing.status == ListingStatus.SOLD
    staff = User.objects.get(username="coop_staff")
    trade = contracts.create_trade_contract(actor=staff, listing=listing, payment_frequency="annual")
    trade = contracts.sign_trade_contract(actor=staff, contract=trade)
    client = Client()
    client.force_login(staff)
    text = _pdf_to_png(client, f"/transactions/contracts/{trade.pk}/contract.pdf", "trading-trade-contract")
    assert trade.number in text and "陆拾万元整" in text
    collection = CollectionContract.objects.get()
    text = _pdf_to_png(
        client, f"/transactions/collection/{collection.pk}/contract.pdf", "trading-collection-contract"
    )
    assert collection.number in text and "玖仟壹佰元整" in text


def test_staff_pages_of_the_trading_desk(browser, live_server, demo_region, settings, tmp_path):  # noqa: F811
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading
    from transactions.models import CollectionContract

    settings.MEDIA_ROOT = tmp_path
    load_demo_assets()
    listing = load_demo_trading()
    contract = CollectionContract.objects.get()
    _login(browser, live_server, "coop_staff")
    pages = [
        ("/transactions/", "stat-collection", "trading-overview"),
        (f"/transactions/collection/{contract.pk}/", None, "trading-collection-detail"),
        (f"/transactions/packages/{listing.package_id}/", None, "trading-package-detail"),
        (f"/transactions/listings/{listing.pk}/", None, "trading-listing-detail"),
        ("/transactions/settlement/movements/", None, "trading-movements"),
        ("/transactions/demands/", None, "trading-demands"),
    ]
    for url, element_id, name in pages:
        browser.get(f"{live_server.url}{url}")
        assert "/accounts/login/" not in browser.current_url
        assert browser.find_element(By.TAG_NAME, "h1").text  # a titled page, not an error
        assert "Traceback" not in browser.page_source and "服务器错误" not in browser.page_source
        if element_id:
            assert browser.find_element(By.ID, element_id).text == "1"  # one signed collection contract
        browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    browser.get(f"{live_server.url}/transactions/collection/")
    assert contract.number in browser.find_element(By.CSS_SELECTOR, "table").text
