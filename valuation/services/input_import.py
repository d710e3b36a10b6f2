"""Entering a whole indicator's inputs at once: from the entry form (`record_indicator_inputs`) or
from a workbook, XLSX or CSV with one row per value (`import_inputs`).

Both check the complete set of an object's inputs for one indicator and year as the accounting run
will read it (stored values overlaid with the new ones, an asset's PostGIS area standing in for a
missing area input) and write in one transaction: all or nothing. The form writes through
`record_input`, one value at a time; the import (up to 20,000 rows, within the request) makes the
same checks row by row and group by group, then writes in bulk under row locks.

The workbook format is documented in docs/valuation-inputs.md; `template_workbook` builds the
downloadable template from the indicator registry and the unit table, so that the template and the
validation never disagree.
"""

import csv
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from directory.models import AdministrativeDivision
from directory.permissions import Capability, can
from resources.import_readers import ImportFileError, names_of
from resources.models import ResourceType
from resources.selectors import assets_for
from tmcs.audit import audit_context
from tmcs.errors import DomainError, PermissionDeniedError

from .. import indicators
from ..indicators import units
from ..indicators.base import parse_decimal
from ..models import EcologicalInput, InputImport, InputImportStatus
from .common import require
from .inputs import contradictions, record_input, validate_input_value

AREA_INPUT = "area"  # filled from the asset's PostGIS area when not entered (see runs._snapshot_inputs)
MAX_ROWS = 20_000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# EcologicalInput.value is numeric(36, 10)
MAX_INTEGER_DIGITS, MAX_DECIMAL_PLACES = 26, 10
ASSET, DIVISION = "asset", "division"


# --- checking one indicator's set of inputs ---------------------------------------------------------


def offered_indicators(*, asset=None, division=None):
    """The indicators whose inputs may be entered for this object: for an asset, those its resource
    type lists that are not region-only; for a division, all but the asset-only ones."""
    if asset is not None:
        keys = [k for k in asset.resource_type.gep_indicators if k in indicators.REGISTRY]
        return [
            indicators.REGISTRY[k] for k in keys if indicators.REGISTRY[k].level != indicators.Level.REGION
        ]
    return [i for i in indicators.REGISTRY.values() if i.level != indicators.Level.ASSET]


def digits_error(raw):
    """A message when a value does not fit the stored numeric(36, 10), else None."""
    try:
        value = parse_decimal(raw)
    except ValueError:
        return None  # the indicator's own check explains it
    if value.is_zero():
        return None
    value = value.normalize()
    if value.adjusted() >= MAX_INTEGER_DIGITS or value.as_tuple().exponent < -MAX_DECIMAL_PLACES:
        return _("数值位数超出范围：整数部分最多 26 位，小数部分最多 10 位。")
    return None


def check_indicator_set(indicator, raw, *, area_m2=None, complete=True):
    """Errors ({input_key or "__all__": [中文消息]}) of one object's inputs of one indicator.

    `raw` maps input keys to Measures. Values are checked on their own (number, unit, range, digits)
    and against each other (runoff above precipitation…) even when some are missing; with
    `complete`, the set must also be complete as the run will evaluate it (required inputs, "one
    of" rules), an asset's area (`area_m2`) standing in for a missing area input.
    """
    errors = contradictions(indicator, raw)
    for key, measure in raw.items():
        problem = digits_error(measure.value)
        if problem:
            errors.setdefault(key, []).append(problem)
    if complete:
        full = dict(raw)
        specs = {s.key for s in indicator.inputs}
        if area_m2 is not None and AREA_INPUT in specs and AREA_INPUT not in full:
            full[AREA_INPUT] = indicators.Measure(str(area_m2), "m2")
        for key, messages in indicators.validate_inputs(indicator, full).items():
            for message in messages:
                if message not in errors.get(key, []):
                    errors.setdefault(key, []).append(message)
    return errors


def _target_errors(indicator, asset, division):
    if asset is not None and indicator not in offered_indicators(asset=asset):
        if indicator.level == indicators.Level.REGION:
            message = _("“%(name)s”只在区域层面核算，不能录入到资产。") % {"name": indicator.name}
        else:
            message = _("资源类型“%(type)s”的核算指标不含“%(indicator)s”。") % {
                "type": asset.resource_type.name,
                "indicator": indicator.name,
            }
        return {indicators.NON_FIELD: [message]}
    if division is not None and indicator.level == indicators.Level.ASSET:
        return {
            indicators.NON_FIELD: [_("“%(name)s”只按资产核算，不能录入到区划。") % {"name": indicator.name}]
        }
    return {}


