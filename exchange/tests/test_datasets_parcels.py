# ruff: noqa: F811  (fixtures imported from fixtures_datasets)
"""Parcels from the natural-resources register: what imported parcels become, holders found or
created, rights aligned with the file, registry changes refused, the registry's own checks
rejecting the whole file, and holders' ID numbers masked for those who may not see them."""

import json

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection

from directory.models import Person, PersonalDataAccess
from directory.services import ensure_party
from exchange.models import Dataset, ExchangeStatus
from exchange.services.datasets import export_dataset, import_dataset
from resources import services as registry
from resources.models import Asset, AssetStatus, Right, RightKind, RightStatus
from resources.tests.conftest import square
from tmcs import crypto
from tmcs.ids import national_id_check_char

from .fixtures_datasets import department, department_officer, lian_du, parcels  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
NEW_ID_BODY = "33110219900101123"
NEW_ID = NEW_ID_BODY + national_id_check_char(NEW_ID_BODY)


def export_json(user, division, dataset=Dataset.PARCELS):
    content, *_ = export_dataset(actor=user, dataset=dataset, fmt="json", division=division, channel="web")
    return json.loads(content)["rows"]


def run(user, division, rows, dataset=Dataset.PARCELS):
    return import_dataset(
        actor=user,
        dataset=dataset,
        fmt="json",
        division=division,
        channel="web",
        content=json.dumps({"rows": rows}, ensure_ascii=False).encode(),
        file_name="parcels.json",
    )


def new_parcel(code, dx, rights=(), **changes):
    row = {
        "code": code,
        "name": "新登记林地",
        "type": "forest",
        "division": "331102199201",
        "attrs": {"dominant_species": "毛竹", "age_class": "成熟林"},
        "rights": list(rights),
        "wkt": square(dx=dx).split(";", 1)[1],
    }
    row.update(changes)
    return row


def contract(holder_id, holder_name="", share="1", **changes):
    entry = {
        "kind": "contract",
        "holder_id": holder_id,
        "holder_name": holder_name,
        "share": share,
        "start": "2020-01-01",
        "end": None,
        "source_document": "不动产权证书 浙(2020)莲都区不动产权第0001号",
    }
    entry.update(changes)
    return entry


def test_new_parcel_is_registered_with_the_file_code_and_a_new_holder(catalog, county_staff, lian_du):
    code = "ZY33110219920199000001"
    log = run(county_staff, lian_du, [new_parcel(code, 0.05, [contract(NEW_ID, "赵新户")])])
    assert log.status == ExchangeStatus.SUCCEEDED, log.errors
    asset = Asset.objects.get(code=code)
    assert asset.status == AssetStatus.REGISTERED and asset.area_m2 > 0
    person = Person.objects.get(national_id_hash=crypto.lookup_hash("national_id", NEW_ID))
    assert person.name == "赵新户" and person.division.code == "331102199201"
    right = Right.objects.get(asset=asset)
    assert (right.kind, right.holder.person, right.status) == (RightKind.CONTRACT, person, RightStatus.ACTIVE)
    # the code sequence moved past the file's number: the next asset does not collide
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM resources_asset_code_seq")
        assert cursor.fetchone()[0] >= 99000001


def test_rights_are_aligned_with_the_file(parcels, county_staff, lian_du, households, county_cooperative):
    first = parcels[0]
    rows = export_json(county_staff, lian_du)
    row = next(r for r in rows if r["code"] == first.code)
    row["rights"] = [r for r in row["rights"] if r["kind"] != "management"]  # the lease right ended
    row["name"] = "示范林地甲（更名）"
    log = run(county_staff, lian_du, rows)
    assert (log.rows_updated, log.rows_unchanged) == (1, 1), log.errors
    management = Right.objects.get(asset=first, kind=RightKind.MANAGEMENT)
    assert management.status == RightStatus.ENDED and "data exchange import" in management.end_reason
    assert Right.objects.filter(asset=first, status=RightStatus.ACTIVE).count() == 2
    assert Asset.objects.get(pk=first.pk).name == "示范林地甲（更名）"


