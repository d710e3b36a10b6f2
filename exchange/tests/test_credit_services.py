"""Consents (validation, duplicates, reach, revocation, coverage) and credit exports (scope,
as-of date, counts, the loan and score facts, refusals that write nothing, append-only)."""

# ruff: noqa: F811  (fixtures)
import datetime
from decimal import Decimal

import pytest
from django.db import ProgrammingError, transaction
from django.utils import timezone

from directory.models import Organization, OrganizationKind
from finance.models import DelinquencyBucket, DelinquencySnapshot, LoanClassification
from finance.services.loans import classification_for

from ..models import ConsentScope, CreditConsent, CreditExport, CreditExportLine, ExchangeLog
from ..services import credit
from ..services.credit import covering_consent
from .fixtures_credit import (  # noqa: F401  (fixtures)
    BOTH,
    consent,
    enterprise,
    guarantor,
    lianduqu,
    make_borrowing,
    make_score,
    other_platform,
    pay_first_on_time,
    qingtian,
    qingtian_party,
    qingtian_staff,
)

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def days(n):
    return datetime.timedelta(days=n)


def _consent_args(party, recipient, **overrides):
    values = dict(
        party=party,
        recipient=recipient,
        purpose="申请担保",
        scopes=BOTH,
        document="授权书-001",
        signed_on=today() - days(10),
        valid_from=today() - days(10),
        valid_until=today() + days(300),
    )
    values.update(overrides)
    return values


# --- consents -----------------------------------------------------------------------------------


def test_record_consent_numbers_orders_scopes_and_keeps_history(households, guarantor, county_staff):
    consent = credit.record_consent(
        actor=county_staff,
        **_consent_args(households[0], guarantor, scopes=["loan_performance", "eco_credit"]),
    )
    assert consent.number.startswith(f"XQ{today().year}")
    assert consent.scopes == BOTH and consent.recorded_by == county_staff
    assert consent.events.count() == 1  # pghistory row written by the trigger


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["eco_credit", "tax_records"]}, "scopes"),
        ({"scopes": "eco_credit"}, "scopes"),
        ({"purpose": "  "}, "purpose"),
        ({"purpose": "用" * 301}, "purpose"),
        ({"document": ""}, "document"),
        ({"signed_on": "2026-01-01"}, "signed_on"),
        ({"signed_on": datetime.date(2099, 1, 1), "valid_from": datetime.date(2099, 1, 1)}, "signed_on"),
        ({"valid_from": datetime.date(2020, 1, 1)}, "valid_from"),
        ({"valid_until": datetime.date(2020, 1, 1)}, "valid_until"),
    ],
)
def test_bad_consent_input_is_refused_and_nothing_is_written(
    households, guarantor, county_staff, overrides, field
):
    with pytest.raises(credit.DomainError) as refused:
        credit.record_consent(actor=county_staff, **_consent_args(households[0], guarantor, **overrides))
    assert refused.value.status_code == 400 and field in refused.value.fields
    assert not CreditConsent.objects.exists()


def test_recipient_must_be_a_guarantor_bank_or_government(households, county_staff, enterprise, bank, lishui):
    with pytest.raises(credit.DomainError) as refused:
        credit.record_consent(actor=county_staff, **_consent_args(households[0], enterprise.organization))
    assert "recipient" in refused.value.fields
    inactive = Organization.objects.create(
        name="停用的担保公司", kind=OrganizationKind.GUARANTOR, division=lishui, is_active=False
    )
    with pytest.raises(credit.DomainError):
        credit.record_consent(actor=county_staff, **_consent_args(households[0], inactive))
    assert credit.record_consent(actor=county_staff, **_consent_args(households[0], bank)).recipient == bank


def test_duplicate_overlapping_consent_is_a_conflict(households, guarantor, other_platform, county_staff):
    party = households[0]
    first = credit.record_consent(actor=county_staff, **_consent_args(party, guarantor))
    with pytest.raises(credit.ConflictError) as conflict:
        credit.record_consent(
            actor=county_staff,
            **_consent_args(party, guarantor, scopes=["loan_performance", "eco_credit"], document="另一份"),
        )
    assert conflict.value.code == "duplicate_consent" and first.number in str(conflict.value.detail)
    # different scopes, another recipient, a period that does not overlap: all fine
    credit.record_consent(actor=county_staff, **_consent_args(party, guarantor, scopes=["eco_credit"]))
    credit.record_consent(actor=county_staff, **_consent_args(party, other_platform))
    credit.record_consent(
        actor=county_staff,
        **_consent_args(party, guarantor, valid_from=today() + days(301), valid_until=today() + days(600)),
    )
    # once revoked, the same consent may be recorded again
    credit.revoke_consent(actor=county_staff, consent=first, reason="撤回")
    credit.record_consent(actor=county_staff, **_consent_args(party, guarantor))
    assert CreditConsent.objects.filter(party=party).count() == 5


