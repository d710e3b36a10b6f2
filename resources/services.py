"""Every write to the registry: assets, rights and restrictions. One transaction each; rows are
locked in the fixed order asset → right → restriction; history is written by pghistory triggers
and tagged through tmcs.audit."""

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.contrib.gis.db.models import MultiPolygonField
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, Func, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from psycopg.types.range import DateRange

from directory.permissions import Capability, can
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError

from . import journaling
from .models import (
    ASSET_TRANSITIONS,
    EXCLUSIVE_RIGHT_KINDS,
    SPATIALLY_ACTIVE_STATUSES,
    Asset,
    AssetDocument,
    AssetStatus,
    DocumentKind,
    ResourceType,
    Restriction,
    RestrictionKind,
    Right,
    RightKind,
    RightStatus,
)

# Rights that may secure a loan. Collective land ownership and homestead use may not
# (民法典 Art. 399); qualification and income rights are not transferable securities here.
PLEDGEABLE_RIGHT_KINDS = {
    RightKind.CONTRACT,
    RightKind.MANAGEMENT,
    RightKind.USE,
    RightKind.CARBON_SINK,
    RightKind.WATER,
}
# An income right may be pledged only when it is certificated and marked `pledge_once` (a
# receivable pledge, 民法典 Art. 440, such as the income right behind a savings slip).
CERTIFICATED_PLEDGEABLE_KINDS = {RightKind.INCOME}


def _require(actor, capability, division):
    if not can(actor, capability, division=division):
        raise PermissionDeniedError(_("您没有权限在该区划执行此操作。"))


# --- geometry and attributes ----------------------------------------------------------------


def parse_geometry(value):
    """GeoJSON/WKT/GEOS → a valid MultiPolygon in SRID 4490, or DomainError with a Chinese message."""
    if value is None or value == "":
        return None
    try:
        shape = value if isinstance(value, GEOSGeometry) else GEOSGeometry(value)
    except (ValueError, TypeError):
        raise DomainError(
            _("空间范围无法解析（应为 GeoJSON 或 WKT）。"),
            code="invalid",
            fields={"geometry": [_("空间范围无法解析。")]},
        ) from None
    if shape.srid not in (None, 4326, 4490):
        raise DomainError(
            _("空间范围须为 CGCS2000 经纬度（EPSG:4490）。"),
            code="invalid",
            fields={"geometry": [_("坐标系不受支持。")]},
        )
    if isinstance(shape, Polygon):
        shape = MultiPolygon(shape)
    if not isinstance(shape, MultiPolygon):
        raise DomainError(
            _("空间范围须为面（Polygon/MultiPolygon）。"),
            code="invalid",
            fields={"geometry": [_("几何类型须为面。")]},
        )
    shape.srid = 4490
    xmin, ymin, xmax, ymax = shape.extent
    if not (73 <= xmin <= xmax <= 136 and 3 <= ymin <= ymax <= 54):
        raise DomainError(
            _("坐标超出中国范围，请确认为经纬度。"),
            code="invalid",
            fields={"geometry": [_("坐标超出中国范围。")]},
        )
    if not shape.valid:
        raise DomainError(
            _("空间范围无效：%(reason)s") % {"reason": shape.valid_reason},
            code="invalid",
            fields={"geometry": [shape.valid_reason]},
        )
    return shape


def validate_attributes(resource_type, attributes):
    validator = Draft202012Validator(resource_type.attribute_schema or {}, format_checker=FormatChecker())
    errors = {}
    for error in sorted(validator.iter_errors(attributes or {}), key=lambda e: list(e.path)):
        name = (
            ".".join(str(p) for p in error.path)
            or (error.validator == "required" and error.message.split("'")[1])
            or "_"
        )
        title = (resource_type.attribute_schema.get("properties", {}).get(name) or {}).get("title", name)
        errors.setdefault(f"attributes.{name}", []).append(
            _("“%(title)s”不符合要求：%(error)s") % {"title": title, "error": error.message}
        )
    if errors:
        raise DomainError(_("资源属性不符合该类型的要求。"), code="invalid", fields=errors)


# --- assets ---------------------------------------------------------------------------------


def _next_asset_code(division):
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('resources_asset_code_seq')")
        (number,) = cursor.fetchone()
    return f"ZY{division.short_code}{number:08d}"


