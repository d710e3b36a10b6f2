"""What every dataset shares: its documented columns, the formats it travels in, and the four hooks
the exchange service calls (exchange.services.datasets):

- `export_rows(user, division, filters)` → dicts of typed values (Decimal, date, GEOS geometry,
  lists), within the division subtree, ordered by natural key, in a constant number of queries;
- `natural_key(data)` → the row's business key (asset code, permit number…);
- `validate(row, context)` → [(column key, message)], reading only;
- `apply(row, context)` → ("created" | "updated" | "unchanged", object), writing through the owning
  app's services.

A column's label and help are the text of the web page, the XLSX template and docs/data-exchange.md.
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.db.models import Q
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability

from ..models import Dataset, ExchangeFormat

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# CGCS2000 geographic (what we store), WGS 84 (RFC 7946 GeoJSON), CGCS2000 3°/6° Gauss-Krüger zones
GEOGRAPHIC_SRIDS = (4490, 4326)
PROJECTED_SRIDS = range(4491, 4555)


class ColumnType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"
    JSON = "json"
    GEOMETRY = "geometry"


TYPE_LABELS = {
    ColumnType.TEXT: gettext_lazy("文本"),
    ColumnType.INTEGER: gettext_lazy("整数"),
    ColumnType.DECIMAL: gettext_lazy("数字"),
    ColumnType.DATE: gettext_lazy("日期（YYYY-MM-DD）"),
    ColumnType.BOOLEAN: gettext_lazy("是/否（true/false）"),
    ColumnType.JSON: gettext_lazy("JSON"),
    ColumnType.GEOMETRY: gettext_lazy("面几何（WKT；GeoJSON 中为要素几何）"),
}


@dataclass(frozen=True)
class Column:
    key: str  # English key: CSV/XLSX second header row, GeoJSON property, JSON field
    label: str  # Chinese header
    type: ColumnType = ColumnType.TEXT
    required: bool = False
    help: str = ""
    max_length: int | None = None
    places: int | None = None  # decimal places a DECIMAL may carry
    export_only: bool = False  # written on export, ignored on import (computed by the platform)

    @property
    def type_label(self):
        return TYPE_LABELS[self.type]


@dataclass(frozen=True)
class DatasetSpec:
    key: str
    department: str
    description: str
    columns: tuple
    formats: tuple
    key_columns: tuple  # the columns that make the natural key (for the documentation)
    natural_key: Callable
    export_rows: Callable
    validate: Callable
    apply: Callable
    # besides EXCHANGE_DATA: the owning app's capability its services require to write
    import_capability: Capability
    prepare: Callable | None = None  # bulk look-ups for validate (one query per kind of reference)
    filters: tuple = ()  # "updated_since", "year"
    notes: tuple = ()  # import semantics, one sentence each (page and docs)
    # the owning services' field names → the file's column keys (where a refusal is reported)
    service_fields: dict = field(default_factory=dict)

    @property
    def label(self):
        return Dataset(self.key).label

    @property
    def import_columns(self):
        return [c for c in self.columns if not c.export_only]

    @property
    def geometry_column(self):
        return next((c for c in self.columns if c.type == ColumnType.GEOMETRY), None)

    def column(self, key):
        return next((c for c in self.columns if c.key == key), None)

    def column_label(self, key):
        column = self.column(key)
        return str(column.label) if column else key

    @property
    def format_labels(self):
        return [ExchangeFormat(f).label for f in self.formats]


@dataclass
class ImportRow:
    number: int  # the row number its author sees (spreadsheet row, feature or array position)
    values: dict  # cells by column key, as read
    data: dict = field(default_factory=dict)  # typed values
    key: str = ""  # natural key
    digest: str = ""
    resolved: dict = field(default_factory=dict)  # objects validate found, for apply
    ok: bool = True


class RowErrors:
    """Errors as the file's author sees them: row (0 = the file), column key and label, message."""

    def __init__(self, spec):
        self.spec = spec
        self.items = []

    def add(self, row, key, message):
        self.items.append(
            {
                "row": row,
                "column": self.spec.column_label(key) if key else "",
                "key": key or "",
                "message": str(message),
            }
        )

    def __bool__(self):
        return bool(self.items)

    def __len__(self):
        return len(self.items)

    @property
    def rows(self):
        return {e["row"] for e in self.items if e["row"]}

    def sorted(self):
        order = {c.key: n for n, c in enumerate(self.spec.columns)}
        return sorted(self.items, key=lambda e: (e["row"], order.get(e["key"], -1)))


@dataclass
class ImportContext:
    actor: object
    division: object  # the exchange's division: every row must lie in its subtree
    spec: DatasetSpec
    channel: str
    dry_run: bool = False
    reason: str = ""  # the audit reason of every write the import makes
    cache: dict = field(default_factory=dict)  # what prepare looked up

    def covers(self, division):
        return division is not None and self.division.contains(division)


