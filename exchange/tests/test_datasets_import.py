# ruff: noqa: F811  (fixtures imported from fixtures_datasets)
"""Import semantics on the simplest dataset (harvest permits): broken files are refused whole with
the row and column of every problem, nothing written but the log; dry runs; updates; status
transitions; permissions and reach; size limits."""

import csv
import io
import json

import pghistory.models
import pytest

from directory.models import AdministrativeDivision, DivisionLevel
from exchange.datasets import formats
from exchange.models import (
    Dataset,
    Direction,
    ExchangeLog,
    ExchangeRecord,
    ExchangeStatus,
    HarvestPermit,
    PermitStatus,
)
from exchange.services import permits
from exchange.services.datasets import export_dataset, import_dataset
from tmcs.errors import DomainError, PermissionDeniedError

from .fixtures_datasets import (  # noqa: F401  (fixtures)
    department,
    department_officer,
    harvest_permits,
    lian_du,
    other_county,
    parcels,
)

pytestmark = pytest.mark.django_db
HEADER = [
    "number",
    "asset",
    "holder_name",
    "issuer",
    "species",
    "harvest_type",
    "area_mu",
    "volume_m3",
    "valid_from",
    "valid_until",
    "status",
]


def permit_row(number, asset_code, **changes):
    row = {
        "number": number,
        "asset": asset_code,
        "holder_name": "示范村股份经济合作社",
        "issuer": "莲都区林业局",
        "species": "杉木",
        "harvest_type": "抚育采伐",
        "area_mu": "10.00",
        "volume_m3": "50.00",
        "valid_from": "2026-03-01",
        "valid_until": "2026-12-31",
        "status": "valid",
    }
    row.update(changes)
    return row


def csv_file(rows, header=HEADER, encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(key, "") for key in header])
    return buffer.getvalue().encode(encoding)


def run(user, division, content, fmt="csv", **kwargs):
    return import_dataset(
        actor=user,
        dataset=Dataset.HARVEST_PERMITS,
        fmt=fmt,
        division=division,
        channel="web",
        content=content,
        file_name=f"permits.{fmt}",
        **kwargs,
    )


def assert_refused_whole(log, permits_before):
    assert log.status == ExchangeStatus.REJECTED and log.direction == Direction.IMPORT
    assert (log.rows_created, log.rows_updated, log.rows_unchanged) == (0, 0, 0)
    assert HarvestPermit.objects.count() == permits_before
    assert not ExchangeRecord.objects.filter(dataset=Dataset.HARVEST_PERMITS).exists()
    assert ExchangeLog.objects.filter(pk=log.pk).exists()


def test_one_bad_row_among_good_ones_rejects_the_file_with_row_and_column(parcels, county_staff, lian_du):
    code = parcels[0].code
    content = csv_file(
        [
            permit_row("LC-1", code),
            permit_row("LC-2", code, area_mu="0"),
            permit_row("LC-3", "ZY-NOT-THERE"),
            permit_row("LC-4", code, valid_until="2026-01-01", volume_m3="abc"),
            permit_row("LC-5", code, status="作废"),
        ]
    )
    log = run(county_staff, lian_du, content)
    assert_refused_whole(log, 0)
    found = {(e["row"], e["key"]) for e in log.errors}
    assert found == {(3, "area_mu"), (4, "asset"), (5, "volume_m3"), (6, "status")}, log.errors
    assert log.rows_total == 5 and log.rows_rejected == 4
    labels = {e["key"]: e["column"] for e in log.errors}
    assert labels["area_mu"] == "采伐面积（亩）" and labels["asset"] == "资源编号"
    # row 5's dates are reported once the volume is a number
    fixed = csv_file([permit_row("LC-4", code, valid_until="2026-01-01")])
    assert {(e["row"], e["key"]) for e in run(county_staff, lian_du, fixed).errors} == {(2, "valid_until")}