def test_consent_outside_reach_or_without_capability_is_refused(
    qingtian_party, households, guarantor, county_staff, qingtian_staff, bank_officer
):
    with pytest.raises(credit.PermissionDeniedError):
        credit.record_consent(actor=county_staff, **_consent_args(qingtian_party, guarantor))
    with pytest.raises(credit.PermissionDeniedError):
        credit.record_consent(actor=qingtian_staff, **_consent_args(households[0], guarantor))
    with pytest.raises(credit.PermissionDeniedError):
        credit.record_consent(actor=bank_officer, **_consent_args(households[0], guarantor))
    assert credit.record_consent(actor=qingtian_staff, **_consent_args(qingtian_party, guarantor))
    assert CreditConsent.objects.count() == 1


def test_revocation_records_who_when_why_and_is_final(consent, households, county_staff, qingtian_staff):
    row = consent(households[0])
    with pytest.raises(credit.DomainError) as missing:
        credit.revoke_consent(actor=county_staff, consent=row, reason=" ")
    assert "reason" in missing.value.fields
    with pytest.raises(credit.PermissionDeniedError):
        credit.revoke_consent(actor=qingtian_staff, consent=row, reason="越权")
    row.refresh_from_db()
    assert row.revoked_at is None
    credit.revoke_consent(actor=county_staff, consent=row, reason="本人撤回")
    row.refresh_from_db()
    assert row.revoked_by == county_staff and row.revoke_reason == "本人撤回" and row.revoked_at
    with pytest.raises(credit.ConflictError) as again:
        credit.revoke_consent(actor=county_staff, consent=row, reason="再撤一次")
    assert again.value.code == "already_revoked"
    row.refresh_from_db()
    assert row.revoke_reason == "本人撤回"
    assert [e.pgh_context.metadata["reason"] for e in row.events.order_by("pgh_id")][-1].startswith("revoke")


def test_covering_consent(consent, households, guarantor, other_platform, county_staff):
    party = households[0]
    assert covering_consent(party, guarantor, today(), ConsentScope.ECO_CREDIT) is None
    short = consent(party, scopes=["eco_credit"], valid_until=today() + days(10))
    longer = consent(party, scopes=BOTH, valid_until=today() + days(100))
    assert covering_consent(party, guarantor, today(), "eco_credit") == longer
    assert covering_consent(party, guarantor, today() + days(50), "loan_performance") == longer
    assert covering_consent(party, guarantor, today() + days(101), "eco_credit") is None
    assert covering_consent(party, guarantor, today() - days(31), "eco_credit") is None  # before valid_from
    assert covering_consent(party, other_platform, today(), "eco_credit") is None
    credit.revoke_consent(actor=county_staff, consent=longer, reason="撤回")
    assert covering_consent(party, guarantor, today(), "eco_credit") == short
    assert covering_consent(party, guarantor, today(), "loan_performance") is None


# --- exports ------------------------------------------------------------------------------------


def test_export_scope_is_the_division_parties_with_a_score_or_loan(
    households,
    enterprise,
    qingtian_party,
    make_score,
    make_borrowing,
    consent,
    guarantor,
    county_staff,
    lianduqu,
):
    make_score(households[0])
    make_borrowing(households[1])
    make_score(qingtian_party)  # lives in 青田: not in 莲都区's export
    consent(households[0])
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today()
    )
    assert (export.parties_requested, export.parties_exported, export.parties_withheld) == (2, 1, 1)
    assert export.number.startswith(f"XB{today().year}") and export.created_by == county_staff
    # a household with a score computed after the as-of date is not in scope then
    make_score(households[2], ago_days=0)
    earlier = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today() - days(1)
    )
    # by yesterday only households[1]'s loan existed (the scores are from today)
    assert earlier.parties_requested == 1 and earlier.parties_exported == 0


def test_as_of_picks_the_score_and_loans_of_that_day(
    households, make_score, make_borrowing, consent, guarantor, county_staff, lianduqu
):
    party = households[0]
    make_score(party, score="650.00", grade="B", ago_days=20)
    make_score(party, score="720.00", grade="A")
    make_borrowing(party, disbursed_on=today() - days(5))
    make_borrowing(party, disbursed_on=datetime.date(2026, 1, 15))
    consent(party)
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today() - days(10)
    )
    (line,) = export.lines.all()
    assert line.payload["eco_credit"]["score"] == "650.00" and line.payload["eco_credit"]["grade"] == "B"
    assert len(line.payload["loan_performance"]["loans"]) == 1
    assert line.payload["eco_credit"]["scorecard_version"] == 7
    assert line.payload["eco_credit"]["factors"][0]["explanation"].startswith("近 12 个月")
    now = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today()
    )
    assert now.lines.get().payload["eco_credit"]["score"] == "720.00"
    assert len(now.lines.get().payload["loan_performance"]["loans"]) == 2


