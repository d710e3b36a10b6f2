"""Rendering a credit export: JSON, CSV (row 1 labels, row 2 keys, one row per party × scope and
per loan) and XLSX; the same bytes whenever JSON/CSV are rendered (the creation log's digest);
downloads logged; organizations named in full with their USCC."""

# ruff: noqa: F811  (fixtures)
import csv
import io
import json

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tmcs import crypto

from ..models import Channel, Dataset, Direction, ExchangeLog
from ..services import credit
from ..services.logs import sha256_of
from .fixtures_credit import (  # noqa: F401  (fixtures)
    consent,
    demo_id,
    enterprise,
    guarantor,
    guarantor_officer,
    lianduqu,
    make_borrowing,
    make_score,
    other_platform,
    other_platform_officer,
    person_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(households, enterprise, make_score, make_borrowing, consent, guarantor, county_staff, lianduqu):
    """Households[0]: score + two loans, both scopes; the enterprise: score only, eco-credit scope;
    households[1]: a score but no consent (withheld)."""
    make_score(households[0])
    make_borrowing(households[0])
    make_borrowing(households[0])
    make_score(enterprise, score="801.00", grade="AA")
    make_score(households[1])
    consent(households[0])
    consent(enterprise, scopes=["eco_credit"])
    return credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=timezone.localdate(), fmt="csv"
    )


def test_json_document(export, households, enterprise, guarantor):
    content, content_type, name = credit.render_credit_export(export, "json")
    assert content_type == "application/json" and name == f"credit-report-{export.number}.json"
    document = json.loads(content)
    assert document["export"] == {
        "number": export.number,
        "dataset": "credit_report",
        "recipient": {"name": guarantor.name, "uscc": guarantor.uscc},
        "division": {"code": "331102000000", "name": export.division.name},
        "as_of": timezone.localdate().isoformat(),
        "parties_requested": 3,
        "parties_exported": 2,
        "parties_withheld": 1,
    }
    assert "HMAC-SHA256" in document["identifier_note"]
    person_line, org_line = sorted(document["lines"], key=lambda line: line["party"]["kind"] != "person")
    assert set(person_line) == {"party", "consents", "eco_credit", "loan_performance"}
    assert person_line["party"] == {
        "kind": "person",
        "name": person_of(households[0]).name[0] + "**",
        "identifier_type": "national_id_hmac_sha256",
        "identifier": person_of(households[0]).national_id_hash,
    }
    # the documented scheme: HMAC-SHA256 over "national_id:<ID>" with the lookup key
    assert person_line["party"]["identifier"] == crypto.lookup_hash(
        "national_id", demo_id(person_of(households[0]))[0]
    )
    assert person_line["consents"][0]["scopes"] == ["eco_credit", "loan_performance"]
    assert len(person_line["loan_performance"]["loans"]) == 2
    assert org_line["party"] == {
        "kind": "organization",
        "name": enterprise.organization.name,
        "identifier_type": "uscc",
        "identifier": enterprise.organization.uscc,
    }
    assert org_line["eco_credit"]["grade"] == "AA" and "loan_performance" not in org_line


def test_csv_rows_per_party_scope_and_loan(export):
    content, content_type, _name = credit.render_credit_export(export, "csv")
    assert content_type.startswith("text/csv") and content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    labels, keys, data = rows[0], rows[1], rows[2:]
    assert labels[0] == "报送编号" and keys == [key for key, _label in credit.COLUMNS]
    by = [dict(zip(keys, row, strict=True)) for row in data]
    # person: one eco row + one row per loan; organization: one eco row
    assert sorted((r["party_kind"], r["scope"]) for r in by) == [
        ("organization", "eco_credit"),
        ("person", "eco_credit"),
        ("person", "loan_performance"),
        ("person", "loan_performance"),
    ]
    loan_rows = [r for r in by if r["scope"] == "loan_performance"]
    assert all(r["principal"] == "120000.00" and r["score"] == "" for r in loan_rows)
    eco = next(r for r in by if r["party_kind"] == "organization")
    assert eco["score"] == "801.00" and eco["bank"] == "" and "生态行为" not in eco["factor_explanations"]
    assert "近 12 个月" in eco["factor_explanations"]


def test_xlsx_workbook(export):
    content, content_type, _name = credit.render_credit_export(export, "xlsx")
    assert content_type.endswith("spreadsheetml.sheet")
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    assert workbook.sheetnames == ["信用报送", "说明"]
    rows = list(workbook["信用报送"].values)
    assert rows[1] == tuple(key for key, _label in credit.COLUMNS) and len(rows) == 2 + 4
    about = dict(workbook["说明"].values)
    assert about["报送编号"] == export.number and about["因无授权未报送"] == 1


def test_bad_format_is_refused(export):
    with pytest.raises(credit.DomainError) as refused:
        credit.render_credit_export(export, "geojson")
    assert "format" in refused.value.fields


def test_same_bytes_as_logged_and_downloads_are_logged(export, county_staff, guarantor_officer, guarantor):
    creation = ExchangeLog.objects.get(pk=export.log_id)
    assert creation.format == "csv" and creation.channel == Channel.WEB
    assert creation.direction == Direction.EXPORT and creation.dataset == Dataset.CREDIT_REPORT
    content, _type, _name = credit.render_credit_export(export, "csv")
    assert sha256_of(content) == creation.file_sha256
    assert credit.render_credit_export(export, "json")[0] == credit.render_credit_export(export, "json")[0]
    before = ExchangeLog.objects.count()
    data, _type, name, log = credit.download_credit_export(
        actor=guarantor_officer, export=export, fmt="json", channel=Channel.API
    )
    assert ExchangeLog.objects.count() == before + 1
    assert (log.actor, log.organization, log.channel, log.format) == (
        guarantor_officer,
        guarantor,
        "api",
        "json",
    )
    assert log.rows_total == 2 and log.file_sha256 == sha256_of(data) and log.file_name == name
    assert log.parameters == {"credit_export": export.number, "download": True}


def test_download_refused_to_others(export, other_platform_officer, bank_officer):
    for outsider in (other_platform_officer, bank_officer):
        with pytest.raises(credit.PermissionDeniedError):
            credit.download_credit_export(actor=outsider, export=export, fmt="json", channel="api")
    assert ExchangeLog.objects.count() == 1  # only the creation


def test_formula_like_text_is_neutralised(households, make_score, consent, guarantor, county_staff, lianduqu):
    party = households[0]
    make_score(party)
    row = consent(party)
    type(row).objects.filter(pk=row.pk).update(document="=HYPERLINK(1)")
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=timezone.localdate()
    )
    text = credit.render_credit_export(export, "csv")[0].decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    assert json.loads(credit.render_credit_export(export, "json")[0])["lines"][0]["consents"][0][
        "document"
    ] == ("=HYPERLINK(1)")
