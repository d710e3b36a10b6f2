# ruff: noqa: F811  (fixtures imported from test_applications_fixtures)
"""Application and appraisal pages: list (filters, XLSX, pinned queries), detail with collateral
figures, the timeline and role-dependent buttons, the form flow, and the appraisal page and PDF."""

import io
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from finance.models import ApplicationStatus, LoanApplication
from finance.services import applications as services

from .test_applications_fixtures import (  # noqa: F401  (fixtures)
    PAST,
    approved,
    draft,
    submitted,
)

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_list_filters_exports_and_is_pinned(
    client, draft, approved, county_staff, django_assert_max_num_queries
):
    for _i in range(3):
        draft()
    first, _right = approved()
    login(client, county_staff)
    with django_assert_max_num_queries(14):
        page = client.get("/finance/applications/")
    assert page.status_code == 200
    text = page.content.decode()
    assert first.number in text and "新增" in text
    only = client.get("/finance/applications/", {"status": "approved"}).content.decode()
    assert first.number in only and only.count("SQ2026") == 1
    export = client.get("/finance/applications/", {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.values)
    assert rows[0][0] == "申请编号" and len(rows) == 5


def test_detail_shows_collateral_figures_timeline_and_buttons_by_role(
    client, approved, county_staff, checker, bank_officer, second_bank_officer
):
    application, _right = approved()
    appraisal = application.collateral.get().appraisal
    staff_page = login(client, county_staff).get(application.get_absolute_url()).content.decode()
    assert appraisal.number in staff_page and str(appraisal.max_loan) in staff_page
    for step in ("草稿", "待复核", "已复核，待银行审批"):
        assert step in staff_page
    assert str(checker) in staff_page and "撤回" in staff_page and "银行审批</a>" not in staff_page
    bank_page = login(client, bank_officer).get(application.get_absolute_url()).content.decode()
    assert f"/finance/applications/{application.pk}/decide/" in bank_page
    assert f"/finance/applications/{application.pk}/withdraw/" not in bank_page
    assert login(client, second_bank_officer).get(application.get_absolute_url()).status_code == 404


def test_the_maker_sees_no_check_button_and_cannot_check(client, submitted, county_staff, checker):
    application, _right = submitted()
    page = login(client, county_staff).get(application.get_absolute_url()).content.decode()
    assert "须由另一位工作人员复核" in page and f"/{application.pk}/check/" not in page
    refused = client.post(f"/finance/applications/{application.pk}/check/", {"approve": "1", "note": ""})
    assert refused.status_code == 403
    page = login(client, checker).get(application.get_absolute_url()).content.decode()
    assert f"/{application.pk}/check/" in page
    done = client.post(f"/finance/applications/{application.pk}/check/", {"approve": "0", "note": "补充材料"})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RETURNED and application.check_note == "补充材料"


def test_prepare_appraise_and_submit_through_the_pages(client, valued_right, make_product, county_staff):
    right = valued_right()
    product = make_product()
    login(client, county_staff)
    form = {
        "applicant": right.holder_id,
        "product": product.pk,
        "amount": "150000",
        "term_months": "36",
        "repayment_method": "equal_installment",
        "payment_frequency": "monthly",
        "annual_rate_percent": "7.5",
        "purpose": "林下经济",
        "rights": [right.pk],
        "consent_document": "AUTH-9",
    }
    page = client.post("/finance/applications/new/", form)
    assert page.status_code == 200 and "年利率须在" in page.content.decode()  # shown next to the field
    assert not LoanApplication.objects.exists()
    created = client.post("/finance/applications/new/", {**form, "annual_rate_percent": "3.6"})
    application = LoanApplication.objects.get()
    assert created["Location"] == application.get_absolute_url()
    assert application.annual_rate == Decimal("0.036")
    refused = client.post(f"/finance/applications/{application.pk}/submit/", follow=True)
    assert "没有有效的评估" in refused.content.decode()
    client.post(f"/finance/applications/{application.pk}/appraise/{right.pk}/")
    client.post(f"/finance/applications/{application.pk}/submit/")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    edit = client.get(f"/finance/applications/{application.pk}/edit/")
    assert edit.status_code == 200  # the page opens; the service refuses the change
    changed = client.post(
        f"/finance/applications/{application.pk}/edit/", {**form, "annual_rate_percent": "3.6"}
    )
    assert "只有草稿或已退回的申请可以修改" in changed.content.decode()


def test_bank_decision_and_withdrawal_pages(client, approved, bank_officer, county_staff):
    application, _right = approved()
    login(client, bank_officer)
    assert client.get(f"/finance/applications/{application.pk}/withdraw/").status_code == 403
    page = client.post(f"/finance/applications/{application.pk}/decide/", {"approve": "0", "note": ""})
    assert "拒绝时请填写银行意见" in page.content.decode()
    client.post(
        f"/finance/applications/{application.pk}/decide/", {"approve": "1", "approved_amount": "90000"}
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.BANK_APPROVED and application.approved_amount == Decimal(
        "90000"
    )
    login(client, county_staff)
    client.post(f"/finance/applications/{application.pk}/withdraw/", {"reason": "借款人放弃"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    page = client.get(application.get_absolute_url()).content.decode()
    assert "借款人放弃" in page and "已撤回" in page


def test_appraisal_page_shows_each_step_and_the_pdf_cites_it(
    client, approved, county_staff, bank_officer, tmp_path
):
    application, _right = approved()
    appraisal = application.collateral.get().appraisal
    url = f"/finance/appraisals/{appraisal.pk}/"
    page = login(client, county_staff).get(url).content.decode()
    calc = appraisal.calculation
    for text in (
        "收益年限",
        "年金现值系数",
        "收益现值法",
        "评估结论",
        str(appraisal.appraised_value),
        "当前有效",
    ):
        assert text in page
    assert f"{Decimal(calc['annuity_factor']):.6f}" in page
    listing = client.get("/finance/appraisals/").content.decode()
    assert f'href="{url}"' in listing
    response = login(client, bank_officer).get(f"{url}appraisal.pdf")
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "appraisal.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    compact = text.replace(" ", "").replace("\n", "")
    for expected in (
        appraisal.number,
        "LY/T2407-2015",
        str(appraisal.appraised_value),
        str(appraisal.max_loan),
    ):
        assert expected in compact
    assert "抵质押物价值评估报告" in compact and application.number in compact


def test_standalone_appraisal_form(client, valued_right, make_product, county_staff):
    right = valued_right()
    product = make_product()
    login(client, county_staff)
    response = client.post(
        "/finance/appraisals/new/", {"right": right.pk, "product": product.pk, "appraised_on": "2099-01-01"}
    )
    assert "评估基准日不能晚于今天" in response.content.decode()
    done = client.post(
        "/finance/appraisals/new/", {"right": right.pk, "product": product.pk, "appraised_on": str(PAST)}
    )
    assert done.status_code == 302 and "/finance/appraisals/" in done["Location"]


def test_returned_application_is_edited_and_resubmitted(client, submitted, county_staff, checker):
    application, _right = submitted()
    services.check_application(actor=checker, application=application, approve=False, note="请修改用途")
    login(client, county_staff)
    page = client.get(application.get_absolute_url()).content.decode()
    assert "退回意见：请修改用途" in page and f"/{application.pk}/edit/" in page
