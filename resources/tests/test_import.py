"""Bulk import: GeoJSON, zipped Shapefile, XLSX with WKT — all or nothing, every bad row reported."""

import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
import shapefile
from django.contrib.gis.gdal import SpatialReference
from django.contrib.gis.geos import GEOSGeometry
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from directory.models import Organization
from directory.services import create_person
from resources import importing, services
from resources.import_readers import FIELDS, WKT_FIELD
from resources.models import Asset, ImportBatch, ImportStatus, Right
from tmcs.ids import national_id_check_char

from .conftest import X0, Y0

pytestmark = pytest.mark.django_db

HEADERS = [f.key for f in [*FIELDS, WKT_FIELD]]


def wkt(dx=0.0, dy=0.0, size=0.001):
    x, y = X0 + dx, Y0 + dy
    return f"POLYGON(({x} {y}, {x + size} {y}, {x + size} {y + size}, {x} {y + size}, {x} {y}))"


def row(ref, dx=0.0, **values):
    base = {
        "ref": ref,
        "type": "forest",
        "division": "331102199201",
        "name": f"林地{ref}",
        "attrs": '{"dominant_species": "杉木", "age_class": "中龄林"}',
        "wkt": wkt(dx),
    }
    return {**base, **values}


def xlsx(rows, headers=HEADERS):
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for values in rows:
        sheet.append([values.get(key, "") for key in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run(actor, content, name, srid=4490):
    """Start a batch and run it in this process (the worker path is tested separately)."""
    batch = importing.start_import(actor=actor, upload=SimpleUploadedFile(name, content), srid=srid)
    importing.run_import(batch.pk)
    batch.refresh_from_db()
    return batch


def cells(batch):
    return {(e["row"], e["column"]) for e in batch.errors}


@pytest.fixture
def collective_uscc(collective):
    return collective.organization.uscc


FARMER_ID = "33110219800101123" + national_id_check_char("33110219800101123")


@pytest.fixture
def farmer(county_staff, village):
    return create_person(actor=county_staff, name="李四", national_id=FARMER_ID, division=village)


def test_xlsx_import_creates_drafts_with_rights(county_staff, catalog, collective_uscc, farmer):
    rows = [
        row(
            "TB-1",
            grade="II",
            quantity="120.5",
            holder_id=collective_uscc,
            right="所有权",
            start="2020-01-01",
            source_doc="林权证",
            cert_no="LQ-1",
        ),
        row(
            "TB-2",
            dx=0.002,
            holder_id=FARMER_ID,
            right="contract",
            share="1/2",
            start="2021-03-01",
            end="2051-02-28",
            source_doc="承包合同",
        ),
        row(
            "TB-3",
            dx=0.004,
            attrs="",
            attr_dominant_species="马尾松",
            attr_stock_volume_m3="85.5",
            attr_age_class="成熟林",
        ),
    ]
    attribute_columns = ["attr_dominant_species", "attr_stock_volume_m3", "attr_age_class"]
    batch = run(county_staff, xlsx(rows, headers=HEADERS + attribute_columns), "parcels.xlsx")
    assert batch.status == ImportStatus.SUCCEEDED, batch.errors
    assert (batch.format, batch.row_count, batch.asset_count) == ("xlsx", 3, 3)
    assets = {a.source_ref: a for a in Asset.objects.filter(import_batch=batch)}
    assert set(assets) == {"TB-1", "TB-2", "TB-3"}
    assert all(a.status == "draft" for a in assets.values())
    assert assets["TB-1"].quantity == Decimal("120.5") and assets["TB-1"].quality_grade == "II"
    assert 10_000 < assets["TB-1"].area_m2 < 11_500  # 0.001° square at 28.45°N ≈ 97.9 m × 110.9 m
    assert assets["TB-3"].attributes == {
        "dominant_species": "马尾松",
        "stock_volume_m3": 85.5,
        "age_class": "成熟林",
    }
    ownership = Right.objects.get(asset=assets["TB-1"])
    assert (ownership.kind, ownership.certificate_number) == ("ownership", "LQ-1")
    assert ownership.holder.organization.uscc == collective_uscc
    contract = Right.objects.get(asset=assets["TB-2"])
    assert (contract.holder.person_id, contract.share_numerator, contract.share_denominator) == (
        farmer.pk,
        1,
        2,
    )
    assert str(contract.period.upper) == "2051-02-28"


def test_broken_xlsx_writes_nothing_and_reports_every_bad_row(county_staff, catalog, collective_uscc):
    services.grant_right(
        actor=county_staff,
        asset=services.create_asset(
            actor=county_staff,
            resource_type=catalog_type("farmland"),
            division=division("331102199201"),
            name="已有",
            geometry=f"SRID=4490;{wkt(dy=0.01)}",
            attributes={"land_class": "0101"},
        ),
        holder=Organization.objects.get(uscc=collective_uscc).party,
        kind="ownership",
        start=datetime.date(2020, 1, 1),
        source_document="x",
        certificate_number="TAKEN-1",
    )
    bowtie = (
        f"POLYGON(({X0} {Y0}, {X0 + 0.001} {Y0 + 0.001}, {X0 + 0.001} {Y0}, {X0} {Y0 + 0.001}, {X0} {Y0}))"
    )
    rows = [
        row("OK-1", dx=0.02),  # row 2: fine
        row("BAD-GEOM", wkt=bowtie),  # row 3: self-intersection
        row(
            "BAD-CRS", wkt="POLYGON((40500000 3150000, 40500100 3150000, 40500100 3150100, 40500000 3150000))"
        ),  # 4
        row("BAD-DIV", dx=0.04, division="331102999999"),  # 5: unknown division
        row(
            "DUP-CERT-DB",
            dx=0.06,
            holder_id=collective_uscc,
            right="ownership",
            start="2020-01-01",
            source_doc="证",
            cert_no="TAKEN-1",
        ),  # 6
        row(
            "DUP-CERT-FILE-A",
            dx=0.08,
            holder_id=collective_uscc,
            right="ownership",
            start="2020-01-01",
            source_doc="证",
            cert_no="C-9",
        ),  # 7
        row(
            "DUP-CERT-FILE-B",
            dx=0.10,
            holder_id=collective_uscc,
            right="ownership",
            start="2020-01-01",
            source_doc="证",
            cert_no="C-9",
        ),  # 8
        row("OVERLAP-A", dx=0.12),  # 9
        row("OVERLAP-B", dx=0.1205),  # 10: half over row 9
        row("NO-TYPE", dx=0.14, type="spaceship"),  # 11
        row("BAD-ATTR", dx=0.16, attrs='{"age_class": "很老"}'),  # 12
        row(
            "BAD-HOLDER",
            dx=0.18,
            holder_id="110101199003070000",
            right="ownership",
            start="2020-01-01",
            source_doc="证",
        ),  # 13
        row(
            "BAD-DATE",
            dx=0.20,
            holder_id=collective_uscc,
            right="承包权",
            start="2020-13-01",
            source_doc="证",
        ),  # 14
        row("", dx=0.22, name=""),  # 15: required fields empty
        row("OK-1", dx=0.24),  # 16: duplicate reference in the file
    ]
    before = (Asset.objects.count(), Right.objects.count())
    batch = run(county_staff, xlsx(rows), "broken.xlsx")
    assert batch.status == ImportStatus.FAILED
    assert (Asset.objects.count(), Right.objects.count()) == before
    assert cells(batch) >= {
        (3, "几何WKT"),
        (4, "几何WKT"),
        (5, "行政区划代码"),
        (6, "证书编号"),
        (8, "证书编号"),
        (11, "资源类型编码"),
        (12, "属性JSON"),
        (13, "权利人证件号"),
        (14, "起始日期"),
        (15, "图斑编号"),
        (15, "资源名称"),
        (16, "图斑编号"),
    }
    bad_rows = {e["row"] for e in batch.errors}
    assert 2 not in bad_rows and 7 not in bad_rows  # good rows are not blamed
    messages = {(e["row"]): e["message"] for e in batch.errors}
    assert "自相交" in messages[3] or "Self-intersection" in messages[3]
    assert "中国范围" in messages[4]
    assert "第 7 行" in messages[8]


def test_overlaps_inside_the_file_and_with_the_registry_are_reported(county_staff, make_asset):
    registered = make_asset(geometry=f"SRID=4490;{wkt(dx=0.3)}", status="under_review")
    rows = [row("A", dx=0.5), row("B", dx=0.5004), row("C", dx=0.3003)]
    batch = run(county_staff, xlsx(rows), "overlaps.xlsx")
    assert batch.status == ImportStatus.FAILED
    messages = {e["row"]: e["message"] for e in batch.errors}
    assert set(messages) == {3, 4}
    assert "第 2 行" in messages[3] and "m²" in messages[3]
    assert registered.code in messages[4]
    assert not Asset.objects.filter(source_ref__in=["A", "B", "C"]).exists()


def test_geojson_with_projected_crs_is_transformed(county_staff, catalog):
    square = GEOSGeometry(f"SRID=4490;{wkt()}").transform(4549, clone=True)
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}},
        "features": [
            {"type": "Feature", "geometry": json.loads(square.json), "properties": row("G-1", wkt="")},
        ],
    }
    batch = run(county_staff, json.dumps(document, ensure_ascii=False).encode(), "parcels.geojson")
    assert batch.status == ImportStatus.SUCCEEDED, batch.errors
    asset = Asset.objects.get(source_ref="G-1")
    assert asset.geometry.srid == 4490
    assert abs(asset.geometry.extent[0] - X0) < 1e-6
    assert abs(asset.area_m2 - Decimal(str(round(square.area, 2)))) < Decimal("0.5")  # 4549 is the area CRS


