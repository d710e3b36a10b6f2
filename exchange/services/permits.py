"""Department permits the platform keeps beside the registry: 林木采伐许可证 (forestry) and 取水许可证
(water). They are the departments' records: recorded and corrected by whoever exchanges data for
the division (EXCHANGE_DATA: cooperative staff, department officers), one transaction each, the
permit row locked when changed, history by pghistory triggers."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from directory.permissions import Capability, can
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.services.common import check_transition

from ..models import HarvestPermit, PermitStatus, WaterPermit

# A permit is issued valid; it expires or is revoked (注销); a revoked permit stays revoked.
PERMIT_TRANSITIONS = {
    PermitStatus.VALID: {PermitStatus.VALID, PermitStatus.EXPIRED, PermitStatus.REVOKED},
    PermitStatus.EXPIRED: {PermitStatus.EXPIRED, PermitStatus.REVOKED},
    PermitStatus.REVOKED: {PermitStatus.REVOKED},
}

HARVEST_FIELDS = (
    "asset",
    "holder_name",
    "issuer",
    "species",
    "harvest_type",
    "area_mu",
    "volume_m3",
    "valid_from",
    "valid_until",
    "status",
)
WATER_FIELDS = (
    "division",
    "asset",
    "holder_name",
    "holder",
    "issuer",
    "water_source",
    "purpose",
    "annual_volume_m3",
    "valid_from",
    "valid_until",
    "status",
)
TEXT_LIMITS = {
    "number": 60,
    "holder_name": 200,
    "issuer": 200,
    "species": 100,
    "harvest_type": 50,
    "water_source": 200,
    "purpose": 100,
}


def _require(actor, division):
    if not can(actor, Capability.EXCHANGE_DATA, division=division):
        raise PermissionDeniedError(_("您没有权限登记该区划的许可证。"))


def _clean(data, *, positive, non_negative=(), places):
    """Field errors of a permit's values (all fields given); returns the cleaned values."""
    errors, cleaned = {}, dict(data)
    for name, limit in TEXT_LIMITS.items():
        if name not in data:
            continue
        value = (data.get(name) or "").strip()
        if not value:
            errors[name] = [_("必填项为空。")]
        elif len(value) > limit:
            errors[name] = [_("最多 %(n)s 个字符。") % {"n": limit}]
        cleaned[name] = value
    for name in (*positive, *non_negative):
        value = data.get(name)
        if not isinstance(value, Decimal) or not value.is_finite():
            errors[name] = [_("应为数字。")]
        elif name in positive and value <= 0:
            errors[name] = [_("须大于 0。")]
        elif value < 0:
            errors[name] = [_("不能为负。")]
        elif value != value.quantize(Decimal(1).scaleb(-places[name])):
            errors[name] = [_("最多 %(n)s 位小数。") % {"n": places[name]}]
    start, end = data.get("valid_from"), data.get("valid_until")
    if not isinstance(start, date):
        errors["valid_from"] = [_("请填写有效期起。")]
    if not isinstance(end, date):
        errors["valid_until"] = [_("请填写有效期止。")]
    elif isinstance(start, date) and end < start:
        errors["valid_until"] = [_("有效期止不能早于有效期起。")]
    if data.get("status", PermitStatus.VALID) not in PermitStatus.values:
        errors["status"] = [_("状态应为 有效、已过期 或 已注销。")]
    if errors:
        raise DomainError(_("许可证信息有误，请检查各字段。"), code="invalid", fields=errors)
    return cleaned


def _save_new(model, actor, reason, **values):
    try:
        with transaction.atomic(), audit_context(user=actor, reason=reason):
            return model.objects.create(recorded_by=actor, **values)
    except IntegrityError as exc:
        if "number" in str(exc):
            message = _("许可证号已登记。")
            raise ConflictError(message, code="duplicate", fields={"number": [message]}) from None
        raise


def _apply_changes(permit, actor, reason, cleaned, fields):
    check_transition(PERMIT_TRANSITIONS, PermitStatus(permit.status), cleaned["status"], _status_label)
    changed = [name for name in fields if getattr(permit, name) != cleaned[name]]
    if not changed:
        return permit
    with audit_context(user=actor, reason=reason):
        for name in changed:
            setattr(permit, name, cleaned[name])
        permit.save(update_fields=changed)
    return permit


def _status_label(status):
    return PermitStatus(status).label


# --- harvest permits ----------------------------------------------------------------------------

HARVEST_PLACES = {"area_mu": 2, "volume_m3": 2}


def _clean_harvest(data):
    if data.get("asset") is None:
        raise DomainError(_("请选择采伐地块。"), code="invalid", fields={"asset": [_("请选择采伐地块。")]})
    return _clean(data, positive=("area_mu",), non_negative=("volume_m3",), places=HARVEST_PLACES)


@transaction.atomic
def record_harvest_permit(
    *, actor, number, status=PermitStatus.VALID, reason="record harvest permit", **data
):
    """Record a 林木采伐许可证 for an asset within the actor's reach (area > 0, volume ≥ 0,
    validity dates in order); the permit number is unique."""
    cleaned = _clean_harvest({"number": number, "status": status, **data})
    _require(actor, cleaned["asset"].division)
    values = {name: cleaned[name] for name in HARVEST_FIELDS}
    return _save_new(HarvestPermit, actor, reason, number=cleaned["number"], **values)


@transaction.atomic
def update_harvest_permit(*, actor, permit, reason="correct harvest permit", **data):
    """Correct a harvest permit (any of its fields but the number) or change its status along
    PERMIT_TRANSITIONS."""
    permit = HarvestPermit.objects.select_for_update().select_related("asset__division").get(pk=permit.pk)
    _require(actor, permit.asset.division)
    current = {name: getattr(permit, name) for name in HARVEST_FIELDS}
    cleaned = _clean_harvest({**current, **data})
    _require(actor, cleaned["asset"].division)
    return _apply_changes(permit, actor, reason, cleaned, HARVEST_FIELDS)


# --- water permits ------------------------------------------------------------------------------

WATER_PLACES = {"annual_volume_m3": 4}


def _clean_water(data):
    if data.get("division") is None:
        raise DomainError(
            _("请选择取水地点所在区划。"),
            code="invalid",
            fields={"division": [_("请选择取水地点所在区划。")]},
        )
    return _clean(data, positive=("annual_volume_m3",), places=WATER_PLACES)


@transaction.atomic
def record_water_permit(
    *, actor, number, status=PermitStatus.VALID, asset=None, holder=None, reason="record water permit", **data
):
    """Record a 取水许可证 in a division within the actor's reach (annual volume > 0, validity dates
    in order), optionally linked to an asset (also within reach) and to the holder's party."""
    cleaned = _clean_water({"number": number, "status": status, "asset": asset, "holder": holder, **data})
    _require(actor, cleaned["division"])
    if cleaned["asset"] is not None:
        _require(actor, cleaned["asset"].division)
    values = {name: cleaned[name] for name in WATER_FIELDS}
    return _save_new(WaterPermit, actor, reason, number=cleaned["number"], **values)


@transaction.atomic
def update_water_permit(*, actor, permit, reason="correct water permit", **data):
    permit = WaterPermit.objects.select_for_update().select_related("division").get(pk=permit.pk)
    _require(actor, permit.division)
    current = {name: getattr(permit, name) for name in WATER_FIELDS}
    cleaned = _clean_water({**current, **data})
    _require(actor, cleaned["division"])
    if cleaned["asset"] is not None:
        _require(actor, cleaned["asset"].division)
    return _apply_changes(permit, actor, reason, cleaned, WATER_FIELDS)