def test_loan_facts(
    households, make_borrowing, pay_first_on_time, consent, guarantor, county_staff, lianduqu, bank
):
    party = households[0]
    late = make_borrowing(party, principal=Decimal("120000.00"))
    pay_first_on_time(late)
    fresh = make_borrowing(party, principal=Decimal("60000.00"), disbursed_on=today() - days(20))
    DelinquencySnapshot.objects.create(
        loan=fresh,
        as_of=today() - days(3),
        days_past_due=35,
        bucket=DelinquencyBucket.DPD_31_60,
        classification=LoanClassification.SPECIAL_MENTION,
        outstanding_principal=Decimal("60000.00"),
        overdue_principal=Decimal("0"),
        overdue_interest=Decimal("0"),
        penalty_accrued=Decimal("0"),
    )
    consent(party, scopes=["loan_performance"])
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today()
    )
    first, second = export.lines.get().payload["loan_performance"]["loans"]
    dues = [datetime.date(2026 + (m - 1) // 12, (m - 1) % 12 + 1, 15) for m in range(2, 14)]
    dpd = (today() - datetime.date(2026, 3, 15)).days
    assert first == {
        "bank": bank.name,
        "product_kind": "gep_loan",
        "principal": "120000.00",
        "disbursed_on": "2026-01-15",
        "maturity_date": "2027-01-15",
        "outstanding_principal": "110000.00",
        "days_past_due": dpd,
        "worst_bucket_12m": "90_plus",
        "classification": str(classification_for(dpd)),
        "status": "active",
        "installments_on_time": 1,
        "installments_late": sum(1 for due in dues if due < today()) - 1,  # 9 on 2026-11-23
    }
    assert first["classification"] != LoanClassification.NORMAL
    assert second["worst_bucket_12m"] == "31_60" and second["days_past_due"] == 0
    assert second["classification"] == "normal" and second["installments_late"] == 0
    assert second["outstanding_principal"] == "60000.00"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"as_of": datetime.date(2099, 1, 1)}, "as_of"),
        ({"as_of": "2026-01-01"}, "as_of"),
        ({"fmt": "pdf"}, "format"),
        ({"channel": "fax"}, "channel"),
        ({"division": None}, "division"),
        ({"parties": ["x"]}, "parties"),
    ],
)
def test_bad_export_input_writes_nothing(
    households, make_score, consent, guarantor, county_staff, lianduqu, overrides, field
):
    make_score(households[0])
    consent(households[0])
    logs = ExchangeLog.objects.count()
    args = dict(actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today())
    args.update(overrides)
    with pytest.raises(credit.DomainError) as refused:
        credit.create_credit_export(**args)
    assert field in refused.value.fields
    assert not CreditExport.objects.exists() and ExchangeLog.objects.count() == logs


def test_export_refusals_recipient_reach_and_parties(
    households,
    qingtian_party,
    make_score,
    consent,
    guarantor,
    enterprise,
    county_staff,
    qingtian_staff,
    lianduqu,
):
    make_score(households[0])
    with pytest.raises(credit.DomainError) as wrong:
        credit.create_credit_export(
            actor=county_staff, recipient=enterprise.organization, division=lianduqu, as_of=today()
        )
    assert "recipient" in wrong.value.fields
    with pytest.raises(credit.PermissionDeniedError):
        credit.create_credit_export(
            actor=qingtian_staff, recipient=guarantor, division=lianduqu, as_of=today()
        )
    with pytest.raises(credit.DomainError) as outside:
        credit.create_credit_export(
            actor=county_staff,
            recipient=guarantor,
            division=lianduqu,
            as_of=today(),
            parties=[households[0], qingtian_party],
        )
    assert "parties" in outside.value.fields
    assert not CreditExport.objects.exists() and not ExchangeLog.objects.exists()


def test_explicit_parties_and_borrowers_from_elsewhere(
    households,
    qingtian_party,
    make_borrowing,
    make_score,
    consent,
    guarantor,
    county_staff,
    city_admin,
    lianduqu,
):
    make_score(households[0])
    make_score(households[1])
    make_borrowing(qingtian_party)  # a 青田 resident who borrowed in 莲都区 (the demo village)
    consent(households[0])
    consent(households[1])
    consent(qingtian_party, actor=city_admin)
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today(), parties=[households[1]]
    )
    assert [line.party_id for line in export.lines.all()] == [households[1].pk]
    assert export.parties_requested == 1
    everyone = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today()
    )
    assert sorted(line.party_id for line in everyone.lines.all()) == sorted(
        [households[0].pk, households[1].pk, qingtian_party.pk]
    )


def test_exports_and_lines_are_append_only(
    households, make_score, consent, guarantor, county_staff, lianduqu
):
    make_score(households[0])
    consent(households[0])
    export = credit.create_credit_export(
        actor=county_staff, recipient=guarantor, division=lianduqu, as_of=today()
    )
    with pytest.raises(ProgrammingError), transaction.atomic():
        CreditExport.objects.filter(pk=export.pk).update(parties_withheld=0)
    with pytest.raises(ProgrammingError), transaction.atomic():
        CreditExportLine.objects.filter(export=export).delete()
    assert export.lines.count() == 1
