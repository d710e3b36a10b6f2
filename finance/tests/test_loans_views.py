# ruff: noqa: F811  (fixtures imported from test_loans_fixtures)
"""Loan book pages: list (scoped, filters, XLSX, pinned queries), detail, disbursement and
repayment forms, statement page/PDF/XLSX and the delinquency overview."""

import datetime
import shutil
import subprocess
from decimal import Decimal as D
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from directory.models import PersonalDataAccess
from finance.models import ApplicationStatus, Loan, Repayment
from finance.services import loans

from .test_loans_fixtures import A, approved, disbursed  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
LIST = reverse("finance:loan-list")


def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def book(disbursed, make_product, second_bank, second_bank_officer):
    own = [disbursed() for _ in range(2)]
    loans.record_repayment(
        actor=own[0].recorded_by, loan=own[0], amount=A, paid_on=datetime.date(2025, 2, 15)
    )
    other = disbursed(product=make_product(bank_org=second_bank), actor=second_bank_officer)
    return own, other


def test_list_is_scoped_filtered_exported_and_pinned(
    book, disbursed, county_staff, bank_officer, second_bank_officer, django_assert_max_num_queries
):
    own, other = book
    staff = browser(county_staff)
    with django_assert_max_num_queries(9):
        page = staff.get(LIST)
    html = page.content.decode()
    assert page.status_code == 200 and all(loan.number in html for loan in [*own, other])
    assert "292096.09" in html and "逾期90天以上" in html
    own.extend(disbursed() for _ in range(3))
    with django_assert_max_num_queries(9):
        assert staff.get(LIST).status_code == 200
    bank_page = browser(bank_officer).get(LIST).content.decode()
    assert own[0].number in bank_page and other.number not in bank_page
    second = browser(second_bank_officer).get(LIST).content.decode()
    assert other.number in second and own[0].number not in second
    filtered = staff.get(LIST, {"q": own[1].number}).content.decode()
    assert own[1].number in filtered and own[0].number not in filtered
    assert own[0].number not in staff.get(LIST, {"bucket": "current"}).content.decode()
    export = staff.get(LIST, {"export": "xlsx", "bank": own[0].bank_id})
    rows = list(load_workbook(BytesIO(export.content)).active.values)
    assert rows[0][0] == "借据编号" and len(rows) == 1 + 5
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number[own[0].number][5] == "292096.09" and by_number[own[0].number][8] == "逾期90天以上"
    # a bank officer's look at borrowers' names is logged
    assert PersonalDataAccess.objects.filter(viewer=bank_officer).exists()


def test_list_offers_bank_approved_applications_for_disbursement(approved, bank_officer, second_bank_officer):
    application = approved()
    page = browser(bank_officer).get(LIST).content.decode()
    assert (
        application.number in page
        and f"{reverse('finance:loan-disburse')}?application={application.pk}" in page
    )
    assert application.number not in browser(second_bank_officer).get(LIST).content.decode()


def test_detail_shows_schedule_position_and_repayments(book, bank_officer, second_bank_officer, county_staff):
    own, _other = book
    url = own[0].get_absolute_url()
    page = browser(bank_officer).get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "7903.91" in html and "900.00" in html and "292096.09" in html and "3.6 %" in html
    assert html.count("<tr class=") >= 36 and reverse("finance:loan-repay", args=[own[0].pk]) in html
    assert browser(second_bank_officer).get(url).status_code == 404
    assert (
        browser(second_bank_officer).get(reverse("finance:loan-repay", args=[own[0].pk])).status_code == 404
    )
    assert browser(county_staff).get(url).status_code == 200
    loans.snapshot_delinquency(datetime.date(2025, 3, 1))
    assert 'id="delinquency-chart"' in browser(county_staff).get(url).content.decode()


