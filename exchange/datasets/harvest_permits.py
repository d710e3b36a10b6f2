"""林业: 林木采伐许可证 → exchange.HarvestPermit, keyed by permit number; the harvested asset is
named by its code and must be in the registry, within the exchange's division."""

from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from resources.import_readers import names_of

from ..models import Dataset, ExchangeFormat, HarvestPermit, PermitStatus
from ..services import permits as services
from .base import CREATED, UNCHANGED, UPDATED, Column, ColumnType, DatasetSpec, in_division
from .common import assets_by_code, check_asset

COLUMNS = (
    Column("number", gettext_lazy("许可证号"), required=True, max_length=60, help=gettext_lazy("业务主键")),
    Column(
        "asset",
        gettext_lazy("资源编号"),
        required=True,
        max_length=30,
        help=gettext_lazy("采伐地块的平台资源编号"),
    ),
    Column(
        "holder_name",
        gettext_lazy("采伐单位/个人"),
        required=True,
        max_length=200,
        help=gettext_lazy("许可证上的公开名称"),
    ),
    Column("issuer", gettext_lazy("发证机关"), required=True, max_length=200),
    Column("species", gettext_lazy("树种"), required=True, max_length=100),
    Column(
        "harvest_type",
        gettext_lazy("采伐类型"),
        required=True,
        max_length=50,
        help=gettext_lazy("如 主伐、抚育采伐、更新采伐"),
    ),
    Column(
        "area_mu",
        gettext_lazy("采伐面积（亩）"),
        ColumnType.DECIMAL,
        required=True,
        places=2,
        help=gettext_lazy("大于 0"),
    ),
    Column(
        "volume_m3",
        gettext_lazy("采伐蓄积（m³）"),
        ColumnType.DECIMAL,
        required=True,
        places=2,
        help=gettext_lazy("不小于 0"),
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
FIELDS = (
    "holder_name",
    "issuer",
    "species",
    "harvest_type",
    "area_mu",
    "volume_m3",
    "valid_from",
    "valid_until",
)


def natural_key(data):
    return str(data.get("number") or "")


def parse_status(text):
    """A permit status from its key or its Chinese label; None when unknown. Blank is valid."""
    if not text:
        return PermitStatus.VALID
    for status in PermitStatus:
        if text == status.value or text in names_of(status.label):
            return status
    return None


def year_filter(queryset, year):
    """Permits valid at some time during `year`."""
    return queryset.filter(valid_from__lte=date(year, 12, 31), valid_until__gte=date(year, 1, 1))


def export_rows(user, division, filters):
    permits = (
        HarvestPermit.objects.filter(in_division("asset__division__code", division))
        .select_related("asset")
        .defer("asset__geometry")
        .order_by("number")
    )
    if filters.get("updated_since"):
        permits = permits.filter(recorded_at__date__gte=filters["updated_since"])
    if filters.get("year"):
        permits = year_filter(permits, filters["year"])
    for permit in permits:
        row = {name: getattr(permit, name) for name in FIELDS}
        yield {"number": permit.number, "asset": permit.asset.code, **row, "status": permit.status}


def prepare(rows, context):
    context.cache["assets"] = assets_by_code(row.data.get("asset") for row in rows)
    numbers = [row.data.get("number") for row in rows if row.data.get("number")]
    context.cache["permits"] = {
        p.number: p
        for p in HarvestPermit.objects.filter(number__in=numbers).select_related("asset__division")
    }


def validate(row, context):
    data = row.data
    asset, errors = check_asset(context, data.get("asset"), context.cache["assets"], "asset")
    status = parse_status(data.get("status") or "")
    if status is None:
        errors.append(("status", _("状态应为 valid、expired 或 revoked（有效、已过期、已注销）。")))
    if data.get("area_mu") is not None and data["area_mu"] <= 0:
        errors.append(("area_mu", _("采伐面积须大于 0。")))
    if data.get("volume_m3") is not None and data["volume_m3"] < 0:
        errors.append(("volume_m3", _("采伐蓄积不能为负。")))
    if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
        errors.append(("valid_until", _("有效期止不能早于有效期起。")))
    existing = context.cache["permits"].get(data.get("number"))
    if existing is not None and not context.covers(existing.asset.division):
        errors.append(("number", _("许可证号已被本次交换区划以外的许可证使用。")))
    row.resolved.update(asset=asset, status=status, permit=existing)
    return errors


def _values(row):
    return {
        **{name: row.data[name] for name in FIELDS},
        "asset": row.resolved["asset"],
        "status": row.resolved["status"],
    }


def apply(row, context):
    permit, values = row.resolved["permit"], _values(row)
    if permit is None:
        return CREATED, services.record_harvest_permit(
            actor=context.actor, number=row.data["number"], reason=context.reason, **values
        )
    if all(getattr(permit, name) == value for name, value in values.items()):
        return UNCHANGED, permit
    return UPDATED, services.update_harvest_permit(
        actor=context.actor, permit=permit, reason=context.reason, **values
    )


SPEC = DatasetSpec(
    key=Dataset.HARVEST_PERMITS,
    department=gettext_lazy("林业部门"),
    description=gettext_lazy("林木采伐许可证：采伐地块、采伐单位、树种、采伐类型、面积、蓄积和有效期。"),
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
    notes=(
        gettext_lazy(
            "许可证号为业务主键：已有的许可证按文件更正，状态只能从有效变为已过期或已注销、从已过期变为已注销。"
        ),
        gettext_lazy("“年份”筛选导出该年内任何时候有效的许可证。"),
    ),
)
