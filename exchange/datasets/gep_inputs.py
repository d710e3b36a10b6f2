"""统计: GEP accounting inputs → valuation.EcologicalInput, keyed by object (asset code or division
code) + year + indicator + input.

The columns are those of the valuation app's input workbook (docs/valuation-inputs.md) and the rows
are checked by its validation (valuation.services.input_import.validate_rows): names of indicators,
inputs and units, ranges, and each object's whole set of inputs per indicator and year — complete
and without contradictions, stored values included. A value that differs from the stored one is
corrected through valuation.services.inputs.record_input (with the group's other file values as its
batch, so the order of the rows does not matter); an identical one is left alone."""

from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from valuation import indicators
from valuation.models import EcologicalInput
from valuation.services import input_import
from valuation.services.inputs import record_input

from ..models import Dataset, ExchangeFormat
from .base import CREATED, UNCHANGED, UPDATED, Column, ColumnType, DatasetSpec, canonical

ASSET, DIVISION = input_import.ASSET, input_import.DIVISION

COLUMNS = (
    Column(
        "object",
        gettext_lazy("对象类型"),
        required=True,
        help=gettext_lazy("资产 或 区划（也可写 asset、division）"),
    ),
    Column(
        "code",
        gettext_lazy("编码"),
        required=True,
        max_length=30,
        help=gettext_lazy("资产编号或 12 位统计用区划代码"),
    ),
    Column(
        "year",
        gettext_lazy("年份"),
        ColumnType.INTEGER,
        required=True,
        help=gettext_lazy("核算年份，1990 年至今年"),
    ),
    Column(
        "indicator",
        gettext_lazy("指标"),
        required=True,
        help=gettext_lazy("指标键（如 water_conservation）、编码（如 R1）或中文名称"),
    ),
    Column(
        "input",
        gettext_lazy("输入项"),
        required=True,
        help=gettext_lazy("输入项键（如 precipitation）或中文名称"),
    ),
    Column(
        "value",
        gettext_lazy("数值"),
        ColumnType.DECIMAL,
        required=True,
        help=gettext_lazy("数字，不带千分位分隔符和单位"),
    ),
    Column(
        "unit",
        gettext_lazy("单位"),
        help=gettext_lazy("单位编码（如 mm）或名称（如 毫米），须能换算为该输入项的标准单位；无量纲项可空"),
    ),
    Column(
        "source",
        gettext_lazy("数据来源"),
        required=True,
        max_length=200,
        help=gettext_lazy("如“丽水市水文年鉴（2025）”"),
    ),
)
# the valuation workbook reports its columns by their Chinese labels
_COLUMN_OF_LABEL = {str(label): key for key, label in input_import.COLUMN_LABELS.items()}


def natural_key(data):
    """The key as written (object, code, year, indicator, input); validation replaces it with the
    resolved one (indicator and input keys), so that 水源涵养 and water_conservation are one key."""
    return "|".join(
        str(data.get(k) or "").strip().lower() for k in ("object", "code", "year", "indicator", "input")
    )


def _key(kind, code, year, indicator_key, input_key):
    return f"{kind}|{code}|{year}|{indicator_key}|{input_key}"


def export_rows(user, division, filters):
    records = (
        EcologicalInput.objects.filter(
            Q(asset__division__code__startswith=division.prefix)
            | Q(division__code__startswith=division.prefix)
        )
        .select_related("asset", "division")
        .defer("asset__geometry", "division__boundary")
    )
    if filters.get("year"):
        records = records.filter(year=filters["year"])
    rows = [
        {
            "object": ASSET if record.asset_id else DIVISION,
            "code": record.asset.code if record.asset_id else record.division.code,
            "year": record.year,
            "indicator": record.indicator_key,
            "input": record.input_key,
            "value": Decimal(canonical(record.value)),  # 1650, not 1650.0000000000 or 1.65E+3
            "unit": record.unit,
            "source": record.source,
        }
        for record in records
    ]
    rows.sort(key=lambda r: (r["object"], r["code"], r["year"], r["indicator"], r["input"]))
    yield from rows


def _text(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else str(canonical(value))


def prepare(rows, context):
    """Run the valuation workbook's checks over the whole file at once (they compare rows of one
    group with each other and with the stored values)."""
    raw = [
        input_import.RawRow(row.number, {c.key: _text(row.data.get(c.key)) for c in COLUMNS}) for row in rows
    ]
    report = input_import.Report()
    plans, stored = input_import.validate_rows(context.actor, raw, report)
    by_row = {}
    for error in report.errors:
        by_row.setdefault(error["row"], []).append(
            (_COLUMN_OF_LABEL.get(error["column"], "object"), error["message"])
        )
    batches = {}
    for plan in plans:
        if plan.group is not None and plan.ok:
            batches.setdefault(plan.group, {})[plan.spec.key] = indicators.Measure(str(plan.value), plan.unit)
    context.cache.update(
        plans={plan.number: plan for plan in plans}, errors=by_row, stored=stored, batches=batches
    )


def validate(row, context):
    errors = list(context.cache["errors"].get(row.number, []))
    plan = context.cache["plans"].get(row.number)
    if plan is None or errors:
        return errors
    place = plan.asset.division if plan.asset is not None else plan.division
    if not context.covers(place):
        return [("code", _("该对象不在本次交换的区划内。"))]
    kind, code = (ASSET, plan.asset.code) if plan.asset is not None else (DIVISION, plan.division.code)
    row.key = _key(kind, code, plan.year, plan.indicator.key, plan.spec.key)
    row.resolved["plan"] = plan
    return []


def apply(row, context):
    plan = row.resolved["plan"]
    record = context.cache["stored"].get(plan.group, {}).get(plan.spec.key)
    if record is not None and (record.value, record.unit, record.source) == (
        plan.value,
        plan.unit,
        plan.source,
    ):
        return UNCHANGED, record
    saved = record_input(
        actor=context.actor,
        asset=plan.asset,
        division=plan.division,
        year=plan.year,
        indicator_key=plan.indicator.key,
        input_key=plan.spec.key,
        value=plan.value,
        unit=plan.unit,
        source=plan.source,
        batch=context.cache["batches"].get(plan.group),
    )
    return (CREATED if record is None else UPDATED), saved


SPEC = DatasetSpec(
    key=Dataset.GEP_INPUTS,
    department=gettext_lazy("统计部门"),
    description=gettext_lazy(
        "GEP 核算基础数据：按资产或区划、年份、指标、输入项的实测或统计数值、单位和来源。"
    ),
    columns=COLUMNS,
    formats=(ExchangeFormat.CSV, ExchangeFormat.XLSX, ExchangeFormat.JSON),
    key_columns=("object", "code", "year", "indicator", "input"),
    natural_key=natural_key,
    export_rows=export_rows,
    validate=validate,
    apply=apply,
    prepare=prepare,
    import_capability=Capability.MANAGE_VALUATION_INPUTS,
    filters=("year",),
    notes=(
        gettext_lazy(
            "列和校验规则与 GEP 核算输入的批量导入相同（见 docs/valuation-inputs.md）：每个对象、年份、指标的输入（库中已有的加上文件中的）须完整且不矛盾。"
        ),
        gettext_lazy("与库中相同的数值计为“未变”，不同的予以更正；导入不删除库中已有的数值。"),
    ),
)
