"""Consent and credit export pages: lists with filters and XLSX, forms with errors in place,
revocation, export detail and downloads, recipients' own exports only, permissions."""

# ruff: noqa: F811  (fixtures)
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from ..models import CreditConsent, CreditExport, ExchangeLog
from ..services import credit
from .fixtures_credit import (  # noqa: F401  (fixtures)
    consent,
    enterprise,
    guarantor,
    guarantor_officer,
    lianduqu,
    make_borrowing,
    make_score,
    other_platform,
    other_platform_officer,
    person_of,
    qingtian,
    qingtian_party,
    qingtian_staff,
)

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def consents(households, consent, other_platform, county_staff):
    valid = consent(households[0])
    other = consent(households[1], recipient=other_platform, scopes=["eco_credit"])
    revoked = consent(households[2])
    credit.revoke_consent(actor=county_staff, consent=revoked, reason="本人撤回")
    return valid, other, revoked


def test_consent_list_filters_and_xlsx(
    client, county_staff, consents, guarantor, django_assert_max_num_queries
):
    valid, other, revoked = consents
    client = signed_in(client, county_staff)
    url = reverse("exchange:consent-list")
    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()
    assert all(c.number in page for c in consents) and "已撤回" in page and "生态信用评分" in page
    page = client.get(url, {"status": "revoked"}).content.decode()
    assert revoked.number in page and valid.number not in page
    page = client.get(url, {"recipient": guarantor.pk, "status": "valid"}).content.decode()
    assert valid.number in page and other.number not in page and revoked.number not in page
    page = client.get(url, {"party": person_of(other.party).name}).content.decode()
    assert other.number in page and valid.number not in page
    response = client.get(url, {"export": "xlsx", "status": "valid"})
    rows = list(load_workbook(io.BytesIO(response.content), read_only=True).active.values)
    assert rows[0][0] == "授权编号" and sorted(r[0] for r in rows[1:]) == sorted([valid.number, other.number])


def test_consent_pages_refused_to_others(client, consents, guarantor_officer, bank_officer, qingtian_staff):
    valid = consents[0]
    for user in (guarantor_officer, bank_officer):
        client.force_login(user)
        assert client.get(reverse("exchange:consent-list")).status_code == 403
        assert client.get(reverse("exchange:consent-new")).status_code == 403
        assert client.get(reverse("exchange:consent-detail", args=[valid.pk])).status_code == 403
    client.force_login(qingtian_staff)
    assert client.get(reverse("exchange:consent-detail", args=[valid.pk])).status_code == 404
    assert valid.number not in client.get(reverse("exchange:consent-list")).content.decode()
    response = client.post(reverse("exchange:consent-revoke", args=[valid.pk]), {"reason": "越权"})
    assert response.status_code == 404
    valid.refresh_from_db()
    assert valid.revoked_at is None


def test_new_consent_form(client, county_staff, households, guarantor, enterprise, qingtian_party):
    client = signed_in(client, county_staff)
    url = reverse("exchange:consent-new")
    form = client.get(url).content.decode()
    assert person_of(households[0]).national_id_masked in form  # the picker shows masked IDs
    assert person_of(qingtian_party).name not in form  # outside reach
    assert 'type="checkbox"' in form and "贷款履约记录" in form
    today = timezone.localdate()
    data = {
        "party": households[0].pk,
        "recipient": guarantor.pk,
        "purpose": "申请担保",
        "scopes": ["eco_credit", "loan_performance"],
        "document": "授权书-W1",
        "signed_on": today.isoformat(),
        "valid_from": today.isoformat(),
        "valid_until": (today + datetime.timedelta(days=365)).isoformat(),
    }
    bad = client.post(url, {**data, "valid_until": "2020-01-01", "scopes": []})
    assert bad.status_code == 400 and "有效期止不能早于有效期起" in bad.content.decode()
    assert "is-invalid" in bad.content.decode() and not CreditConsent.objects.exists()
    wrong_recipient = client.post(url, {**data, "recipient": enterprise.organization.pk})
    assert wrong_recipient.status_code == 400 and not CreditConsent.objects.exists()
    outside = client.post(url, {**data, "party": qingtian_party.pk})
    assert outside.status_code == 400 and not CreditConsent.objects.exists()
    created = client.post(url, data)
    consent = CreditConsent.objects.get()
    assert created.status_code == 302 and created["Location"] == consent.get_absolute_url()
    duplicate = client.post(url, data)
    assert duplicate.status_code == 400 and "重叠" in duplicate.content.decode()
    assert CreditConsent.objects.count() == 1


