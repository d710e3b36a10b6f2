"""Importing ecological inputs from XLSX/CSV workbooks: every row checked, each object's set of
inputs cross-checked, all or nothing, a row-by-row report, and a template that imports as is."""

import hashlib
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from directory.models import AdministrativeDivision, OrganizationKind, Role
from directory.services import create_organization
from resources.tests.conftest import square
from valuation import indicators
from valuation.indicators import units
from valuation.models import EcologicalInput, InputImport, InputImportStatus
from valuation.services.input_import import COLUMNS, import_inputs, record_indicator_inputs

pytestmark = pytest.mark.django_db

HEADER = ["对象类型", "编码", "年份", "指标", "输入项", "数值", "单位", "数据来源"]
COUNTY, VILLAGE = "331102000000", "331102199201"


def xlsx(rows, header=HEADER, sheet_title=None):
    book = Workbook()
    sheet = book.active
    if sheet_title:
        sheet.title = sheet_title
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8", header=HEADER):
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def run(actor, content, name="inputs.xlsx"):
    return import_inputs(actor=actor, upload=SimpleUploadedFile(name, content))


def cells(record):
    return {(e["row"], e["column"]) for e in record.errors}


def messages_of(record, row):
    return " ".join(e["message"] for e in record.errors if e["row"] == row)


def water_rows(code, year=2025, precipitation="1650", runoff="300", et="800", source="丽水市水文年鉴"):
    return [
        ("资产", code, year, "水源涵养", "降水量 P", precipitation, "毫米", source),
        ("资产", code, year, "水源涵养", "地表径流量 R", runoff, "mm", source),
        ("资产", code, year, "water_conservation", "evapotranspiration", et, "毫米", source),
    ]


@pytest.fixture
def forest(make_asset):
    return make_asset()