@transaction.atomic
def record_indicator_inputs(*, actor, indicator_key, year, values, asset=None, division=None):
    """Save the inputs of one indicator for one asset or division and year, as the entry form does.

    `values` maps input keys to (value, unit code, source), or to None to remove a stored value;
    stored inputs not named in `values` stay as they are. The resulting set is checked first (each
    value, their contradictions and completeness, as the run will read it); any error raises
    DomainError with `fields` keyed by input key ("<key>.source" for a missing source, "__all__" for
    the set) and nothing is written. Returns the number of values saved.
    """
    if (asset is None) == (division is None):
        raise DomainError(_("输入须属于一个资产或一个区划。"), code="invalid")
    require(actor, Capability.MANAGE_VALUATION_INPUTS, division=asset.division if asset else division)
    try:
        indicator = indicators.get(indicator_key)
    except KeyError:
        raise DomainError(_("未知的指标“%(key)s”。") % {"key": indicator_key}, code="invalid") from None
    stored = {
        record.input_key: record
        for record in EcologicalInput.objects.select_for_update()
        .filter(asset=asset, division=division, year=year, indicator_key=indicator.key)
        .order_by("pk")
    }
    errors = _target_errors(indicator, asset, division)
    specs = {s.key for s in indicator.inputs}
    unknown = [key for key in values if key not in specs]
    for key in unknown:
        errors.setdefault(indicators.NON_FIELD, []).append(
            _("指标“%(name)s”没有输入项“%(key)s”。") % {"name": indicator.name, "key": key}
        )
    raw, sources = {}, {}
    for key, given in values.items():
        if given is None or key in unknown:
            continue
        value, unit, source = given
        if not (source or "").strip():
            errors.setdefault(f"{key}.source", []).append(_("请填写数据来源。"))
        single = validate_input_value(
            year=year,
            indicator_key=indicator.key,
            input_key=key,
            value=value,
            unit=unit,
            division_level=division is not None,
        )
        if "year" in single:
            errors["year"] = single["year"]
        errors.setdefault(key, []).extend(single.get("value", []))
        raw[key], sources[key] = indicators.Measure(str(value), unit), (source or "").strip()
    errors = {key: messages for key, messages in errors.items() if messages}
    kept = {
        key: indicators.Measure(record.value, record.unit)
        for key, record in stored.items()
        if key not in values
    }
    whole = {**kept, **raw}
    for key, messages in check_indicator_set(
        indicator, whole, area_m2=asset.area_m2 if asset else None, complete=not errors
    ).items():
        for message in messages:
            if message not in errors.get(key, []):
                errors.setdefault(key, []).append(message)
    if errors:
        raise DomainError(_("输入数据有误。"), code="invalid", fields=errors)
    removed = [stored[key].pk for key, given in values.items() if given is None and key in stored]
    if removed:
        with audit_context(user=actor, reason="remove GEP input"):
            EcologicalInput.objects.filter(pk__in=removed).delete()
    for key, measure in raw.items():
        record_input(
            actor=actor,
            asset=asset,
            division=division,
            year=year,
            indicator_key=indicator.key,
            input_key=key,
            value=parse_decimal(measure.value),
            unit=measure.unit,
            source=sources[key],
            batch=whole,
        )
    return len(raw)


# --- the workbook's columns and how cells are read ------------------------------------------------


@dataclass(frozen=True)
class ImportColumn:
    key: str  # English header, also accepted in place of the Chinese one
    label: str
    help: str
    required: bool = True


COLUMNS = (
    ImportColumn("object", gettext_lazy("对象类型"), gettext_lazy("资产 或 区划（也可写 asset、division）")),
    ImportColumn("code", gettext_lazy("编码"), gettext_lazy("资产编号（如 ZY…）或 12 位统计用区划代码")),
    ImportColumn("year", gettext_lazy("年份"), gettext_lazy("核算年份，四位数字，如 2025")),
    ImportColumn(
        "indicator",
        gettext_lazy("指标"),
        gettext_lazy("指标键（如 water_conservation）、编码（如 R1）或中文名称（如 水源涵养）"),
    ),
    ImportColumn(
        "input", gettext_lazy("输入项"), gettext_lazy("输入项键（如 precipitation）或中文名称（如 降水量 P）")
    ),
    ImportColumn("value", gettext_lazy("数值"), gettext_lazy("数字，不带千分位分隔符和单位")),
    ImportColumn(
        "unit",
        gettext_lazy("单位"),
        gettext_lazy(
            "单位编码（如 mm）或名称（如 毫米），须能换算为该输入项的标准单位；无量纲的输入项可留空"
        ),
        required=False,
    ),
    ImportColumn(
        "source", gettext_lazy("数据来源"), gettext_lazy("如“丽水市水文年鉴（2025）”，最多 200 个字符")
    ),
)
COLUMN_LABELS = {c.key: c.label for c in COLUMNS}
OBJECT_NAMES = {ASSET: gettext_lazy("资产"), DIVISION: gettext_lazy("区划")}


