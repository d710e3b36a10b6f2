"""Read an asset import file into plain rows: GeoJSON, zipped Shapefile, or XLSX with WKT.

Readers only parse; they do not judge. Each row keeps the number its author sees (the spreadsheet
row, or the feature's position counting from 1), its values keyed by the field keys below, and its
geometry with the SRID the file declares (None when the file declares none). A file that cannot be
read at all raises ImportFileError; anything wrong inside a row is for the validator to report.
"""

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.gis.gdal import GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tmcs.errors import DomainError


@dataclass(frozen=True)
class ImportField:
    key: str  # English key: GeoJSON property, Shapefile DBF column (≤ 10 characters)
    label: str  # Chinese column header in the XLSX template
    required: bool = False
    help: str = ""


FIELDS = [
    ImportField("ref", gettext_lazy("图斑编号"), True, gettext_lazy("本文件内唯一的外部编号，如调查图斑号")),
    ImportField(
        "type", gettext_lazy("资源类型编码"), True, gettext_lazy("生态产品目录中的类型编码，如 forest")
    ),
    ImportField("division", gettext_lazy("行政区划代码"), True, gettext_lazy("12位统计用区划代码（村级）")),
    ImportField("name", gettext_lazy("资源名称"), True),
    ImportField("grade", gettext_lazy("质量等级")),
    ImportField("quantity", gettext_lazy("数量"), help=gettext_lazy("按资源类型的计量单位")),
    ImportField("attrs", gettext_lazy("属性JSON"), help=gettext_lazy('如 {"dominant_species": "杉木"}')),
    ImportField("holder_id", gettext_lazy("权利人证件号"), help=gettext_lazy("统一社会信用代码或身份证号")),
    ImportField("right", gettext_lazy("权利类型"), help=gettext_lazy("如 承包权、经营权 或 contract")),
    ImportField("share", gettext_lazy("份额"), help=gettext_lazy("如 1、1/2")),
    ImportField("start", gettext_lazy("起始日期"), help=gettext_lazy("YYYY-MM-DD")),
    ImportField("end", gettext_lazy("截止日期"), help=gettext_lazy("YYYY-MM-DD，可空")),
    ImportField("source_doc", gettext_lazy("权源文件")),
    ImportField("cert_no", gettext_lazy("证书编号")),
]
WKT_FIELD = ImportField("wkt", gettext_lazy("几何WKT"), True, gettext_lazy("面的 WKT，坐标系见导入页面"))
FIELD_LABELS = {f.key: f.label for f in [*FIELDS, WKT_FIELD]}
MAX_ROWS = 20000


class ImportFileError(DomainError):
    """The file as a whole cannot be read (wrong format, missing parts, missing columns)."""


@dataclass
class RawRow:
    number: int
    values: dict = field(default_factory=dict)
    geometry: GEOSGeometry | None = None
    geometry_error: str = ""


def read_rows(content: bytes, filename: str, default_srid: int | None):
    """(format, rows) of an uploaded file; the format is chosen by the file name's extension."""
    name = filename.lower()
    if name.endswith((".geojson", ".json")):
        rows = _read_geojson(content, default_srid)
        fmt = "geojson"
    elif name.endswith(".zip"):
        rows = _read_shapefile_zip(content)
        fmt = "shapefile"
    elif name.endswith(".xlsx"):
        rows = _read_xlsx(content, default_srid)
        fmt = "xlsx"
    else:
        raise ImportFileError(_("不支持的文件格式：请上传 GeoJSON、Shapefile 压缩包（.zip）或 XLSX。"))
    if not rows:
        raise ImportFileError(_("文件中没有数据行。"))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("单个文件最多 %(max)s 行，请拆分后导入。") % {"max": MAX_ROWS})
    return fmt, rows


def names_of(label):
    """A label as it may appear in a file: its Chinese original and its current translation (a
    Chinese template stays importable when the user works in English, and vice versa)."""
    with translation.override("zh-hans"):
        chinese = str(label)
    return {chinese, str(label)}


def normalise_key(header):
    """A column header (English key or a label in Chinese or the UI language, with or without a
    trailing *) → field key."""
    text = str(header or "").strip().rstrip("*").strip()
    for key, label in FIELD_LABELS.items():
        if text.lower() == key or text in names_of(label):
            return key
    if text.startswith("attr_"):  # a single attribute as its own column: attr_<key>
        return text
    return None


