import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from directory.models import Notification, User
from resources import listings
from resources.models import Asset, IdleAssetListing, ListingPhoto, ResourceType
from tmcs.errors import DomainError, InvalidTransition, PermissionDeniedError

from .conftest import square


def png(name="house.png", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 140, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def clerk(demo_region):
    return User.objects.get(username="village_clerk")


@pytest.fixture
def farmhouse_type(catalog):
    return ResourceType.objects.get(code="farmhouse")


@pytest.fixture
def listing(clerk, farmhouse_type):
    return listings.create_listing(
        actor=clerk,
        resource_type=farmhouse_type,
        title="村口闲置农房",
        description="两层砖木结构，空置五年。",
        location="示范村12号",
        area_estimate_m2="186.50",
        expected_use="lease",
        expected_price="12000",
        price_note="每年",
        photos=[png()],
    )


def test_clerk_lists_with_photos_and_staff_are_notified(listing, county_staff):
    assert listing.collective.name == "示范村股份经济合作社（演示）"
    assert ListingPhoto.objects.filter(listing=listing).count() == 1
    assert Notification.objects.filter(recipient=county_staff, title="新的闲置资产挂出").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"expected_price": "-5"}, "expected_price"),
        ({"expected_price": "1.234"}, "expected_price"),
        ({"expected_use": "gift"}, "expected_use"),
        ({"expected_price": "abc"}, "expected_price"),
    ],
)
def test_bad_listings_are_refused_and_nothing_is_written(clerk, farmhouse_type, fields, field):
    data = {
        "resource_type": farmhouse_type,
        "title": "农房",
        "description": "说明",
        "location": "村里",
        "expected_use": "lease",
        **fields,
    }
    with pytest.raises(DomainError) as excinfo:
        listings.create_listing(actor=clerk, **data)
    assert field in excinfo.value.fields
    assert not IdleAssetListing.objects.exists()


def test_fake_or_huge_photos_are_refused(clerk, farmhouse_type):
    data = {
        "resource_type": farmhouse_type,
        "title": "农房",
        "description": "说明",
        "location": "村里",
        "expected_use": "lease",
    }
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    with pytest.raises(DomainError, match="不是有效的"):
        listings.create_listing(actor=clerk, photos=[fake], **data)
    with pytest.raises(DomainError, match="最多上传"):
        listings.create_listing(actor=clerk, photos=[png(f"{i}.png") for i in range(10)], **data)
    assert not IdleAssetListing.objects.exists() and not ListingPhoto.objects.exists()


def test_only_village_clerks_list(county_staff, farmhouse_type):
    with pytest.raises(PermissionDeniedError):
        listings.create_listing(
            actor=county_staff,
            resource_type=farmhouse_type,
            title="x",
            description="x",
            location="x",
            expected_use="lease",
        )


def test_request_information_then_resubmit_then_accept_as_new_asset(
    listing, county_staff, clerk, farmhouse_type
):
    with pytest.raises(DomainError, match="补充的材料"):
        listings.request_information(actor=county_staff, listing=listing, note="")
    listings.request_information(actor=county_staff, listing=listing, note="请补充房屋产权证明照片")
    assert Notification.objects.filter(recipient=clerk, title="合作社请您补充挂出材料").exists()
    listings.resubmit_listing(
        actor=clerk,
        listing=listing,
        photos=[png("deed.png")],
        resource_type=farmhouse_type,
        title="村口闲置农房",
        description="已补充产权证明。",
        location="示范村12号",
        expected_use="lease",
    )
    accepted = listings.accept_listing(
        actor=county_staff,
        listing=listing,
        geometry=square(dx=0.03, size=0.0002),
        attributes={"floor_area_m2": 186.5, "storeys": 2, "condition": "基本完好"},
    )
    assert accepted.status == "accepted" and accepted.asset.status == "draft"
    assert accepted.asset.resource_type == farmhouse_type
    assert Notification.objects.filter(recipient=clerk, title="闲置资产已纳入合作社资源池").exists()
    with pytest.raises(InvalidTransition):
        listings.decline_listing(actor=county_staff, listing=listing, note="改主意")


def test_accept_links_an_existing_asset(listing, county_staff, make_asset):
    asset = make_asset()
    accepted = listings.accept_listing(actor=county_staff, listing=listing, existing_asset=asset)
    assert accepted.asset == asset
    assert Asset.objects.count() == 1


def test_bank_cannot_review_and_decline_needs_a_reason(listing, bank_officer, county_staff):
    with pytest.raises(PermissionDeniedError):
        listings.decline_listing(actor=bank_officer, listing=listing, note="x")
    with pytest.raises(DomainError, match="理由"):
        listings.decline_listing(actor=county_staff, listing=listing, note=" ")
    listings.decline_listing(actor=county_staff, listing=listing, note="房屋为危房，暂不收储")
    listing.refresh_from_db()
    assert listing.status == "declined"


def test_web_create_detail_and_private_photos(client, clerk, farmhouse_type, bank_officer):
    client.force_login(clerk)
    response = client.post(
        "/resources/listings/new/",
        {
            "resource_type": farmhouse_type.pk,
            "title": "老粮仓",
            "description": "集体老粮仓一座",
            "location": "村委旁",
            "expected_use": "shares",
            "photos": [png("a.png"), png("b.png")],
        },
    )
    listing = IdleAssetListing.objects.get(title="老粮仓")
    assert response["Location"] == listing.get_absolute_url()
    html = client.get(listing.get_absolute_url()).content.decode()
    photo = listing.photos.first()
    assert f"/resources/listing-photos/{photo.pk}/" in html
    assert client.get(f"/resources/listing-photos/{photo.pk}/").status_code == 200
    client.force_login(bank_officer)
    assert client.get(f"/resources/listing-photos/{photo.pk}/").status_code == 404
    assert client.get(listing.get_absolute_url()).status_code == 404


def test_web_review_actions(client, listing, county_staff):
    client.force_login(county_staff)
    client.post(f"/resources/listings/{listing.pk}/request-info/", {"note": "请补充四至范围"})
    listing.refresh_from_db()
    assert listing.status == "info_requested" and listing.staff_note == "请补充四至范围"
    assert client.post(f"/resources/listings/{listing.pk}/nonsense/").status_code == 404
