# ruff: noqa: F811  (pytest fixtures imported from test_packages_services)
"""Package pages and API: list (filters, sort, export, query pins), create, detail, actions, photos."""

import json

import pytest
from django.urls import reverse

from transactions.models import PackagePhoto, PackageStatus, ResourcePackage

from .test_packages_services import (  # noqa: F401  (fixtures)
    collected,
    collection_contract,
    create,
    make_valuation,
    other_county_staff,
    png_file,
    village_clerk,
)


@pytest.fixture
def packages(county_staff, village, collected):
    return [create(county_staff, village, collected(1), name=f"资源包{n}") for n in range(4)]


def test_list_filters_sorts_exports_with_pinned_queries(
    client, county_staff, packages, django_assert_max_num_queries
):
    client.force_login(county_staff)
    url = reverse("transactions:package-list")
    with django_assert_max_num_queries(12):
        page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and all(p.code in body for p in packages)
    ResourcePackage.objects.filter(pk=packages[0].pk).update(status=PackageStatus.READY)
    ready = client.get(url, {"status": "ready"}).content.decode()
    assert packages[0].code in ready and packages[1].code not in ready
    assert packages[2].code in client.get(url, {"code": packages[2].code}).content.decode()
    assert client.get(url, {"sort": "code"}).status_code == 200
    export = client.get(url, {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_create_page(client, county_staff, village, collected):
    first, second = collected(2)
    client.force_login(county_staff)
    url = reverse("transactions:package-create")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"division": village.pk, "name": "包", "assets": "NOPE-1"})
    assert bad.status_code == 400 and "找不到资源：NOPE-1" in bad.content.decode()
    response = client.post(
        url, {"division": village.pk, "name": "示范包", "assets": f"{first.code}\n{second.code}"}
    )
    package = ResourcePackage.objects.get()
    assert response.status_code == 302 and response["Location"] == package.get_absolute_url()
    assert package.items.count() == 2
    again = client.post(url, {"division": village.pk, "name": "重复", "assets": first.code})
    assert again.status_code == 400 and package.code in again.content.decode()
    assert ResourcePackage.objects.count() == 1


def test_create_page_refused_to_investor(client, investor):
    client.force_login(investor)
    assert client.get(reverse("transactions:package-create")).status_code == 403


def test_detail_shows_summary_map_and_actions(
    client,
    county_staff,
    village,
    collected,
    django_assert_max_num_queries,
):
    assets = collected(3)
    make_valuation(assets[0], ["100.00", "23.45"], user=county_staff)
    package = create(county_staff, village, assets)
    client.force_login(county_staff)
    url = package.get_absolute_url()
    with django_assert_max_num_queries(16):
        page = client.get(url)
    body = page.content.decode()
    assert "123.45" in body and assets[1].code in body and "package-features" in body
    features = json.loads(
        body.split('id="package-features" type="application/json">')[1].split("</script>")[0]
    )
    assert len(features["features"]) == 3
    assert "设为可挂牌" in body
    client.post(reverse("transactions:package-action", args=[package.pk, "ready"]))
    package.refresh_from_db()
    assert package.status == PackageStatus.READY
    client.post(reverse("transactions:package-action", args=[package.pk, "draft"]))
    client.post(reverse("transactions:package-asset-remove", args=[package.pk, assets[2].pk]))
    assert package.items.count() == 2
    response = client.post(
        reverse("transactions:package-action", args=[package.pk, "add-assets"]),
        {"assets": assets[2].code},
        follow=True,
    )
    assert "资源已加入资源包" in response.content.decode() and package.items.count() == 3
    response = client.post(
        reverse("transactions:package-action", args=[package.pk, "dissolve"]), {"reason": ""}, follow=True
    )
    assert "解散原因" in response.content.decode()
    client.post(reverse("transactions:package-action", args=[package.pk, "dissolve"]), {"reason": "不再打包"})
    package.refresh_from_db()
    assert package.status == PackageStatus.DISSOLVED


def test_photo_upload_serve_remove(client, county_staff, investor, village, collected, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    package = create(county_staff, village, collected(1))
    client.force_login(county_staff)
    upload = reverse("transactions:package-action", args=[package.pk, "photos"])
    response = client.post(upload, {"image": png_file(), "caption": "村口"}, follow=True)
    assert "照片已上传" in response.content.decode()
    fake = client.post(
        upload, {"image": png_file("x.png").__class__("x.jpg", b"nope", "image/jpeg")}, follow=True
    )
    assert "不是有效的" in fake.content.decode()
    photo = PackagePhoto.objects.get()
    served = client.get(reverse("transactions:package-photo", args=[photo.pk]))
    assert served.status_code == 200 and b"".join(served.streaming_content).startswith(b"\x89PNG")
    client.force_login(investor)
    assert client.get(reverse("transactions:package-photo", args=[photo.pk])).status_code == 404
    client.post(reverse("transactions:package-photo-remove", args=[photo.pk]))
    assert PackagePhoto.objects.count() == 1
    client.force_login(county_staff)
    client.post(reverse("transactions:package-photo-remove", args=[photo.pk]))
    assert not PackagePhoto.objects.exists()


def test_actions_refused_to_other_county(client, other_county_staff, packages):
    client.force_login(other_county_staff)
    package = packages[0]
    assert client.get(package.get_absolute_url()).status_code == 404
    client.post(reverse("transactions:package-action", args=[package.pk, "ready"]))
    package.refresh_from_db()
    assert package.status == PackageStatus.DRAFT


# --- API --------------------------------------------------------------------------------------


def test_api_list_retrieve_create(
    client, county_staff, investor, village, packages, collected, django_assert_max_num_queries
):
    client.force_login(county_staff)
    base = "/api/v1/transactions/packages/"
    with django_assert_max_num_queries(8):
        listing = client.get(base)
    assert listing.status_code == 200 and listing.json()["count"] == 4
    assert listing.json()["results"][0]["asset_count"] == 1
    detail = client.get(f"{base}{packages[0].pk}/").json()
    asset = packages[0].items.get().asset
    assert detail["summary"]["area_m2"] == str(asset.area_m2)
    assert detail["summary"]["unvalued"] == [asset.code]
    (new_asset,) = collected(1)
    payload = {"division": village.code, "name": "接口包", "assets": [new_asset.code]}
    created = client.post(base, payload, content_type="application/json")
    assert created.status_code == 201 and created.json()["summary"]["assets"][0]["code"] == new_asset.code
    duplicate = client.post(base, payload, content_type="application/json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "in_other_package"
    missing = client.post(base, {**payload, "assets": ["NOPE"]}, content_type="application/json")
    assert missing.status_code == 400 and "assets" in missing.json()["fields"]
    client.force_login(investor)
    assert client.get(base).json()["count"] == 0
    refused = client.post(base, {**payload, "assets": [new_asset.code]}, content_type="application/json")
    assert refused.status_code == 403
    assert ResourcePackage.objects.count() == 5
