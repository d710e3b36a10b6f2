# ruff: noqa: F811  (fixtures imported from fixtures_datasets)
"""Dataset pages, templates, web export and import, exchange logs, the management command, and the
documentation kept in step with the dataset specs."""

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from exchange.datasets import DATASETS
from exchange.models import Channel, ExchangeLog, ExchangeStatus, HarvestPermit

from .fixtures_datasets import department, department_officer, harvest_permits, lian_du, parcels  # noqa: F401
from .test_datasets_import import csv_file, permit_row

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "data-exchange.md"


@pytest.fixture
def staff_client(client, county_staff):
    client.force_login(county_staff)
    return client


def test_dataset_pages_document_every_column(staff_client, bank_officer, client):
    page = staff_client.get(reverse("exchange:dataset-list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert all(str(spec.label) in text for spec in DATASETS.values())
    detail = staff_client.get(reverse("exchange:dataset-detail", args=["parcels"])).content.decode()
    for column in DATASETS["parcels"].columns:
        assert f"<code>{column.key}</code>" in detail and str(column.label) in detail
    assert "export-form" in detail and "import-form" in detail and "仅校验" in detail
    assert staff_client.get(reverse("exchange:dataset-detail", args=["nothing"])).status_code == 404
    client.force_login(bank_officer)
    assert client.get(reverse("exchange:dataset-list")).status_code == 403


def test_templates_carry_labels_and_keys(staff_client):
    response = staff_client.get(reverse("exchange:dataset-template", args=["harvest_permits", "xlsx"]))
    book = load_workbook(io.BytesIO(response.content))
    data, guide = book.worksheets
    header = [c.value for c in data[1]]
    assert header[0] == "许可证号*" and [c.value for c in data[2]][:2] == ["number", "asset"]
    assert "status" in [c.value for c in data[2]] and guide.title == "说明"
    csv_text = staff_client.get(reverse("exchange:dataset-template", args=["parcels", "csv"])).content
    assert csv_text.startswith("\ufeff资源编号*".encode())
    assert b"area_m2" not in csv_text  # export-only columns are not in the import template
    assert staff_client.get(reverse("exchange:dataset-template", args=["parcels", "json"])).status_code == 404


def test_web_export_and_import_round_trip(harvest_permits, staff_client, lian_du):
    response = staff_client.post(
        reverse("exchange:dataset-export", args=["harvest_permits"]),
        {"division": lian_du.pk, "format": "xlsx", "year": "2026"},
    )
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    log = ExchangeLog.objects.get()
    assert (log.channel, log.rows_total, log.parameters["filters"]) == (Channel.WEB, 2, {"year": 2026})
    HarvestPermit.objects.all().delete()
    imported = staff_client.post(
        reverse("exchange:dataset-import", args=["harvest_permits"]),
        {"division": lian_du.pk, "file": SimpleUploadedFile("许可证.xlsx", response.content)},
    )
    created = ExchangeLog.objects.latest("pk")
    assert imported.status_code == 302 and imported["Location"] == reverse(
        "exchange:log-detail", args=[created.pk]
    )
    assert created.rows_created == 2 and HarvestPermit.objects.count() == 2
    bad_filter = staff_client.post(
        reverse("exchange:dataset-export", args=["harvest_permits"]),
        {"division": lian_du.pk, "format": "geojson"},
    )
    assert bad_filter.status_code == 400 and "export-form" in bad_filter.content.decode()


def test_refused_import_shows_rows_and_columns(parcels, staff_client, lian_du):
    content = csv_file(
        [permit_row("LC-1", parcels[0].code), permit_row("LC-2", parcels[0].code, area_mu="0")]
    )
    response = staff_client.post(
        reverse("exchange:dataset-import", args=["harvest_permits"]),
        {"division": lian_du.pk, "file": SimpleUploadedFile("permits.csv", content), "dry_run": "on"},
        follow=True,
    )
    text = response.content.decode()
    assert "log-errors" in text and "采伐面积须大于 0。" in text and "整体退回" in text
    log = ExchangeLog.objects.get()
    assert log.status == ExchangeStatus.REJECTED and log.parameters["dry_run"] is True
    no_format = staff_client.post(
        reverse("exchange:dataset-import", args=["harvest_permits"]),
        {"division": lian_du.pk, "file": SimpleUploadedFile("permits.dat", content)},
    )
    assert no_format.status_code == 400 and ExchangeLog.objects.count() == 1
    assert staff_client.get(reverse("exchange:dataset-import", args=["harvest_permits"])).status_code == 405


def test_department_officer_pages(parcels, department_officer, department, client, lian_du):
    client.force_login(department_officer)
    detail = client.get(reverse("exchange:dataset-detail", args=["harvest_permits"])).content.decode()
    assert 'name="organization"' not in detail  # their counterpart is their own department
    client.post(
        reverse("exchange:dataset-import", args=["harvest_permits"]),
        {
            "division": lian_du.pk,
            "file": SimpleUploadedFile("p.csv", csv_file([permit_row("LC-D", parcels[0].code)])),
        },
    )
    assert ExchangeLog.objects.get().organization == department
    refused = client.post(
        reverse("exchange:dataset-import", args=["parcels"]),
        {"division": lian_du.pk, "file": SimpleUploadedFile("p.json", b"[]")},
    )
    assert refused.status_code == 403


def test_log_list_filters_exports_and_scopes(
    harvest_permits, staff_client, lian_du, bank_officer, client, django_assert_max_num_queries
):
    for fmt in ("csv", "json"):
        staff_client.post(
            reverse("exchange:dataset-export", args=["harvest_permits"]),
            {"division": lian_du.pk, "format": fmt},
        )
    with django_assert_max_num_queries(12):
        page = staff_client.get(
            reverse("exchange:log-list"), {"dataset": "harvest_permits", "direction": "export"}
        )
    assert page.status_code == 200 and page.content.decode().count("DX2026") == 2
    xlsx = staff_client.get(reverse("exchange:log-list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 3 and sheet["A1"].value == "交换编号"
    log = ExchangeLog.objects.first()
    assert staff_client.get(reverse("exchange:log-detail", args=[log.pk])).status_code == 200
    client.force_login(bank_officer)
    assert client.get(reverse("exchange:log-list")).status_code == 403


def test_management_command_exports_and_imports(harvest_permits, county_staff, tmp_path):
    output = tmp_path / "permits.csv"
    call_command(
        "exchange_dataset",
        "export",
        "harvest_permits",
        "--actor",
        county_staff.username,
        "--division",
        "331102000000",
        "--output",
        str(output),
    )
    assert output.read_bytes().startswith("\ufeff许可证号".encode())
    HarvestPermit.objects.all().delete()
    call_command(
        "exchange_dataset",
        "import",
        "harvest_permits",
        "--actor",
        county_staff.username,
        "--division",
        "331102000000",
        "--file",
        str(output),
    )
    assert HarvestPermit.objects.count() == 2
    assert set(ExchangeLog.objects.values_list("channel", flat=True)) == {Channel.COMMAND}
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"number\r\nLC-1\r\n")
    with pytest.raises(CommandError, match="整体退回"):
        call_command(
            "exchange_dataset",
            "import",
            "harvest_permits",
            "--actor",
            county_staff.username,
            "--division",
            "331102000000",
            "--file",
            str(broken),
        )
    with pytest.raises(CommandError):
        call_command(
            "exchange_dataset",
            "export",
            "parcels",
            "--actor",
            "nobody",
            "--division",
            "331102000000",
            "--output",
            "x",
        )


def test_documentation_lists_every_column_of_every_dataset():
    text = DOC.read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.MULTILINE)
    with translation.override("zh-hans"):
        for key, spec in DATASETS.items():
            section = next((s for s in sections if s.split("\n", 1)[0].endswith(f"（`{key}`）")), None)
            assert section is not None, f"docs/data-exchange.md has no section for {key}"
            assert str(spec.label) in section.split("\n", 1)[0]
            for column in spec.columns:
                row = f"| {column.label} | `{column.key}` | {column.type_label} | {'是' if column.required else ''} |"
                assert row in section, f"{key}.{column.key} is not documented as: {row}"
            documented = re.findall(r"^\| [^|]+ \| `([a-z_0-9]+)` \|", section, flags=re.MULTILINE)
            assert documented == [c.key for c in spec.columns], key