def test_consent_detail_and_revoke(client, county_staff, consents, guarantor, lianduqu, make_score):
    valid = consents[0]
    make_score(valid.party)
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=timezone.localdate()
    )
    client = signed_in(client, county_staff)
    url = reverse("exchange:consent-detail", args=[valid.pk])
    page = client.get(url).content.decode()
    assert export.number in page and "撤回授权" in page and "history-table" in page
    missing = client.post(reverse("exchange:consent-revoke", args=[valid.pk]), {"reason": ""})
    assert missing.status_code == 400
    valid.refresh_from_db()
    assert valid.revoked_at is None
    done = client.post(reverse("exchange:consent-revoke", args=[valid.pk]), {"reason": "本人撤回"})
    assert done.status_code == 302
    page = client.get(url).content.decode()
    assert "本人撤回" in page and 'action="/exchange/credit/consents/' not in page  # no second revoke form
    again = client.post(reverse("exchange:consent-revoke", args=[valid.pk]), {"reason": "再撤"})
    assert again.status_code == 400 and "不可更改" in again.content.decode()


def test_new_export_detail_and_download(client, county_staff, consents, guarantor, lianduqu, make_score):
    make_score(consents[0].party)
    make_score(consents[2].party)
    client = signed_in(client, county_staff)
    url = reverse("exchange:credit-export-new")
    assert client.get(url).status_code == 200
    future = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    bad = client.post(url, {"recipient": guarantor.pk, "division": lianduqu.pk, "as_of": future})
    assert bad.status_code == 400 and not CreditExport.objects.exists()
    response = client.post(
        url, {"recipient": guarantor.pk, "division": lianduqu.pk, "as_of": timezone.localdate().isoformat()}
    )
    export = CreditExport.objects.get()
    assert response.status_code == 302 and response["Location"] == export.get_absolute_url()
    assert (export.parties_exported, export.parties_withheld) == (1, 1)
    page = client.get(export.get_absolute_url()).content.decode()
    masked = person_of(consents[0].party).name[0] + "**"
    assert masked in page and person_of(consents[2].party).name[0] + "**" not in page
    assert 'id="parties-withheld">1<' in page and "export-logs" in page
    logs = ExchangeLog.objects.count()
    for fmt in ("json", "csv", "xlsx"):
        download = client.get(reverse("exchange:credit-export-download", args=[export.pk, fmt]))
        assert (
            download.status_code == 200
            and f"credit-report-{export.number}.{fmt}" in download["Content-Disposition"]
        )
    assert ExchangeLog.objects.count() == logs + 3
    assert client.get(reverse("exchange:credit-export-download", args=[export.pk, "pdf"])).status_code == 404
    listing = client.get(reverse("exchange:credit-export-list")).content.decode()
    assert export.number in listing and reverse("exchange:credit-export-new") in listing


def test_recipients_see_their_own_exports_only(
    client,
    county_staff,
    consents,
    guarantor,
    other_platform,
    guarantor_officer,
    other_platform_officer,
    lianduqu,
    make_score,
    django_assert_max_num_queries,
):
    for c in consents:
        make_score(c.party)
    mine = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=timezone.localdate()
    )
    theirs = credit.create_credit_export(
        actor=county_staff, recipient=other_platform, division=lianduqu, as_of=timezone.localdate()
    )
    client.force_login(guarantor_officer)
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("exchange:credit-export-list")).content.decode()
    assert mine.number in listing and theirs.number not in listing
    assert reverse("exchange:credit-export-new") not in listing
    page = client.get(mine.get_absolute_url()).content.decode()
    assert "export-logs" not in page and "consent-list" not in page
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(reverse("exchange:credit-export-download", args=[theirs.pk, "json"])).status_code == 404
    got = client.get(reverse("exchange:credit-export-download", args=[mine.pk, "csv"]))
    assert got.status_code == 200
    log = ExchangeLog.objects.order_by("-pk").first()
    assert log.actor == guarantor_officer and log.channel == "web" and log.organization == guarantor
    assert client.get(reverse("exchange:credit-export-new")).status_code == 403
    client.force_login(other_platform_officer)
    assert client.get(mine.get_absolute_url()).status_code == 404


def test_export_pages_refused_without_capability(client, bank_officer):
    client.force_login(bank_officer)
    assert client.get(reverse("exchange:credit-export-list")).status_code == 403
    assert client.get(reverse("exchange:credit-export-new")).status_code == 403
