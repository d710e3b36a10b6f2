"""The downloadable XLSX import template: the sheet to fill, then the columns, types and right kinds
explained, so that a township clerk can prepare a file without reading docs/import.md."""

from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from .import_readers import FIELDS, WKT_FIELD
from .models import ResourceType, RightKind

_REQUIRED_FILL = PatternFill("solid", fgColor="FDE9D9")


def template_workbook(*, example_division=None, example_holder=None):
    """Bytes of the template. The example row uses a division (and holder USCC) the user may use, so
    that importing the untouched template works as a first try."""
    book = Workbook()
    sheet = book.active
    sheet.title = str(_("资源"))
    columns = [*FIELDS, WKT_FIELD]
    sheet.append([f"{spec.label}*" if spec.required else str(spec.label) for spec in columns])
    for cell, spec in zip(sheet[1], columns, strict=True):
        cell.font = Font(bold=True)
        if spec.required:
            cell.fill = _REQUIRED_FILL
    for letter, width in zip(
        "ABCDEFGHIJKLMNO", (12, 14, 16, 18, 10, 10, 30, 22, 10, 8, 12, 12, 20, 16, 60), strict=False
    ):
        sheet.column_dimensions[letter].width = width
    if example_division is not None:
        x, y = 119.9200, 28.4500
        example = {
            "ref": "TB-0001",
            "type": "forest",
            "division": example_division.code,
            "name": _("示例林地"),
            "grade": "II",
            "quantity": "150",
            "attrs": '{"dominant_species": "杉木", "age_class": "中龄林"}',
            "holder_id": example_holder.uscc if example_holder else "",
            "right": str(RightKind.OWNERSHIP.label) if example_holder else "",
            "share": "1" if example_holder else "",
            "start": "2020-01-01" if example_holder else "",
            "source_doc": _("林权证 丽林证字（2020）第0001号") if example_holder else "",
            "wkt": f"POLYGON(({x} {y}, {x + 0.001} {y}, {x + 0.001} {y + 0.001}, {x} {y + 0.001}, {x} {y}))",
        }
        sheet.append([example.get(spec.key, "") for spec in columns])

    guide = book.create_sheet(str(_("填写说明")))
    guide.append([_("列名"), _("英文键（GeoJSON/Shapefile 字段名）"), _("必填"), _("说明")])
    for spec in columns:
        guide.append([str(spec.label), spec.key, _("是") if spec.required else "", str(spec.help)])
    guide.append([])
    guide.append(
        [
            _("坐标系"),
            "",
            "",
            _(
                "WKT 默认为 CGCS2000 经纬度（EPSG:4490）；投影坐标请在导入页面选择对应带号，或写成 SRID=4549;POLYGON(...)。"
            ),
        ]
    )
    guide.append(
        [_("单个属性"), "attr_<key>", "", _("也可按“attr_属性键”单独成列，如 attr_stock_volume_m3。")]
    )
    guide.append(
        [_("全有或全无"), "", "", _("任何一行有错误时整个文件都不会写入，请按错误报告修改后重新导入。")]
    )
    for letter, width in zip("ABCD", (16, 34, 6, 80), strict=False):
        guide.column_dimensions[letter].width = width

    types = book.create_sheet(str(_("资源类型")))
    types.append([_("编码"), _("名称"), _("计量单位"), _("须有空间范围"), _("属性键（标题）")])
    for resource_type in ResourceType.objects.filter(is_active=True).order_by("code"):
        properties = (resource_type.attribute_schema or {}).get("properties", {})
        types.append(
            [
                resource_type.code,
                resource_type.name,
                resource_type.unit,
                _("是") if resource_type.geometry_required else _("否"),
                "；".join(f"{key}（{spec.get('title', key)}）" for key, spec in properties.items()),
            ]
        )
    kinds = book.create_sheet(str(_("权利类型")))
    kinds.append([_("编码"), _("名称")])
    for kind in RightKind:
        kinds.append([kind.value, str(kind.label)])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
