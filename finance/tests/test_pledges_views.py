"""Pledge pages: the list (scoped, filtered, XLSX), registering from an application, the detail
with its release form, the certificate PDF and the public check page (no login, no personal data)."""

import subprocess
from decimal import Decimal
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from directory.models import PersonalDataAccess
from finance.models import ApplicationStatus, Pledge, PledgeStatus
from finance.services import pledges
from resources.models import RightStatus

pytestmark = pytest.mark.django_db
LIST = "/finance/pledges/"


def web(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def registered(valued_right, make_product, make_application, make_appraisal, county_staff):
    """registered(bank_org=None) → a pledge of 123,456.78 元 on a household's right."""

    def make(bank_org=None):
        right = valued_right()
        product = make_product(bank_org=bank_org)
        application = make_application(rights=[right], product=product)
        make_appraisal(right, product, appraised_value=Decimal("500000"))
        return pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="123456.78"
        )

    return make


def pdf_text(content):
    return subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def test_list_is_scoped_filtered_and_exported(
    registered, second_bank, bank_officer, second_bank_officer, county_staff, django_assert_max_num_queries
):
    own = [registered() for _i in range(3)]
    foreign = registered(bank_org=second_bank)
    staff = web(county_staff)
    with django_assert_max_num_queries(10):
        page = staff.get(LIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert all(p.number in text for p in [*own, foreign])
    bank_page = web(bank_officer).get(LIST).content.decode()
    assert all(p.number in bank_page for p in own) and foreign.number not in bank_page
    second_page = web(second_bank_officer).get(LIST).content.decode()
    assert foreign.number in second_page and own[0].number not in second_page
    filtered = staff.get(LIST, {"bank": second_bank.pk}).content.decode()
    assert foreign.number in filtered and own[0].number not in filtered
    by_code = staff.get(LIST, {"q": own[1].right.asset.code}).content.decode()
    assert own[1].number in by_code and own[0].number not in by_code
    export = web(bank_officer).get(LIST, {"export": "xlsx", "sort": "number"})
    rows = list(load_workbook(BytesIO(export.content)).active.values)
    assert rows[0][0] == "登记号" and [r[0] for r in rows[1:]] == sorted(p.number for p in own)
    assert rows[1][4] == Decimal("123456.78") or str(rows[1][4]) == "123456.78"


def test_register_from_an_application(
    valued_right, make_product, make_application, make_appraisal, bank_officer
):
    right = valued_right()
    product = make_product()
    application = make_application(rights=[right], product=product)
    make_appraisal(right, product, appraised_value=Decimal("500000"))
    client = web(bank_officer)
    url = f"/finance/pledges/new/?application={application.pk}"
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert right.asset.code in text and "240000.00" in text  # the appraisal's max loan is shown
    bad = client.post(url, {"right": right.pk, "secured_amount": "240000.01"})
    assert bad.status_code == 400 and "240000.00" in bad.content.decode()
    assert "is-invalid" in bad.content.decode()
    assert not Pledge.objects.exists()
    done = client.post(url, {"right": right.pk, "secured_amount": "200000", "bank_reference": "ZH-9"})
    pledge = Pledge.objects.get()
    assert done.status_code == 302 and done["Location"] == pledge.get_absolute_url()
    assert pledge.bank_reference == "ZH-9" and pledge.registered_by == bank_officer
    # a right that is not collateral is not even offered
    stranger = valued_right()
    refused = client.post(url, {"right": stranger.pk, "secured_amount": "1000"})
    assert refused.status_code == 400 and Pledge.objects.count() == 1


def test_register_page_of_another_bank_or_a_draft_is_404(
    valued_right, make_product, make_application, second_bank_officer, county_staff
):
    right = valued_right()
    application = make_application(rights=[right], product=make_product())
    assert (
        web(second_bank_officer).get(f"/finance/pledges/new/?application={application.pk}").status_code == 404
    )
    draft = make_application(rights=[right], status=ApplicationStatus.DRAFT)
    assert web(county_staff).get(f"/finance/pledges/new/?application={draft.pk}").status_code == 404
    assert web(county_staff).get("/finance/pledges/new/?application=abc").status_code == 404


def test_detail_and_release(registered, bank_officer, second_bank_officer):
    pledge = registered()
    client = web(bank_officer)
    page = client.get(pledge.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert pledge.number in text and "解除抵质押" in text and pledge.verification_code in text
    assert web(second_bank_officer).get(pledge.get_absolute_url()).status_code == 404
    release_url = f"/finance/pledges/{pledge.pk}/release/"
    assert web(second_bank_officer).post(release_url, {"reason": "x"}).status_code == 404
    empty = client.post(release_url, {"reason": ""})
    assert empty.status_code == 400 and "is-invalid" in empty.content.decode()
    done = client.post(release_url, {"reason": "贷款结清"})
    assert done.status_code == 302
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.RELEASED and pledge.restriction.status == RightStatus.ENDED
    assert "pledge-release" not in client.get(pledge.get_absolute_url()).content.decode()


def test_certificate_pdf(registered, bank_officer, second_bank_officer, households, settings):
    settings.TMCS_PUBLIC_BASE_URL = "https://tmcs.example.gov.cn"
    pledge = registered()
    response = web(bank_officer).get(f"/finance/pledges/{pledge.pk}/certificate.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    person = households[0].person
    for expected in (
        "抵质押登记证明",
        pledge.number,
        pledge.right.asset.code,
        pledge.right.asset.division.name,
        person.name,
        person.national_id_masked,
        pledge.bank.name,
        "第1顺位",
        "123456.78",
        "壹拾贰万叁仟肆佰伍拾陆元柒角捌分",
        pledge.appraisal.number,
        "500000.00",
        pledge.verification_code,
        f"https://tmcs.example.gov.cn/finance-check/pledges/{pledge.verification_code}/",
    ):
        assert expected in text.replace("\n", ""), expected
    assert response.content.startswith(b"%PDF")
    assert web(second_bank_officer).get(f"/finance/pledges/{pledge.pk}/certificate.pdf").status_code == 404
    # the bank's read of the holder's (masked) data is logged
    assert PersonalDataAccess.objects.filter(viewer=bank_officer, person=person, channel="web").count() == 1


def test_bank_reads_of_the_holder_are_logged_staff_reads_are_not(
    registered, bank_officer, county_staff, households
):
    pledge = registered()
    assert web(county_staff).get(pledge.get_absolute_url()).status_code == 200
    assert not PersonalDataAccess.objects.exists()
    assert web(bank_officer).get(pledge.get_absolute_url()).status_code == 200
    access = PersonalDataAccess.objects.get()
    assert (access.viewer, access.person, access.fields) == (bank_officer, households[0].person, "masked")


def test_public_check_page_shows_no_personal_data(registered, households, county_staff):
    pledge = registered()
    person = households[0].person
    anonymous = Client()
    page = anonymous.get(f"/finance-check/pledges/{pledge.verification_code.lower()}/")
    assert page.status_code == 200
    text = page.content.decode()
    for expected in (
        pledge.number,
        pledge.right.asset.code,
        "123456.78",
        pledge.bank.name,
        "pledge-check-ok",
    ):
        assert expected in text
    assert person.name not in text and person.national_id_masked not in text
    missing = anonymous.get("/finance-check/pledges/NOSUCHCODE00/")
    assert missing.status_code == 404 and "pledge-check-failed" in missing.content.decode()
    pledges.release_pledge(actor=county_staff, pledge=pledge, reason="结清")
    ended = anonymous.get(f"/finance-check/pledges/{pledge.verification_code}/").content.decode()
    assert "pledge-check-ended" in ended and "已解除" in ended