@dataclass
class RawRow:
    number: int  # the row number its author sees (the header is row 1)
    values: dict = field(default_factory=dict)


def _column_key(header):
    text = str(header or "").strip().lstrip("\ufeff").rstrip("*").strip()
    for column in COLUMNS:
        if text.lower() == column.key or text in names_of(column.label):
            return column.key
    return None


def _cell(value):
    """Cells → text; spreadsheet numbers come back as floats, read through their shortest repr."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _header_keys(header):
    keys = [_column_key(cell) for cell in header]
    missing = [str(c.label) for c in COLUMNS if c.key not in keys]
    if missing:
        raise ImportFileError(
            _("表头缺少必填列：%(columns)s。请使用导入模板。") % {"columns": "、".join(missing)}
        )
    return keys


def _row(number, keys, cells):
    if all(cell in (None, "") or (isinstance(cell, str) and not cell.strip()) for cell in cells):
        return None
    values = {}
    for key, cell in zip(keys, cells, strict=False):
        if key and key not in values:
            values[key] = _cell(cell)
    return RawRow(number, values)


def read_rows(content, filename):
    """(format, rows) of an uploaded workbook; the format is chosen by the file name's extension."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        fmt, rows = "xlsx", _read_xlsx(content)
    elif name.endswith((".csv", ".txt")):
        fmt, rows = "csv", _read_csv(content)
    else:
        raise ImportFileError(_("不支持的文件格式：请上传 XLSX 或 CSV 文件。"))
    if not rows:
        raise ImportFileError(_("文件中没有数据行。"))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("单个文件最多 %(max)s 行，请拆分后导入。") % {"max": MAX_ROWS})
    return fmt, rows


def _read_xlsx(content):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types (zipfile, KeyError, InvalidFileException) for junk
        raise ImportFileError(_("XLSX 文件无法打开，请用模板另存为 .xlsx。")) from None
    try:
        named = [name for name in book.sheetnames if name in names_of(gettext_lazy("录入"))]
        sheet = book[named[0]] if named else book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        keys = _header_keys(next(lines, None) or ())
        rows = []
        for number, line in enumerate(lines, start=2):
            row = _row(number, keys, line)
            if row is not None:
                rows.append(row)
                if len(rows) > MAX_ROWS:
                    break
        return rows
    finally:
        book.close()