@pytest.fixture
def outsider(make_member, demo_region):
    admin = get_user_model().objects.get(username="admin")
    elsewhere = create_organization(
        actor=admin,
        name="青田县两山合作社",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    return make_member(Role.COOP_STAFF, elsewhere)


def good_rows(forest):
    return [
        *water_rows(forest.code),
        ("资产", forest.code, 2025, "R7", "面积", "15", "亩", "林地一张图"),
        ("资产", forest.code, 2025, "固碳", "NPP（干物质）", "1200", "g_dm_per_m2", "MODIS MOD17"),
        ("区划", COUNTY, 2025, "休闲旅游/景观游憩", "游客人次", "120", "万人次", "莲都区统计公报"),
        (
            "division",
            COUNTY,
            "2025",
            "landscape_recreation",
            "tourism_revenue",
            "9.5",
            "亿元",
            "莲都区统计公报",
        ),
    ]


def test_xlsx_import_writes_every_value_and_records_the_import(county_staff, forest):
    content = xlsx(good_rows(forest))
    record = run(county_staff, content, "2025年核算输入.xlsx")
    assert record.status == InputImportStatus.SUCCEEDED, record.errors
    assert (record.format, record.row_count, record.value_count) == ("xlsx", 7, 7)
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert record.created_by == county_staff and record.original_name == "2025年核算输入.xlsx"
    assert record.errors == []
    saved = {
        (r.asset_id or r.division_id, r.indicator_key, r.input_key): (r.value, r.unit, r.source)
        for r in EcologicalInput.objects.all()
    }
    county = AdministrativeDivision.objects.get(code=COUNTY)
    assert saved == {
        (forest.pk, "water_conservation", "precipitation"): (Decimal("1650"), "mm", "丽水市水文年鉴"),
        (forest.pk, "water_conservation", "runoff"): (Decimal("300"), "mm", "丽水市水文年鉴"),
        (forest.pk, "water_conservation", "evapotranspiration"): (Decimal("800"), "mm", "丽水市水文年鉴"),
        (forest.pk, "carbon_sequestration", "area"): (Decimal("15"), "mu", "林地一张图"),
        (forest.pk, "carbon_sequestration", "npp_dry_matter"): (
            Decimal("1200"),
            "g_dm_per_m2",
            "MODIS MOD17",
        ),
        (county.pk, "landscape_recreation", "visits"): (
            Decimal("120"),
            "10k_person_visits",
            "莲都区统计公报",
        ),
        (county.pk, "landscape_recreation", "tourism_revenue"): (
            Decimal("9.5"),
            "100m_yuan",
            "莲都区统计公报",
        ),
    }
    # importing again corrects values in place (no duplicates)
    rows = good_rows(forest)
    rows[0] = ("资产", forest.code, 2025, "水源涵养", "降水量 P", "1.7", "米", "省水文站")
    again = run(county_staff, xlsx(rows))
    assert again.status == InputImportStatus.SUCCEEDED, again.errors
    assert EcologicalInput.objects.count() == 7
    precipitation = EcologicalInput.objects.get(input_key="precipitation")
    assert (precipitation.value, precipitation.unit, precipitation.source) == (
        Decimal("1.7"),
        "m",
        "省水文站",
    )
    assert InputImport.objects.count() == 2


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_import_in_gbk_or_utf8(county_staff, forest, encoding):
    record = run(county_staff, csv_bytes(good_rows(forest), encoding), "inputs.csv")
    assert record.status == InputImportStatus.SUCCEEDED, record.errors
    assert (record.format, record.value_count) == ("csv", 7)
    assert EcologicalInput.objects.filter(division__code=COUNTY, input_key="visits").get().value == Decimal(
        "120"
    )


def test_english_headers_and_excel_numbers_are_read(county_staff, forest):
    rows = [
        ("asset", forest.code, 2025.0, "r1", key, float(value), "mm", "hydrology")
        for key, value in (("precipitation", "1650.5"), ("runoff", "0.1"), ("evapotranspiration", "800"))
    ]
    record = run(county_staff, xlsx(rows, header=[c.key for c in COLUMNS], sheet_title="数据"))
    assert record.status == InputImportStatus.SUCCEEDED, record.errors
    values = dict(EcologicalInput.objects.values_list("input_key", "value"))
    assert values == {
        "precipitation": Decimal("1650.5"),
        "runoff": Decimal("0.1"),
        "evapotranspiration": Decimal("800"),
    }


def test_a_broken_file_writes_nothing_and_reports_every_bad_row(county_staff, forest, outsider):
    rows = [
        *water_rows(forest.code),  # rows 2–4: fine on their own, but see row 14
        ("资产", "ZY999", 2025, "水源涵养", "降水量 P", "1650", "毫米", "年鉴"),  # 5 unknown asset
        ("资产", forest.code, 2025, "水源价值", "降水量 P", "1650", "毫米", "年鉴"),  # 6 unknown indicator
        ("资产", forest.code, 2024, "水源涵养", "降水量 P", "1650", "英寸", "年鉴"),  # 7 unknown unit
        ("资产", forest.code, 2024, "水源涵养", "地表径流量 R", "300", "亩", "年鉴"),  # 8 wrong dimension
        ("资产", forest.code, 2023, "水源涵养", "降水量 P", "13000", "毫米", "年鉴"),  # 9 out of range
        ("资产", forest.code, 2023, "水源涵养", "蒸散发量 ET", "-1", "毫米", "年鉴"),  # 10 negative
        ("资产", forest.code, 2025, "水源涵养", "降水量", "1700", "毫米", "年鉴"),  # 11 duplicate of row 2
        ("资产", forest.code, 2025, "休闲旅游/景观游憩", "游客人次", "100", "人次", "年鉴"),  # 12 region only
        ("区划", "331121000000", 2025, "休闲旅游/景观游憩", "游客人次", "100", "人次", "年鉴"),  # 13 no reach
        (
            "资产",
            forest.code,
            2022,
            "水源涵养",
            "地表径流量 R",
            "900",
            "毫米",
            "年鉴",
        ),  # 14 runoff > P (row 15)
        ("资产", forest.code, 2022, "水源涵养", "降水量 P", "800", "毫米", "年鉴"),  # 15
        ("资产", forest.code, 2022, "水源涵养", "蒸散发量 ET", "100", "毫米", ""),  # 16 no source
        ("资源", forest.code, 1980, "水源涵养", "降水量 P", "1,650", "毫米", "年鉴"),  # 17 kind, year, number
        ("资产", forest.code, 2025, "水源涵养", "积雪深度", "10", "毫米", "年鉴"),  # 18 unknown input
        (
            "区划",
            "331102999999",
            2025,
            "休闲旅游/景观游憩",
            "游客人次",
            "100",
            "人次",
            "年鉴",
        ),  # 19 no division
    ]
    record = run(county_staff, xlsx(rows), "broken.xlsx")
    assert record.status == InputImportStatus.FAILED
    assert record.value_count == 0 and record.row_count == 18
    assert EcologicalInput.objects.count() == 0  # not even the good rows 2–4
    assert record.pk and InputImport.objects.get() == record
    expected = {
        (5, "编码"),
        (6, "指标"),
        (7, "单位"),
        (8, "单位"),
        (9, "数值"),
        (10, "数值"),
        (11, "输入项"),
        (12, "指标"),
        (13, "编码"),
        (14, "数值"),
        (16, "数据来源"),
        (17, "对象类型"),
        (17, "年份"),
        (17, "数值"),
        (18, "输入项"),
        (19, "编码"),
    }
    assert expected <= cells(record), sorted(cells(record))
    assert "资产编号“ZY999”不存在或您无权查看。" in messages_of(record, 5)
    assert "未知的指标“水源价值”" in messages_of(record, 6)
    assert "未知单位“英寸”。" in messages_of(record, 7)
    assert "单位“亩”不能换算为毫米。" in messages_of(record, 8)
    assert "不能大于 12000 毫米。" in messages_of(record, 9)
    assert "不能小于 0 毫米。" in messages_of(record, 10)
    assert "与第 2 行重复" in messages_of(record, 11)
    assert "只在区域层面核算，不能录入到资产" in messages_of(record, 12)
    assert "您无权录入“青田县”的核算数据。" in messages_of(record, 13)
    assert "地表径流量（R）不能大于降水量（P）。" in messages_of(record, 14)
    assert "必填项为空。" in messages_of(record, 16)
    assert "对象类型应为“资产”或“区划”。" in messages_of(record, 17)
    assert "“1,650”不是有效的数值。" in messages_of(record, 17)
    assert "没有输入项“积雪深度”" in messages_of(record, 18)
    assert "行政区划代码“331102999999”不存在。" in messages_of(record, 19)
    # good rows get no error; the 2023 group (rows 9, 10) is not also reported as incomplete
    assert not {row for row, _column in cells(record)} & {2, 3, 4, 15}


def test_a_contradiction_with_stored_values_is_reported(county_staff, forest):
    record_indicator_inputs(
        actor=county_staff,
        asset=forest,
        year=2025,
        indicator_key="water_conservation",
        values={
            "precipitation": ("1650", "mm", "年鉴"),
            "runoff": ("300", "mm", "年鉴"),
            "evapotranspiration": ("800", "mm", "年鉴"),
        },
    )
    # a new runoff above the stored precipitation: reported on the runoff row
    record = run(
        county_staff, xlsx([("资产", forest.code, 2025, "水源涵养", "地表径流量 R", "1.7", "m", "x")])
    )
    assert record.status == InputImportStatus.FAILED
    assert cells(record) == {(2, "数值")}
    assert "不能大于降水量" in messages_of(record, 2)
    # the soil rule "actual ≤ potential" keyed on a stored value: reported with that value
    record_indicator_inputs(
        actor=county_staff,
        asset=forest,
        year=2025,
        indicator_key="soil_retention",
        values={
            "potential_erosion": ("50", "t_per_hm2", "土壤普查"),
            "actual_erosion": ("20", "t_per_hm2", "土壤普查"),
        },
    )
    rows = [("资产", forest.code, 2025, "土壤保持", "潜在土壤侵蚀模数", "1000", "吨/平方千米/年", "x")]
    record = run(county_staff, xlsx(rows))
    assert record.status == InputImportStatus.FAILED
    assert "库中已有的“实际土壤侵蚀模数”（20 吨/公顷/年）" in messages_of(record, 2)
    # a lone value completing nothing new is fine when the stored ones make the set complete
    ok = run(county_staff, xlsx([("资产", forest.code, 2025, "水源涵养", "降水量 P", "1700", "毫米", "x")]))
    assert ok.status == InputImportStatus.SUCCEEDED, ok.errors
    assert EcologicalInput.objects.get(input_key="precipitation").value == Decimal("1700")


def test_an_incomplete_set_is_reported_on_the_first_row_of_its_group(county_staff, forest, make_asset):
    bare = make_asset(geometry=square(dx=0.005), name="无面积资产")
    type(bare).objects.filter(pk=bare.pk).update(area_m2=None)
    rows = [
        ("资产", forest.code, 2025, "水源涵养", "降水量 P", "1650", "毫米", "x"),  # 2: runoff, ET missing
        (
            "资产",
            forest.code,
            2025,
            "固碳",
            "NPP（碳）",
            "600",
            "gC_per_m2",
            "x",
        ),  # 3: fine, area from PostGIS
        ("资产", bare.code, 2025, "固碳", "NPP（碳）", "600", "gC_per_m2", "x"),  # 4: no area at all
        (
            "区划",
            COUNTY,
            2025,
            "休闲旅游/景观游憩",
            "游客人次",
            "100",
            "人次",
            "x",
        ),  # 5: neither cost nor revenue
    ]
    record = run(county_staff, xlsx(rows))
    assert record.status == InputImportStatus.FAILED
    assert "“水源涵养”缺少输入项“地表径流量 R”：必须填写此项。" in messages_of(record, 2)
    assert "“水源涵养”缺少输入项“蒸散发量 ET”：必须填写此项。" in messages_of(record, 2)
    assert messages_of(record, 3) == ""
    assert "缺少输入项“面积”" in messages_of(record, 4)
    assert "至少填写一项：人均旅行费用、旅游收入。" in messages_of(record, 5)
    assert EcologicalInput.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"not a workbook", "inputs.xlsx", "XLSX 文件无法打开"),
        (b"a;b", "inputs.xls", "不支持的文件格式"),
        (
            csv_bytes([], header=["对象类型", "编码", "数值"]),
            "inputs.csv",
            "表头缺少必填列：年份、指标、输入项",
        ),
        (csv_bytes([]), "inputs.csv", "文件中没有数据行。"),
    ],
)
def test_an_unreadable_file_is_recorded_as_failed(county_staff, content, name, message):
    record = run(county_staff, content, name)
    assert record.status == InputImportStatus.FAILED
    assert record.errors[0]["row"] == 0 and message in record.errors[0]["message"]
    assert InputImport.objects.filter(pk=record.pk).exists()