def test_geojson_in_web_mercator_is_refused(county_staff, catalog):
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
        "features": [
            {"type": "Feature", "geometry": json.loads(GEOSGeometry(wkt()).json), "properties": row("M-1")}
        ],
    }
    batch = run(county_staff, json.dumps(document).encode(), "mercator.geojson")
    assert batch.status == ImportStatus.FAILED
    assert "3857" in batch.errors[0]["message"]
    assert not Asset.objects.filter(source_ref="M-1").exists()


def shapefile_zip(records, *, srid=4490, encoding="gbk", prj=True, cpg=True):
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    writer = shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding=encoding)
    for key in ("ref", "type", "division", "name", "attrs"):
        writer.field(key, "C", size=120)
    for values, shape in records:
        writer.poly(shape)
        writer.record(*[values.get(key, "") for key in ("ref", "type", "division", "name", "attrs")])
    writer.close()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("parcels/parcels.shp", shp.getvalue())
        zipped.writestr("parcels/parcels.shx", shx.getvalue())
        zipped.writestr("parcels/parcels.dbf", dbf.getvalue())
        if prj:
            zipped.writestr("parcels/parcels.prj", SpatialReference(srid).wkt)
        if cpg:
            zipped.writestr("parcels/parcels.cpg", encoding.upper())
    return archive.getvalue()