def _cell(value):
    """Spreadsheet cells → plain text or date (Excel hands numbers back as floats)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def _values(properties):
    values = {}
    for header, value in (properties or {}).items():
        key = normalise_key(header)
        if key:
            values[key] = _cell(value)
    return values


# --- GeoJSON ------------------------------------------------------------------------------------


def _geojson_srid(document, default_srid):
    """RFC 7946 GeoJSON is WGS 84 and has no `crs`; older files name one (urn:ogc:def:crs:EPSG::4549)."""
    name = ((document.get("crs") or {}).get("properties") or {}).get("name", "")
    if not name:
        return default_srid or 4490
    if name.endswith("CRS84"):
        return 4326
    digits = name.rsplit(":", 1)[-1]
    if not digits.isdigit():
        raise ImportFileError(_("无法识别 GeoJSON 的坐标系：%(name)s") % {"name": name})
    return int(digits)


def _read_geojson(content, default_srid):
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ImportFileError(_("GeoJSON 文件无法解析，请确认为 UTF-8 编码的 JSON。")) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportFileError(_("GeoJSON 须为 FeatureCollection。"))
    srid = _geojson_srid(document, default_srid)
    rows = []
    for number, feature in enumerate(document.get("features") or [], start=1):
        row = RawRow(number, _values((feature or {}).get("properties")))
        geometry = (feature or {}).get("geometry")
        if geometry:
            row.geometry, row.geometry_error = _geometry(json.dumps(geometry), srid)
        rows.append(row)
    return rows


def _geometry(text, srid):
    try:
        shape = GEOSGeometry(text)
    except (ValueError, TypeError, GEOSException, GDALException):
        return None, _("几何无法解析。")
    if text.lstrip().startswith("{") or shape.srid is None:  # GEOS calls all GeoJSON 4326: use the file's
        shape.srid = srid
    return shape, ""


# --- Shapefile ----------------------------------------------------------------------------------

_CPG_ENCODINGS = {"936": "gbk", "cp936": "gbk", "gb2312": "gbk", "gbk": "gbk", "gb18030": "gb18030"}


def _read_shapefile_zip(content):
    import shapefile  # pyshp

    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = {name.lower(): name for name in archive.namelist() if not name.endswith("/")}
    except zipfile.BadZipFile:
        raise ImportFileError(_("压缩包已损坏或不是 ZIP 文件。")) from None
    shp_names = [name for name in members if name.endswith(".shp")]
    if len(shp_names) != 1:
        raise ImportFileError(_("压缩包中须有且仅有一个 .shp 文件。"))
    stem = shp_names[0][:-4]
    parts = {}
    for ext in ("shp", "shx", "dbf", "prj", "cpg"):
        if f"{stem}.{ext}" in members:
            parts[ext] = archive.read(members[f"{stem}.{ext}"])
    missing = [f".{ext}" for ext in ("shx", "dbf", "prj") if ext not in parts]
    if missing:
        raise ImportFileError(
            _("Shapefile 缺少 %(parts)s 文件（.prj 说明坐标系，不可缺少）。") % {"parts": "、".join(missing)}
        )
    srid = _prj_srid(parts["prj"])
    encoding = _CPG_ENCODINGS.get(parts.get("cpg", b"").decode("ascii", "ignore").strip().lower(), "")
    for candidate in [encoding] if encoding else ["utf-8", "gbk"]:  # no .cpg: try UTF-8, then GBK
        try:
            reader = shapefile.Reader(
                shp=io.BytesIO(parts["shp"]),
                shx=io.BytesIO(parts["shx"]),
                dbf=io.BytesIO(parts["dbf"]),
                encoding=candidate,
            )
            records = [
                (record.as_dict(), shape)
                for shape, record in zip(reader.shapes(), reader.records(), strict=True)
            ]
            break
        except UnicodeDecodeError:
            continue
        except (shapefile.ShapefileException, ValueError, OSError, IndexError):
            raise ImportFileError(_("Shapefile 无法读取，文件可能已损坏。")) from None
    else:
        raise ImportFileError(_("Shapefile 属性表的字符编码无法识别，请附带 .cpg 文件。"))
    rows = []
    for number, (properties, shape) in enumerate(records, start=1):
        row = RawRow(number, _values(properties))
        if shape.shapeType != shapefile.NULL:
            row.geometry, row.geometry_error = _geometry(json.dumps(shape.__geo_interface__), srid)
        rows.append(row)
    return rows


def _prj_srid(prj):
    try:
        reference = SpatialReference(prj.decode("utf-8", "replace"))
        reference.identify_epsg()
    except (GDALException, ValueError):
        raise ImportFileError(_("无法识别 .prj 中的坐标系。")) from None
    if not reference.srid:
        raise ImportFileError(
            _("无法识别 .prj 中的坐标系（%(name)s），请使用 CGCS2000。") % {"name": reference.name}
        )
    return reference.srid


# --- XLSX ---------------------------------------------------------------------------------------


def _read_xlsx(content, default_srid):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types (zipfile, KeyError, InvalidFileException) for junk
        raise ImportFileError(_("XLSX 文件无法打开，请用模板另存为 .xlsx。")) from None
    named = [name for name in book.sheetnames if name in names_of(gettext_lazy("资源"))]
    sheet = book[named[0]] if named else book.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = next(lines, None) or ()
    keys = [normalise_key(cell) for cell in header]
    missing = [str(f.label) for f in [*FIELDS, WKT_FIELD] if f.required and f.key not in keys]
    if missing:
        raise ImportFileError(
            _("表头缺少必填列：%(columns)s。请使用导入模板。") % {"columns": "、".join(missing)}
        )
    rows = []
    for number, line in enumerate(lines, start=2):
        if all(cell in (None, "") for cell in line):
            continue
        values = {key: _cell(cell) for key, cell in zip(keys, line, strict=False) if key}
        row = RawRow(number, values)
        wkt = values.pop("wkt", "")
        if wkt:
            row.geometry, row.geometry_error = _geometry(wkt, default_srid or 4490)
        rows.append(row)
    book.close()
    return rows
