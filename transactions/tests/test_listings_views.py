# ruff: noqa: F811  (pytest fixtures imported from test_listings_fixtures)
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from directory.demo import DEMO_PERSONS
from directory.models import User
from tmcs.ids import national_id_check_char
from transactions.models import (
    DepositStatus,
    Listing,
    ListingApplication,
    ListingQuestion,
    ListingStatus,
    PackagePhoto,
    ReviewStatus,
)
from transactions.services import listings as svc

from .test_listings_fixtures import (  # noqa: F401  (fixtures)
    collected,
    draft_listing,
    open_listing,
    other_county_staff,
    ready_package,
    terms,
    today,
)

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def login(client, username):
    client.force_login(User.objects.get(username=username))
    return client


def demo_villagers():
    """(name, national ID) of the demo households, as directory.demo builds them."""
    people = []
    for name, birth, sequence, _phone in DEMO_PERSONS:
        body = f"331102{birth}{sequence}"
        people.append((name, body + national_id_check_char(body)))
    return people


def test_staff_creates_listing_from_form(client, collected, county_staff):
    asset = collected(1)[0]
    login(client, "coop_staff")
    data = {**terms(), "asset_code": asset.code, "extension_window_seconds": 300, "extension_seconds": 300}
    response = client.post(reverse("transactions:listing-create"), {**data, "deposit": "999999"})
    assert response.status_code == 400
    assert "保证金不能高于底价" in response.content.decode()
    assert not Listing.objects.exists()
    response = client.post(reverse("transactions:listing-create"), {**data, "asset_code": "NOPE"})
    assert response.status_code == 400 and "未找到该资源" in response.content.decode()
    response = client.post(reverse("transactions:listing-create"), data)
    listing = Listing.objects.get()
    assert response.status_code == 302 and response.url == listing.get_absolute_url()


def test_create_page_refuses_investor(client, investor):
    login(client, "investor")
    assert client.get(reverse("transactions:listing-create")).status_code == 403


def test_publish_and_withdraw_from_detail(client, draft_listing, county_staff):
    listing = draft_listing()
    login(client, "coop_staff")
    page = client.get(listing.get_absolute_url())
    assert page.status_code == 200 and "发布公示" in page.content.decode()
    url = reverse("transactions:listing-publish", args=[listing.pk])
    response = client.post(url, {"notice_days": 3, "bidding_minutes": 60})
    assert response.status_code == 400
    assert "须在 10 至 90 之间" in response.content.decode()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.DRAFT
    response = client.post(url, {"notice_days": 10, "bidding_minutes": 60}, follow=True)
    assert "挂牌项目已发布公示" in response.content.decode()
    listing.refresh_from_db()
    assert listing.status == ListingStatus.IN_NOTICE
    response = client.post(
        reverse("transactions:listing-withdraw", args=[listing.pk]), {"reason": "规划调整"}
    )
    listing.refresh_from_db()
    assert response.status_code == 302 and listing.status == ListingStatus.WITHDRAWN


def test_investor_applies_asks_and_staff_reviews(client, open_listing, county_staff, investor):
    listing = open_listing()
    login(client, "investor")
    page = client.get(listing.get_absolute_url()).content.decode()
    assert "报名竞买" in page and "发布公示" not in page and "竞买报名</div>" not in page
    assert (
        client.post(
            reverse("transactions:listing-publish", args=[listing.pk]), {"notice_days": 10}
        ).status_code
        == 403
    )
    client.post(reverse("transactions:listing-apply", args=[listing.pk]), {"statement": "有经验"})
    application = ListingApplication.objects.get()
    response = client.post(reverse("transactions:listing-ask", args=[listing.pk]), {"question": ""})
    assert response.status_code == 400
    client.post(reverse("transactions:listing-ask", args=[listing.pk]), {"question": "有水源吗？"})
    question = ListingQuestion.objects.get()

    client.logout()
    login(client, "coop_staff")
    page = client.get(listing.get_absolute_url()).content.decode()
    assert "丽水示范生态旅游开发有限公司" in page and "有水源吗？" in page
    review = reverse("transactions:application-review", args=[application.pk])
    response = client.post(review, {f"r{application.pk}-decision": "reject", f"r{application.pk}-note": ""})
    assert response.status_code == 400 and "不予通过须写明理由" in response.content.decode()
    client.post(review, {f"r{application.pk}-decision": "approve", f"r{application.pk}-note": ""})
    deposit = reverse("transactions:application-deposit", args=[application.pk])
    prefix = f"d{application.pk}"
    bad = {f"{prefix}-amount": "1", f"{prefix}-reference": "B1", f"{prefix}-occurred_on": today().isoformat()}
    response = client.post(deposit, bad)
    assert response.status_code == 400 and "到账金额须与保证金" in response.content.decode()
    client.post(deposit, {**bad, f"{prefix}-amount": "10000.00"})
    application.refresh_from_db()
    assert application.status == ReviewStatus.APPROVED
    assert application.deposit_status == DepositStatus.PAID and application.bidder_number == "001"
    client.post(
        reverse("transactions:question-answer", args=[question.pk]), {f"a{question.pk}-answer": "有。"}
    )
    question.refresh_from_db()
    assert question.answer == "有。"