def test_disbursement_form(approved, bank_officer, second_bank_officer):
    application = approved()
    url = f"{reverse('finance:loan-disburse')}?application={application.pk}"
    assert browser(second_bank_officer).get(url).status_code == 404
    client = browser(bank_officer)
    form = client.get(url)
    assert form.status_code == 200 and application.number in form.content.decode()
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    refused = client.post(
        url, {"principal": "300000.00", "disbursed_on": future, "bank_reference": "JJ-WEB-1"}
    )
    assert refused.status_code == 200 and "不能晚于今天" in refused.content.decode()
    assert not Loan.objects.exists()
    done = client.post(
        url, {"principal": "300000.00", "disbursed_on": "2025-01-15", "bank_reference": "JJ-WEB-1"}
    )
    loan = Loan.objects.get()
    assert done.status_code == 302 and done["Location"] == loan.get_absolute_url()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DISBURSED
    assert client.get(url).status_code == 404  # no longer awaiting disbursement


def test_repayment_form(disbursed, bank_officer, second_bank_officer):
    loan = disbursed()
    url = reverse("finance:loan-repay", args=[loan.pk])
    client = browser(bank_officer)
    page = client.get(url)
    assert page.status_code == 200 and "今日结清金额" in page.content.decode()
    refused = client.post(url, {"amount": "300900.01", "paid_on": "2025-02-15", "prepayment": "shorten_term"})
    html = refused.content.decode()
    assert refused.status_code == 200 and "300900.00" in html and "is-invalid" in html
    assert not Repayment.objects.exists()
    done = client.post(
        url,
        {"amount": str(A), "paid_on": "2025-02-15", "bank_reference": "LS-W1", "prepayment": "shorten_term"},
    )
    assert done.status_code == 302 and Repayment.objects.get().principal_part == D("7903.91")
    assert browser(second_bank_officer).post(url, {"amount": "1", "paid_on": "2025-02-15"}).status_code == 404


def test_statement_page_pdf_and_xlsx(book, bank_officer):
    own, _other = book
    loan = own[0]
    client = browser(bank_officer)
    query = {"start": "2025-01-01", "end": "2025-02-28"}
    page = client.get(reverse("finance:loan-statement", args=[loan.pk]), query)
    html = page.content.decode()
    assert page.status_code == 200 and "292096.09" in html and "statement-closing" in html
    default = client.get(reverse("finance:loan-statement", args=[loan.pk]))
    assert default.status_code == 200 and "statement-summary" in default.content.decode()
    bad = client.get(
        reverse("finance:loan-statement", args=[loan.pk]), {"start": "2025-03-01", "end": "2025-01-01"}
    )
    assert "截止日不能早于起始日" in bad.content.decode() and "statement-summary" not in bad.content.decode()
    workbook = load_workbook(
        BytesIO(client.get(reverse("finance:loan-statement-xlsx", args=[loan.pk]), query).content)
    )
    summary = {row[0]: row[1] for row in workbook["对账单"].values}
    assert D(str(summary["期末本金余额（元）"])) == D("292096.09") and summary["借据编号"] == loan.number
    lines = list(workbook["还款明细"].values)
    assert [D(str(v)) for v in lines[1][4:]] == [1, D("7903.91"), D("900.00"), D("0.00")]
    pdf = client.get(reverse("finance:loan-statement-pdf", args=[loan.pk]), query)
    assert (
        pdf.status_code == 200
        and pdf["Content-Type"] == "application/pdf"
        and pdf.content.startswith(b"%PDF")
    )
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True
        ).stdout.decode()
        assert "贷款对账单" in text and loan.number in text and "292096.09" in text


def test_delinquency_overview_counts_per_bucket(book, county_staff, bank_officer, second_bank_officer):
    html = browser(county_staff).get(reverse("finance:loan-delinquency")).content.decode()
    assert 'data-bucket="90_plus"' in html
    staff_rows = loans_in_bucket(html, "90_plus")
    assert staff_rows == "3"
    assert (
        loans_in_bucket(
            browser(bank_officer).get(reverse("finance:loan-delinquency")).content.decode(), "90_plus"
        )
        == "2"
    )
    assert (
        loans_in_bucket(
            browser(second_bank_officer).get(reverse("finance:loan-delinquency")).content.decode(), "90_plus"
        )
        == "1"
    )


def loans_in_bucket(html, bucket):
    row = html.split(f'data-bucket="{bucket}"', 1)[1].split("</tr>", 1)[0]
    return row.split('<td class="text-end">', 2)[1].split("<", 1)[0]
