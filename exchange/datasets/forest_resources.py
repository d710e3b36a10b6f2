"""林业: forest assets' attributes (dominant species, age class, stock volume, canopy density, forest
class, compartment — the forest type's attribute schema in the catalog), keyed by asset code.

The asset must already be in the registry (forest family, in the exchange's division): the forestry
department describes stands, it does not register them. The columns of the starting catalog's forest
schema have their own columns; any other attribute a forest type declares travels in `other_attrs`.
A column absent from the file leaves that attribute as it is; an empty cell in a present column
removes it. The resulting attributes are validated against the type's JSON Schema and written with
the asset locked (resources.services.update_asset_details)."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from resources import services as registry
from resources.models import SPATIALLY_ACTIVE_STATUSES, Asset, ResourceFamily
from tmcs.errors import DomainError

from ..models import Dataset, ExchangeFormat
from .base import UNCHANGED, UPDATED, Column, ColumnType, DatasetSpec, in_division, json_number
from .common import assets_by_code, check_asset

# attribute key → column type; the order is the columns' order
ATTRIBUTE_COLUMNS = {
    "dominant_species": ColumnType.TEXT,
    "age_class": ColumnType.TEXT,
    "stock_volume_m3": ColumnType.DECIMAL,
    "canopy_density": ColumnType.DECIMAL,
    "forest_class": ColumnType.TEXT,
    "compartment": ColumnType.TEXT,
}

COLUMNS = (
    Column(
        "code",
        gettext_lazy("资源编号"),
        required=True,
        max_length=30,
        help=gettext_lazy("业务主键：平台资源编号"),
    ),
    Column("name", gettext_lazy("资源名称"), export_only=True),
    Column("type", gettext_lazy("资源类型编码"), export_only=True),
    Column("division", gettext_lazy("行政区划代码"), export_only=True),
    Column(
        "dominant_species", gettext_lazy("优势树种"), max_length=100, help=gettext_lazy("如 杉木、马尾松")
    ),
    Column(
        "age_class",
        gettext_lazy("龄组"),
        max_length=20,
        help=gettext_lazy("幼龄林、中龄林、近熟林、成熟林、过熟林"),
    ),
    Column("stock_volume_m3", gettext_lazy("蓄积量（m³）"), ColumnType.DECIMAL, places=4),
    Column(
        "canopy_density", gettext_lazy("郁闭度"), ColumnType.DECIMAL, places=4, help=gettext_lazy("0 至 1")
    ),
    Column("forest_class", gettext_lazy("林种"), max_length=20, help=gettext_lazy("公益林 或 商品林")),
    Column("compartment", gettext_lazy("林班/小班"), max_length=60),
    Column(
        "other_attrs",
        gettext_lazy("其他属性JSON"),
        ColumnType.JSON,
        help=gettext_lazy('资源类型声明的其他属性，如 {"origin": "人工林"}；列存在时整体替换这些属性'),
    ),
)


def natural_key(data):
    return str(data.get("code") or "")


def _forest_assets():
    return Asset.objects.filter(
        resource_type__family=ResourceFamily.FOREST, status__in=SPATIALLY_ACTIVE_STATUSES
    )


def export_rows(user, division, filters):
    assets = (
        _forest_assets()
        .filter(in_division("division__code", division))
        .select_related("resource_type", "division")
        .defer("geometry", "division__boundary")
        .order_by("code")
    )
    if filters.get("updated_since"):
        assets = assets.filter(updated_at__date__gte=filters["updated_since"])
    for asset in assets:
        attributes = dict(asset.attributes or {})
        row = {
            "code": asset.code,
            "name": asset.name,
            "type": asset.resource_type.code,
            "division": asset.division.code,
        }
        for key, kind in ATTRIBUTE_COLUMNS.items():
            value = attributes.pop(key, None)
            if kind == ColumnType.DECIMAL and isinstance(value, int | float) and not isinstance(value, bool):
                value = Decimal(repr(value))
            row[key] = value
        row["other_attrs"] = attributes
        yield row


def prepare(rows, context):
    context.cache["assets"] = assets_by_code(row.data.get("code") for row in rows)


def validate(row, context):
    asset, errors = check_asset(
        context, row.data.get("code"), context.cache["assets"], "code", Capability.MANAGE_REGISTRY
    )
    if asset is None:
        return errors
    if asset.resource_type.family != ResourceFamily.FOREST:
        return [("code", _("资源 %(code)s 不是林地类资源。") % {"code": asset.code})]
    if asset.status not in SPATIALLY_ACTIVE_STATUSES:
        return [("code", _("资源 %(code)s 尚未提交登记或已注销。") % {"code": asset.code})]
    attributes = dict(asset.attributes or {})
    for key, kind in ATTRIBUTE_COLUMNS.items():
        if key not in row.values:
            continue
        value = row.data.get(key)
        if value is None:
            attributes.pop(key, None)
        else:
            attributes[key] = json_number(value) if kind == ColumnType.DECIMAL else value
    if "other_attrs" in row.values:
        others = row.data.get("other_attrs") or {}
        if not isinstance(others, dict):
            return [("other_attrs", _('其他属性JSON须为对象，如 {"key": 值}。'))]
        clash = sorted(set(others) & set(ATTRIBUTE_COLUMNS))
        if clash:
            return [
                (
                    "other_attrs",
                    _("这些属性有自己的列，不能写在其他属性中：%(keys)s") % {"keys": "、".join(clash)},
                )
            ]
        attributes = {k: v for k, v in attributes.items() if k in ATTRIBUTE_COLUMNS} | others
    try:
        registry.validate_attributes(asset.resource_type, attributes)
    except DomainError as exc:
        for name, messages in exc.fields.items():
            column = name.split(".", 1)[-1]
            errors += [(column if column in ATTRIBUTE_COLUMNS else "other_attrs", m) for m in messages]
    row.resolved.update(asset=asset, attributes=attributes)
    return errors


def apply(row, context):
    asset, attributes = row.resolved["asset"], row.resolved["attributes"]
    if attributes == (asset.attributes or {}):
        return UNCHANGED, asset
    return UPDATED, registry.update_asset_details(
        actor=context.actor, asset=asset, reason=context.reason, attributes=attributes
    )


SPEC = DatasetSpec(
    key=Dataset.FOREST_RESOURCES,
    department=gettext_lazy("林业部门"),
    description=gettext_lazy("林地资源的森林资源属性：优势树种、龄组、蓄积量、郁闭度、林种、林班/小班等。"),
    columns=COLUMNS,
    formats=(ExchangeFormat.CSV, ExchangeFormat.XLSX, ExchangeFormat.JSON),
    key_columns=("code",),
    natural_key=natural_key,
    export_rows=export_rows,
    validate=validate,
    apply=apply,
    prepare=prepare,
    import_capability=Capability.MANAGE_REGISTRY,
    filters=("updated_since",),
    notes=(
        gettext_lazy(
            "只更新平台上已提交登记且未注销的林地类资源的属性，不新建资源；资源须在本次交换的区划内。"
        ),
        gettext_lazy(
            "文件中没有的列不改动对应属性；列存在而单元格为空则删除该属性。结果须符合资源类型的属性结构。"
        ),
    ),
)