def rings(dx=0.0, size=0.001, srid=4490):
    shape = GEOSGeometry(f"SRID=4490;{wkt(dx, size=size)}")
    if srid != 4490:
        shape = shape.transform(srid, clone=True)
    # Shapefile outer rings run clockwise
    return [list(reversed(shape.coords[0]))]


def test_zipped_shapefile_with_gbk_names_and_projected_prj(county_staff, catalog):
    records = [
        (row("S-1", name="青山林场一号"), rings(srid=4549)),
        (row("S-2", name="青山林场二号"), rings(dx=0.002, srid=4549)),
    ]
    batch = run(county_staff, shapefile_zip(records, srid=4549), "parcels.zip")
    assert batch.status == ImportStatus.SUCCEEDED, batch.errors
    assert batch.format == "shapefile"
    names = set(Asset.objects.filter(import_batch=batch).values_list("name", flat=True))
    assert names == {"青山林场一号", "青山林场二号"}


def test_shapefile_without_prj_or_corrupt_is_refused_as_a_whole(county_staff, catalog):
    batch = run(county_staff, shapefile_zip([(row("S-9"), rings())], prj=False), "noprj.zip")
    assert batch.status == ImportStatus.FAILED
    assert batch.errors == [{"row": 0, "column": "", "message": batch.errors[0]["message"]}]
    assert ".prj" in batch.errors[0]["message"]
    batch = run(county_staff, b"PK\x03\x04 not really a zip", "junk.zip")
    assert batch.status == ImportStatus.FAILED and "ZIP" in batch.errors[0]["message"]
    assert not Asset.objects.exists()


def test_xlsx_missing_required_columns_is_refused(county_staff, catalog):
    batch = run(county_staff, xlsx([row("X-1")], headers=["ref", "name", "wkt"]), "short.xlsx")
    assert batch.status == ImportStatus.FAILED
    message = batch.errors[0]["message"]
    assert "资源类型编码" in message and "行政区划代码" in message


def test_reimporting_the_same_file_does_not_duplicate(county_staff, catalog):
    content = xlsx([row("R-1")])
    assert run(county_staff, content, "a.xlsx").status == ImportStatus.SUCCEEDED
    again = run(county_staff, content, "a.xlsx")
    assert again.status == ImportStatus.FAILED
    assert cells(again) == {(2, "图斑编号")}
    assert Asset.objects.filter(source_ref="R-1").count() == 1


def test_rows_outside_the_users_divisions_are_refused(catalog, make_member, demo_region):
    from directory.models import AdministrativeDivision, OrganizationKind

    elsewhere = Organization.objects.create(
        name="云和县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331125000000"),
    )
    outsider = make_member("coop_staff", elsewhere)
    batch = run(outsider, xlsx([row("O-1")]), "o.xlsx")
    assert batch.status == ImportStatus.FAILED
    assert cells(batch) == {(2, "行政区划代码")}


