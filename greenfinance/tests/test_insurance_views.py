# ruff: noqa: F811  (fixtures imported from fixtures_insurance)
"""Insurance pages: the policy list (filters, sorting, XLSX export, pinned queries, scoped), the
policy page (links, claims, history), recording and cancelling a policy, the claim pages from
report to payout, and a bank reading only the policies securing its own business (read only,
its reads of insured persons logged)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from directory.models import PersonalDataAccess
from greenfinance.models import ClaimStatus, InsuranceClaim, InsurancePolicy, PolicyStatus
from greenfinance.services import insurance as services

from .fixtures_insurance import (  # noqa: F401  (fixtures)
    INCIDENT,
    auditor,
    forest_asset,
    insurer,
    make_policy,
    policy,
    qingtian_staff,
)

pytestmark = pytest.mark.django_db


def page_of(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def secured(make_policy, make_application, forest_asset):
    application = make_application(rights=[forest_asset.rights.get()])
    return make_policy(application=application, assets=[forest_asset], number="SEC-001")


def test_policy_list_filters_exports_and_is_pinned(
    client, make_policy, insurer, county_staff, django_assert_max_num_queries
):
    for n in range(3):
        make_policy(number=f"LIST-{n}")
    make_policy(number="HOME-1", kind="homestay", end_date=datetime.date(2026, 12, 10))
    client.force_login(county_staff)
    url = reverse("greenfinance:policy-list")
    with django_assert_max_num_queries(12):
        page = page_of(client, url, sort="-sum_insured")
    assert all(f"LIST-{n}" in page for n in range(3)) and "HOME-1" in page
    assert reverse("greenfinance:policy-new") in page and "insurance-tabs" in page
    only_homestay = page_of(client, url, kind="homestay")
    assert "HOME-1" in only_homestay and "LIST-0" not in only_homestay
    expiring = page_of(client, url, expiring_within="30")
    assert "HOME-1" in expiring and "LIST-0" not in expiring
    assert "LIST-1" in page_of(client, url, q="LIST-1", insurer=insurer.pk, division="331102000000")
    assert "LIST-1" not in page_of(client, url, division="331121000000")  # not in reach: refused filter
    assert "LIST-1" not in page_of(client, url, status="cancelled")
    assert "LIST-1" not in page_of(client, url, expiring_within="-1")  # invalid → nothing
    sheet = load_workbook(io.BytesIO(client.get(url, {"export": "xlsx", "kind": "forest"}).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "保单号" and len(rows) == 4
    assert {row[0] for row in rows[1:]} == {"LIST-0", "LIST-1", "LIST-2"}
    assert Decimal(str(rows[1][5])) == Decimal("300000")


def test_scopes_of_the_lists(
    client, secured, make_policy, bank_officer, second_bank_officer, auditor, qingtian_staff
):
    other = make_policy(number="OTHER-1")
    url = reverse("greenfinance:policy-list")
    client.force_login(bank_officer)
    page = page_of(client, url)
    assert "SEC-001" in page and "OTHER-1" not in page
    assert reverse("greenfinance:policy-new") not in page  # banks read only
    assert PersonalDataAccess.objects.filter(viewer=bank_officer, person=secured.insured.person).exists()
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(reverse("greenfinance:policy-new")).status_code == 403
    client.force_login(second_bank_officer)
    assert "SEC-001" not in page_of(client, url)
    assert client.get(secured.get_absolute_url()).status_code == 404
    client.force_login(auditor)
    assert "OTHER-1" in page_of(client, url) and reverse("greenfinance:policy-new") not in page_of(
        client, url
    )
    client.force_login(qingtian_staff)
    assert "OTHER-1" not in page_of(client, url)
    client.logout()
    assert client.get(url).status_code == 302


def test_policy_page_shows_links_claims_and_history(
    client, secured, forest_asset, county_staff, bank_officer
):
    claim = services.report_claim(
        actor=county_staff, policy=secured, incident_date=INCIDENT, cause="松材线虫病", claimed_amount="2000"
    )
    client.force_login(county_staff)
    page = page_of(client, secured.get_absolute_url())
    assert forest_asset.code in page and forest_asset.get_absolute_url() in page
    assert secured.application.number in page and secured.application.get_absolute_url() in page
    assert claim.number in page and "松材线虫病" in page and "history-table" in page
    assert f"record insurance policy {secured.number}" in page  # the history row and its reason
    assert f"report claim on policy {secured.number}" in page_of(client, claim.get_absolute_url())
    assert "720.00" in page and "60.00%" in page  # subsidy of 1,200 at 60 %
    assert reverse("greenfinance:policy-cancel", args=[secured.pk]) in page
    assert reverse("greenfinance:claim-new", args=[secured.pk]) in page
    client.force_login(bank_officer)
    bank_page = page_of(client, secured.get_absolute_url())
    assert claim.number in bank_page and "policy-actions" in bank_page
    assert reverse("greenfinance:policy-cancel", args=[secured.pk]) not in bank_page
    assert client.post(reverse("greenfinance:policy-cancel", args=[secured.pk]), {}).status_code == 403
    assert client.post(reverse("greenfinance:claim-new", args=[secured.pk]), {}).status_code == 403


def test_record_a_policy(client, county_staff, insurer, households, forest_asset, village, make_application):
    client.force_login(county_staff)
    url = reverse("greenfinance:policy-new")
    form = client.get(url, {"asset": forest_asset.pk}).context["form"]
    assert form.initial["assets"] == [forest_asset.pk]
    application = make_application(rights=[forest_asset.rights.get()])
    form = client.get(url, {"application": application.pk}).context["form"]
    assert form.initial["application"] == application.pk and form.initial["insured"] == households[0].pk
    assert form.initial["division"] == application.division_id
    data = {
        "number": "WEB-001",
        "kind": "forest",
        "insurer": insurer.pk,
        "insured": households[0].pk,
        "division": village.pk,
        "sum_insured": "500000",
        "premium": "2000",
        "subsidy_rate": "75",
        "start_date": "2026-03-01",
        "end_date": "2027-03-01",
        "assets": [forest_asset.pk],
        "terms": "",
    }
    response = client.post(url, data)
    policy = InsurancePolicy.objects.get()
    assert response.status_code == 302 and response["Location"] == policy.get_absolute_url()
    assert policy.subsidy_rate == Decimal("0.75") and policy.subsidy_amount == Decimal("1500.00")
    duplicate = client.post(url, data)
    assert duplicate.status_code == 200 and "已登记" in duplicate.content.decode()
    backwards = client.post(url, {**data, "number": "WEB-002", "end_date": "2026-02-01"})
    assert backwards.status_code == 200 and backwards.context["form"].errors["end_date"]
    assert InsurancePolicy.objects.count() == 1


def test_cancel_a_policy(client, policy, county_staff):
    client.force_login(county_staff)
    url = reverse("greenfinance:policy-cancel", args=[policy.pk])
    assert page_of(client, url)
    bad = client.post(url, {"on": "2026-06-01", "reason": ""})
    assert bad.status_code == 200 and bad.context["form"].errors["reason"]
    after_end = client.post(url, {"on": "2027-02-01", "reason": "退保"})
    assert after_end.status_code == 200 and after_end.context["form"].errors["on"]
    done = client.post(url, {"on": "2026-06-01", "reason": "农户退保"})
    assert done.status_code == 302
    policy.refresh_from_db()
    assert policy.status == PolicyStatus.CANCELLED and policy.end_reason == "农户退保"


def test_the_claim_pages(
    client, policy, county_staff, households, bank_officer, django_assert_max_num_queries
):
    client.force_login(county_staff)
    new = client.post(
        reverse("greenfinance:claim-new", args=[policy.pk]),
        {"incident_date": "2026-12-31", "cause": "山火", "claimed_amount": "50000"},
    )
    assert new.status_code == 200 and new.context["form"].errors["incident_date"]  # in the future
    response = client.post(
        reverse("greenfinance:claim-new", args=[policy.pk]),
        {"incident_date": INCIDENT.isoformat(), "cause": "山火", "claimed_amount": "50000"},
    )
    claim = InsuranceClaim.objects.get()
    assert response.status_code == 302 and response["Location"] == claim.get_absolute_url()
    detail = page_of(client, claim.get_absolute_url())
    assert reverse("greenfinance:claim-assess", args=[claim.pk]) in detail
    assert client.get(reverse("greenfinance:claim-assess", args=[claim.pk])).status_code == 405
    assert client.post(reverse("greenfinance:claim-assess", args=[claim.pk])).status_code == 302
    assert (
        client.post(reverse("greenfinance:claim-assess", args=[claim.pk])).status_code == 302
    )  # refused, shown
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ASSESSING
    approve = reverse("greenfinance:claim-approve", args=[claim.pk])
    assert "remaining-sum" in page_of(client, approve)
    over = client.post(approve, {"approved_amount": "50000.01", "note": ""})
    assert over.status_code == 200 and over.context["form"].errors["approved_amount"]
    assert client.post(approve, {"approved_amount": "45000", "note": "定损"}).status_code == 302
    payout = reverse("greenfinance:claim-payout", args=[claim.pk])
    form = client.get(payout).context["form"]
    assert form.initial["amount"] == Decimal("45000.00")
    assert list(form.fields["payee"].queryset) == [households[0]]
    assert (
        client.post(
            payout, {"amount": "45000", "paid_on": "2026-06-01", "payee": households[0].pk, "reference": "P1"}
        ).status_code
        == 302
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim.paid_amount == Decimal("45000.00")
    page = page_of(client, claim.get_absolute_url())
    assert (
        "P1" in page
        and "45000.00" in page
        and reverse("greenfinance:claim-payout", args=[claim.pk]) not in page
    )
    with django_assert_max_num_queries(12):
        listing = page_of(client, reverse("greenfinance:claim-list"), status="paid")
    assert claim.number in listing
    assert claim.number not in page_of(client, reverse("greenfinance:claim-list"), status="rejected")
    # a bank not concerned by the policy does not see the claim
    client.force_login(bank_officer)
    assert client.get(claim.get_absolute_url()).status_code == 404
    assert claim.number not in page_of(client, reverse("greenfinance:claim-list"))


def test_reject_and_withdraw_pages(client, policy, county_staff, secured, bank_officer):
    claims = [
        services.report_claim(
            actor=county_staff, policy=policy, incident_date=INCIDENT, cause="火", claimed_amount="10"
        )
        for _ in range(2)
    ]
    client.force_login(county_staff)
    reject = reverse("greenfinance:claim-reject", args=[claims[0].pk])
    assert client.post(reject, {"note": ""}).context["form"].errors["note"]
    assert client.post(reject, {"note": "不属于保险责任"}).status_code == 302
    assert (
        client.post(reverse("greenfinance:claim-withdraw", args=[claims[1].pk]), {"note": "撤案"}).status_code
        == 302
    )
    assert sorted(InsuranceClaim.objects.values_list("status", flat=True)) == ["rejected", "withdrawn"]
    again = client.post(reject, {"note": "再次"})
    assert again.status_code == 200 and "状态不能从" in again.content.decode()
    # the bank reads the claims on the policy securing its application, and may not act on them
    theirs = services.report_claim(
        actor=county_staff, policy=secured, incident_date=INCIDENT, cause="火", claimed_amount="10"
    )
    client.force_login(bank_officer)
    assert client.get(theirs.get_absolute_url()).status_code == 200
    assert client.post(reverse("greenfinance:claim-assess", args=[theirs.pk])).status_code == 403
    assert (
        client.post(reverse("greenfinance:claim-reject", args=[theirs.pk]), {"note": "x"}).status_code == 403
    )
    theirs.refresh_from_db()
    assert theirs.status == ClaimStatus.REPORTED