@transaction.atomic
def create_asset(
    *, actor, resource_type, division, name, geometry=None, attributes=None, quantity=None, quality_grade=""
):
    """Record an asset as a draft (overlaps are checked when it is submitted)."""
    _require(actor, Capability.DRAFT_ASSETS, division)
    resource_type = _type_for_share(resource_type)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写资源名称。"), code="invalid", fields={"name": [_("请填写资源名称。")]})
    if not resource_type.is_active:
        raise DomainError(
            _("该资源类型已停用。"), code="invalid", fields={"resource_type": [_("该资源类型已停用。")]}
        )
    shape = parse_geometry(geometry)
    if shape is None and resource_type.geometry_required:
        raise DomainError(
            _("该类型的资源须有空间范围。"), code="invalid", fields={"geometry": [_("请提供空间范围。")]}
        )
    if (
        shape is not None
        and division.boundary is not None
        and not division.boundary.buffer(0.0001).contains(shape)
    ):
        raise DomainError(
            _("空间范围超出所在区划的边界。"), code="invalid", fields={"geometry": [_("超出区划边界。")]}
        )
    validate_attributes(resource_type, attributes)
    if quantity is not None and Decimal(quantity) < 0:
        raise DomainError(_("数量不能为负。"), code="invalid", fields={"quantity": [_("数量不能为负。")]})
    with audit_context(user=actor, reason="create asset"):
        asset = Asset.objects.create(
            code=_next_asset_code(division),
            name=name,
            resource_type=resource_type,
            division=division,
            geometry=shape,
            area_m2=area_in_square_metres(shape),
            attributes=attributes or {},
            quantity=quantity,
            quality_grade=quality_grade,
            created_by=actor,
        )
    return asset


def _type_for_share(resource_type):
    """The type re-read FOR SHARE: a catalog edit (which locks it FOR UPDATE and checks every asset
    against the new schema) then waits for this asset, or this asset sees the edited type."""
    return ResourceType.objects.raw(
        "SELECT * FROM resources_resourcetype WHERE id = %s FOR SHARE", [resource_type.pk]
    )[0]


def area_in_square_metres(shape):
    """Area by PostGIS in EPSG:4549 (CGCS2000 3° Gauss-Krüger, CM 120°E), rounded to 0.01 m²."""
    if shape is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT round(ST_Area(ST_Transform(ST_GeomFromEWKB(%s), 4549))::numeric, 2)", [bytes(shape.ewkb)]
        )
        return cursor.fetchone()[0]


@dataclass
class Overlap:
    asset: Asset
    area_m2: Decimal


def find_overlaps(asset):
    """Spatially active assets of the same overlap group whose intersection with `asset` exceeds
    the tolerance, largest overlap first."""
    group = asset.resource_type.overlap_group
    if asset.geometry is None or not group:
        return []
    tolerance = Decimal(str(settings.TMCS_OVERLAP_TOLERANCE_M2))
    candidates = (
        Asset.objects.filter(
            resource_type__overlap_group=group,
            status__in=SPATIALLY_ACTIVE_STATUSES,
            geometry__intersects=asset.geometry,
        )
        .exclude(pk=asset.pk)
        .annotate(overlap_m2=OverlapArea("geometry", _geometry_param(asset.geometry)))
        .filter(overlap_m2__gt=tolerance)
        .order_by("-overlap_m2")
    )
    return [Overlap(other, other.overlap_m2) for other in candidates]


class OverlapArea(Func):
    """Area in m² (EPSG:4549) of the intersection of two geometries."""

    template = "round(ST_Area(ST_Transform(ST_Intersection(%(expressions)s), 4549))::numeric, 2)"
    output_field = DecimalField(max_digits=16, decimal_places=2)


def _geometry_param(shape):
    return Value(shape, output_field=MultiPolygonField(srid=4490))


def _lock_overlap_group(group):
    # Two submissions in the same group must not both pass the check before either is written.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tmcs-asset-overlap:{group}"])


@transaction.atomic
def transition_asset(*, actor, asset, to_status, reason=""):
    asset = (
        Asset.objects.select_for_update(of=("self",))
        .select_related("resource_type", "division")
        .get(pk=asset.pk)
    )
    to_status = AssetStatus(to_status)
    capability = (
        Capability.DRAFT_ASSETS if to_status == AssetStatus.UNDER_REVIEW else Capability.MANAGE_REGISTRY
    )
    _require(actor, capability, asset.division)
    if to_status not in ASSET_TRANSITIONS[AssetStatus(asset.status)]:
        raise InvalidTransition(
            _("资源状态不能从“%(from)s”变为“%(to)s”。")
            % {"from": asset.get_status_display(), "to": to_status.label}
        )
    entering_active = asset.status in (AssetStatus.DRAFT,) and to_status in SPATIALLY_ACTIVE_STATUSES
    if entering_active and asset.resource_type.overlap_group:
        _lock_overlap_group(asset.resource_type.overlap_group)
        overlaps = find_overlaps(asset)
        if overlaps:
            first = overlaps[0]
            raise ConflictError(
                _("与已登记资源 %(code)s（%(name)s）重叠 %(area)s 平方米，不能提交。")
                % {"code": first.asset.code, "name": first.asset.name, "area": first.area_m2},
                code="overlap",
                fields={"geometry": [f"{o.asset.code}: {o.area_m2} m²" for o in overlaps]},
            )
    before = asset.status
    with audit_context(user=actor, reason=reason or f"asset {asset.status} → {to_status}"):
        asset.status = to_status
        asset.save(update_fields=["status", "updated_at"])
    journaling.asset_status_changed(actor, asset, before)
    return asset