def test_too_many_rows_are_refused(county_staff, forest, monkeypatch):
    from valuation.services import input_import

    monkeypatch.setattr(input_import, "MAX_ROWS", 2)
    record = run(county_staff, xlsx(water_rows(forest.code)))
    assert record.status == InputImportStatus.FAILED
    assert "单个文件最多 2 行" in record.errors[0]["message"]


def test_the_rows_may_come_in_any_order(county_staff, forest):
    """Raising precipitation and runoff together, runoff above the old precipitation: the file's
    values are cross-checked together, so writing runoff first does not trip over the old value."""
    assert (
        run(county_staff, xlsx(water_rows(forest.code, precipitation="1000", runoff="500"))).value_count == 3
    )
    rows = list(reversed(water_rows(forest.code, precipitation="2000", runoff="1500")))
    record = run(county_staff, xlsx(rows))
    assert record.status == InputImportStatus.SUCCEEDED, record.errors
    assert EcologicalInput.objects.get(input_key="runoff").value == Decimal("1500")


# --- pages ------------------------------------------------------------------------------------------


def test_upload_page_report_and_error_download(client, county_staff, forest):
    client.force_login(county_staff)
    assert client.get("/valuation/inputs/imports/new/").status_code == 200
    rows = [*water_rows(forest.code, runoff="1800")]
    upload = SimpleUploadedFile("bad.xlsx", xlsx(rows))
    response = client.post("/valuation/inputs/imports/new/", {"file": upload})
    record = InputImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/valuation/inputs/imports/{record.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="failed"' in page and "数据库未作任何改动" in page
    assert "地表径流量（R）不能大于降水量（P）。" in page
    errors = client.get(f"/valuation/inputs/imports/{record.pk}/errors.xlsx")
    sheet = load_workbook(io.BytesIO(errors.content)).active
    assert list(sheet.iter_rows(values_only=True))[1] == (3, "数值", "地表径流量（R）不能大于降水量（P）。")
    listing = client.get("/valuation/inputs/imports/").content.decode()
    assert "bad.xlsx" in listing and "未导入（有错误）" in listing

    response = client.post(
        "/valuation/inputs/imports/new/",
        {"file": SimpleUploadedFile("ok.csv", csv_bytes(water_rows(forest.code)))},
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="succeeded"' in page and "已导入 3 行：3 个数值为新增或更正" in page


def test_import_pages_are_refused_without_the_capability(
    client, bank_officer, county_staff, outsider, forest
):
    client.force_login(county_staff)
    client.post(
        "/valuation/inputs/imports/new/",
        {"file": SimpleUploadedFile("a.xlsx", xlsx(water_rows(forest.code)))},
    )
    record = InputImport.objects.get()
    client.force_login(bank_officer)
    for url in (
        "/valuation/inputs/imports/new/",
        "/valuation/inputs/imports/template.xlsx",
        "/valuation/inputs/imports/",
        f"/valuation/inputs/imports/{record.pk}/",
    ):
        assert client.get(url).status_code == 403, url
    upload = SimpleUploadedFile("a.xlsx", xlsx(water_rows(forest.code, precipitation="9")))
    assert client.post("/valuation/inputs/imports/new/", {"file": upload}).status_code == 403
    client.force_login(outsider)
    assert client.get(f"/valuation/inputs/imports/{record.pk}/").status_code == 404  # another organization's
    # the outsider's own import of these rows fails row by row (asset out of reach)
    failed = run(outsider, xlsx(water_rows(forest.code, precipitation="9")))
    assert failed.status == InputImportStatus.FAILED and {c for _r, c in cells(failed)} == {"编码"}
    assert EcologicalInput.objects.get(input_key="precipitation").value == Decimal("1650")


# --- the template -----------------------------------------------------------------------------------


def test_the_template_round_trips(client, county_staff, forest):
    client.force_login(county_staff)
    response = client.get("/valuation/inputs/imports/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="tmcs-gep-inputs-template.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["录入", "填写说明", "指标与输入项", "单位", "资源类型指标"]
    entry = list(book["录入"].iter_rows(values_only=True))
    assert [h.rstrip("*") for h in entry[0]] == HEADER
    assert {row[1] for row in entry[1:]} == {forest.code, COUNTY}
    listed = {(row[1], row[4]) for row in list(book["指标与输入项"].iter_rows(values_only=True))[1:]}
    assert listed == {(i.key, s.key) for i in indicators.REGISTRY.values() for s in i.inputs}
    assert {row[0] for row in list(book["单位"].iter_rows(values_only=True))[1:]} == set(units.UNITS)

    # the untouched template imports as is
    record = run(county_staff, response.content, "tmcs-gep-inputs-template.xlsx")
    assert record.status == InputImportStatus.SUCCEEDED, record.errors
    assert record.value_count == len(entry) - 1 == 5
    assert EcologicalInput.objects.filter(asset=forest, indicator_key="water_conservation").count() == 3
    assert (
        EcologicalInput.objects.filter(division__code=COUNTY, indicator_key="landscape_recreation").count()
        == 2
    )

    # and as CSV saved from it (GBK, as Excel does in China)
    lines = [",".join("" if c is None else str(c) for c in row) for row in entry]
    record = run(county_staff, "\r\n".join(lines).encode("gbk"), "template.csv")
    assert record.status == InputImportStatus.SUCCEEDED, record.errors


def test_values_changed_after_validation_are_caught_before_writing(county_staff, forest, monkeypatch):
    """Validation and writing are separate steps: the groups are re-read under row locks and
    re-checked, so a precipitation lowered meanwhile by someone else still stops the file."""
    from valuation.services import input_import

    assert run(county_staff, xlsx(water_rows(forest.code))).status == InputImportStatus.SUCCEEDED
    validate = input_import.validate_rows

    def validate_then_someone_edits(*args, **kwargs):
        result = validate(*args, **kwargs)
        EcologicalInput.objects.filter(input_key="precipitation").update(value=Decimal("400"))
        return result

    monkeypatch.setattr(input_import, "validate_rows", validate_then_someone_edits)
    rows = [("资产", forest.code, 2025, "水源涵养", "地表径流量 R", "500", "毫米", "县水利局")]
    record = run(county_staff, xlsx(rows))
    assert record.status == InputImportStatus.FAILED
    assert record.errors == [{"row": 2, "column": "数值", "message": "地表径流量（R）不能大于降水量（P）。"}]
    assert EcologicalInput.objects.get(input_key="runoff").value == Decimal("300")


def test_an_import_is_in_the_history_and_unchanged_values_are_left_alone(county_staff, city_admin, forest):
    from valuation.models import EcologicalInputEvent

    assert run(county_staff, xlsx(water_rows(forest.code))).value_count == 3
    events = EcologicalInputEvent.objects.order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert"] * 3
    assert {e.pgh_context.metadata["reason"] for e in events} == {"import GEP inputs"}
    assert {e.pgh_context.metadata["username"] for e in events} == {"coop_staff"}
    # the same file again by someone else: nothing changes, nothing is rewritten
    again = run(city_admin, xlsx(water_rows(forest.code)))
    assert again.status == InputImportStatus.SUCCEEDED and again.value_count == 0
    assert EcologicalInputEvent.objects.count() == 3
    assert set(EcologicalInput.objects.values_list("entered_by__username", flat=True)) == {"coop_staff"}
    # one changed value: one update, by the new importer
    changed = run(city_admin, xlsx(water_rows(forest.code, et="820")))
    assert changed.value_count == 1
    update = EcologicalInputEvent.objects.get(pgh_label="update")
    assert (update.input_key, update.value, update.entered_by.username) == (
        "evapotranspiration",
        Decimal("820"),
        "city_admin",
    )


def test_utf16_tab_separated_text_and_unit_spellings(county_staff, forest):
    """Excel's "Unicode text" (UTF-16, tabs) and units written as m², ha, 万m3 or codes in capitals."""
    rows = [
        *water_rows(forest.code),
        ("资产", forest.code, 2025, "水源涵养", "面积 A", "10000", "m²", "林地一张图"),
        ("资产", forest.code, 2025, "固碳", "面积", "1.5", "ha", "林地一张图"),
        ("资产", forest.code, 2025, "固碳", "实测/核证固碳量", "12", "T_CO2", "核证报告"),
        ("资产", forest.code, 2025, "土壤保持", "LS", "", "", "x"),
    ]
    text = "\n".join("\t".join(str(c) for c in row) for row in [HEADER, *rows[:-1]])
    record = run(county_staff, text.encode("utf-16"), "inputs.txt")
    assert record.status == InputImportStatus.SUCCEEDED, record.errors
    saved = set(
        EcologicalInput.objects.filter(input_key__in=["area", "co2_fixed"]).values_list(
            "indicator_key", "input_key", "unit"
        )
    )
    assert saved == {
        ("water_conservation", "area", "m2"),
        ("carbon_sequestration", "area", "hm2"),
        ("carbon_sequestration", "co2_fixed", "t_co2"),
    }
    # a dimensionless input may leave the unit empty, but not the value
    record = run(county_staff, xlsx(rows[-1:]))
    assert cells(record) == {(2, "数值")}
