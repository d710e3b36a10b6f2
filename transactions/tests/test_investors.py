"""Investor self-registration, review, the status page, the staff pages and the API."""

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from directory.models import AdministrativeDivision, Membership, Notification, Organization, Party, Role, User
from tmcs import crypto
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from tmcs.ids import uscc_check_char
from transactions.models import InvestorRegistration, ReviewStatus
from transactions.services import investors as svc
from transactions.services.common import investor_of

from .test_packages_services import other_county_staff, village_clerk  # noqa: F401

PASSWORD = "Strong-pass-2026!"


def uscc(n):
    body = f"91331102MA2E{n:05d}"
    return body + uscc_check_char(body)


def licence(name="licence.pdf", content=b"%PDF-1.4 licence"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png(name="licence.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def liandu(demo_region):
    return AdministrativeDivision.objects.get(code="331102000000")


@pytest.fixture
def data(liandu):
    return dict(
        name="绿谷康养投资有限公司",
        uscc=uscc(1),
        county=liandu,
        contact_name="王经理",
        contact_phone="138 0013 8000",
        email="wang@example.com",
        business_scope="民宿、康养项目投资",
        username="lvgu",
        password=PASSWORD,
        password_confirmation=PASSWORD,
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def counts():
    return (
        Organization.objects.count(),
        Party.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        InvestorRegistration.objects.count(),
    )


def test_register_creates_everything_pending_and_tells_staff(data, media, county_staff, city_admin):
    registration = svc.register_investor(licence=licence(), **data)
    org = registration.organization
    assert (org.kind, org.uscc, org.division.code) == ("enterprise", data["uscc"], "331102000000")
    assert crypto.decrypt(org.contact_phone_ciphertext) == "13800138000"
    assert org.contact_phone_masked == "138****8000"
    assert Party.objects.filter(organization=org).exists()
    assert registration.status == ReviewStatus.PENDING and (media / registration.licence.name).exists()
    membership = Membership.objects.get(user=registration.user, organization=org)
    assert (membership.role, membership.is_active) == (Role.INVESTOR, False)
    assert registration.user.check_password(PASSWORD)
    with pytest.raises(PermissionDeniedError):
        investor_of(User.objects.get(pk=registration.user.pk))
    notified = set(
        Notification.objects.filter(title="新的投资主体注册待审核").values_list(
            "recipient__username", flat=True
        )
    )
    assert {"coop_staff", "city_admin"} <= notified


@pytest.mark.parametrize(
    "field, value",
    [
        ("uscc", "91331102MA2E000010"),  # wrong check character
        ("uscc", "123"),
        ("contact_phone", "0578-2123456"),  # a landline, not a mobile
        ("contact_phone", "abc"),
        ("name", " "),
        ("username", ""),
        ("password_confirmation", "different-Pass-1"),
        ("password", "123"),
        ("county", None),
    ],
)
def test_bad_input_is_refused_in_place_and_nothing_written(field, value, data, media):
    before = counts()
    data[field] = value
    if field == "password":
        data["password_confirmation"] = value
    with pytest.raises(DomainError) as exc:
        svc.register_investor(licence=licence(), **data)
    assert field in exc.value.fields
    assert counts() == before
    assert not list(media.rglob("*.pdf"))


def test_village_is_not_a_county(data, media, village):
    data["county"] = village
    with pytest.raises(DomainError) as exc:
        svc.register_investor(licence=licence(), **data)
    assert "county" in exc.value.fields


@pytest.mark.parametrize(
    "upload",
    [
        None,
        SimpleUploadedFile("licence.pdf", b"not a pdf at all", content_type="application/pdf"),
        SimpleUploadedFile("licence.jpg", b"fake jpeg bytes", content_type="image/jpeg"),
        SimpleUploadedFile("licence.exe", b"MZ", content_type="application/octet-stream"),
    ],
)
def test_licence_content_checked(upload, data, media):
    before = counts()
    with pytest.raises(DomainError) as exc:
        svc.register_investor(licence=upload, **data)
    assert "licence" in exc.value.fields
    assert counts() == before


def test_licence_size_limit(data, media):
    big = licence()
    big.size = svc.MAX_LICENCE_BYTES + 1
    with pytest.raises(DomainError, match="提交的数据有误") as exc:
        svc.register_investor(licence=big, **data)
    assert "10 MB" in exc.value.fields["licence"][0]


def test_duplicate_uscc_and_username_refused(data, media):
    svc.register_investor(licence=licence(), **data)
    before = counts()
    with pytest.raises(ConflictError) as exc:
        svc.register_investor(licence=png(), **{**data, "username": "other", "name": "另一家"})
    assert list(exc.value.fields) == ["uscc"]
    with pytest.raises(ConflictError) as exc:
        svc.register_investor(
            licence=png(), **{**data, "uscc": uscc(2), "username": "LVGU", "name": "另一家"}
        )
    assert list(exc.value.fields) == ["username"]
    demo_uscc = Organization.objects.get(name__contains="生态旅游").uscc
    with pytest.raises(ConflictError):
        svc.register_investor(licence=png(), **{**data, "uscc": demo_uscc, "username": "x2", "name": "x2"})
    assert counts() == before


def test_approval_lets_the_investor_trade_and_tells_them(data, media, county_staff):
    registration = svc.register_investor(licence=licence(), **data)
    svc.review_investor_registration(actor=county_staff, registration=registration, approve=True, note="")
    registration.refresh_from_db()
    assert (registration.status, registration.reviewed_by) == (ReviewStatus.APPROVED, county_staff)
    user = User.objects.get(pk=registration.user_id)
    assert investor_of(user) == registration.organization
    assert Notification.objects.filter(recipient=user, title="投资主体注册已通过审核").exists()
    with pytest.raises(ConflictError, match="不能重复审核"):
        svc.review_investor_registration(
            actor=county_staff, registration=registration, approve=False, note="x"
        )


@pytest.mark.django_db(transaction=True)
def test_approval_email_is_sent_after_commit(data, media, county_staff, catalog):
    registration = svc.register_investor(licence=licence(), **data)
    svc.review_investor_registration(actor=county_staff, registration=registration, approve=True)
    assert [m.to for m in mail.outbox] == [["wang@example.com"]]
    assert mail.outbox[0].subject == "投资主体注册已通过审核"


def test_rejection_needs_a_note(data, media, county_staff):
    registration = svc.register_investor(licence=licence(), **data)
    with pytest.raises(DomainError) as exc:
        svc.review_investor_registration(
            actor=county_staff, registration=registration, approve=False, note=" "
        )
    assert "note" in exc.value.fields
    registration.refresh_from_db()
    assert registration.status == ReviewStatus.PENDING
    svc.review_investor_registration(
        actor=county_staff, registration=registration, approve=False, note="执照模糊"
    )
    registration.refresh_from_db()
    assert (registration.status, registration.review_note) == (ReviewStatus.REJECTED, "执照模糊")
    assert not Membership.objects.get(user=registration.user).is_active


@pytest.mark.parametrize("who", ["investor", "village_clerk", "other_county_staff"])
def test_review_refused_outside_reach(who, request, data, media):
    registration = svc.register_investor(licence=licence(), **data)
    with pytest.raises(PermissionDeniedError):
        svc.review_investor_registration(
            actor=request.getfixturevalue(who), registration=registration, approve=True
        )
    registration.refresh_from_db()
    assert registration.status == ReviewStatus.PENDING


# --- pages ------------------------------------------------------------------------------------


def test_public_page_registers_and_shows_errors_in_place(client, data, media):
    url = "/trading/investors/register/"
    assert reverse("investor-register") == url
    page = client.get(url)
    assert page.status_code == 200 and "统一社会信用代码" in page.content.decode()
    form = {**data, "county": data["county"].pk, "uscc": "91331102MA2E000010"}
    response = client.post(url, {**form, "licence": licence()})
    assert response.status_code == 400
    assert "统一社会信用代码校验位不正确" in response.content.decode()
    assert not InvestorRegistration.objects.exists()
    response = client.post(url, {**form, "uscc": data["uscc"], "licence": licence()})
    assert response.status_code == 200 and "注册已提交" in response.content.decode()
    assert InvestorRegistration.objects.get().organization.name == data["name"]


def test_pending_and_rejected_users_see_the_status_page(client, data, media, county_staff):
    registration = svc.register_investor(licence=licence(), **data)
    client.force_login(User.objects.get(username="lvgu"))
    response = client.get(reverse("transactions:package-list"))
    assert response.status_code == 302 and response["Location"] == reverse("transactions:investor-status")
    page = client.get(reverse("transactions:investor-status")).content.decode()
    assert "待审核" in page and data["name"] in page
    svc.review_investor_registration(
        actor=county_staff, registration=registration, approve=False, note="材料不全"
    )
    page = client.get(reverse("transactions:investor-status")).content.decode()
    assert "未通过" in page and "材料不全" in page
    assert client.get(reverse("transactions:package-list")).status_code == 302


def test_approved_user_reaches_trading_pages(client, data, media, county_staff):
    registration = svc.register_investor(licence=licence(), **data)
    svc.review_investor_registration(actor=county_staff, registration=registration, approve=True)
    client.force_login(User.objects.get(username="lvgu"))
    assert client.get(reverse("transactions:package-list")).status_code == 200


def test_staff_list_detail_review_and_licence(
    client, data, media, county_staff, django_assert_max_num_queries
):
    for n in range(4):
        svc.register_investor(
            licence=licence(), **{**data, "uscc": uscc(10 + n), "username": f"inv{n}", "name": f"投资公司{n}"}
        )
    client.force_login(county_staff)
    url = reverse("transactions:investor-registration-list")
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count("投资公司") == 4
    filtered = client.get(url, {"q": "投资公司2"}).content.decode()
    assert "投资公司1" not in filtered and "投资公司3" not in filtered
    export = client.get(url, {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    registration = InvestorRegistration.objects.get(organization__name="投资公司1")
    detail = client.get(reverse("transactions:investor-registration-detail", args=[registration.pk]))
    assert "投资公司1" in detail.content.decode() and "review-form" in detail.content.decode()
    licence_response = client.get(
        reverse("transactions:investor-registration-licence", args=[registration.pk])
    )
    assert licence_response.status_code == 200 and b"".join(licence_response.streaming_content).startswith(
        b"%PDF"
    )
    review = reverse("transactions:investor-registration-review", args=[registration.pk])
    response = client.post(review, {"decision": "reject", "note": ""}, follow=True)
    assert "不予通过时请写明原因" in response.content.decode()
    client.post(review, {"decision": "approve", "note": ""})
    registration.refresh_from_db()
    assert registration.status == ReviewStatus.APPROVED


def test_staff_pages_refused_to_others(client, data, media, investor, other_county_staff):  # noqa: F811
    registration = svc.register_investor(licence=licence(), **data)
    client.force_login(investor)
    assert client.get(reverse("transactions:investor-registration-list")).status_code == 403
    assert (
        client.get(reverse("transactions:investor-registration-licence", args=[registration.pk])).status_code
        == 403
    )
    client.force_login(other_county_staff)
    assert (
        client.get(reverse("transactions:investor-registration-detail", args=[registration.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("transactions:investor-registration-licence", args=[registration.pk])).status_code
        == 403
    )
    client.post(
        reverse("transactions:investor-registration-review", args=[registration.pk]), {"decision": "approve"}
    )
    registration.refresh_from_db()
    assert registration.status == ReviewStatus.PENDING
    # The registrant may see their own licence.
    client.force_login(User.objects.get(username="lvgu"))
    assert (
        client.get(reverse("transactions:investor-registration-licence", args=[registration.pk])).status_code
        == 200
    )


# --- API --------------------------------------------------------------------------------------


def test_api_list_approve_reject(client, data, media, county_staff, investor, django_assert_max_num_queries):
    registrations = [
        svc.register_investor(
            licence=licence(), **{**data, "uscc": uscc(20 + n), "username": f"api{n}", "name": f"接口公司{n}"}
        )
        for n in range(3)
    ]
    client.force_login(county_staff)
    base = "/api/v1/transactions/investor-registrations/"
    with django_assert_max_num_queries(10):
        listing = client.get(base)
    assert listing.status_code == 200 and listing.json()["count"] == 3
    assert listing.json()["results"][0]["contact_phone"] == "138****8000"
    first, second = registrations[0].pk, registrations[1].pk
    refused = client.post(f"{base}{second}/reject/", {"note": ""}, content_type="application/json")
    assert refused.status_code == 400 and "note" in refused.json()["fields"]
    ok = client.post(f"{base}{first}/approve/", {}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    again = client.post(f"{base}{first}/reject/", {"note": "x"}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert (
        client.post(f"{base}{second}/reject/", {"note": "不符合"}, content_type="application/json").json()[
            "status"
        ]
        == "rejected"
    )
    client.force_login(investor)
    assert client.get(base).json()["count"] == 0
    assert client.post(f"{base}{registrations[2].pk}/approve/").status_code == 404
