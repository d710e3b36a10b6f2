# ruff: noqa: F811  (fixtures imported from test_auctions)
"""The auction page, its polled partial, the bid form (HTMX), staff actions, the public result page
and the API (bids with Idempotency-Key, auction state), with query-count pins."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from directory.models import User
from transactions.models import Bid, ListingMode, ListingStatus
from transactions.services import auctions

from .test_auctions import (  # noqa: F401  (fixtures)
    apply,
    coop_party,
    make_listing,
    third_investor,
)


@pytest.fixture
def live(make_listing, apply, investor, second_investor, third_investor):
    """A listing bidding now (deadline in an hour) with three qualified bidders and four bids."""
    now = timezone.now()
    listing = make_listing(
        bidding_start=now - datetime.timedelta(hours=1), bidding_end=now + datetime.timedelta(hours=1)
    )
    for user in (investor, second_investor, third_investor):
        apply(listing, user)
    for i, user in enumerate((investor, second_investor, third_investor, investor)):
        auctions.place_bid(
            actor=user,
            listing=listing,
            amount=100000 + 1000 * i,
            now=now - datetime.timedelta(minutes=30 - i),
        )
    return listing


def login(client, username):
    client.force_login(User.objects.get(username=username))
    return client


def test_investor_sees_price_countdown_and_bidder_numbers(
    client, live, investor, django_assert_max_num_queries
):
    login(client, "investor")
    url = reverse("transactions:auction", args=[live.pk])
    with django_assert_max_num_queries(14):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="highest-price">103000.00' in html and 'id="minimum-bid">104000.00' in html
    seconds = int(html.split('data-countdown="')[1].split('"')[0])
    assert 3500 < seconds <= 3600
    assert "您目前出价最高" in html and 'hx-trigger="every 2s' in html
    assert "第二投资有限公司" not in html and "第三投资有限公司" not in html  # numbers only while bidding
    assert html.count("<td>00") == 4
    with django_assert_max_num_queries(10):
        partial = client.get(reverse("transactions:auction-live", args=[live.pk]))
    assert partial.status_code == 200 and b"<html" not in partial.content and b"103000.00" in partial.content


def test_bid_form_htmx_success_and_errors_in_place(client, live, second_investor):
    login(client, "investor2")
    url = reverse("transactions:auction-bid", args=[live.pk])
    low = client.post(url, {"amount": "103500"}, HTTP_HX_REQUEST="true")
    assert low.status_code == 200 and "不得低于 104000.00 元" in low.content.decode()
    assert low.content.decode().index("不得低于") > low.content.decode().index("<form")  # in the form
    bad = client.post(url, {"amount": "1.234"}, HTTP_HX_REQUEST="true")
    assert "is-invalid" in bad.content.decode()
    ok = client.post(url, {"amount": "104000"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and ok["HX-Trigger"] == "bid-placed" and "出价成功" in ok.content.decode()
    assert live.bids.order_by("-amount").first().amount == Decimal("104000.00")
    plain = client.post(url, {"amount": "1"})  # without HTMX: redirect with a message
    assert plain.status_code == 302
    assert live.bids.count() == 5


def test_access_is_limited(client, live, county_staff, make_member):
    url = reverse("transactions:auction", args=[live.pk])
    for username, expected in (
        ("coop_staff", 200),
        ("city_admin", 200),
        ("village_clerk", 404),
        ("bank_officer", 404),
    ):
        client.logout()
        login(client, username)
        assert client.get(url).status_code == expected, username
    client.logout()
    assert client.get(url).status_code == 302  # sign in first
    login(client, "coop_staff")
    page = client.get(url).content.decode()
    assert "立即结束竞价" in page
    response = client.post(reverse("transactions:auction-close", args=[live.pk]), follow=True)
    assert "竞价尚未截止" in response.content.decode()
    live.refresh_from_db()
    assert live.status == ListingStatus.BIDDING
    client.logout()
    login(client, "investor")
    assert client.post(reverse("transactions:auction-close", args=[live.pk])).status_code == 403
    assert (
        client.post(reverse("transactions:auction-bid", args=[live.pk]), {"amount": "200000"}).status_code
        == 302
    )
    assert live.bids.filter(amount=Decimal("200000")).exists()


def test_staff_closes_after_deadline_and_winner_is_named(client, live, investor):
    live.bidding_end = timezone.now() - datetime.timedelta(seconds=1)
    live.save(update_fields=["bidding_end"])
    login(client, "coop_staff")
    response = client.post(reverse("transactions:auction-close", args=[live.pk]), follow=True)
    html = response.content.decode()
    assert "竞价已结束" in html and "丽水示范生态旅游开发有限公司" in html and 'id="auction-result"' in html
    live.refresh_from_db()
    assert live.status == ListingStatus.SOLD and live.final_price == Decimal("103000.00")


def test_public_bid_history_without_names(client, live, django_assert_max_num_queries):
    url = reverse("public-bids", args=[live.code])
    assert client.get(url).status_code == 404  # still bidding
    auctions.close_listing(listing=live, now=live.bidding_end)
    with django_assert_max_num_queries(5):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200 and "103000.00" in html and "已成交" in html
    assert "生态旅游" not in html and "第二投资" not in html
    assert html.count("<td>00") == 4


def test_accept_offer_form(client, make_listing, apply, investor):
    listing = make_listing(
        status=ListingStatus.IN_NOTICE,
        mode=ListingMode.NEGOTIATED,
        notice_end=timezone.now() - datetime.timedelta(minutes=1),
    )
    application = apply(listing, investor)
    login(client, "coop_staff")
    page = client.get(reverse("transactions:auction", args=[listing.pk])).content.decode()
    assert "确认报价并成交" in page
    url = reverse("transactions:auction-accept", args=[listing.pk])
    low = client.post(url, {"application": application.pk, "amount": "1000"}, follow=True)
    assert "底价" in low.content.decode()
    ok = client.post(url, {"application": application.pk, "amount": "150000"}, follow=True)
    assert "已按协议转让成交" in ok.content.decode()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SOLD and listing.final_price == Decimal("150000.00")


# --- API --------------------------------------------------------------------------------------


def test_api_bid_with_idempotency_key(client, live, second_investor):
    login(client, "investor2")
    url = "/api/v1/transactions/bids/"
    headers = {"HTTP_IDEMPOTENCY_KEY": "bid-1"}
    first = client.post(
        url, {"listing": live.pk, "amount": "110000"}, content_type="application/json", **headers
    )
    assert first.status_code == 201 and first.json()["amount"] == "110000.00"
    again = client.post(
        url, {"listing": live.pk, "amount": "110000"}, content_type="application/json", **headers
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = client.post(
        url, {"listing": live.pk, "amount": "120000"}, content_type="application/json", **headers
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    low = client.post(url, {"listing": live.pk, "amount": "110500"}, content_type="application/json")
    assert low.status_code == 409 and low.json()["code"] == "bid_too_low" and "amount" in low.json()["fields"]
    malformed = client.post(url, {"listing": live.pk, "amount": "abc"}, content_type="application/json")
    assert malformed.status_code == 400
    assert Bid.objects.filter(listing=live, amount=Decimal("110000")).count() == 1


def test_api_refusals_and_reads(client, live, django_assert_max_num_queries):
    login(client, "coop_staff")
    staff_bid = client.post(
        "/api/v1/transactions/bids/",
        {"listing": live.pk, "amount": "200000"},
        content_type="application/json",
    )
    assert staff_bid.status_code == 403 and staff_bid.json()["code"] == "permission_denied"
    with django_assert_max_num_queries(8):
        listed = client.get(f"/api/v1/transactions/bids/?listing={live.pk}")
    rows = listed.json()["results"]
    assert [r["amount"] for r in rows] == ["103000.00", "102000.00", "101000.00", "100000.00"]
    assert all("investor" not in r for r in rows) and rows[0]["bidder_number"] == "001"
    state = client.get(f"/api/v1/transactions/auction-state/{live.pk}/").json()
    assert state["highest"] == "103000.00" and state["minimum_next"] == "104000.00"
    assert state["status"] == "bidding" and 3500 < state["seconds_remaining"] <= 3600
    client.logout()
    login(client, "bank_officer")
    assert client.get(f"/api/v1/transactions/auction-state/{live.pk}/").status_code == 404
    assert client.get("/api/v1/transactions/bids/").json()["count"] == 0
    assert not User.objects.filter(username="bank_officer", is_superuser=True).exists()
