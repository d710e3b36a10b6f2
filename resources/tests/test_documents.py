"""Photos and documents of an asset: checked content, private downloads, evidence kept once the
asset has gone to 公示."""

import hashlib
import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from directory.models import AdministrativeDivision, OrganizationKind, Role, User
from directory.services import create_organization
from resources import services
from resources.models import AssetDocument
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def image(name="parcel.png", format="PNG", size=(800, 600)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (60, 120, 70)).save(buffer, format=format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{format.lower()}")


def pdf(name="contract.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(media):
    return sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file())


def flash(response):
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.fixture
def clerk(demo_region):
    return User.objects.get(username="village_clerk")


@pytest.fixture
def registered(make_asset, county_staff):
    asset = make_asset()
    for status in ("under_review", "in_public_notice", "registered"):
        services.transition_asset(actor=county_staff, asset=asset, to_status=status)
    return asset


def test_photo_and_pdf_are_stored_with_type_size_hash_and_thumbnail(client, county_staff, make_asset, media):
    asset = make_asset()
    photo = image()
    data = photo.read()
    photo.seek(0)
    client.force_login(county_staff)
    response = client.post(
        f"/resources/assets/{asset.pk}/documents/", {"kind": "photo", "title": "东侧远景", "file": photo}
    )
    assert response.status_code == 302 and "资料已上传" in flash(response)
    document = AssetDocument.objects.get(asset=asset)
    assert (document.content_type, document.size, document.sha256) == (
        "image/png",
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert document.uploaded_by == county_staff and document.file.name.startswith(f"assets/{asset.pk}/")
    with Image.open(document.thumbnail.path) as thumbnail:
        assert thumbnail.format == "JPEG" and max(thumbnail.size) == 480
    client.post(
        f"/resources/assets/{asset.pk}/documents/",
        {"kind": "contract", "title": "", "file": pdf("流转合同.pdf")},
    )
    contract = AssetDocument.objects.get(asset=asset, kind="contract")
    assert (
        contract.title == "流转合同" and contract.content_type == "application/pdf" and not contract.thumbnail
    )
    page = client.get(asset.get_absolute_url()).content.decode()
    assert f"/resources/documents/{document.pk}/thumbnail/" in page  # photos as thumbnails
    assert "流转合同" in page and f"/resources/documents/{contract.pk}/" in page  # documents listed
    response = client.get(f"/resources/documents/{document.pk}/")
    assert response["Content-Type"] == "image/png" and b"".join(response.streaming_content) == data
    assert response["Cache-Control"] == "private, max-age=300"
    response = client.get(f"/resources/documents/{document.pk}/thumbnail/")
    assert response["Content-Type"] == "image/jpeg"
    response = client.get(f"/resources/documents/{contract.pk}/")
    assert response["Content-Type"] == "application/pdf" and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    assert client.get(f"/resources/documents/{contract.pk}/thumbnail/").status_code == 404
    odd = services.attach_document(
        actor=county_staff, asset=asset, kind="other", title='说明"书/\r\nX', file=pdf(content=PDF + b"%odd")
    )
    response = client.get(f"/resources/documents/{odd.pk}/")
    assert response.status_code == 200 and "\n" not in response["Content-Disposition"]
    event = AssetDocument.pgh_event_model.objects.get(pgh_obj_id=document.pk)
    assert event.pgh_context.metadata["reason"] == "attach document: 东侧远景"
    assert len(stored_files(media)) == 4


@pytest.mark.parametrize(
    ("upload", "kind", "message"),
    [
        (lambda: pdf("fake.pdf", b"<html>not a pdf</html>"), "contract", "不是有效的 PDF"),
        (lambda: pdf("renamed.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100), "contract", "不是有效的 PDF"),
        (lambda: image("photo.jpg", format="PNG"), "photo", "扩展名与内容不符"),
        (lambda: SimpleUploadedFile("photo.png", b"GIF89a" + b"0" * 50), "photo", "不是有效的"),
        (lambda: SimpleUploadedFile("virus.exe", b"MZ" + b"0" * 50), "other", "只接受"),
        (lambda: SimpleUploadedFile("contract.docx", b"PK\x03\x04" + b"0" * 50), "contract", "只接受"),
        (lambda: image("scan.gif", format="GIF"), "photo", "只接受"),
        (lambda: pdf("survey.pdf"), "photo", "照片须为"),
        (lambda: SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024)), "survey", "超过 20 MB"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    client, county_staff, make_asset, media, upload, kind, message
):
    asset = make_asset()
    with pytest.raises(DomainError, match=message) as excinfo:
        services.attach_document(actor=county_staff, asset=asset, kind=kind, title="x", file=upload())
    assert "file" in excinfo.value.fields
    client.force_login(county_staff)
    response = client.post(
        f"/resources/assets/{asset.pk}/documents/", {"kind": kind, "title": "x", "file": upload()}
    )
    assert response.status_code == 302 and message in flash(response)
    assert not AssetDocument.objects.exists()
    assert stored_files(media) == []


def test_a_document_is_stored_once_per_asset(county_staff, make_asset, media):
    asset = make_asset()
    services.attach_document(actor=county_staff, asset=asset, kind="contract", title="合同", file=pdf())
    with pytest.raises(ConflictError, match="已上传过（合同）"):
        services.attach_document(actor=county_staff, asset=asset, kind="other", title="又一份", file=pdf())
    assert AssetDocument.objects.count() == 1 and len(stored_files(media)) == 1


def test_only_those_who_see_the_asset_download(
    client, county_staff, make_asset, make_member, bank_officer, demo_region
):
    asset = make_asset()
    document = services.attach_document(
        actor=county_staff, asset=asset, kind="photo", title="照片", file=image()
    )
    admin = User.objects.get(username="admin")
    elsewhere = create_organization(
        actor=admin,
        name="云和县两山合作社",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    outsider = make_member(Role.COOP_STAFF, elsewhere)
    for user in (outsider, bank_officer):
        client.force_login(user)
        assert client.get(f"/resources/documents/{document.pk}/").status_code == 404
        assert client.get(f"/resources/documents/{document.pk}/thumbnail/").status_code == 404
        assert client.post(f"/resources/documents/{document.pk}/remove/").status_code == 404
        assert (
            client.post(
                f"/resources/assets/{asset.pk}/documents/", {"kind": "photo", "file": image("b.png")}
            ).status_code
            == 404
        )
    client.logout()
    response = client.get(f"/resources/documents/{document.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(User.objects.get(username="auditor"))  # sees it, may not add to it
    assert client.get(f"/resources/documents/{document.pk}/").status_code == 200
    page = client.get(asset.get_absolute_url()).content.decode()
    assert f"/resources/assets/{asset.pk}/documents/" not in page
    assert (
        client.post(
            f"/resources/assets/{asset.pk}/documents/", {"kind": "photo", "file": image("c.png")}
        ).status_code
        == 403
    )
    assert AssetDocument.objects.count() == 1


def test_the_uploader_removes_a_document_before_registration_only(
    client, clerk, county_staff, make_asset, media, django_capture_on_commit_callbacks
):
    asset = make_asset()
    mine = services.attach_document(actor=clerk, asset=asset, kind="survey", title="测绘图", file=pdf())
    theirs = services.attach_document(
        actor=county_staff, asset=asset, kind="photo", title="照片", file=image()
    )
    client.force_login(clerk)
    page = client.get(asset.get_absolute_url()).content.decode()
    assert f"/resources/documents/{mine.pk}/remove/" in page
    assert f"/resources/documents/{theirs.pk}/remove/" not in page
    assert client.post(f"/resources/documents/{theirs.pk}/remove/").status_code == 403
    with pytest.raises(PermissionDeniedError):
        services.remove_document(actor=county_staff, document=mine)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/resources/documents/{mine.pk}/remove/")
    assert "资料已删除" in flash(response)
    assert list(AssetDocument.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert not (media / mine.file.name).exists() and (media / theirs.file.name).exists()
    deleted = AssetDocument.pgh_event_model.objects.get(pgh_obj_id=mine.pk, pgh_label="delete")
    assert (
        deleted.sha256 == mine.sha256 and deleted.pgh_context.metadata["reason"] == "remove document: 测绘图"
    )


def test_documents_of_a_registered_asset_are_evidence(client, county_staff, clerk, registered, media):
    document = services.attach_document(
        actor=county_staff, asset=registered, kind="certificate_scan", title="林权证扫描件", file=pdf()
    )
    with pytest.raises(ConflictError, match="不能删除"):
        services.remove_document(actor=county_staff, document=document)
    client.force_login(county_staff)
    page = client.get(registered.get_absolute_url()).content.decode()
    assert "/remove/" not in page and "不能再删除" in page
    response = client.post(f"/resources/documents/{document.pk}/remove/")
    assert "不能删除" in flash(response)
    assert AssetDocument.objects.filter(pk=document.pk).exists() and (media / document.file.name).exists()
    # Adding to a registered asset is a registry act: a village clerk may not.
    client.force_login(clerk)
    assert (
        client.post(
            f"/resources/assets/{registered.pk}/documents/", {"kind": "photo", "file": image("late.png")}
        ).status_code
        == 403
    )
    assert AssetDocument.objects.count() == 1
