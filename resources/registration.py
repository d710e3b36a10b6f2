"""确权登记 services: application → review → 公示 with objections → registered with a certificate.

The asset follows the registration (under review → in 公示 → registered, or back to draft), and a
notice freeze restriction covers the 公示 period. Registrations whose notice has ended without an
open objection are registered by `close_due_notices`, run by Celery beat.
"""

import datetime
import secrets

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import AdministrativeDivision
from directory.permissions import Capability
from directory.services import notify
from tmcs import crypto
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, InvalidTransition
from tmcs.ids import IdentifierError, mask_phone, normalize_phone

from . import journaling, services
from .models import (
    AssetStatus,
    Objection,
    ObjectionStatus,
    Registration,
    RegistrationStatus,
    Restriction,
    RestrictionKind,
    RightStatus,
)

VERIFICATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


@transaction.atomic
def submit_registration(*, actor, asset):
    services._require(actor, Capability.DRAFT_ASSETS, asset.division)
    if asset.status == AssetStatus.DRAFT:
        services.transition_asset(
            actor=actor, asset=asset, to_status=AssetStatus.UNDER_REVIEW, reason="申请确权登记"
        )
    elif asset.status != AssetStatus.UNDER_REVIEW:
        raise InvalidTransition(_("只有草稿或审核中的资源可以申请登记。"))
    try:
        with transaction.atomic(), audit_context(user=actor, reason="submit registration"):
            return Registration.objects.create(asset=asset, applicant=actor)
    except IntegrityError:
        raise ConflictError(_("该资源已有进行中的登记申请。"), code="duplicate") from None


def _locked(registration):
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("asset__division")
        .get(pk=registration.pk)
    )


@transaction.atomic
def review_registration(*, actor, registration, approve, note=""):
    registration = _locked(registration)
    asset = registration.asset
    services._require(actor, Capability.MANAGE_REGISTRY, asset.division)
    if registration.status != RegistrationStatus.SUBMITTED:
        raise InvalidTransition(_("该申请已审核。"))
    note = (note or "").strip()
    if not approve and not note:
        raise DomainError(_("驳回须写明理由。"), code="invalid", fields={"note": [_("请填写驳回理由。")]})
    now = timezone.now()
    registration.reviewed_by, registration.reviewed_at, registration.review_note = actor, now, note
    with audit_context(
        user=actor, reason="approve registration" if approve else f"reject registration: {note}"
    ):
        if approve:
            registration.status = RegistrationStatus.IN_PUBLIC_NOTICE
            registration.notice_starts_at = now
            registration.notice_ends_at = now + datetime.timedelta(days=settings.TMCS_PUBLIC_NOTICE_DAYS)
            services.transition_asset(
                actor=actor, asset=asset, to_status=AssetStatus.IN_PUBLIC_NOTICE, reason="公示"
            )
            _freeze(asset, registration, actor)
        else:
            registration.status = RegistrationStatus.REJECTED
            services.transition_asset(
                actor=actor, asset=asset, to_status=AssetStatus.DRAFT, reason=f"驳回：{note}"
            )
        registration.save()
    notify(
        recipients=[registration.applicant],
        title=_("登记申请已进入公示") if approve else _("登记申请被驳回"),
        body=f"{asset.code} {asset.name}" + (f"：{note}" if note else ""),
        link=registration.get_absolute_url(),
        level="info" if approve else "warning",
    )
    return registration


def _freeze(asset, registration, actor):
    today = timezone.localdate()
    Restriction.objects.create(
        asset=asset,
        kind=RestrictionKind.NOTICE_FREEZE,
        period=services.parse_period(
            today, timezone.localtime(registration.notice_ends_at).date() + datetime.timedelta(days=1)
        ),
        source_document=f"确权登记公示 #{registration.pk}",
        created_by=actor,
    )


def _unfreeze(asset, registration, reason):
    Restriction.objects.filter(
        asset=asset,
        kind=RestrictionKind.NOTICE_FREEZE,
        status=RightStatus.ACTIVE,
        source_document=f"确权登记公示 #{registration.pk}",
    ).update(status=RightStatus.ENDED, ended_at=timezone.now(), end_reason=reason)


