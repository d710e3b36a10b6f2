"""水利: 取水许可证 → exchange.WaterPermit, keyed by permit number. The intake's division is required;
the asset (a water-right asset or the intake's plot) and the holder's identifier are optional."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import Organization
from directory.permissions import Capability
from directory.services import ensure_party, ensure_party_for_person

from ..models import Dataset, ExchangeFormat, WaterPermit
from ..services import permits as services
from .base import CREATED, UNCHANGED, UPDATED, Column, ColumnType, DatasetSpec, in_division
from .common import (
    HolderIndex,
    assets_by_code,
    check_asset,
    check_division,
    divisions_by_code,
    holder_identifier,
)
from .harvest_permits import parse_status, year_filter

COLUMNS = (
    Column("number", gettext_lazy("许可证号"), required=True, max_length=60, help=gettext_lazy("业务主键")),
    Column(
        "division",
        gettext_lazy("行政区划代码"),
        required=True,
        max_length=12,
        help=gettext_lazy("取水地点所在区划，12 位统计用区划代码"),
    ),
    Column(
        "asset",
        gettext_lazy("资源编号"),
        max_length=30,
        help=gettext_lazy("关联的取水权或取水口地块资源，可空"),
    ),
    Column(
        "holder_name",
        gettext_lazy("取水权人"),
        required=True,
        max_length=200,
        help=gettext_lazy("许可证上的公开名称"),
    ),
    Column(
        "holder_id",
        gettext_lazy("取水权人证件号"),
        max_length=18,
        help=gettext_lazy("统一社会信用代码或身份证号，可空；须为主体名录中已登记的主体"),
    ),
    Column("issuer", gettext_lazy("审批机关"), required=True, max_length=200),
    Column("water_source", gettext_lazy("水源"), required=True, max_length=200),
    Column("purpose", gettext_lazy("取水用途"), required=True, max_length=100),
    Column(
        "annual_volume_m3",
        gettext_lazy("年取水量（万m³）"),
        ColumnType.DECIMAL,
        required=True,
        places=4,
        help=gettext_lazy("大于 0"),
    ),
    Column("valid_from", gettext_lazy("有效期起"), ColumnType.DATE, required=True),
    Column(
        "valid_until",
        gettext_lazy("有效期止"),
        ColumnType.DATE,
        required=True,
        help=gettext_lazy("不早于有效期起"),
    ),
    Column(
        "status",
        gettext_lazy("状态"),
        max_length=20,
        help=gettext_lazy("valid 有效（空白即有效）、expired 已过期、revoked 已注销"),
    ),
)
FIELDS = ("holder_name", "issuer", "water_source", "purpose", "annual_volume_m3", "valid_from", "valid_until")


def natural_key(data):
    return str(data.get("number") or "")


def export_rows(user, division, filters):
    permits = (
        WaterPermit.objects.filter(in_division("division__code", division))
        .select_related("division", "asset", "holder__person__division", "holder__organization")
        .defer("division__boundary", "asset__geometry", "holder__person__division__boundary")
        .order_by("number")
    )
    if filters.get("updated_since"):
        permits = permits.filter(recorded_at__date__gte=filters["updated_since"])
    if filters.get("year"):
        permits = year_filter(permits, filters["year"])
    revealed = set()
    for permit in permits:
        yield {
            "number": permit.number,
            "division": permit.division.code,
            "asset": permit.asset.code if permit.asset_id else "",
            "holder_id": holder_identifier(permit.holder, user, revealed),
            **{name: getattr(permit, name) for name in FIELDS},
            "status": permit.status,
            "_revealed": revealed,
        }


def prepare(rows, context):
    data = [row.data for row in rows]
    context.cache.update(
        divisions=divisions_by_code(d.get("division") for d in data),
        assets=assets_by_code(d.get("asset") for d in data),
        holders=HolderIndex(context.actor, {d.get("holder_id") for d in data if d.get("holder_id")}),
        permits={
            p.number: p
            for p in WaterPermit.objects.filter(number__in=[d.get("number") for d in data if d.get("number")])
            .select_related("division", "holder")
            .defer("division__boundary")
        },
    )


def validate(row, context):
    data, cache = row.data, context.cache
    division, errors = check_division(context, data.get("division"), cache["divisions"], "division")
    asset, problems = check_asset(context, data.get("asset"), cache["assets"], "asset")
    errors += problems
    holder = None
    if data.get("holder_id"):
        found, _new, error = cache["holders"].find(data["holder_id"])
        if error or found is None:
            errors.append(
                ("holder_id", error or _("该证件号的主体未在主体名录中登记（或不在您的查看范围内）。"))
            )
        holder = found
    status = parse_status(data.get("status") or "")
    if status is None:
        errors.append(("status", _("状态应为 valid、expired 或 revoked（有效、已过期、已注销）。")))
    if data.get("annual_volume_m3") is not None and data["annual_volume_m3"] <= 0:
        errors.append(("annual_volume_m3", _("年取水量须大于 0。")))
    if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
        errors.append(("valid_until", _("有效期止不能早于有效期起。")))
    existing = cache["permits"].get(data.get("number"))
    if existing is not None and not context.covers(existing.division):
        errors.append(("number", _("许可证号已被本次交换区划以外的许可证使用。")))
    row.resolved.update(division=division, asset=asset, holder=holder, status=status, permit=existing)
    return errors


def apply(row, context):
    resolved = row.resolved
    holder = resolved["holder"]
    if holder is not None:
        holder = ensure_party(holder) if isinstance(holder, Organization) else ensure_party_for_person(holder)
    values = {
        **{name: row.data[name] for name in FIELDS},
        "division": resolved["division"],
        "asset": resolved["asset"],
        "holder": holder,
        "status": resolved["status"],
    }
    permit = resolved["permit"]
    if permit is None:
        return CREATED, services.record_water_permit(
            actor=context.actor, number=row.data["number"], reason=context.reason, **values
        )
    if all(getattr(permit, name) == value for name, value in values.items()):
        return UNCHANGED, permit
    return UPDATED, services.update_water_permit(
        actor=context.actor, permit=permit, reason=context.reason, **values
    )


SPEC = DatasetSpec(
    key=Dataset.WATER_PERMITS,
    department=gettext_lazy("水利部门"),
    description=gettext_lazy("取水许可证：取水地点、取水权人、水源、用途、年取水量和有效期。"),
    columns=COLUMNS,
    formats=(ExchangeFormat.CSV, ExchangeFormat.XLSX, ExchangeFormat.JSON),
    key_columns=("number",),
    natural_key=natural_key,
    export_rows=export_rows,
    validate=validate,
    apply=apply,
    prepare=prepare,
    import_capability=Capability.EXCHANGE_DATA,
    filters=("updated_since", "year"),
    service_fields={"holder": "holder_id"},
    notes=(
        gettext_lazy("许可证号为业务主键：已有的许可证按文件更正，状态变化规则同采伐许可证。"),
        gettext_lazy(
            "取水权人证件号：导出时自然人的身份证号按导出人的权限完整或脱敏输出；导入时须为已登记的主体。"
        ),
    ),
)