def test_a_finished_batch_is_not_run_twice(county_staff, catalog):
    batch = run(county_staff, xlsx([row("T-1")]), "t.xlsx")
    assert importing.run_import(batch.pk) == ImportStatus.SUCCEEDED
    assert Asset.objects.filter(source_ref="T-1").count() == 1


# --- pages ----------------------------------------------------------------------------------------


def test_upload_page_runs_the_import_and_shows_the_report(
    client, county_staff, catalog, django_capture_on_commit_callbacks, celery_eager
):
    client.force_login(county_staff)
    bad = xlsx([row("W-1", division="331102999999")])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/resources/imports/new/", {"file": SimpleUploadedFile("w.xlsx", bad), "srid": "4490"}
        )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == batch.get_absolute_url()
    page = client.get(batch.get_absolute_url()).content.decode()
    assert "文件未导入" in page and "行政区划代码“331102999999”不存在" in page
    report = client.get(f"/resources/imports/{batch.pk}/errors.xlsx")
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert [c.value for c in sheet[2]] == [2, "行政区划代码", "行政区划代码“331102999999”不存在。"]


def test_upload_form_errors(client, county_staff, catalog):
    client.force_login(county_staff)
    response = client.post("/resources/imports/new/", {"srid": "9999"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "该字段是必填项" in page and "选择一个有效的选项" in page
    assert not ImportBatch.objects.exists()


def test_banks_cannot_import_or_see_batches(client, bank_officer, county_staff, catalog):
    batch = run(county_staff, xlsx([row("B-1")]), "b.xlsx")
    client.force_login(bank_officer)
    assert client.get("/resources/imports/new/").status_code == 403
    assert client.get(batch.get_absolute_url()).status_code == 404
    assert client.get(f"/resources/imports/{batch.pk}/errors.xlsx").status_code == 404


def test_template_round_trip(client, county_staff, catalog, collective_uscc):
    client.force_login(county_staff)
    response = client.get("/resources/imports/template.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["资源", "填写说明", "资源类型", "权利类型"]
    header = [c.value for c in book["资源"][1]]
    assert header[0] == "图斑编号*" and header[-1] == "几何WKT*"
    batch = run(county_staff, response.content, "template.xlsx")
    assert batch.status == ImportStatus.SUCCEEDED, batch.errors
    right = Right.objects.get(asset__import_batch=batch)
    assert right.holder.organization.uscc == collective_uscc


@pytest.mark.django_db(transaction=True)
def test_import_runs_on_a_real_worker(client, county_staff, catalog, celery_worker_process):
    from conftest import _wait_for

    client.force_login(county_staff)
    response = client.post(
        "/resources/imports/new/", {"file": SimpleUploadedFile("w.xlsx", xlsx([row("RW-1")])), "srid": "4490"}
    )
    batch = ImportBatch.objects.get()
    assert response["Location"] == batch.get_absolute_url()
    _wait_for(lambda: ImportBatch.objects.get().is_done, timeout=60, what="the import batch")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.SUCCEEDED, batch.errors
    assert Asset.objects.get(source_ref="RW-1").import_batch_id == batch.pk
    polled = client.get(batch.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="succeeded"' in polled and "hx-trigger" not in polled


def catalog_type(code):
    from resources.models import ResourceType

    return ResourceType.objects.get(code=code)


def division(code):
    from directory.models import AdministrativeDivision

    return AdministrativeDivision.objects.get(code=code)


def test_unknown_file_type_is_refused(county_staff, catalog):
    batch = run(county_staff, b"a,b\n", "parcels.csv")
    assert batch.status == ImportStatus.FAILED
    assert "不支持的文件格式" in batch.errors[0]["message"]


def test_a_chinese_file_imports_while_the_user_works_in_english(county_staff, catalog, collective_uscc):
    from django.utils import translation

    headers = [
        "图斑编号",
        "资源类型编码",
        "行政区划代码",
        "资源名称",
        "属性JSON",
        "权利人证件号",
        "权利类型",
        "起始日期",
        "权源文件",
        "几何WKT",
    ]
    values = row("EN-1", holder_id=collective_uscc, right="所有权", start="2020-01-01", source_doc="林权证")
    book = Workbook()
    book.active.title = "资源"
    book.active.append(headers)
    keys = ["ref", "type", "division", "name", "attrs", "holder_id", "right", "start", "source_doc", "wkt"]
    book.active.append([values[k] for k in keys])
    buffer = io.BytesIO()
    book.save(buffer)
    with translation.override("en"):
        batch = run(county_staff, buffer.getvalue(), "zh.xlsx")
    assert batch.status == ImportStatus.SUCCEEDED, batch.errors
    assert Right.objects.get(asset__source_ref="EN-1").kind == "ownership"
