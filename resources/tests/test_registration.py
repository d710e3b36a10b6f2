import datetime
import subprocess

import pytest
from django.utils import timezone

from directory.models import Notification
from resources import registration as reg
from resources.certificates import render_certificate_pdf
from resources.models import Asset, AssetStatus, Objection, Registration, RegistrationStatus, Restriction
from resources.tasks import close_public_notices
from tmcs.errors import ConflictError, DomainError, InvalidTransition


@pytest.fixture
def in_notice(make_asset, county_staff):
    asset = make_asset()
    registration = reg.submit_registration(actor=county_staff, asset=asset)
    return reg.review_registration(actor=county_staff, registration=registration, approve=True)


def test_submit_review_and_notice_freeze(in_notice, settings):
    asset = in_notice.asset
    asset.refresh_from_db()
    assert asset.status == AssetStatus.IN_PUBLIC_NOTICE
    assert in_notice.notice_ends_at - in_notice.notice_starts_at == datetime.timedelta(
        days=settings.TMCS_PUBLIC_NOTICE_DAYS
    )
    freeze = Restriction.objects.get(asset=asset, kind="notice_freeze")
    assert freeze.status == "active"
    assert Notification.objects.filter(recipient=in_notice.applicant, title="登记申请已进入公示").exists()


def test_second_open_application_is_refused(make_asset, county_staff):
    asset = make_asset()
    reg.submit_registration(actor=county_staff, asset=asset)
    with pytest.raises((ConflictError, InvalidTransition)):
        reg.submit_registration(actor=county_staff, asset=asset)
    assert Registration.objects.filter(asset=asset).count() == 1


def test_reject_needs_a_reason_and_returns_the_asset_to_draft(make_asset, county_staff):
    registration = reg.submit_registration(actor=county_staff, asset=make_asset())
    with pytest.raises(DomainError, match="驳回须写明理由"):
        reg.review_registration(actor=county_staff, registration=registration, approve=False)
    reg.review_registration(actor=county_staff, registration=registration, approve=False, note="界址不清")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED
    assert Asset.objects.get(pk=registration.asset_id).status == AssetStatus.DRAFT


def test_notice_end_registers_with_certificate_and_releases_the_freeze(in_notice):
    assert reg.close_due_notices(now=in_notice.notice_ends_at - datetime.timedelta(seconds=1)) == 0
    assert reg.close_due_notices(now=in_notice.notice_ends_at) == 1
    assert reg.close_due_notices(now=in_notice.notice_ends_at) == 0  # idempotent
    in_notice.refresh_from_db()
    assert in_notice.status == RegistrationStatus.REGISTERED
    assert in_notice.certificate_number.startswith(f"浙({timezone.localdate().year})莲都区生态资源登记第")
    assert len(in_notice.verification_code) == 12
    assert Asset.objects.get(pk=in_notice.asset_id).status == AssetStatus.REGISTERED
    assert not Restriction.objects.filter(
        asset=in_notice.asset, kind="notice_freeze", status="active"
    ).exists()


def test_open_objection_blocks_registration_until_resolved(in_notice, county_staff):
    objection = reg.lodge_objection(
        registration=in_notice,
        objector_name="邻户王某",
        contact_phone="13900001111",
        reason="东侧界址与我家承包地重叠约两米",
    )
    assert (
        objection.contact_phone_masked == "139****1111"
        and "13900001111" not in objection.contact_phone_ciphertext
    )
    assert reg.close_due_notices(now=in_notice.notice_ends_at) == 0
    reg.resolve_objection(
        actor=county_staff, objection=objection, upheld=False, resolution="经实地核查界址无误"
    )
    assert reg.close_due_notices(now=in_notice.notice_ends_at) == 1


def test_upheld_objection_rejects_the_registration(in_notice, county_staff):
    objection = reg.lodge_objection(
        registration=in_notice,
        objector_name="村民李某",
        contact_phone="0578-2123456",
        reason="该地块为本人承包地，有承包合同为证",
    )
    reg.resolve_objection(actor=county_staff, objection=objection, upheld=True, resolution="承包合同属实")
    in_notice.refresh_from_db()
    assert in_notice.status == RegistrationStatus.REJECTED
    assert Asset.objects.get(pk=in_notice.asset_id).status == AssetStatus.DRAFT
    with pytest.raises(InvalidTransition):
        reg.resolve_objection(actor=county_staff, objection=objection, upheld=False, resolution="改判")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"objector_name": ""}, "objector_name"),
        ({"contact_phone": "123"}, "contact_phone"),
        ({"reason": "太短"}, "reason"),
    ],
)
def test_bad_objections_are_refused(in_notice, fields, field):
    data = {
        "objector_name": "张某",
        "contact_phone": "13900001111",
        "reason": "理由足够长，写满十个字以上。",
        **fields,
    }
    with pytest.raises(DomainError) as excinfo:
        reg.lodge_objection(registration=in_notice, **data)
    assert field in excinfo.value.fields
    assert not Objection.objects.exists()


def test_objection_after_the_notice_is_refused(in_notice):
    reg.close_due_notices(now=in_notice.notice_ends_at)
    with pytest.raises(ConflictError, match="不在公示期内"):
        reg.lodge_objection(
            registration=in_notice,
            objector_name="迟到者",
            contact_phone="13900001111",
            reason="公示结束以后才提出的异议",
        )


def test_public_pages_without_login(client, in_notice):
    assert in_notice.asset.code in client.get("/notices/").content.decode()
    response = client.post(
        f"/notices/{in_notice.pk}/", {"objector_name": "", "contact_phone": "1", "reason": ""}
    )
    assert response.status_code == 400 and "请填写异议人姓名" in response.content.decode()
    response = client.post(
        f"/notices/{in_notice.pk}/",
        {
            "objector_name": "赵某",
            "contact_phone": "13900002222",
            "reason": "北侧与集体林地界线不符，请核查。",
        },
    )
    assert response.status_code == 302 and Objection.objects.count() == 1
    assert client.get("/verify/NOSUCHCODE00/").status_code == 404


def test_certificate_pdf_renders_chinese_and_verifies(client, in_notice, county_staff, tmp_path):
    reg.close_due_notices(now=in_notice.notice_ends_at)
    in_notice.refresh_from_db()
    pdf = render_certificate_pdf(in_notice)
    (tmp_path / "c.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "两山合作社生态资源登记证明" in text
    assert in_notice.certificate_number in text and in_notice.verification_code in text
    assert in_notice.asset.code in text
    client.force_login(county_staff)
    response = client.get(f"/resources/registrations/{in_notice.pk}/certificate.pdf")
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    client.logout()
    page = client.get(f"/verify/{in_notice.verification_code.lower()}/")
    assert page.status_code == 200 and "核验通过" in page.content.decode()


def test_beat_task_eagerly(in_notice):
    Registration.objects.filter(pk=in_notice.pk).update(
        notice_ends_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert close_public_notices.apply().result == {"registered": 1}


def test_web_flow_submit_and_review(client, make_asset, county_staff):
    asset = make_asset()
    client.force_login(county_staff)
    response = client.post(f"/resources/assets/{asset.pk}/register/")
    registration = Registration.objects.get(asset=asset)
    assert response["Location"] == registration.get_absolute_url()
    client.post(f"/resources/registrations/{registration.pk}/review/", {"decision": "reject"})
    registration.refresh_from_db()
    assert registration.status == "submitted"  # a rejection without a reason is refused
    client.post(f"/resources/registrations/{registration.pk}/review/", {"decision": "approve"})
    registration.refresh_from_db()
    assert registration.status == "in_public_notice"