def test_two_header_rows_chinese_labels_and_any_column_order(parcels, county_staff, lian_du):
    labels = ["许可证号", "资源编号", "采伐单位/个人", "发证机关", "树种", "采伐类型", "采伐面积（亩）*"]
    header = [*labels, "采伐蓄积（m³）", "有效期起", "有效期止", "备注"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerow(["number", "asset", "holder_name", "issuer", "species", "harvest_type", "area_mu"])
    writer.writerow(
        [
            "LC-9",
            parcels[0].code,
            "某林场",
            "莲都区林业局",
            "马尾松",
            "主伐",
            "2",
            "10",
            "2026/03/01",
            "2026-06-30",
            "x",
        ]
    )
    log = run(county_staff, lian_du, buffer.getvalue().encode("gb18030"))
    assert log.status == ExchangeStatus.SUCCEEDED, log.errors
    assert log.parameters["ignored_columns"] == ["备注"]
    permit = HarvestPermit.objects.get(number="LC-9")
    assert (permit.status, str(permit.area_mu), permit.valid_from.isoformat()) == (
        "valid",
        "2.00",
        "2026-03-01",
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\xef\xbb\xbfnumber,asset\r\nLC-1,ZY1\r\n", "表头缺少必填列"),
        ("许可证号,资源编号\nLC-1,ZY1\n".encode() + b"\x81\x20", "字符编码"),
        (b"", "空"),
        ("\ufeff" + ",".join(HEADER) + "\r\n", "没有数据行"),
    ],
    ids=["wrong-header", "wrong-encoding", "empty", "no-rows"],
)
def test_unreadable_csv_files_are_rejected_at_file_level(parcels, county_staff, lian_du, content, fragment):
    if isinstance(content, str):
        content = content.encode("utf-8")
    log = run(county_staff, lian_du, content)
    assert_refused_whole(log, 0)
    assert log.errors[0]["row"] == 0 and fragment in log.errors[0]["message"], log.errors