# --- rights ---------------------------------------------------------------------------------


def parse_share(value):
    try:
        share = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise DomainError(
            _("份额格式不正确，应为如 1、1/3 或 0.5。"),
            code="invalid",
            fields={"share": [_("份额格式不正确。")]},
        ) from None
    if not 0 < share <= 1:
        raise DomainError(
            _("份额须大于0且不超过1。"), code="invalid", fields={"share": [_("份额须大于0且不超过1。")]}
        )
    return share


def parse_period(start, end=None):
    """[start, end) as a DateRange; end None = open-ended (e.g. collective ownership)."""
    if not isinstance(start, date) or (end is not None and not isinstance(end, date)):
        raise DomainError(_("请填写有效期的开始日期。"), code="invalid", fields={"period": [_("日期无效。")]})
    if end is not None and end <= start:
        raise DomainError(
            _("有效期的结束日期必须晚于开始日期。"),
            code="invalid",
            fields={"period": [_("结束日期必须晚于开始日期。")]},
        )
    return DateRange(start, end, "[)")


def _max_concurrent_share(periods_and_shares):
    """Largest sum of shares in force at any one time (sweep over period boundaries)."""
    events = []
    for period, share in periods_and_shares:
        events.append((period.lower, 1, share))
        events.append(
            (period.upper or date.max, 0, share)
        )  # ends sort before starts on the same day ([) ranges)
    total, peak = Fraction(0), Fraction(0)
    for _day, starts, share in sorted(events, key=lambda e: (e[0], e[1])):
        total += share if starts else -share
        peak = max(peak, total)
    return peak


@transaction.atomic
def grant_right(
    *,
    actor,
    asset,
    holder,
    kind,
    share=1,
    start,
    end=None,
    source_document,
    certificate_number=None,
    supersedes=None,
    pledge_once=False,
):
    """Record a right. Shares of one kind never sum above 1 at any time; exclusive kinds never overlap.
    `pledge_once` marks a certificated claim that may secure one loan at a time (see Right)."""
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    _require(actor, Capability.MANAGE_REGISTRY, asset.division)
    kind = RightKind(kind)
    share = parse_share(share)
    period = parse_period(start, end)
    if asset.status == AssetStatus.RETIRED:
        raise ConflictError(_("资源已注销，不能登记权利。"))
    _refuse_if_frozen(asset)
    source_document = (source_document or "").strip()
    if not source_document:
        raise DomainError(
            _("请填写权源文件。"), code="invalid", fields={"source_document": [_("请填写权源文件。")]}
        )
    if kind in EXCLUSIVE_RIGHT_KINDS:
        clash = Right.objects.filter(
            asset=asset, kind__in=EXCLUSIVE_RIGHT_KINDS, status=RightStatus.ACTIVE, period__overlap=period
        )
        if clash.exists():  # the exclusion constraint is the backstop when two requests race
            raise _exclusive_conflict(asset, kind, period)
    same_kind = Right.objects.filter(
        asset=asset, kind=kind, status=RightStatus.ACTIVE, period__overlap=period
    )
    existing = [(r.period, Fraction(r.share_numerator, r.share_denominator)) for r in same_kind]
    if _max_concurrent_share([*existing, (period, share)]) > 1:
        raise ConflictError(
            _("同一时期内“%(kind)s”的份额合计将超过1。") % {"kind": kind.label},
            code="share_exceeded",
            fields={"share": [_("份额合计超过1。")]},
        )
    try:
        with transaction.atomic(), audit_context(user=actor, reason="grant right"):
            right = Right.objects.create(
                asset=asset,
                holder=holder,
                kind=kind,
                share_numerator=share.numerator,
                share_denominator=share.denominator,
                period=period,
                source_document=source_document,
                certificate_number=(certificate_number or "").strip() or None,
                supersedes=supersedes,
                pledge_once=bool(pledge_once),
                created_by=actor,
            )
    except IntegrityError as exc:
        raise _right_conflict(exc, asset, kind, period) from None
    journaling.right_granted(actor, right)
    return right