def _decode(content):
    """UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), else GBK/GB18030."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")  # a superset of GBK, as Excel and WPS save "CSV" in China
    except UnicodeDecodeError:
        raise ImportFileError(_("CSV 文件的字符编码无法识别，请另存为 UTF-8 或 GBK 编码。")) from None


def _read_csv(content):
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        keys = _header_keys(next(reader, None) or ())
        rows = []
        for number, line in enumerate(reader, start=2):
            row = _row(number, keys, line)
            if row is not None:
                rows.append(row)
                if len(rows) > MAX_ROWS:
                    break
    except csv.Error as exc:
        raise ImportFileError(_("CSV 文件无法解析：%(error)s") % {"error": exc}) from None
    return rows


# --- resolving names to keys ----------------------------------------------------------------------


def _compact(text):
    return "".join(str(text).split())


def _indicator_names():
    names = {}
    for indicator in indicators.REGISTRY.values():
        names[indicator.key] = indicator
        names[indicator.code.lower()] = indicator
        for name in names_of(indicator.name):
            names[_compact(name)] = indicator
    return names


def _input_names(indicator):
    """Names of the inputs of one indicator: key, label, label without spaces, and the first and
    last words of a label of several words ("降水量" and "P" for "降水量 P", "LS" for "坡长坡度因子
    LS") when no other input of the indicator shares them."""
    names, words = {}, defaultdict(set)
    for spec in indicator.inputs:
        names[spec.key] = spec
        for label in names_of(spec.label):
            names[_compact(label)] = spec
            parts = label.split()
            if len(parts) > 1:
                words[parts[0]].add(spec)
                words[parts[-1]].add(spec)
    for word, specs in words.items():
        if len(specs) == 1:
            names.setdefault(_compact(word), next(iter(specs)))
    return names


_UNIT_ALIASES = {"ha": "hm2", "万m3": "10k_m3", "万kwh": "10k_kWh"}


def _unit_names():
    names = {}
    for code, unit in units.UNITS.items():
        names[code.lower()] = code
        for label in names_of(unit.label):
            names[_compact(label).lower()] = code
    names.update(_UNIT_ALIASES)
    return names


def _unit_key(text):
    return _compact(text).replace("²", "2").replace("³", "3").lower()


# --- the report -----------------------------------------------------------------------------------


class Report:
    """Row errors as the user sees them: row number (0 = the whole file), column label, message."""

    def __init__(self):
        self.errors = []

    def add(self, row, column, message):
        label = COLUMN_LABELS.get(column, column)
        self.errors.append({"row": row, "column": str(label), "message": str(message)})

    def __bool__(self):
        return bool(self.errors)

    def sorted(self):
        order = {str(c.label): n for n, c in enumerate(COLUMNS)}
        return sorted(self.errors, key=lambda e: (e["row"], order.get(e["column"], 99)))


# --- validating the rows --------------------------------------------------------------------------


@dataclass
class RowPlan:
    number: int
    asset: object = None
    division: AdministrativeDivision | None = None
    year: int | None = None
    indicator: indicators.Indicator | None = None
    spec: indicators.InputSpec | None = None
    value: Decimal | None = None
    unit: str = ""
    source: str = ""
    ok: bool = True  # no problem with the row on its own
    duplicate: bool = False  # repeats an earlier row's object, year, indicator and input
    # (object, year, indicator) once the row names all of them and an input: the rows of a group
    # are checked together with the group's stored values
    group: tuple | None = None

    def set_group(self):
        if self.asset is not None:
            target = (ASSET, self.asset.pk)
        elif self.division is not None:
            target = (DIVISION, self.division.pk)
        else:
            return
        if self.year is not None and self.indicator is not None and self.spec is not None:
            self.group = (target, self.year, self.indicator.key)


def _object_names():
    names = {"行政区划": DIVISION, "区域": DIVISION}
    for kind, label in OBJECT_NAMES.items():
        names[kind] = kind
        for name in names_of(label):
            names[_compact(name).lower()] = kind
    return names


class _Lookups:
    """Everything the rows refer to, fetched in a handful of queries."""

    def __init__(self, actor, rows):
        self.object_names = _object_names()
        asset_codes, division_codes = set(), set()
        for row in rows:
            kind, code = self.object_kind(row.values.get("object", "")), row.values.get("code", "")
            if kind == ASSET and code:
                asset_codes.add(code)
            elif kind == DIVISION and code:
                division_codes.add(code)
        self.assets = {
            asset.code: asset for asset in assets_for(actor).filter(code__in=asset_codes).defer("geometry")
        }
        self.divisions = {
            division.code: division
            for division in AdministrativeDivision.objects.filter(code__in=division_codes).defer("boundary")
        }
        self.indicators = _indicator_names()
        self.inputs = {key: _input_names(indicator) for key, indicator in indicators.REGISTRY.items()}
        self.units = _unit_names()
        self.allowed = {}  # division pk → may the actor enter inputs there

    def object_kind(self, text):
        return self.object_names.get(_compact(text).lower())

    def may_enter(self, actor, division):
        if division.pk not in self.allowed:
            self.allowed[division.pk] = can(actor, Capability.MANAGE_VALUATION_INPUTS, division=division)
        return self.allowed[division.pk]


def validate_rows(actor, rows, report):
    """One RowPlan per row, every problem going to the report; then each object's set of inputs per
    indicator and year is checked as a whole (see `check_groups`). Returns the plans and the stored
    values the check used."""
    lookups = _Lookups(actor, rows)
    this_year = timezone.localdate().year
    plans, seen = [], {}
    for row in rows:
        plan = _validate_row(actor, row, lookups, this_year, report)
        if plan.group is not None:
            key = (plan.group, plan.spec.key)
            if key in seen:
                report.add(
                    row.number,
                    "input",
                    _("与第 %(row)s 行重复（同一对象、年份、指标和输入项）。") % {"row": seen[key]},
                )
                plan.ok, plan.duplicate = False, True
            else:
                seen[key] = row.number
        plans.append(plan)
    stored = _stored_inputs(plans)
    check_groups(plans, report, stored=stored)
    return plans, stored


def _validate_row(actor, row, lookups, this_year, report):
    values = row.values
    plan = RowPlan(number=row.number)
    errors_before = len(report.errors)
    for column in COLUMNS:
        if column.required and not values.get(column.key):
            report.add(row.number, column.key, _("必填项为空。"))
    _resolve_object(actor, plan, values, lookups, report)
    year_text = values.get("year", "")
    if year_text:
        if year_text.isdigit() and len(year_text) == 4:
            plan.year = int(year_text)
            if not 1990 <= plan.year <= this_year:
                report.add(row.number, "year", _("年份须在 1990 至 %(year)s 之间。") % {"year": this_year})
                plan.year = None
        else:
            report.add(row.number, "year", _("年份应为四位数字，如 2025。"))
    _resolve_indicator(plan, values, lookups, report)
    _resolve_unit(plan, values, lookups, report)
    source = values.get("source", "")
    if len(source) > 200:
        report.add(row.number, "source", _("数据来源最多 200 个字符。"))
    plan.source = source
    text = values.get("value", "")
    if text and plan.spec is not None and plan.unit:
        single = validate_input_value(
            year=plan.year or this_year,
            indicator_key=plan.indicator.key,
            input_key=plan.spec.key,
            value=text,
            unit=plan.unit,
            division_level=plan.division is not None,
        )
        # the year, indicator and input were checked above; what is left is the value itself
        for message in single.get("value", []):
            report.add(row.number, "value", message)
        problem = digits_error(text)
        if problem:
            report.add(row.number, "value", problem)
    elif text:
        try:
            parse_decimal(text)
        except ValueError as exc:
            report.add(row.number, "value", str(exc))
    if len(report.errors) > errors_before:
        plan.ok = False
    else:
        plan.value = parse_decimal(text)
    plan.set_group()
    return plan


def _resolve_object(actor, plan, values, lookups, report):
    number, text, code = plan.number, values.get("object", ""), values.get("code", "")
    kind = lookups.object_kind(text) if text else None
    if text and kind is None:
        report.add(number, "object", _("对象类型应为“资产”或“区划”。"))
    if kind is None or not code:
        return
    if kind == ASSET:
        asset = lookups.assets.get(code)
        if asset is None:
            report.add(number, "code", _("资产编号“%(code)s”不存在或您无权查看。") % {"code": code})
        elif not lookups.may_enter(actor, asset.division):
            report.add(number, "code", _("您无权录入“%(name)s”的核算数据。") % {"name": asset.code})
        else:
            plan.asset = asset
        return
    division = lookups.divisions.get(code)
    if division is None:
        report.add(number, "code", _("行政区划代码“%(code)s”不存在。") % {"code": code})
    elif not lookups.may_enter(actor, division):
        report.add(number, "code", _("您无权录入“%(name)s”的核算数据。") % {"name": division.name})
    else:
        plan.division = division


def _resolve_indicator(plan, values, lookups, report):
    text = values.get("indicator", "")
    if not text:
        return
    indicator = lookups.indicators.get(text.strip().lower()) or lookups.indicators.get(_compact(text))
    if indicator is None:
        report.add(
            plan.number,
            "indicator",
            _("未知的指标“%(value)s”（可填指标键、编码或名称，见模板的“指标与输入项”表）。")
            % {"value": text},
        )
        return
    plan.indicator = indicator
    for message in _target_errors(indicator, plan.asset, plan.division).get(indicators.NON_FIELD, []):
        report.add(plan.number, "indicator", message)
    input_text = values.get("input", "")
    if not input_text:
        return
    names = lookups.inputs[indicator.key]
    spec = names.get(input_text.strip()) or names.get(_compact(input_text))
    if spec is None:
        report.add(
            plan.number,
            "input",
            _("指标“%(name)s”没有输入项“%(key)s”。") % {"name": indicator.name, "key": input_text},
        )
        return
    plan.spec = spec


def _resolve_unit(plan, values, lookups, report):
    text = values.get("unit", "")
    if plan.spec is None:
        if text and _unit_key(text) not in lookups.units:
            report.add(plan.number, "unit", _("未知单位“%(unit)s”。") % {"unit": text})
        return
    if not text:
        if units.unit(plan.spec.unit).dimension == "ratio":
            plan.unit = plan.spec.unit
        else:
            report.add(plan.number, "unit", _("必填项为空。"))
        return
    code = lookups.units.get(_unit_key(text))
    if code is None:
        report.add(plan.number, "unit", _("未知单位“%(unit)s”。") % {"unit": text})
    elif not units.compatible(code, plan.spec.unit):
        report.add(
            plan.number,
            "unit",
            _("单位“%(unit)s”不能换算为%(expected)s。")
            % {"unit": units.unit_label(code), "expected": units.unit_label(plan.spec.unit)},
        )
    else:
        plan.unit = code


def _stored_inputs(plans, lock=False):
    """Stored values of the (object, year, indicator) groups the file touches (locked with `lock`)."""
    asset_ids = {p.asset.pk for p in plans if p.group and p.asset is not None}
    division_ids = {p.division.pk for p in plans if p.group and p.division is not None}
    if not asset_ids and not division_ids:
        return {}
    years = {p.year for p in plans if p.group}
    keys = {p.indicator.key for p in plans if p.group}
    stored = defaultdict(dict)
    records = EcologicalInput.objects.filter(
        Q(asset_id__in=asset_ids) | Q(division_id__in=division_ids), year__in=years, indicator_key__in=keys
    )
    if lock:
        records = records.select_for_update().order_by("pk")
    for record in records:
        target = (ASSET, record.asset_id) if record.asset_id else (DIVISION, record.division_id)
        stored[(target, record.year, record.indicator_key)][record.input_key] = record
    return stored


def _display(value):
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def check_groups(plans, report, stored=None):
    """Per object, year and indicator: the stored values overlaid with the file's must not
    contradict each other, and, when every row of the group is fine on its own, must be complete
    (each required input present, the indicator's "one of" rules met)."""
    groups = defaultdict(list)
    for plan in plans:
        if plan.group is not None:
            groups[plan.group].append(plan)
    if stored is None:
        stored = _stored_inputs(plans)
    for group, members in groups.items():
        indicator = members[0].indicator
        records = stored.get(group, {})
        raw = {key: indicators.Measure(record.value, record.unit) for key, record in records.items()}
        in_file, all_ok = {}, True
        for plan in members:
            if plan.duplicate:
                all_ok = False
            elif plan.ok:
                raw[plan.spec.key] = indicators.Measure(str(plan.value), plan.unit)
                in_file[plan.spec.key] = plan
            else:
                raw.pop(plan.spec.key, None)  # the file replaces the stored value with a bad one
                all_ok = False
        area = members[0].asset.area_m2 if members[0].asset is not None else None
        errors = check_indicator_set(indicator, raw, area_m2=area, complete=all_ok)
        first = members[0].number
        labels = {spec.key: spec.label for spec in indicator.inputs}
        for key, messages in errors.items():
            for message in messages:
                if key in in_file:
                    report.add(in_file[key].number, "value", message)
                elif key in records:
                    record = records[key]
                    report.add(
                        first,
                        "input",
                        _("库中已有的“%(input)s”（%(value)s %(unit)s）：%(message)s")
                        % {
                            "input": labels[key],
                            "value": _display(record.value),
                            "unit": units.unit_label(record.unit)
                            if record.unit in units.UNITS
                            else record.unit,
                            "message": message,
                        },
                    )
                elif key in labels:
                    report.add(
                        first,
                        "input",
                        _("“%(indicator)s”缺少输入项“%(input)s”：%(message)s")
                        % {"indicator": indicator.name, "input": labels[key], "message": message},
                    )
                else:
                    report.add(
                        first,
                        "indicator",
                        _("“%(indicator)s”：%(message)s") % {"indicator": indicator.name, "message": message},
                    )


# --- importing ------------------------------------------------------------------------------------


class _RowFailed(Exception):
    def __init__(self, report):
        self.report = report


def import_inputs(*, actor, upload):
    """Read, check and (when every row is right) write a workbook of inputs; returns the recorded
    InputImport with its outcome and row-by-row report. Synchronous: files are at most 20,000 rows.
    """
    if not can(actor, Capability.MANAGE_VALUATION_INPUTS):
        raise PermissionDeniedError(_("您没有录入核算数据的权限。"))
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(_("文件超过 10 MB。"), code="invalid", fields={"file": [_("文件超过 10 MB。")]})
    content = upload.read()
    record = InputImport(
        original_name=(upload.name or "")[:200],
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=actor,
        status=InputImportStatus.FAILED,
    )
    report = Report()
    try:
        record.format, rows = read_rows(content, record.original_name)
    except ImportFileError as exc:
        report.add(0, "", exc.detail)
        rows = []
    record.row_count = len(rows)
    plans, seen = validate_rows(actor, rows, report) if rows else ([], {})
    if not report:
        try:
            with transaction.atomic():
                record.value_count = _apply(actor, plans, seen)
                record.status = InputImportStatus.SUCCEEDED
                record.save()
            return record
        except _RowFailed as failure:  # stored values changed since validation
            report = failure.report
        except IntegrityError:  # the same value inserted by someone else meanwhile
            report.add(0, "", _("导入期间数据已被他人修改，请重新导入。"))
        record.pk, record.value_count = None, 0
        record.status = InputImportStatus.FAILED
    record.errors = report.sorted()
    record.save()
    return record


def _snapshot(records):
    return {key: (record.pk, record.value, record.unit) for key, record in records.items()}


def _apply(actor, plans, seen):
    """Write every value in bulk; returns how many were written (new or changed; an unchanged value
    is left alone). The stored values of the groups are read again under row locks and a group is
    re-checked when they changed after validation (`seen`: the stored values validation used). The
    database triggers (pghistory) record each change with this audit context, as for `record_input`,
    whose checks (permission in the object's division, the value's unit and range, the group's
    contradictions) all ran during validation."""
    stored = _stored_inputs(plans, lock=True)
    changed = {
        group
        for group in {p.group for p in plans}
        if _snapshot(stored.get(group, {})) != _snapshot(seen.get(group, {}))
    }
    if changed:
        recheck = Report()
        check_groups([p for p in plans if p.group in changed], recheck, stored=stored)
        if recheck:
            raise _RowFailed(recheck)
    now = timezone.now()
    updates, creates = [], []
    for plan in plans:
        record = stored.get(plan.group, {}).get(plan.spec.key)
        if record is None:
            creates.append(
                EcologicalInput(
                    asset=plan.asset,
                    division=plan.division,
                    year=plan.year,
                    indicator_key=plan.indicator.key,
                    input_key=plan.spec.key,
                    value=plan.value,
                    unit=plan.unit,
                    source=plan.source,
                    entered_by=actor,
                )
            )
        elif (record.value, record.unit, record.source) != (plan.value, plan.unit, plan.source):
            updates.append((record.pk, plan.value, plan.unit, plan.source))
    with audit_context(user=actor, reason="import GEP inputs"), connection.cursor() as cursor:
        for start in range(0, len(updates), 1000):
            chunk = updates[start : start + 1000]
            rows = ", ".join(["(%s::bigint, %s::numeric, %s::varchar, %s::varchar)"] * len(chunk))
            cursor.execute(
                f"""UPDATE valuation_ecologicalinput e
                    SET value = v.value, unit = v.unit, source = v.source, entered_by_id = %s, entered_at = %s
                    FROM (VALUES {rows}) AS v(id, value, unit, source) WHERE e.id = v.id""",  # noqa: S608
                [actor.pk, now, *(cell for row in chunk for cell in row)],
            )
        EcologicalInput.objects.bulk_create(creates, batch_size=1000)
    return len(updates) + len(creates)


# --- the template ---------------------------------------------------------------------------------

_REQUIRED_FILL = PatternFill("solid", fgColor="FDE9D9")
_HEADER_FONT = Font(bold=True)


def range_text(spec):
    """ "0 – 12000 毫米", "≥ 0 毫米", "> 0 分钟" … for the form and the template."""
    suffix = "" if spec.unit in ("dimensionless", "code") else f" {units.unit_label(spec.unit)}"
    if spec.minimum is not None and spec.maximum is not None and not spec.exclusive_minimum:
        return f"{spec.minimum} – {spec.maximum}{suffix}"
    parts = []
    if spec.minimum is not None:
        parts.append(f"{'>' if spec.exclusive_minimum else '≥'} {spec.minimum}")
    if spec.maximum is not None:
        parts.append(f"≤ {spec.maximum}")
    return f"{'，'.join(parts)}{suffix}" if parts else ""


def indicator_rows():
    """One row per input of every indicator: what the template's 指标与输入项 sheet lists."""
    for indicator in indicators.REGISTRY.values():
        for spec in indicator.inputs:
            allowed = [code for code, _label in units.unit_choices(units.unit(spec.unit).dimension)]
            yield [
                indicator.code,
                indicator.key,
                str(indicator.name),
                str(indicators.Level(indicator.level).label),
                spec.key,
                str(spec.label),
                _("是") if spec.required else _("否"),
                spec.unit,
                str(units.unit_label(spec.unit)),
                "、".join(f"{code}（{units.unit_label(code)}）" for code in allowed),
                "" if spec.minimum is None else str(spec.minimum),
                "" if spec.maximum is None else str(spec.maximum),
                range_text(spec),
                str(spec.help),
            ]


def _sheet(book, title, header, widths):
    sheet = book.create_sheet(str(title))
    sheet.append([str(h) for h in header])
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    return sheet


def template_workbook(*, example_asset=None, example_division=None, year=None):
    """Bytes of the XLSX template: the 录入 sheet with its headers and example rows for an asset
    and a division the user may enter (so that importing the untouched template works as a first
    try), then the columns explained, every indicator's inputs with units and ranges, the units,
    and the indicators each resource type offers."""
    year = year or timezone.localdate().year - 1
    book = Workbook()
    sheet = book.active
    sheet.title = str(_("录入"))
    sheet.append([f"{c.label}*" if c.required else str(c.label) for c in COLUMNS])
    for cell, column in zip(sheet[1], COLUMNS, strict=True):
        cell.font = _HEADER_FONT
        if column.required:
            cell.fill = _REQUIRED_FILL
    for letter, width in zip("ABCDEFGH", (10, 18, 8, 22, 22, 14, 14, 36), strict=True):
        sheet.column_dimensions[letter].width = width
    water = indicators.get("water_conservation")
    if example_asset is not None:
        source = _("丽水市水文年鉴（示例）")
        for key, value, unit in (
            ("precipitation", "1650", "mm"),
            ("runoff", "300", "mm"),
            ("evapotranspiration", "800", "mm"),
        ):
            sheet.append(
                [
                    str(OBJECT_NAMES[ASSET]),
                    example_asset.code,
                    year,
                    str(water.name),
                    str(water.input_spec(key).label),
                    Decimal(value),
                    str(units.unit_label(unit)),
                    source,
                ]
            )
    if example_division is not None:
        tourism = indicators.get("landscape_recreation")
        source = _("文化和旅游统计公报（示例）")
        for key, value, unit in (
            ("visits", "120", "10k_person_visits"),
            ("travel_cost_per_visit", "850", "yuan_per_visit"),
        ):
            sheet.append(
                [
                    str(OBJECT_NAMES[DIVISION]),
                    example_division.code,
                    year,
                    str(tourism.name),
                    str(tourism.input_spec(key).label),
                    Decimal(value),
                    str(units.unit_label(unit)),
                    source,
                ]
            )

    guide = _sheet(book, _("填写说明"), [_("列名"), _("英文列名"), _("必填"), _("说明")], (12, 12, 6, 100))
    for column in COLUMNS:
        guide.append([str(column.label), column.key, _("是") if column.required else "", str(column.help)])
    guide.append([])
    for title, text in (
        (_("每行一个数值"), _("一行填写一个对象、一个年份、一个指标的一个输入项。")),
        (
            _("资产的指标"),
            _(
                "资产只能填写其资源类型所列的指标（见“资源类型指标”表）；仅区域核算的指标（如休闲旅游）只能填到区划。"
            ),
        ),
        (
            _("面积"),
            _("资产的“面积”输入项可不填，核算时采用资产空间范围的面积（PostGIS 计算）。"),
        ),
        (
            _("完整性"),
            _(
                "文件中出现某对象某年某指标的任一输入项时，该组输入（库中已有的加上文件中的）须完整、不矛盾，否则逐行报错。"
            ),
        ),
        (_("更正"), _("再次导入同一对象、年份、指标、输入项的数值会覆盖原值；导入不会删除库中已有的数值。")),
        (_("全有或全无"), _("任何一行有错误时整个文件都不会写入，请按错误报告修改后重新导入。")),
        (
            _("文件"),
            _(
                "XLSX（读取“录入”表，没有时读取第一张表）或 CSV（UTF-8、带 BOM 的 UTF-8 或 GBK 编码），最多 20000 行、10 MB。"
            ),
        ),
    ):
        guide.append([str(title), "", "", str(text)])

    specs = _sheet(
        book,
        _("指标与输入项"),
        [
            _("指标编码"),
            _("指标键"),
            _("指标名称"),
            _("核算层级"),
            _("输入项键"),
            _("输入项名称"),
            _("必填"),
            _("标准单位编码"),
            _("标准单位"),
            _("可填单位"),
            _("最小值"),
            _("最大值"),
            _("取值范围"),
            _("说明"),
        ],
        (8, 22, 18, 12, 24, 24, 6, 16, 18, 50, 8, 8, 18, 60),
    )
    for row in indicator_rows():
        specs.append(row)

    table = _sheet(book, _("单位"), [_("编码"), _("名称"), _("量纲"), _("折合基准单位")], (20, 34, 20, 16))
    for code, unit in units.UNITS.items():
        base = next(u for u in units.UNITS.values() if u.dimension == unit.dimension and u.factor == 1)
        factor = unit.factor
        shown = (
            str(factor.numerator) if factor.denominator == 1 else f"{factor.numerator}/{factor.denominator}"
        )
        table.append([code, str(unit.label), unit.dimension, f"{shown} {base.code}"])

    types = _sheet(
        book, _("资源类型指标"), [_("资源类型编码"), _("资源类型"), _("可录入的指标")], (28, 20, 100)
    )
    for resource_type in ResourceType.objects.filter(is_active=True).order_by("code"):
        offered = [
            indicators.REGISTRY[k]
            for k in resource_type.gep_indicators
            if k in indicators.REGISTRY and indicators.REGISTRY[k].level != indicators.Level.REGION
        ]
        types.append(
            [
                resource_type.code,
                resource_type.name,
                "、".join(f"{i.code} {i.name}（{i.key}）" for i in offered),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
