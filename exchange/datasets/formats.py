"""Files in and out: CSV (UTF-8 with BOM, so that Excel opens Chinese correctly), XLSX, GeoJSON
(RFC 7946 FeatureCollection) and JSON, for any dataset spec.

Layout of CSV and XLSX: row 1 holds the Chinese column labels, row 2 the English keys, data from
row 3 (the rows' numbers in error reports are the spreadsheet's). Readers accept either header row
alone too, and any column order; unknown columns are ignored and named in the log.

Coordinates are written as stored: CGCS2000 longitude/latitude (EPSG:4490). RFC 7946 says GeoJSON
is WGS 84; CGCS2000 and WGS 84 differ by a few centimetres, far below the precision of survey
parcels, so the coordinates are written unchanged and the file says which system they are in
(`"crs_note"` foreign member). Readers take GeoJSON without `crs`, with CRS84/EPSG:4326 or with
EPSG:4490 as they are, and transform CGCS2000 Gauss-Krüger zones (EPSG:4491–4554).
"""

import csv
import io
import json
from datetime import date
from decimal import Decimal

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from resources.import_readers import ImportFileError, names_of
from resources.import_readers import _geojson_srid as geojson_srid  # the registry importer's CRS rule
from tmcs.errors import DomainError

from ..models import ExchangeFormat
from .base import ColumnType, GeometryCellError, ImportRow

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
XLSX_CELL_LIMIT = 32_767
CRS_NOTE = "EPSG:4490 (CGCS2000); RFC 7946 WGS 84 differs by centimetres"
CONTENT_TYPES = {
    ExchangeFormat.CSV: "text/csv; charset=utf-8",
    ExchangeFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExchangeFormat.GEOJSON: "application/geo+json",
    ExchangeFormat.JSON: "application/json",
}
EXTENSIONS = {
    ExchangeFormat.CSV: "csv",
    ExchangeFormat.XLSX: "xlsx",
    ExchangeFormat.GEOJSON: "geojson",
    ExchangeFormat.JSON: "json",
}


class FileError(DomainError):
    """The file as a whole cannot be read: nothing in it is looked at further."""

    code = "file_rejected"


def format_of(file_name):
    """The exchange format a file name's extension names, or None."""
    name = (file_name or "").lower()
    for fmt, extension in EXTENSIONS.items():
        if name.endswith(f".{extension}"):
            return fmt
    return None


# --- writing ------------------------------------------------------------------------------------