def in_division(field_name, division):
    """Q of rows whose division code `field_name` lies in `division`'s subtree."""
    return Q(**{f"{field_name}__startswith": division.prefix})


# --- cells → typed values -----------------------------------------------------------------------


class GeometryCellError(str):
    """A reader's message for a geometry it could not read (kept in the cell, reported per row)."""


_BOOLEANS = {
    "true": True,
    "1": True,
    "是": True,
    "yes": True,
    "false": False,
    "0": False,
    "否": False,
    "no": False,
}
_INTEGER = re.compile(r"^[+-]?\d+$")


def parse_cell(column, raw):
    """(value, error message or None) of one cell; empty cells are None."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    kind = column.type
    if kind == ColumnType.GEOMETRY:
        return parse_geometry_cell(raw)
    if kind == ColumnType.JSON:
        if isinstance(raw, list | dict):
            return raw, None
        try:
            return json.loads(str(raw)), None
        except ValueError:
            return None, _("JSON 无法解析。")
    if kind == ColumnType.DATE:
        if isinstance(raw, datetime):
            return raw.date(), None
        if isinstance(raw, date):
            return raw, None
        try:
            parsed = parse_date(str(raw).strip().replace("/", "-"))
        except ValueError:
            parsed = None
        return (parsed, None) if parsed else (None, _("日期格式应为 YYYY-MM-DD。"))
    if kind == ColumnType.BOOLEAN:
        if isinstance(raw, bool):
            return raw, None
        value = _BOOLEANS.get(str(raw).strip().lower())
        return (value, None) if value is not None else (None, _("应为“是”或“否”（true/false）。"))
    if kind == ColumnType.INTEGER:
        text = str(raw).strip()
        if isinstance(raw, float) and raw.is_integer():
            text = str(int(raw))
        return (int(text), None) if _INTEGER.match(text) else (None, _("应为整数。"))
    if kind == ColumnType.DECIMAL:
        return parse_decimal(raw, column.places)
    text = str(raw).strip()
    if isinstance(raw, float):
        text = format(Decimal(repr(raw)).normalize(), "f")
    if column.max_length and len(text) > column.max_length:
        return None, _("最多 %(n)s 个字符。") % {"n": column.max_length}
    return text, None


def parse_decimal(raw, places=None):
    text = format(Decimal(repr(raw)).normalize(), "f") if isinstance(raw, float) else str(raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, _("应为数字（不带千分位分隔符和单位）。")
    if not value.is_finite():
        return None, _("应为数字（不带千分位分隔符和单位）。")
    if places is not None and value != value.quantize(Decimal(1).scaleb(-places)):
        return None, _("最多 %(n)s 位小数。") % {"n": places}
    return value, None


def parse_geometry_cell(raw):
    """A GEOS geometry in SRID 4490 from WKT/EWKT text or a reader's geometry; the shape itself
    (polygon, within China, valid) is judged by resources.services.parse_geometry."""
    if isinstance(raw, GeometryCellError):
        return None, str(raw)
    if isinstance(raw, GEOSGeometry):
        shape = raw
    else:
        try:
            shape = GEOSGeometry(str(raw).strip())
        except (ValueError, TypeError, GEOSException, GDALException):
            return None, _("几何无法解析（应为 WKT，如 MULTIPOLYGON(((…)))）。")
    return to_cgcs2000(shape)


def to_cgcs2000(shape):
    """(shape in SRID 4490, error). WGS 84 coordinates are taken as they are: CGCS2000 and WGS 84
    differ by centimetres, below the precision of the parcels exchanged; Gauss-Krüger coordinates
    of a CGCS2000 zone are transformed."""
    srid = shape.srid or 4490
    if srid in PROJECTED_SRIDS:
        try:
            shape = shape.transform(4490, clone=True)
        except (GDALException, GEOSException):
            return None, _("坐标无法转换为 CGCS2000 经纬度。")
    elif srid not in GEOGRAPHIC_SRIDS:
        return None, _("坐标系 EPSG:%(srid)s 不受支持（可用 4490、4326 或 4491–4554）。") % {"srid": srid}
    shape.srid = 4490
    return shape, None


# --- normalised content -------------------------------------------------------------------------


def canonical(value):
    """A JSON-ready form of a typed value that is the same whichever format the value came in."""
    if isinstance(value, Decimal):
        return "0" if value.is_zero() else format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, GEOSGeometry):
        return bytes(value.wkb).hex()
    if isinstance(value, float):
        return canonical(Decimal(repr(value)))
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    return value


def digest_of(spec, data):
    """SHA-256 of the row's importable content (export-only columns left out)."""
    content = {c.key: canonical(data.get(c.key)) for c in spec.import_columns}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_number(value):
    """A Decimal as the JSON number an attribute schema expects (int when whole)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)