def _exclusive_conflict(asset, kind, period):
    other = (
        Right.objects.filter(
            asset=asset, kind__in=EXCLUSIVE_RIGHT_KINDS, status=RightStatus.ACTIVE, period__overlap=period
        )
        .select_related("holder__person", "holder__organization")
        .first()
    )
    return ConflictError(
        _("该时期内已有有效的%(kind)s（%(holder)s，%(start)s 起），经营权/使用权不能重叠。")
        % {
            "kind": other.get_kind_display() if other else kind.label,
            "holder": other.holder if other else "?",
            "start": other.period.lower if other else "?",
        },
        code="period_overlap",
        fields={"period": [_("与已有权利期限重叠。")]},
    )


def _right_conflict(exc, asset, kind, period):
    message = str(exc)
    if "exclusive_rights_do_not_overlap" in message:
        return _exclusive_conflict(asset, kind, period)
    if "certificate_number" in message:
        return ConflictError(
            _("证书编号已被使用。"),
            code="duplicate",
            fields={"certificate_number": [_("证书编号已被使用。")]},
        )
    return exc


@transaction.atomic
def end_right(*, actor, right, reason):
    """End a right (it is never edited or deleted). Refused while it secures an active pledge."""
    asset = Asset.objects.select_for_update().get(pk=right.asset_id)
    right = Right.objects.select_for_update().get(pk=right.pk)
    _require(actor, Capability.MANAGE_REGISTRY, asset.division)
    if right.status != RightStatus.ACTIVE:
        raise InvalidTransition(_("该权利已终止。"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写终止原因。"), code="invalid", fields={"reason": [_("请填写终止原因。")]})
    if right.restrictions.filter(
        kind__in=[RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE], status=RightStatus.ACTIVE
    ).exists():
        raise ConflictError(_("该权利设有有效的抵质押，须先解除。"), code="encumbered")
    with audit_context(user=actor, reason=f"end right: {reason}"):
        right.status, right.ended_at, right.end_reason = RightStatus.ENDED, timezone.now(), reason
        right.save(update_fields=["status", "ended_at", "end_reason"])
    journaling.right_ended(actor, right)
    return right


@transaction.atomic
def supersede_right(*, actor, right, reason, **new):
    """End `right` and record its successor in one transaction (transfer, change of share, renewal)."""
    ended = end_right(actor=actor, right=right, reason=reason)
    new.setdefault("holder", ended.holder)
    new.setdefault("kind", ended.kind)
    return grant_right(actor=actor, asset=ended.asset, supersedes=ended, **new)


# --- restrictions ---------------------------------------------------------------------------

# While one of these is active on an asset, no right, lease or pledge is recorded on it: a notice
# freeze covers the 公示 of a registration (set and lifted by resources.registration), a dispute
# freeze a dispute over the asset (set by freeze_for_dispute, lifted by release_restriction).
FREEZE_KINDS = (RestrictionKind.NOTICE_FREEZE, RestrictionKind.DISPUTE_FREEZE)


def active_freeze(asset):
    return (
        Restriction.objects.filter(asset=asset, kind__in=FREEZE_KINDS, status=RightStatus.ACTIVE)
        .order_by("pk")
        .first()
    )


def _refuse_if_frozen(asset):
    """Call with the asset locked: freezes are set under the same lock, so none can slip in."""
    freeze = active_freeze(asset)
    if freeze is not None:
        raise ConflictError(
            _("资源处于%(freeze)s中（%(document)s，%(start)s 起），解除冻结前不能登记权利、租赁或抵质押。")
            % {
                "freeze": freeze.get_kind_display(),
                "document": freeze.source_document,
                "start": freeze.period.lower,
            },
            code="frozen",
        )


def _refuse_if_retired(asset):
    if asset.status == AssetStatus.RETIRED:
        raise ConflictError(_("资源已注销，不能设立权利限制。"), code="retired")


def _required_text(value, field, message, max_length=200):
    value = (value or "").strip()
    if not value:
        raise DomainError(message, code="invalid", fields={field: [message]})
    if len(value) > max_length:
        too_long = _("不能超过 %(n)s 个字。") % {"n": max_length}
        raise DomainError(too_long, code="invalid", fields={field: [too_long]})
    return value


def _require_holder(holder):
    if holder is None:
        raise DomainError(_("请选择权利人。"), code="invalid", fields={"holder": [_("请选择权利人。")]})


@transaction.atomic
def add_lease(*, actor, asset, holder, start, end, source_document):
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    _require(actor, Capability.MANAGE_REGISTRY, asset.division)
    _refuse_if_retired(asset)
    _require_holder(holder)
    period = parse_period(start, end)
    if end is None:
        raise DomainError(
            _("租赁须有截止日期。"), code="invalid", fields={"period": [_("租赁须有截止日期。")]}
        )
    source_document = _required_text(source_document, "source_document", _("请填写依据文件。"))
    _refuse_if_frozen(asset)
    try:
        with transaction.atomic(), audit_context(user=actor, reason="lease"):
            lease = Restriction.objects.create(
                asset=asset,
                kind=RestrictionKind.LEASE,
                holder=holder,
                period=period,
                source_document=source_document,
                created_by=actor,
            )
            journaling.restriction_added(actor, lease)
            return lease
    except IntegrityError as exc:
        if "leases_do_not_overlap" not in str(exc):
            raise
        other = Restriction.objects.filter(
            asset=asset, kind=RestrictionKind.LEASE, status=RightStatus.ACTIVE, period__overlap=period
        ).first()
        raise ConflictError(
            _("该时期内资源已出租给 %(holder)s（%(start)s 至 %(end)s）。")
            % {
                "holder": other.holder if other else "?",
                "start": other.period.lower if other else "?",
                "end": other.period.upper if other else "?",
            },
            code="period_overlap",
            fields={"period": [_("与已有租赁期限重叠。")]},
        ) from None


@transaction.atomic
def add_pledge(
    *,
    actor,
    right,
    holder,
    rank,
    secured_amount,
    start,
    end,
    source_document,
    kind=RestrictionKind.PLEDGE,
    capacity=None,
    authorised_by_caller=False,
    journal_references=(),
):
    """Record a pledge or mortgage of `right` at `rank` (invariant 5).

    `capacity` is what the right can bear (its appraised value): with it, the active securities on
    the right plus this one may not exceed it, checked under the right's row lock so two requests
    cannot both fit. `authorised_by_caller` is for finance.services.pledges, which has already
    established the actor's authority (a bank pledging on an application the cooperative checked).
    """
    asset = Asset.objects.select_for_update().get(pk=right.asset_id)
    right = Right.objects.select_for_update().get(pk=right.pk)
    if not authorised_by_caller:
        _require(actor, Capability.MANAGE_REGISTRY, asset.division)
    _refuse_if_retired(asset)
    if kind not in (RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE):
        raise DomainError(_("请选择质押或抵押。"), code="invalid", fields={"kind": [_("请选择质押或抵押。")]})
    if right.status != RightStatus.ACTIVE:
        raise ConflictError(_("该权利已终止，不能设立抵质押。"))
    pledgeable = right.kind in PLEDGEABLE_RIGHT_KINDS or (
        right.kind in CERTIFICATED_PLEDGEABLE_KINDS and right.pledge_once and right.certificate_number
    )
    if not pledgeable:
        raise DomainError(
            _("“%(kind)s”不能设立抵质押。") % {"kind": right.get_kind_display()}, code="not_pledgeable"
        )
    _require_holder(holder)
    rank = int(rank) if str(rank).strip().isdigit() else 0
    if not 1 <= rank <= 99:
        raise DomainError(
            _("顺位须为 1 至 99 的整数。"), code="invalid", fields={"rank": [_("顺位须为 1 至 99 的整数。")]}
        )
    if right.pledge_once and rank != 1:
        pledged = right.restrictions.filter(
            kind__in=[RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE], status=RightStatus.ACTIVE
        ).exists()
        message = (
            _("%(certificate)s 只能质押一次，已设有质押。")
            if pledged
            else _("%(certificate)s 只能设立第1顺位质押。")
        ) % {"certificate": right.certificate_number}
        raise ConflictError(
            message,
            code="already_pledged" if pledged else "invalid_rank",
            fields={"rank": [_("该权利只能设立第1顺位质押。")]},
        )
    try:
        amount = Decimal(str(secured_amount))
    except ArithmeticError:
        amount = Decimal(0)
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise DomainError(
            _("担保金额须为正数，最多两位小数（元）。"),
            code="invalid",
            fields={"secured_amount": [_("金额无效。")]},
        )
    period = parse_period(start, end)
    right_end = right.period.upper
    if period.lower < right.period.lower or (right_end is not None and (end is None or end > right_end)):
        raise DomainError(
            _("抵质押期限不能超出权利的有效期。"), code="invalid", fields={"period": [_("超出权利有效期。")]}
        )
    source_document = _required_text(source_document, "source_document", _("请填写依据文件。"))
    _refuse_if_frozen(asset)
    if capacity is not None:
        _check_capacity(right, amount, Decimal(capacity))
    try:
        with transaction.atomic(), audit_context(user=actor, reason="pledge"):
            pledge = Restriction.objects.create(
                asset=asset,
                right=right,
                kind=kind,
                holder=holder,
                rank=rank,
                secured_amount=amount,
                period=period,
                source_document=source_document,
                created_by=actor,
            )
            journaling.restriction_added(actor, pledge, journal_references)
            return pledge
    except IntegrityError as exc:
        if "one_active_security_per_right_and_rank" not in str(exc):
            raise
        if right.pledge_once:
            raise ConflictError(
                _("%(certificate)s 只能质押一次，已设有质押。") % {"certificate": right.certificate_number},
                code="already_pledged",
            ) from None
        raise ConflictError(
            _("该权利第%(rank)s顺位已设有抵质押。") % {"rank": rank},
            code="rank_taken",
            fields={"rank": [_("顺位已被占用。")]},
        ) from None


def _check_capacity(right, amount, capacity):
    """The right's row is locked by the caller, so the sum read here cannot change before commit."""
    pledged = right.restrictions.filter(
        kind__in=[RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE], status=RightStatus.ACTIVE
    ).aggregate(total=Sum("secured_amount"))["total"] or Decimal(0)
    if pledged + amount > capacity:
        raise ConflictError(
            _(
                "担保金额超出该权利可承担的价值：评估价值 %(capacity)s 元，已设抵质押 %(pledged)s 元，本次 %(amount)s 元。"
            )
            % {"capacity": capacity, "pledged": pledged, "amount": amount},
            code="over_capacity",
            fields={
                "secured_amount": [_("超出可担保余额 %(left)s 元。") % {"left": max(capacity - pledged, 0)}]
            },
        )


# --- an asset's descriptive fields ---------------------------------------------------------------

_UNSET = object()  # "not given" (None is a value: no quantity)


@transaction.atomic
def update_asset_details(
    *, actor, asset, reason, name=_UNSET, quantity=_UNSET, quality_grade=_UNSET, attributes=_UNSET
):
    """Change an asset's name, quantity, quality grade or attributes (validated against its type's
    attribute schema), under the asset's row lock, with an audit reason. Geometry, type and
    division are not changed here: those are registry changes with their own procedure.

    Rules: MANAGE_REGISTRY in the asset's division; the type is read FOR SHARE so that a
    concurrent catalog edit either waits or is seen."""
    asset = Asset.objects.select_for_update(of=("self",)).select_related("division").get(pk=asset.pk)
    if not can(actor, Capability.MANAGE_REGISTRY, division=asset.division):
        raise PermissionDeniedError(_("您没有权限在该区划执行此操作。"))
    resource_type = ResourceType.objects.raw(
        "SELECT * FROM resources_resourcetype WHERE id = %s FOR SHARE", [asset.resource_type_id]
    )[0]
    changed = []
    if name is not _UNSET:
        name = (name or "").strip()
        if not name:
            raise DomainError(_("请填写资源名称。"), code="invalid", fields={"name": [_("请填写资源名称。")]})
        changed.append(("name", name))
    if quantity is not _UNSET:
        if quantity is not None and quantity < 0:
            raise DomainError(_("数量不能为负。"), code="invalid", fields={"quantity": [_("数量不能为负。")]})
        changed.append(("quantity", quantity))
    if quality_grade is not _UNSET:
        changed.append(("quality_grade", (quality_grade or "").strip()))
    if attributes is not _UNSET:
        validate_attributes(resource_type, attributes)
        changed.append(("attributes", attributes or {}))
    changed = [(field, value) for field, value in changed if getattr(asset, field) != value]
    if not changed:
        return asset
    with audit_context(user=actor, reason=reason):
        for field, value in changed:
            setattr(asset, field, value)
        asset.save(update_fields=[field for field, _value in changed] + ["updated_at"])
    if asset.status not in (AssetStatus.DRAFT, AssetStatus.UNDER_REVIEW):
        journaling.asset_changed(actor, asset, [field for field, _value in changed])
    return asset


@transaction.atomic
def freeze_for_dispute(*, actor, asset, reason, source_document, start=None):
    """争议冻结: from `start` until released, no right, lease or pledge is recorded on the asset."""
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    _require(actor, Capability.MANAGE_REGISTRY, asset.division)
    _refuse_if_retired(asset)
    reason = _required_text(reason, "reason", _("请填写争议事由。"), max_length=500)
    source_document = _required_text(source_document, "source_document", _("请填写依据文件。"))
    start = timezone.localdate() if start is None else start
    if isinstance(start, date) and start > timezone.localdate():
        raise DomainError(
            _("冻结的开始日期不能晚于今天。"), code="invalid", fields={"start": [_("开始日期不能晚于今天。")]}
        )
    period = parse_period(start)
    with audit_context(user=actor, reason=f"dispute freeze: {reason}"):
        freeze = Restriction.objects.create(
            asset=asset,
            kind=RestrictionKind.DISPUTE_FREEZE,
            period=period,
            source_document=source_document,
            reason=reason,
            created_by=actor,
        )
    journaling.restriction_added(actor, freeze)
    return freeze


@transaction.atomic
def release_restriction(*, actor, restriction, reason, authorised_by_caller=False, journal_references=()):
    """End a restriction. `authorised_by_caller` is for finance.services.pledges, which has already
    established the actor's authority (the pledgee bank releasing its own pledge on payoff)."""
    asset = Asset.objects.select_for_update().get(pk=restriction.asset_id)
    restriction = Restriction.objects.select_for_update().get(pk=restriction.pk)
    if not authorised_by_caller:
        _require(actor, Capability.MANAGE_REGISTRY, asset.division)
    if restriction.status != RightStatus.ACTIVE:
        raise InvalidTransition(_("该限制已解除。"))
    if restriction.kind == RestrictionKind.NOTICE_FREEZE:
        raise ConflictError(_("公示冻结随公示期满或异议成立自动解除，不能手工解除。"), code="notice_freeze")
    reason = _required_text(reason, "reason", _("请填写解除原因。"))
    with audit_context(user=actor, reason=f"release: {reason}"):
        restriction.status, restriction.ended_at, restriction.end_reason = (
            RightStatus.ENDED,
            timezone.now(),
            reason,
        )
        restriction.save(update_fields=["status", "ended_at", "end_reason"])
    journaling.restriction_released(actor, restriction, journal_references)
    return restriction


# --- monitoring -----------------------------------------------------------------------------


@transaction.atomic
def record_observation(*, actor, asset, observed_on, source, quantity=None, quality_grade="", note=""):
    """Record one dated measurement. The asset row keeps its registered quantity; the monitoring view
    reads the series (nothing is copied, so the two can never disagree)."""
    from .models import AssetObservation

    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    _require(actor, Capability.MANAGE_REGISTRY, asset.division)
    errors = {}
    if not isinstance(observed_on, date) or observed_on > timezone.localdate():
        errors["observed_on"] = [_("监测日期无效或晚于今天。")]
    source = (source or "").strip()
    if not source:
        errors["source"] = [_("请填写数据来源。")]
    if quantity is not None:
        quantity = Decimal(str(quantity))
        if quantity < 0:
            errors["quantity"] = [_("数量不能为负。")]
    if quantity is None and not (quality_grade or "").strip():
        errors["quantity"] = [_("数量和质量等级至少填写一项。")]
    if errors:
        raise DomainError(_("提交的数据有误，请检查各字段。"), code="invalid", fields=errors)
    try:
        with transaction.atomic(), audit_context(user=actor, reason="record observation"):
            observation = AssetObservation.objects.create(
                asset=asset,
                observed_on=observed_on,
                source=source,
                quantity=quantity,
                quality_grade=(quality_grade or "").strip(),
                note=(note or "").strip(),
                recorded_by=actor,
            )
    except IntegrityError:
        raise ConflictError(
            _("该来源在这一天已有监测记录。"),
            code="duplicate",
            fields={"observed_on": [_("重复的监测记录。")]},
        ) from None
    return observation


# --- photos and documents -------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# Pillow format → (content type, extensions it may carry)
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", {".jpg", ".jpeg"}),
    "PNG": ("image/png", {".png"}),
    "WEBP": ("image/webp", {".webp"}),
}
PDF_EXTENSIONS = {".pdf"}
DOCUMENT_EXTENSIONS = PDF_EXTENSIONS.union(*(extensions for _type, extensions in IMAGE_FORMATS.values()))
THUMBNAIL_BOX = (480, 480)
# Documents are evidence: once the asset has gone to 公示 they stay. Before that, their uploader
# may remove them, and drafting staff may add them; afterwards adding is a registry act.
REMOVABLE_DOCUMENT_STATUSES = (AssetStatus.DRAFT, AssetStatus.UNDER_REVIEW)


def _document_error(message):
    return DomainError(message, code="invalid", fields={"file": [message]})


def inspect_document(upload, kind=None):
    """(content type, size, sha256) of an upload whose content is what its extension says: a JPEG,
    PNG or WebP image that Pillow can read, or a PDF (by its magic bytes). Anything else is refused."""
    from pathlib import PurePath

    from PIL import Image, UnidentifiedImageError

    if upload is None:
        raise _document_error(_("请选择要上传的文件。"))
    extension = PurePath(upload.name or "").suffix.lower()
    if extension not in DOCUMENT_EXTENSIONS:
        raise _document_error(_("只接受 JPEG、PNG、WebP 图片或 PDF 文件。"))
    if not upload.size:
        raise _document_error(_("文件是空的。"))
    if upload.size > MAX_DOCUMENT_BYTES:
        raise _document_error(_("文件超过 20 MB。"))
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    if extension in PDF_EXTENSIONS:
        if upload.read(5) != b"%PDF-":
            upload.seek(0)
            raise _document_error(_("“%(name)s”不是有效的 PDF 文件。") % {"name": upload.name})
        upload.seek(0)
        content_type = "application/pdf"
    else:
        invalid = _("“%(name)s”不是有效的 JPEG/PNG/WebP 图片，或扩展名与内容不符。") % {"name": upload.name}
        try:
            with Image.open(upload) as image:
                if image.width * image.height > Image.MAX_IMAGE_PIXELS:
                    raise UnidentifiedImageError
                image.verify()
                known = IMAGE_FORMATS.get(image.format)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise _document_error(invalid) from None
        finally:
            upload.seek(0)
        if known is None or extension not in known[1]:
            raise _document_error(invalid)
        content_type = known[0]
    if kind == DocumentKind.PHOTO and not content_type.startswith("image/"):
        raise _document_error(_("照片须为 JPEG、PNG 或 WebP 图片。"))
    return content_type, upload.size, digest.hexdigest()


def _thumbnail(upload):
    from io import BytesIO

    from django.core.files.base import ContentFile
    from PIL import Image, ImageOps

    upload.seek(0)
    with Image.open(upload) as image:
        picture = ImageOps.exif_transpose(image)
        picture.thumbnail(THUMBNAIL_BOX)
        buffer = BytesIO()
        picture.convert("RGB").save(buffer, format="JPEG", quality=85)
    upload.seek(0)
    return ContentFile(buffer.getvalue(), name="thumbnail.jpg")


@transaction.atomic
def attach_document(*, actor, asset, kind, title, file):
    """Store a photo or document of the asset with its content type, size and SHA-256."""
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    capability = (
        Capability.DRAFT_ASSETS if asset.status in REMOVABLE_DOCUMENT_STATUSES else Capability.MANAGE_REGISTRY
    )
    _require(actor, capability, asset.division)
    if kind not in DocumentKind.values:
        raise DomainError(_("请选择资料类型。"), code="invalid", fields={"kind": [_("请选择资料类型。")]})
    title = (title or "").strip() or (file.name.rsplit(".", 1)[0] if file is not None and file.name else "")
    title = _required_text(title, "title", _("请填写标题。"))
    content_type, size, sha256 = inspect_document(file, kind)
    same = AssetDocument.objects.filter(asset=asset, sha256=sha256).first()
    if same is not None:
        raise ConflictError(
            _("该文件已上传过（%(title)s）。") % {"title": same.title},
            code="duplicate",
            fields={"file": [_("该文件已上传过。")]},
        )
    document = AssetDocument(
        asset=asset,
        kind=kind,
        title=title,
        content_type=content_type,
        size=size,
        sha256=sha256,
        uploaded_by=actor,
    )
    try:
        document.file.save(file.name, file, save=False)
        if content_type.startswith("image/"):
            document.thumbnail.save("thumbnail.jpg", _thumbnail(file), save=False)
        with transaction.atomic(), audit_context(user=actor, reason=f"attach document: {title}"):
            document.save()
    except BaseException:
        _delete_files(document.file.name, document.thumbnail.name)  # nothing half-written stays
        raise
    return document


def _delete_files(*names):
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


@transaction.atomic
def remove_document(*, actor, document):
    """Only the uploader, and only while the asset has not gone to 公示; history keeps the row."""
    asset = Asset.objects.select_for_update().get(pk=document.asset_id)
    document = AssetDocument.objects.select_for_update().get(pk=document.pk)
    _require(actor, Capability.DRAFT_ASSETS, asset.division)
    if document.uploaded_by_id != actor.pk:
        raise PermissionDeniedError(_("只有上传人可以删除该资料。"))
    if asset.status not in REMOVABLE_DOCUMENT_STATUSES:
        raise ConflictError(_("资源已进入公示或已登记，资料是登记的依据，不能删除。"), code="evidence")
    names = (document.file.name, document.thumbnail.name)
    with audit_context(user=actor, reason=f"remove document: {document.title}"):
        document.delete()
    transaction.on_commit(lambda: _delete_files(*names))
