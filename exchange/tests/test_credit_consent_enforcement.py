"""The issue's done-means: no party's data leaves in a credit export without a consent record.

Three parties with scores and loans: one with a valid consent for recipient R, one with a consent
for another recipient only, one whose consent for R was revoked (and another that expired). The
export to R carries exactly the first; nothing of the other two is anywhere in any format."""

# ruff: noqa: F811  (fixtures)
import datetime
import json

import pytest
from django.utils import timezone

from finance.models import Loan

from ..models import ConsentScope, CreditExportLine, ExchangeLog
from ..services import credit
from .fixtures_credit import (  # noqa: F401  (fixtures)
    all_formats,
    consent,
    demo_id,
    enterprise,
    guarantor,
    lianduqu,
    make_borrowing,
    make_score,
    other_platform,
    person_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_parties(households, make_score, make_borrowing, consent, guarantor, other_platform, county_staff):
    """(consenting, other-recipient, revoked-and-expired) households, each with a score and a loan."""
    consenting, elsewhere, withdrawn = households
    for party in households:
        make_score(party)
        make_borrowing(party)
    consent(consenting)
    consent(elsewhere, recipient=other_platform)
    revoked = consent(withdrawn)
    credit.revoke_consent(actor=county_staff, consent=revoked, reason="本人书面撤回（测试）")
    today = timezone.localdate()
    consent(
        withdrawn,
        scopes=[ConsentScope.ECO_CREDIT.value],
        signed_on=today - datetime.timedelta(days=400),
        valid_until=today - datetime.timedelta(days=1),
    )
    return consenting, elsewhere, withdrawn


def _secrets_of(party):
    """Everything that would identify the party or its data in a file."""
    person = person_of(party)
    national_id, phone = demo_id(person)
    loans = Loan.objects.filter(borrower=party)
    values = [
        person.name,
        person.name[0] + "*",
        person.national_id_hash,
        person.national_id_masked,
        national_id,
        phone,
        person.phone_masked,
        *[loan.number for loan in loans],
        *[loan.bank_reference for loan in loans],
        *[c.number for c in party.credit_consents.all()],
        *[c.document for c in party.credit_consents.all()],
    ]
    return [v for v in values if v]


def test_only_the_consenting_party_leaves(three_parties, guarantor, county_staff, lianduqu):
    consenting, elsewhere, withdrawn = three_parties
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=timezone.localdate()
    )
    assert (export.parties_requested, export.parties_exported, export.parties_withheld) == (3, 1, 2)
    lines = list(CreditExportLine.objects.filter(export=export))
    assert [line.party_id for line in lines] == [consenting.pk]
    assert lines[0].consent == consenting.credit_consents.get()
    files = all_formats(export)
    for fmt, text in files.items():
        for party in (elsewhere, withdrawn):
            for secret in _secrets_of(party):
                assert secret not in text, (fmt, secret)
        person = person_of(consenting)
        assert person.national_id_hash in text and person.name[0] + "*" in text, fmt
        national_id, phone = demo_id(person)
        for personal in (person.name, national_id, phone, person.phone_masked, person.national_id_masked):
            assert personal not in text, (fmt, personal)  # the consenting person is masked too
    document = json.loads(files["json"])
    assert document["export"]["parties_withheld"] == 2
    (line,) = document["lines"]
    assert line["party"]["identifier_type"] == credit.PERSON_ID_SCHEME
    assert line["eco_credit"]["score"] == "712.50" and line["loan_performance"]["loans"]
    # the log says how many parties left, never who was withheld
    log = ExchangeLog.objects.get(pk=export.log_id)
    assert log.rows_total == 1 and log.organization == guarantor
    for party in (elsewhere, withdrawn):
        for secret in _secrets_of(party):
            assert secret not in json.dumps(log.parameters, ensure_ascii=False) + json.dumps(log.errors)


def test_the_other_recipient_gets_only_its_own_party(three_parties, other_platform, county_staff, lianduqu):
    consenting, elsewhere, withdrawn = three_parties
    export = credit.create_credit_export(
        actor=county_staff, recipient=other_platform, division=lianduqu, as_of=timezone.localdate()
    )
    assert [line.party_id for line in export.lines.all()] == [elsewhere.pk]
    assert export.parties_withheld == 2
    for text in all_formats(export).values():
        for party in (consenting, withdrawn):
            for secret in _secrets_of(party):
                assert secret not in text


def test_an_eco_credit_consent_gives_no_loan_data(
    enterprise, make_score, make_borrowing, consent, guarantor, county_staff, lianduqu
):
    make_score(enterprise)
    loan = make_borrowing(enterprise)
    consent(enterprise, scopes=[ConsentScope.ECO_CREDIT.value])
    export = credit.create_credit_export(
        actor=county_staff,
        recipient=guarantor,
        division=lianduqu,
        as_of=timezone.localdate(),
        parties=[enterprise],
    )
    (line,) = export.lines.all()
    assert "eco_credit" in line.payload and "loan_performance" not in line.payload
    files = all_formats(export)
    assert enterprise.organization.uscc in files["json"]
    for fmt, text in files.items():
        assert "loan_performance" not in text and loan.bank.name not in text, fmt
        assert str(loan.principal) not in text and loan.number not in text, fmt


def test_a_loan_only_consent_gives_no_score(
    households, make_score, make_borrowing, consent, guarantor, county_staff, lianduqu
):
    party = households[0]
    make_score(party, score="688.88")
    make_borrowing(party)
    consent(party, scopes=[ConsentScope.LOAN_PERFORMANCE.value])
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=timezone.localdate()
    )
    (line,) = export.lines.all()
    assert "eco_credit" not in line.payload and line.payload["loan_performance"]["loans"]
    for text in all_formats(export).values():
        assert "688.88" not in text and "生态行为" not in text


def test_a_consent_not_yet_valid_or_for_no_such_day_covers_nothing(
    households, make_score, consent, guarantor, county_staff, lianduqu
):
    party = households[0]
    make_score(party)
    today = timezone.localdate()
    consent(party, signed_on=today, valid_from=today + datetime.timedelta(days=1))
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today
    )
    assert (export.parties_exported, export.parties_withheld) == (0, 1)
    assert person_of(party).national_id_hash not in all_formats(export)["json"]