@transaction.atomic
def lodge_objection(*, registration, objector_name, contact_phone, reason):
    """Anyone may object during 公示 (public page, no account)."""
    registration = _locked(registration)
    now = timezone.now()
    if registration.status != RegistrationStatus.IN_PUBLIC_NOTICE or now >= registration.notice_ends_at:
        raise ConflictError(_("该登记不在公示期内，不能提出异议。"), code="not_in_notice")
    errors = {}
    objector_name, reason = (objector_name or "").strip(), (reason or "").strip()
    if not objector_name:
        errors["objector_name"] = [_("请填写异议人姓名。")]
    if len(reason) < 10:
        errors["reason"] = [_("请写明异议理由（至少10个字）。")]
    try:
        phone = normalize_phone(contact_phone)
    except IdentifierError as exc:
        errors["contact_phone"] = [str(exc)]
    if errors:
        raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)
    with audit_context(reason="lodge objection"):
        objection = Objection.objects.create(
            registration=registration,
            objector_name=objector_name,
            reason=reason,
            contact_phone_ciphertext=crypto.encrypt(phone),
            contact_phone_masked=mask_phone(phone),
        )
    if registration.reviewed_by:
        notify(
            recipients=[registration.reviewed_by],
            title=_("公示收到异议"),
            body=f"{registration.asset.code}：{reason[:100]}",
            link=registration.get_absolute_url(),
            level="warning",
        )
    return objection


@transaction.atomic
def resolve_objection(*, actor, objection, upheld, resolution):
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    registration = _locked(objection.registration)
    services._require(actor, Capability.MANAGE_REGISTRY, registration.asset.division)
    if objection.status != ObjectionStatus.OPEN:
        raise InvalidTransition(_("该异议已处理。"))
    resolution = (resolution or "").strip()
    if not resolution:
        raise DomainError(
            _("请填写处理意见。"), code="invalid", fields={"resolution": [_("请填写处理意见。")]}
        )
    with audit_context(user=actor, reason=f"resolve objection: {resolution}"):
        objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        objection.resolution, objection.resolved_by, objection.resolved_at = resolution, actor, timezone.now()
        objection.save()
        if upheld and registration.status == RegistrationStatus.IN_PUBLIC_NOTICE:
            registration.status, registration.review_note = (
                RegistrationStatus.REJECTED,
                f"异议成立：{resolution}",
            )
            registration.save(update_fields=["status", "review_note"])
            _unfreeze(registration.asset, registration, "异议成立")
            services.transition_asset(
                actor=actor, asset=registration.asset, to_status=AssetStatus.UNDER_REVIEW, reason="异议成立"
            )
            services.transition_asset(
                actor=actor, asset=registration.asset, to_status=AssetStatus.DRAFT, reason="异议成立"
            )
    return objection


def _certificate_number(registration):
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('resources_certificate_seq')")
        (number,) = cursor.fetchone()
    county = AdministrativeDivision.objects.filter(
        code=registration.asset.division.code[:6] + "000000"
    ).first()
    place = county.name if county else registration.asset.division.name
    return f"浙({timezone.localdate().year}){place}生态资源登记第{number:07d}号"


def _verification_code():
    return "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(12))


def close_due_notices(*, now=None):
    """Register every registration whose 公示 has ended with no open objection. Idempotent and safe
    to run from several workers: each registration is taken under SKIP LOCKED in its own transaction."""
    now = now or timezone.now()
    registered = 0
    due = Registration.objects.filter(status=RegistrationStatus.IN_PUBLIC_NOTICE, notice_ends_at__lte=now)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            registration = (
                Registration.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("asset__division", "reviewed_by")
                .filter(pk=pk, status=RegistrationStatus.IN_PUBLIC_NOTICE)
                .first()
            )
            if registration is None or registration.objections.filter(status=ObjectionStatus.OPEN).exists():
                continue
            actor = registration.reviewed_by
            with audit_context(user=actor, reason="公示期满，自动登记"):
                services.transition_asset(
                    actor=actor,
                    asset=registration.asset,
                    to_status=AssetStatus.REGISTERED,
                    reason="公示期满，自动登记",
                )
                _unfreeze(registration.asset, registration, "公示期满")
                registration.status, registration.registered_at = RegistrationStatus.REGISTERED, now
                registration.certificate_number = _certificate_number(registration)
                registration.verification_code = _verification_code()
                registration.save()
                journaling.certificate_issued(actor, registration.asset, registration.certificate_number)
            notify(
                recipients=[registration.applicant],
                title=_("资源已完成确权登记"),
                body=f"{registration.asset.code}：{registration.certificate_number}",
                link=registration.get_absolute_url(),
                level="success",
            )
            registered += 1
    return registered