def test_a_pledged_right_cannot_be_dropped_and_nothing_changes(parcels, county_staff, lian_du, bank):
    first = parcels[0]
    management = Right.objects.get(asset=first, kind=RightKind.MANAGEMENT)
    registry.add_pledge(
        actor=county_staff,
        right=management,
        holder=ensure_party(bank),
        rank=1,
        secured_amount="100000.00",
        start=management.period.lower,
        end=management.period.upper,
        source_document="质押合同 ZY-1",
    )
    rows = export_json(county_staff, lian_du)
    for row in rows:
        if row["code"] == first.code:
            row["rights"] = [r for r in row["rights"] if r["kind"] != "management"]
            row["name"] = "改名不应生效"
    log = run(county_staff, lian_du, rows)
    assert log.status == ExchangeStatus.REJECTED
    assert "抵质押" in log.errors[0]["message"]
    assert Right.objects.get(pk=management.pk).status == RightStatus.ACTIVE
    assert Asset.objects.get(pk=first.pk).name == "示范林地甲"


def test_registry_changes_are_refused_row_by_row(parcels, county_staff, lian_du):
    rows = export_json(county_staff, lian_du)
    rows[0]["wkt"] = square(dx=0.2).split(";", 1)[1]
    rows[1]["type"] = "farmland"
    rows[1]["rights"][0]["holder_id"] = "331102********0359"
    log = run(county_staff, lian_du, rows)
    assert log.status == ExchangeStatus.REJECTED
    found = {(e["row"], e["key"]) for e in log.errors}
    assert {(1, "wkt"), (2, "type"), (2, "rights")} <= found, log.errors
    assert any("脱敏" in e["message"] for e in log.errors)


def test_overlapping_new_parcels_reject_the_whole_file(catalog, county_staff, households, lian_du):
    holder = households[0].person
    national_id = crypto.decrypt(holder.national_id_ciphertext)
    rows = [
        new_parcel("ZY-IMPORT-1", 0.07, [contract(national_id)]),
        new_parcel("ZY-IMPORT-2", 0.0705, [contract(national_id)]),  # half over the first
    ]
    log = run(county_staff, lian_du, rows)
    assert log.status == ExchangeStatus.REJECTED
    assert log.errors[0]["row"] == 2 and log.errors[0]["key"] == "wkt", log.errors
    assert not Asset.objects.filter(code__startswith="ZY-IMPORT").exists()


def test_bad_geometry_attributes_and_rights_are_reported(catalog, county_staff, lian_du):
    bowtie = "POLYGON((119.92 28.45, 119.93 28.46, 119.93 28.45, 119.92 28.46, 119.92 28.45))"
    rows = [
        new_parcel("A-1", 0.08, wkt=bowtie),
        new_parcel("A-2", 0.09, attrs={"age_class": "百年林"}),
        new_parcel("A-3", 0.10, rights=[contract(NEW_ID, kind="租约", share="3/2", colour="red")]),
        new_parcel("A-4", 0.11, wkt="POINT(119.9 28.4)", type="unknown"),
        new_parcel("A 5", 0.12, wkt=None),
    ]
    log = run(county_staff, lian_du, rows)
    by_row = {}
    for error in log.errors:
        by_row.setdefault(error["row"], set()).add(error["key"])
    assert by_row == {1: {"wkt"}, 2: {"attrs"}, 3: {"rights"}, 4: {"wkt", "type"}, 5: {"code", "wkt"}}, (
        log.errors
    )
    rights_messages = [e["message"] for e in log.errors if e["row"] == 3]
    assert any("未知的键 colour" in m for m in rights_messages) and any("租约" in m for m in rights_messages)
    assert (
        not Asset.objects.exists()
        and not Person.objects.filter(national_id_hash=crypto.lookup_hash("national_id", NEW_ID)).exists()
    )


def test_identifiers_masked_for_departments_full_and_logged_for_staff(
    parcels, county_staff, department_officer, lian_du, households
):
    masked = export_json(department_officer, lian_du)
    holder_ids = [r["holder_id"] for row in masked for r in row["rights"]]
    assert all("*" in i for i in holder_ids if not i.startswith("9")), holder_ids
    assert not PersonalDataAccess.objects.exists()
    full = export_json(county_staff, lian_du)
    persons = {crypto.decrypt(p.person.national_id_ciphertext) for p in households}
    assert persons <= {r["holder_id"] for row in full for r in row["rights"]}
    accesses = PersonalDataAccess.objects.filter(viewer=county_staff, fields="national_id")
    assert {a.person_id for a in accesses} == {p.person_id for p in households}
    assert all(a.purpose.startswith("数据交换导出 DX") for a in accesses)