def _text(value):
    """A typed value as CSV text (and XLSX text where no native cell type fits)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, GEOSGeometry):
        return value.wkt
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)  # exact: a JSON number would go through a binary float
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, GEOSGeometry):
        return value.wkt
    return value


def geojson_geometry(shape):
    """RFC 7946 geometry from GEOS coordinates (Python floats round-trip exactly through JSON)."""
    return {"type": shape.geom_type, "coordinates": shape.coords}


def render(spec, rows, fmt, *, division_code=""):
    """(bytes, content type, file name) of rows (dicts of typed values) in `fmt`."""
    fmt = ExchangeFormat(fmt)
    if fmt == ExchangeFormat.CSV:
        content = _csv(spec, spec.columns, rows)
    elif fmt == ExchangeFormat.XLSX:
        content = _xlsx(spec, spec.columns, rows)
    elif fmt == ExchangeFormat.GEOJSON:
        content = _geojson(spec, rows)
    else:
        content = _json(spec, rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    scope = f"-{division_code}" if division_code else ""
    return content, CONTENT_TYPES[fmt], f"{spec.key}{scope}-{stamp}.{EXTENSIONS[fmt]}"


def template(spec, fmt):
    """(bytes, content type, file name) of an empty import file: the two header rows (required
    columns marked *) and, in XLSX, the sheet that explains every column."""
    fmt = ExchangeFormat(fmt)
    columns = spec.import_columns
    content = (
        _csv(spec, columns, [], mark_required=True)
        if fmt == ExchangeFormat.CSV
        else _xlsx(spec, columns, [], mark_required=True)
    )
    return content, CONTENT_TYPES[fmt], f"{spec.key}-template.{EXTENSIONS[fmt]}"


def _labels(columns, mark_required):
    return [f"{c.label}*" if mark_required and c.required else str(c.label) for c in columns]


def _csv(spec, columns, rows, mark_required=False):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_labels(columns, mark_required))
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow([_text(row.get(c.key)) for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_HEADER_FONT = Font(bold=True)
_KEY_FONT = Font(italic=True, color="666666")
_REQUIRED_FILL = PatternFill("solid", fgColor="FDE9D9")


def _xlsx_cell(column, value):
    if value is None:
        return None
    if isinstance(value, bool | date | Decimal | int):
        return value
    text = _text(value)
    if len(text) > XLSX_CELL_LIMIT:
        raise DomainError(
            _("“%(column)s”的内容超过 XLSX 单元格上限（32767 个字符），请改用 CSV、GeoJSON 或 JSON 格式。")
            % {"column": column.label},
            code="too_large_for_xlsx",
        )
    return text


def _xlsx(spec, columns, rows, mark_required=False):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_("数据")))
    sheet.append(_labels(columns, mark_required))
    sheet.append([c.key for c in columns])
    for row in rows:
        sheet.append([_xlsx_cell(c, row.get(c.key)) for c in columns])
    guide = book.create_sheet(str(_("说明")))
    guide.append([str(_("列名")), str(_("英文键")), str(_("类型")), str(_("必填")), str(_("说明"))])
    for column in spec.columns:
        guide.append(
            [
                str(column.label),
                column.key,
                str(column.type_label),
                str(_("是")) if column.required else "",
                str(_("仅导出，导入时忽略")) + "；" + str(column.help)
                if column.export_only
                else str(column.help),
            ]
        )
    guide.append([])
    guide.append([str(_("数据集")), spec.key, str(spec.label)])
    guide.append([str(_("坐标系")), CRS_NOTE])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _geojson(spec, rows):
    geometry_key = spec.geometry_column.key
    features = []
    for row in rows:
        shape = row.get(geometry_key)
        features.append(
            {
                "type": "Feature",
                "id": spec.natural_key(row),
                "geometry": geojson_geometry(shape) if shape is not None else None,
                "properties": {
                    c.key: _json_value(row.get(c.key)) for c in spec.columns if c.key != geometry_key
                },
            }
        )
    document = {"type": "FeatureCollection", "name": spec.key, "crs_note": CRS_NOTE, "features": features}
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _json(spec, rows):
    document = {
        "dataset": spec.key,
        "crs_note": CRS_NOTE if spec.geometry_column else "",
        "columns": [c.key for c in spec.columns],
        "rows": [{c.key: _json_value(row.get(c.key)) for c in spec.columns} for row in rows],
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def json_rows(spec, rows):
    """Rows as JSON-ready dicts (the API's paginated export)."""
    return [{c.key: _json_value(row.get(c.key)) for c in spec.columns} for row in rows]


# --- reading ------------------------------------------------------------------------------------


def column_key(spec, header):
    """The column key a header cell names: its English key or its Chinese label (or the label in
    the current UI language), with or without the trailing * of required columns."""
    text = str(header if header is not None else "").strip().lstrip("\ufeff").rstrip("*").strip()
    if not text:
        return None
    for column in spec.columns:
        if text.lower() == column.key or text in names_of(column.label):
            return column.key
    return None


def read(spec, fmt, content):
    """(rows, ignored column headers) of a file, or FileError saying why it cannot be read."""
    if len(content) > MAX_BYTES:
        raise FileError(_("文件超过 20 MB，请按区划或年份拆分后再交换。"))
    if not content:
        raise FileError(_("文件是空的。"))
    fmt = ExchangeFormat(fmt)
    if fmt == ExchangeFormat.CSV:
        rows, ignored = _read_table(spec, _csv_lines(content))
    elif fmt == ExchangeFormat.XLSX:
        rows, ignored = _read_table(spec, _xlsx_lines(content))
    elif fmt == ExchangeFormat.GEOJSON:
        rows, ignored = _read_geojson(spec, content)
    else:
        rows, ignored = _read_json(spec, _json_document(content))
    if not rows:
        raise FileError(_("文件中没有数据行。"))
    return rows, ignored


def read_records(spec, records):
    """Rows from an already parsed JSON body ({"rows": [...]} or a list of objects)."""
    rows, ignored = _read_json(spec, records)
    if not rows:
        raise FileError(_("没有数据行。"))
    return rows, ignored


def _too_many():
    return FileError(_("单个文件最多 %(max)s 行，请拆分后再交换。") % {"max": MAX_ROWS})


def _decode(content):
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (Excel/WPS "CSV" in China)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            return content.decode("gb18030")
        except UnicodeDecodeError:
            pass
    raise FileError(_("CSV 文件的字符编码无法识别，请另存为 UTF-8（带 BOM）或 GBK 编码。"))


def _csv_lines(content):
    text = _decode(content)
    if "\x00" in text:
        raise FileError(_("CSV 文件含有二进制内容，可能不是 CSV 文件。"))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        yield from reader
    except csv.Error as exc:
        raise FileError(_("CSV 文件无法解析：%(error)s") % {"error": exc}) from None


def _xlsx_lines(content):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types (zipfile, KeyError, InvalidFileException) for junk
        raise FileError(_("XLSX 文件无法打开（文件已损坏或不是 .xlsx），请重新导出后再试。")) from None
    try:
        yield from book.worksheets[0].iter_rows(values_only=True)
    except Exception:  # a truncated archive fails while its sheet is streamed
        raise FileError(_("XLSX 文件无法读取（文件已损坏或不完整）。")) from None
    finally:
        book.close()


def _blank(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _read_table(spec, lines):
    lines = iter(lines)
    header = next(lines, None)
    if header is None:
        raise FileError(_("文件中没有表头。"))
    keys = [column_key(spec, cell) for cell in header]
    ignored = [str(cell) for cell, key in zip(header, keys, strict=True) if key is None and not _blank(cell)]
    _check_header(spec, set(keys))
    rows = []
    for number, cells in enumerate(lines, start=2):
        if all(_blank(cell) for cell in cells):
            continue
        if number == 2 and _is_key_row(spec, cells):
            continue
        values = {}
        for key, cell in zip(keys, cells, strict=False):
            if key and key not in values:
                values[key] = cell
        rows.append(ImportRow(number=number, values=values))
        if len(rows) > MAX_ROWS:
            raise _too_many()
    return rows, ignored


def _is_key_row(spec, cells):
    keys = {c.key for c in spec.columns}
    filled = [str(cell).strip().lower() for cell in cells if not _blank(cell)]
    return bool(filled) and all(cell in keys for cell in filled)


def _check_header(spec, present, geometry_given=False):
    missing = [
        str(c.label)
        for c in spec.import_columns
        if c.required and c.key not in present and not (geometry_given and c.type == ColumnType.GEOMETRY)
    ]
    if missing:
        raise FileError(
            _("表头缺少必填列：%(columns)s。请使用本数据集的模板。") % {"columns": "、".join(missing)}
        )


def _json_document(content):
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise FileError(_("JSON 无法解析，请确认为 UTF-8 编码的 JSON。")) from None


def _mapped(spec, properties):
    values, ignored = {}, set()
    for name, value in properties.items():
        key = column_key(spec, name)
        if key is None:
            ignored.add(str(name))
        elif key not in values:
            values[key] = value
    return values, ignored


def _read_json(spec, document):
    records = document.get("rows") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FileError(_('JSON 须为对象数组，或形如 {"rows": [对象, …]}。'))
    if len(records) > MAX_ROWS:
        raise _too_many()
    rows, ignored, present = [], set(), set()
    for number, record in enumerate(records, start=1):
        values, unknown = _mapped(spec, record)
        ignored |= unknown
        present |= set(values)
        rows.append(ImportRow(number=number, values=values))
    if rows:
        _check_header(spec, present)
    return rows, sorted(ignored)


def _geojson_srid(document):
    """The SRID a GeoJSON declares (none or CRS84 → as the registry's importer reads it)."""
    try:
        return geojson_srid(document, 4490)
    except ImportFileError as exc:
        raise FileError(exc.detail) from None


def _feature_geometry(geometry, srid):
    if not isinstance(geometry, dict):
        return GeometryCellError(_("要素的几何无法解析。"))
    try:
        shape = GEOSGeometry(json.dumps(geometry))
    except (ValueError, TypeError, GEOSException, GDALException):
        return GeometryCellError(_("要素的几何无法解析。"))
    shape.srid = srid  # GEOS calls every GeoJSON 4326: the file's declaration decides
    return shape


def _read_geojson(spec, content):
    document = _json_document(content)
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise FileError(_("GeoJSON 须为 FeatureCollection。"))
    features = document.get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise FileError(_("GeoJSON 的 features 须为要素数组。"))
    if len(features) > MAX_ROWS:
        raise _too_many()
    srid = _geojson_srid(document)
    geometry_key = spec.geometry_column.key
    rows, ignored, present = [], set(), set()
    for number, feature in enumerate(features, start=1):
        if feature.get("type") != "Feature":
            raise FileError(_("第 %(n)s 个要素不是 Feature。") % {"n": number})
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise FileError(_("第 %(n)s 个要素的 properties 不是对象。") % {"n": number})
        values, unknown = _mapped(spec, properties)
        ignored |= unknown
        present |= set(values)
        geometry = feature.get("geometry")
        values[geometry_key] = _feature_geometry(geometry, srid) if geometry is not None else None
        rows.append(ImportRow(number=number, values=values))
    if rows:
        _check_header(spec, present, geometry_given=True)
    return rows, sorted(ignored)