def test_investor_cannot_review_via_view(client, open_listing, investor):
    listing = open_listing()
    application = svc.apply_for_listing(actor=investor, listing=listing)
    login(client, "investor")
    review = reverse("transactions:application-review", args=[application.pk])
    response = client.post(review, {f"r{application.pk}-decision": "approve"})
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == ReviewStatus.PENDING


def test_staff_list_filters_export_and_queries(
    client, open_listing, draft_listing, django_assert_max_num_queries
):
    for _ in range(3):
        open_listing()
    draft_listing(mode="negotiated", increment="0")
    login(client, "coop_staff")
    url = reverse("transactions:listing-list")
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count("GP20") >= 4
    assert client.get(url, {"status": "draft"}).content.decode().count("<tr>") == 2  # header + 1 row
    export = client.get(url, {"export": "xlsx", "mode": "bidding"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_other_county_staff_does_not_see_listing(client, draft_listing, other_county_staff):
    listing = draft_listing()
    login(client, "qingtian_staff")
    assert client.get(listing.get_absolute_url()).status_code == 404
    assert listing.code not in client.get(reverse("transactions:listing-list")).content.decode()


def test_my_applications(client, open_listing, investor, second_investor):
    listing = open_listing()
    svc.apply_for_listing(actor=investor, listing=listing)
    svc.apply_for_listing(actor=second_investor, listing=open_listing())
    login(client, "investor")
    page = client.get(reverse("transactions:my-applications")).content.decode()
    assert listing.code in page and page.count("GP20") == 1
    client.logout()
    login(client, "coop_staff")
    assert client.get(reverse("transactions:my-applications")).status_code == 403


# --- public pages -------------------------------------------------------------------------------


def test_public_page_shows_public_fields_only(client, ready_package, county_staff, investor, households):
    package = ready_package(2)
    listing = svc.create_listing(actor=county_staff, package=package, **terms())
    assert client.get(f"/trading/{listing.code}/").status_code == 404  # draft
    svc.publish_listing(actor=county_staff, listing=listing, notice_days=10, bidding_minutes=60)
    question = svc.ask_question(actor=investor, listing=listing, question="可以建民宿吗？")
    svc.ask_question(actor=investor, listing=listing, question="未答复的问题")
    svc.answer_question(actor=county_staff, question=question, answer="须符合规划。")
    response = client.get(listing.get_public_url())
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        listing.title,
        "100000.00",
        "10000.00",
        "1000.00",
        "依法设立的企业",
        "一次付清",
        "保护生态",
        "可以建民宿吗？",
        "须符合规划。",
        "listing-map",
        "报名",
        "暂无已采纳的 GEP 核算结果",
    ):
        assert text in page, text
    assert "未答复的问题" not in page
    for item in package.items.select_related("asset"):
        assert item.asset.code in page
    notice_end = timezone.localtime(
        listing.notice_end, timezone=datetime.timezone(datetime.timedelta(hours=8))
    )
    assert notice_end.strftime("%Y-%m-%d %H:%M") in page
    for name, national_id in demo_villagers():
        assert name not in page and national_id not in page
    assert "丽水示范生态旅游开发有限公司" not in page


def test_public_page_404s_withdrawn(client, draft_listing, county_staff):
    listing = draft_listing()
    svc.withdraw_listing(actor=county_staff, listing=listing, reason="不挂了")
    assert client.get(f"/trading/{listing.code}/").status_code == 404


def test_public_board_lists_live_and_recent_results(
    client, open_listing, draft_listing, investor, django_assert_max_num_queries
):
    live = [open_listing() for _ in range(3)]
    draft = draft_listing()
    sold, old = open_listing(), open_listing()
    application = svc.apply_for_listing(actor=investor, listing=sold)
    from transactions.models import Bid

    bid = Bid.objects.create(
        listing=sold, application=application, amount="120000", placed_at=timezone.now(), placed_by=investor
    )
    Listing.objects.filter(pk=sold.pk).update(
        status=ListingStatus.SOLD, final_price="120000", winning_bid=bid, closed_at=timezone.now()
    )
    Listing.objects.filter(pk=old.pk).update(
        status=ListingStatus.FAILED, closed_at=timezone.now() - datetime.timedelta(days=91)
    )
    with django_assert_max_num_queries(8):
        response = client.get("/trading/")
    page = response.content.decode()
    assert response.status_code == 200
    for listing in [*live, sold]:
        assert listing.code in page
    assert draft.code not in page and old.code not in page
    assert "120000" in page and "丽水示范生态旅游开发有限公司" in page
    detail = client.get(sold.get_public_url()).content.decode()
    assert "成交公示" in detail and "丽水示范生态旅游开发有限公司" in detail
    assert client.get("/trading/", {"division": "not-a-pk"}).status_code == 200


def test_public_photo_only_for_published(client, ready_package, county_staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    package = ready_package(2)
    photo = PackagePhoto.objects.create(
        package=package,
        image=SimpleUploadedFile("a.png", PNG, content_type="image/png"),
        sha256="x",
        uploaded_by=county_staff,
    )
    url = reverse("public-listing-photo", args=[photo.pk])
    listing = svc.create_listing(actor=county_staff, package=package, **terms())
    assert client.get(url).status_code == 404
    svc.publish_listing(actor=county_staff, listing=listing, notice_days=10, bidding_minutes=60)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert url in client.get(listing.get_public_url()).content.decode()