def test_shares_above_one_are_refused_by_the_registry_in_the_rights_column(
    catalog, county_staff, households, lian_du
):
    ids = [crypto.decrypt(p.person.national_id_ciphertext) for p in households]
    rows = [new_parcel("ZY-SHARES-1", 0.13, [contract(i, share="1/2") for i in ids])]
    log = run(county_staff, lian_du, rows)
    assert log.status == ExchangeStatus.REJECTED
    assert [(e["row"], e["key"]) for e in log.errors] == [(1, "rights")] and "份额合计" in log.errors[0][
        "message"
    ]
    assert not Asset.objects.filter(code="ZY-SHARES-1").exists()


def geojson(features, crs=None):
    document = {"type": "FeatureCollection", "features": features}
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(document, ensure_ascii=False).encode()


def feature(row, geometry):
    properties = {k: v for k, v in row.items() if k != "wkt"}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def import_geojson(user, division, content):
    return import_dataset(
        actor=user,
        dataset=Dataset.PARCELS,
        fmt="geojson",
        division=division,
        channel="web",
        content=content,
        file_name="parcels.geojson",
    )


def test_geojson_crs_declarations(catalog, county_staff, lian_du):
    shape = GEOSGeometry(square(dx=0.2))
    projected = shape.transform(4549, clone=True)
    as_geojson = {"type": "Polygon", "coordinates": projected.coords}
    log = import_geojson(
        county_staff,
        lian_du,
        geojson([feature(new_parcel("GK-1", 0), as_geojson)], "urn:ogc:def:crs:EPSG::4549"),
    )
    assert log.status == ExchangeStatus.SUCCEEDED, log.errors
    assert Asset.objects.get(code="GK-1").geometry[0].equals_exact(shape, tolerance=1e-7)
    wgs84 = {"type": "Polygon", "coordinates": GEOSGeometry(square(dx=0.3)).coords}
    crs84 = import_geojson(
        county_staff,
        lian_du,
        geojson([feature(new_parcel("W-1", 0), wgs84)], "urn:ogc:def:crs:OGC:1.3:CRS84"),
    )
    assert crs84.status == ExchangeStatus.SUCCEEDED, crs84.errors
    mercator = import_geojson(
        county_staff, lian_du, geojson([feature(new_parcel("M-1", 0), wgs84)], "EPSG:3857")
    )
    assert mercator.errors[0]["key"] == "wkt" and "3857" in mercator.errors[0]["message"]
    unknown = import_geojson(
        county_staff, lian_du, geojson([feature(new_parcel("M-2", 0), wgs84)], "local grid")
    )
    assert unknown.errors[0]["row"] == 0 and "坐标系" in unknown.errors[0]["message"]


def test_invalid_geojson_is_rejected_whole(catalog, county_staff, lian_du):
    good = {"type": "Polygon", "coordinates": GEOSGeometry(square(dx=0.4)).coords}
    broken_geometry = import_geojson(
        county_staff,
        lian_du,
        geojson(
            [
                feature(new_parcel("G-1", 0), good),
                feature(new_parcel("G-2", 0), {"type": "Polygon", "coordinates": "x"}),
            ]
        ),
    )
    assert broken_geometry.status == ExchangeStatus.REJECTED
    assert [(e["row"], e["key"]) for e in broken_geometry.errors] == [(2, "wkt")]
    for content, fragment in (
        (b'{"type": "Feature"}', "FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": [', "JSON"),
        (b'{"type": "FeatureCollection", "features": [{"type": "Point"}]}', "Feature"),
        (geojson([{"type": "Feature", "properties": {"code": "X"}, "geometry": None}]), "表头缺少必填列"),
    ):
        log = import_geojson(county_staff, lian_du, content)
        assert log.status == ExchangeStatus.REJECTED and log.errors[0]["row"] == 0
        assert fragment in log.errors[0]["message"], log.errors
    assert not Asset.objects.exists()
