"""A licence's life after it is granted: inspections, suspension (which blocks new batches — see
batches.licence_blocks_batches), reinstatement after a passed inspection, withdrawal (final) and
expiry. Every change: licence row lock, a LicenceAction, a journal entry, the producer told."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.permissions import Capability
from directory.selectors import users_with
from directory.services import notify
from journal.models import EntryKind
from journal.services import record as journal_record
from tmcs.audit import audit_context
from tmcs.errors import ConflictError
from transactions.services.common import check_transition, required_text

from ..models import (
    LICENCE_TRANSITIONS,
    Inspection,
    InspectionKind,
    InspectionResult,
    Licence,
    LicenceAction,
    LicenceActionKind,
    LicenceStatus,
)
from .common import day, invalid, require_brand_desk


def _locked(licence):
    return Licence.objects.select_for_update().select_related("brand", "producer").get(pk=licence.pk)


def _label(status):
    return LicenceStatus(status).label


def _change(actor, licence, *, to_status, action, effective_on, reason, document="", inspection=None):
    check_transition(LICENCE_TRANSITIONS, licence.status, to_status, _label)
    with audit_context(user=actor, reason=f"licence {licence.number}: {action}"):
        licence.status, licence.status_reason = to_status, reason[:300]
        licence.save(update_fields=["status", "status_reason"])
        LicenceAction.objects.create(
            licence=licence,
            kind=action,
            effective_on=effective_on,
            reason=reason[:300],
            document=(document or "").strip()[:100],
            inspection=inspection,
            actor=actor,
        )
    journal_record(
        kind=EntryKind.LICENCE_CHANGED,
        references=[licence.number],
        public={
            "action": str(action),
            "brand": licence.brand.name,
            "producer": licence.producer.name,
            "status": licence.status,
            "effective_on": effective_on,
            "reason": reason[:300],
        },
        detail={"licence": licence.pk, "inspection": inspection.pk if inspection else None},
        actor=actor,
    )
    recipients = users_with(Capability.RECORD_PRODUCTION, organization=licence.producer)
    title = _("品牌授权 %(number)s：%(status)s") % {
        "number": licence.number,
        "status": licence.get_status_display(),
    }
    transaction.on_commit(
        lambda: notify(
            recipients=recipients,
            title=title,
            body=reason,
            level="warning" if to_status != "active" else "info",
        )
    )
    return licence


@transaction.atomic
def record_inspection(
    *, actor, licence, kind, inspected_on, inspector, result, findings, rectify_by=None, document=""
):
    """Record an inspection of a licensed producer. A failed one suspends the licence at once."""
    licence = _locked(licence)
    require_brand_desk(actor, licence.division)
    if kind not in InspectionKind.values:
        raise invalid("kind", _("请选择检查类型。"))
    if result not in InspectionResult.values:
        raise invalid("result", _("请选择检查结论。"))
    inspected_on = day(inspected_on, "inspected_on")
    if inspected_on < licence.valid_from:
        raise invalid("inspected_on", _("检查日期不能早于授权起始日。"))
    if licence.status in (LicenceStatus.WITHDRAWN, LicenceStatus.EXPIRED):
        raise ConflictError(
            _("授权已%(s)s，不再检查。") % {"s": licence.get_status_display()}, code="licence_closed"
        )
    if result == InspectionResult.RECTIFY:
        rectify_by = day(rectify_by, "rectify_by", not_after_today=False) if rectify_by else None
        if rectify_by is None or rectify_by <= inspected_on:
            raise invalid("rectify_by", _("限期整改须填写晚于检查日期的整改期限。"))
    else:
        rectify_by = None
    with audit_context(user=actor, reason=f"inspect licence {licence.number}"):
        inspection = Inspection.objects.create(
            licence=licence,
            kind=kind,
            inspected_on=inspected_on,
            inspector=required_text(inspector, "inspector", _("请填写检查机构。"), max_length=200),
            result=result,
            findings=required_text(findings, "findings", _("请填写检查发现。"), max_length=5000),
            rectify_by=rectify_by,
            document=(document or "").strip()[:100],
            recorded_by=actor,
        )
    if result == InspectionResult.FAIL and licence.status == LicenceStatus.ACTIVE:
        _change(
            actor,
            licence,
            to_status=LicenceStatus.SUSPENDED,
            action=LicenceActionKind.SUSPEND,
            effective_on=inspected_on,
            reason=_("检查不合格，暂停使用品牌：%(f)s") % {"f": inspection.findings[:200]},
            document=inspection.document,
            inspection=inspection,
        )
    return inspection


@transaction.atomic
def suspend_licence(*, actor, licence, reason, effective_on=None, document="", inspection=None):
    licence = _locked(licence)
    require_brand_desk(actor, licence.division)
    reason = required_text(reason, "reason", _("请填写暂停原因。"), max_length=300)
    effective_on = day(effective_on or timezone.localdate(), "effective_on")
    return _change(
        actor,
        licence,
        to_status=LicenceStatus.SUSPENDED,
        action=LicenceActionKind.SUSPEND,
        effective_on=effective_on,
        reason=reason,
        document=document,
        inspection=inspection,
    )


def _last_suspension(licence):
    return licence.actions.filter(kind=LicenceActionKind.SUSPEND).order_by("-recorded_at", "-pk").first()


@transaction.atomic
def reinstate_licence(*, actor, licence, reason, inspection):
    """Lift a suspension: only on a passed inspection of this licence dated on or after it."""
    licence = _locked(licence)
    require_brand_desk(actor, licence.division)
    reason = required_text(reason, "reason", _("请填写恢复原因。"), max_length=300)
    suspension = _last_suspension(licence)
    if (
        inspection is None
        or inspection.licence_id != licence.pk
        or inspection.result != InspectionResult.PASS
        or (suspension is not None and inspection.inspected_on < suspension.effective_on)
    ):
        raise ConflictError(
            _("恢复使用须有暂停之后的合格检查记录。"),
            code="inspection_required",
            fields={"inspection": [_("请选择暂停后的合格检查。")]},
        )
    if timezone.localdate() > licence.valid_to:
        raise ConflictError(_("授权已过有效期，不能恢复。"), code="licence_expired")
    return _change(
        actor,
        licence,
        to_status=LicenceStatus.ACTIVE,
        action=LicenceActionKind.REINSTATE,
        effective_on=inspection.inspected_on,
        reason=reason,
        inspection=inspection,
    )


@transaction.atomic
def withdraw_licence(*, actor, licence, reason, effective_on=None, document=""):
    """Withdraw for good (a new licence needs a new grant)."""
    licence = _locked(licence)
    require_brand_desk(actor, licence.division)
    reason = required_text(reason, "reason", _("请填写撤销原因。"), max_length=300)
    effective_on = day(effective_on or timezone.localdate(), "effective_on")
    return _change(
        actor,
        licence,
        to_status=LicenceStatus.WITHDRAWN,
        action=LicenceActionKind.WITHDRAW,
        effective_on=effective_on,
        reason=reason,
        document=document,
    )


def expire_licences(on=None):
    """Licences past their term become 已到期 (daily task; idempotent). The action is recorded in the
    name of the staff member who granted the licence."""
    on = on or timezone.localdate()
    expired = 0
    for pk in Licence.objects.filter(status__in=["active", "suspended"], valid_to__lt=on).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            licence = (
                Licence.objects.select_for_update(skip_locked=True).filter(pk=pk, valid_to__lt=on).first()
            )
            if licence is None or licence.status not in ("active", "suspended"):
                continue
            _change(
                licence.granted_by,
                licence,
                to_status=LicenceStatus.EXPIRED,
                action=LicenceActionKind.EXPIRE,
                effective_on=licence.valid_to,
                reason=_("授权期满"),
            )
            expired += 1
    return expired