def test_truncated_xlsx_and_invalid_json_are_rejected(harvest_permits, county_staff, lian_du):
    content, *_ = export_dataset(
        actor=county_staff, dataset=Dataset.HARVEST_PERMITS, fmt="xlsx", division=lian_du, channel="web"
    )
    HarvestPermit.objects.all().delete()
    log = run(county_staff, lian_du, content[: len(content) // 2], fmt="xlsx")
    assert_refused_whole(log, 0)
    assert "XLSX" in log.errors[0]["message"]
    assert run(county_staff, lian_du, b'{"rows": [', fmt="json").errors[0]["message"].startswith("JSON")
    not_rows = run(county_staff, lian_du, b'{"rows": {"number": 1}}', fmt="json")
    assert not_rows.status == ExchangeStatus.REJECTED and "对象数组" in not_rows.errors[0]["message"]
    # the whole export imports fine
    assert run(county_staff, lian_du, content, fmt="xlsx").rows_created == 2


def test_duplicate_keys_in_a_file_are_rejected(parcels, county_staff, lian_du):
    code = parcels[0].code
    log = run(county_staff, lian_du, csv_file([permit_row("LC-1", code), permit_row("LC-1", code)]))
    assert_refused_whole(log, 0)
    assert log.errors == [
        {
            "row": 3,
            "column": "许可证号",
            "key": "number",
            "message": "业务主键与第 2 行重复：同一文件中每个主键只能出现一次。",
        }
    ]


def test_size_and_row_limits(parcels, county_staff, lian_du, monkeypatch):
    code = parcels[0].code
    content = csv_file([permit_row(f"LC-{n}", code) for n in range(3)])
    monkeypatch.setattr(formats, "MAX_ROWS", 2)
    log = run(county_staff, lian_du, content)
    assert_refused_whole(log, 0)
    assert "最多 2 行" in log.errors[0]["message"]
    monkeypatch.setattr(formats, "MAX_ROWS", 50_000)
    monkeypatch.setattr(formats, "MAX_BYTES", len(content) - 1)
    assert "20 MB" in run(county_staff, lian_du, content).errors[0]["message"]


def test_dry_run_validates_counts_and_writes_nothing_but_its_log(parcels, county_staff, lian_du):
    code = parcels[0].code
    content = csv_file([permit_row("LC-1", code), permit_row("LC-2", code)])
    events = pghistory.models.Events.objects.count()
    log = run(county_staff, lian_du, content, dry_run=True)
    assert log.status == ExchangeStatus.SUCCEEDED and log.parameters["dry_run"] is True
    assert (log.rows_created, log.rows_updated, log.rows_unchanged) == (2, 0, 0)
    assert not HarvestPermit.objects.exists() and not ExchangeRecord.objects.exists()
    assert pghistory.models.Events.objects.count() == events
    bad = run(county_staff, lian_du, csv_file([permit_row("LC-1", code, area_mu="-1")]), dry_run=True)
    assert bad.status == ExchangeStatus.REJECTED and bad.parameters["dry_run"] is True


def test_changed_rows_update_through_the_service_with_history(harvest_permits, county_staff, lian_du):
    code_of = {p.number: p.asset.code for p in harvest_permits}
    content, *_ = export_dataset(
        actor=county_staff, dataset=Dataset.HARVEST_PERMITS, fmt="json", division=lian_du, channel="web"
    )
    first = run(county_staff, lian_du, content, fmt="json")
    assert (first.rows_created, first.rows_updated, first.rows_unchanged) == (0, 0, 2)  # same as the DB
    rows = json.loads(content)["rows"]
    rows[0]["volume_m3"] = "90.00"
    events = pghistory.models.Events.objects.filter(pgh_model="exchange.HarvestPermitEvent").count()
    second = run(county_staff, lian_du, json.dumps({"rows": rows}).encode(), fmt="json")
    assert (second.rows_created, second.rows_updated, second.rows_unchanged) == (0, 1, 1), second.errors
    assert str(HarvestPermit.objects.get(number=rows[0]["number"]).volume_m3) == "90.00"
    assert (
        pghistory.models.Events.objects.filter(pgh_model="exchange.HarvestPermitEvent").count() == events + 1
    )
    assert code_of[rows[0]["number"]] == rows[0]["asset"]


def test_a_service_refusing_a_row_while_applying_rolls_the_file_back(harvest_permits, county_staff, lian_du):
    revoked = harvest_permits[0]
    permits.update_harvest_permit(actor=county_staff, permit=revoked, status=PermitStatus.REVOKED)
    code = revoked.asset.code
    content = csv_file(
        [permit_row("LC-NEW", code), permit_row(revoked.number, code, area_mu="12.50", volume_m3="85.00")]
    )
    log = run(county_staff, lian_du, content)
    assert_refused_whole(log, 2)
    assert log.errors[0]["row"] == 3 and "已注销" in log.errors[0]["message"]
    assert not HarvestPermit.objects.filter(number="LC-NEW").exists()


def test_department_officer_imports_permits_but_not_registry_data(
    parcels, department_officer, department, lian_du
):
    log = run(
        department_officer, lian_du, csv_file([permit_row("LC-D", parcels[0].code)]), organization=department
    )
    assert log.status == ExchangeStatus.SUCCEEDED and log.organization == department
    assert HarvestPermit.objects.get(number="LC-D").recorded_by == department_officer
    with pytest.raises(PermissionDeniedError):
        import_dataset(
            actor=department_officer,
            dataset=Dataset.PARCELS,
            fmt="json",
            division=lian_du,
            channel="api",
            content=b"[]",
            file_name="",
        )


def test_reach_and_capability_are_enforced(parcels, county_staff, bank_officer, other_county, lian_du):
    content = csv_file([permit_row("LC-1", parcels[0].code)])
    with pytest.raises(PermissionDeniedError):
        run(bank_officer, lian_du, content)
    with pytest.raises(PermissionDeniedError):
        run(county_staff, other_county, content)
    with pytest.raises(PermissionDeniedError):
        export_dataset(
            actor=bank_officer, dataset=Dataset.PARCELS, fmt="csv", division=lian_du, channel="web"
        )
    assert not ExchangeLog.objects.exists()


def test_rows_outside_the_exchange_division_are_not_found(parcels, county_staff, lian_du):
    township = AdministrativeDivision.objects.get(code="331102199000")
    other_village = AdministrativeDivision.objects.create(
        code="331102199202", name="示范二村（演示）", level=DivisionLevel.VILLAGE, parent=township
    )
    log = run(county_staff, other_village, csv_file([permit_row("LC-1", parcels[0].code)]))
    assert_refused_whole(log, 0)
    assert log.errors[0]["key"] == "asset" and "不在本次交换的区划内" in log.errors[0]["message"]


def test_unsupported_format_filter_and_dataset_are_refused(parcels, county_staff, lian_du):
    with pytest.raises(DomainError) as refused:
        run(county_staff, lian_du, b"{}", fmt="geojson")
    assert "format" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        export_dataset(
            actor=county_staff,
            dataset=Dataset.COLLECTIVES,
            fmt="csv",
            division=lian_du,
            channel="web",
            filters={"year": 2025},
        )
    assert "year" in refused.value.fields
    with pytest.raises(DomainError):
        export_dataset(
            actor=county_staff,
            dataset=Dataset.HARVEST_PERMITS,
            fmt="csv",
            division=lian_du,
            channel="web",
            filters={"updated_since": "2099-01-01"},
        )
    with pytest.raises(DomainError):
        export_dataset(
            actor=county_staff, dataset="credit_report", fmt="csv", division=lian_du, channel="web"
        )
    assert not ExchangeLog.objects.exists()


def test_export_filters_by_year(harvest_permits, county_staff, lian_du):
    content, *_ = export_dataset(
        actor=county_staff,
        dataset=Dataset.HARVEST_PERMITS,
        fmt="json",
        division=lian_du,
        channel="web",
        filters={"year": "2025"},
    )
    assert json.loads(content)["rows"] == []
    content, _type, _name, log = export_dataset(
        actor=county_staff,
        dataset=Dataset.HARVEST_PERMITS,
        fmt="json",
        division=lian_du,
        channel="web",
        filters={"year": 2026},
    )
    assert [r["number"] for r in json.loads(content)["rows"]] == ["LC-2026-001", "LC-2026-002"]
    assert log.parameters == {"filters": {"year": 2026}} and log.rows_total == 2
