# ruff: noqa: F811  (fixtures imported from fixtures_insurance)
"""The claims flow: report → assess → approve → payouts → paid, rejection and withdrawal, the
transition map, the sum insured shared by a policy's claims (EXHAUSTED when used up), payouts
never beyond the approved amount, and who is told."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Notification
from greenfinance.models import ClaimPayout, ClaimStatus, InsuranceClaim, PolicyStatus
from greenfinance.services import insurance as services
from resources.tests.conftest import square
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError

from .fixtures_insurance import (  # noqa: F401  (fixtures)
    END,
    INCIDENT,
    START,
    forest_asset,
    insurer,
    make_policy,
    policy,
    qingtian_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(county_staff, policy):
    def make(amount="100000", incident_date=INCIDENT, on=None, **kw):
        return services.report_claim(
            actor=county_staff,
            policy=on or policy,
            incident_date=incident_date,
            cause=kw.pop("cause", "雷击引发山火，烧毁杉木林"),
            claimed_amount=amount,
            **kw,
        )

    return make


@pytest.fixture
def approved(report, county_staff):
    def make(amount="100000", approve="80000", **kw):
        claim = report(amount, **kw)
        services.start_assessment(actor=county_staff, claim=claim)
        return services.approve_claim(actor=county_staff, claim=claim, approved_amount=approve, note="定损")

    return make


def usernames(title_part):
    return sorted(
        Notification.objects.filter(title__contains=title_part).values_list("recipient__username", flat=True)
    )


def test_the_whole_flow(
    report, policy, forest_asset, county_staff, checker, households, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        claim = report(asset=forest_asset)
    assert claim.number.startswith("LP2026") and claim.status == ClaimStatus.REPORTED
    assert claim.asset == forest_asset and claim.reported_by == county_staff
    # the division's green-finance desk hears of it (the county staff and the city administrator)
    assert usernames(claim.number) == ["checker", "city_admin", "coop_staff"]
    assert services.start_assessment(actor=county_staff, claim=claim).status == ClaimStatus.ASSESSING
    approved = services.approve_claim(actor=checker, claim=claim, approved_amount="90000.50", note="定损报告")
    assert approved.status == ClaimStatus.APPROVED and approved.approved_amount == Decimal("90000.50")
    assert approved.decided_by == checker and approved.decision_note == "定损报告"
    first = services.record_payout(
        actor=county_staff,
        claim=claim,
        amount="50000",
        paid_on=datetime.date(2026, 6, 1),
        payee=households[0],
        reference="PAY-1",
    )
    claim.refresh_from_db()
    assert first.amount == Decimal("50000.00") and claim.paid_amount == Decimal("50000.00")
    assert claim.status == ClaimStatus.APPROVED
    services.record_payout(
        actor=county_staff,
        claim=claim,
        amount="40000.50",
        paid_on=datetime.date(2026, 6, 2),
        payee=households[0],
        reference="PAY-2",
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim.paid_amount == claim.approved_amount
    assert sum(p.amount for p in claim.payouts.all()) == claim.paid_amount
    with pytest.raises(ConflictError) as exc:
        services.record_payout(
            actor=county_staff,
            claim=claim,
            amount="1",
            paid_on=INCIDENT,
            payee=households[0],
            reference="PAY-3",
        )
    assert exc.value.code == "claim_not_approved"
    policy.refresh_from_db()
    assert policy.status == PolicyStatus.ACTIVE


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"incident_date": START - datetime.timedelta(days=1)}, "incident_date"),
        ({"incident_date": timezone.localdate() + datetime.timedelta(days=1)}, "incident_date"),
        ({"incident_date": "2026-05-20"}, "incident_date"),
        ({"cause": "  "}, "cause"),
        ({"cause": "因" * 301}, "cause"),
        ({"amount": "0"}, "claimed_amount"),
        ({"amount": "-5"}, "claimed_amount"),
        ({"amount": "12.345"}, "claimed_amount"),
    ],
)
def test_bad_reports_are_refused(report, kw, field):
    with pytest.raises(DomainError) as exc:
        report(**kw)
    assert field in exc.value.fields
    assert InsuranceClaim.objects.count() == 0


def test_the_incident_must_be_inside_the_cover(make_policy, report, county_staff, make_asset):
    ended = make_policy(start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2026, 1, 1))
    services.expire_policies(datetime.date(2026, 1, 1))
    ended.refresh_from_db()
    assert ended.status == PolicyStatus.EXPIRED
    # an expired policy still takes claims for incidents inside its term, not after it
    assert report(on=ended, incident_date=datetime.date(2025, 12, 31)).status == ClaimStatus.REPORTED
    with pytest.raises(DomainError) as exc:
        report(on=ended, incident_date=datetime.date(2026, 1, 1))
    assert "2025-12-31" in str(exc.value.detail)
    cancelled = make_policy()
    services.cancel_policy(actor=county_staff, policy=cancelled, reason="退保", on=datetime.date(2026, 3, 1))
    assert report(on=cancelled, incident_date=datetime.date(2026, 2, 28)).status == ClaimStatus.REPORTED
    with pytest.raises(DomainError):
        report(on=cancelled, incident_date=datetime.date(2026, 3, 1))
    # the asset must be one the policy covers
    uncovered = make_policy()
    with pytest.raises(DomainError) as exc:
        report(on=uncovered, asset=make_asset(name="他处林地", geometry=square(dx=0.07)))
    assert "asset" in exc.value.fields


def test_who_may_report_and_decide(report, policy, bank_officer, qingtian_staff, county_staff):
    with pytest.raises(PermissionDeniedError):
        services.report_claim(
            actor=bank_officer, policy=policy, incident_date=INCIDENT, cause="火", claimed_amount="1"
        )
    claim = report()
    for actor in (bank_officer, qingtian_staff):
        with pytest.raises(PermissionDeniedError):
            services.start_assessment(actor=actor, claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REPORTED


def test_the_transition_map(report, county_staff, households):
    claim = report()
    with pytest.raises(InvalidTransition):
        services.approve_claim(actor=county_staff, claim=claim, approved_amount="1", note="")
    with pytest.raises(ConflictError) as exc:
        services.record_payout(
            actor=county_staff, claim=claim, amount="1", paid_on=INCIDENT, payee=households[0], reference="X"
        )
    assert exc.value.code == "claim_not_approved"
    with pytest.raises(DomainError) as exc:
        services.reject_claim(actor=county_staff, claim=claim, note=" ")
    assert "note" in exc.value.fields
    rejected = services.reject_claim(actor=county_staff, claim=claim, note="不属于保险责任")
    assert rejected.status == ClaimStatus.REJECTED and rejected.decided_by == county_staff
    for call in (
        lambda: services.start_assessment(actor=county_staff, claim=claim),
        lambda: services.withdraw_claim(actor=county_staff, claim=claim, note="撤"),
    ):
        with pytest.raises(InvalidTransition):
            call()
    other = report()
    services.start_assessment(actor=county_staff, claim=other)
    withdrawn = services.withdraw_claim(actor=county_staff, claim=other, note="农户撤案")
    assert withdrawn.status == ClaimStatus.WITHDRAWN and withdrawn.decision_note == "农户撤案"
    with pytest.raises(InvalidTransition):
        services.start_assessment(actor=county_staff, claim=other)


def test_approval_is_bounded_by_the_claim_and_the_sum_insured(report, approved, policy, county_staff):
    first = approved(amount="200000", approve="200000")
    claim = report("150000")
    services.start_assessment(actor=county_staff, claim=claim)
    with pytest.raises(DomainError) as exc:
        services.approve_claim(actor=county_staff, claim=claim, approved_amount="150000.01", note="")
    assert "approved_amount" in exc.value.fields
    with pytest.raises(ConflictError) as exc:
        services.approve_claim(actor=county_staff, claim=claim, approved_amount="100000.01", note="")
    assert exc.value.code == "over_sum_insured" and "100000.00" in str(exc.value.detail)
    for bad in ("0", "-1", "1.001", "x"):
        with pytest.raises(DomainError):
            services.approve_claim(actor=county_staff, claim=claim, approved_amount=bad, note="")
    with pytest.raises(DomainError):
        services.approve_claim(actor=county_staff, claim=claim, approved_amount="1", note="说" * 501)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ASSESSING and claim.approved_amount is None
    # only approved (and paid) claims use the sum insured
    assert services.remaining_sum_insured(policy) == Decimal("100000.00")
    services.approve_claim(actor=county_staff, claim=claim, approved_amount="100000", note="")
    policy.refresh_from_db()
    assert policy.status == PolicyStatus.EXHAUSTED and policy.end_reason == "累计核赔达到保险金额"
    assert services.remaining_sum_insured(policy) == Decimal("0.00")
    with pytest.raises(ConflictError) as exc:
        report("1")
    assert exc.value.code == "policy_not_claimable"
    assert first.status == ClaimStatus.APPROVED


def test_approval_tells_the_bank_of_a_secured_loan(
    make_policy,
    make_application,
    forest_asset,
    county_staff,
    second_bank_officer,
    django_capture_on_commit_callbacks,
):
    application = make_application(rights=[forest_asset.rights.get()])
    secured = make_policy(application=application, assets=[forest_asset])
    claim = services.report_claim(
        actor=county_staff, policy=secured, incident_date=INCIDENT, cause="虫害", claimed_amount="5000"
    )
    services.start_assessment(actor=county_staff, claim=claim)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_claim(actor=county_staff, claim=claim, approved_amount="4000", note="")
    assert usernames("核赔") == ["bank_officer"]  # not the other bank's officer


@pytest.mark.parametrize(
    ("kw", "field", "error"),
    [
        ({"amount": "80000.01"}, "amount", ConflictError),
        ({"amount": "0"}, "amount", DomainError),
        ({"reference": " "}, "reference", DomainError),
        ({"paid_on": INCIDENT - datetime.timedelta(days=1)}, "paid_on", DomainError),
        ({"paid_on": timezone.localdate() + datetime.timedelta(days=1)}, "paid_on", DomainError),
        ({"payee": None}, "payee", DomainError),
    ],
)
def test_bad_payouts_are_refused(approved, county_staff, households, kw, field, error):
    claim = approved()
    values = dict(amount="1000", paid_on=INCIDENT, payee=households[0], reference="PAY-1")
    values.update(kw)
    with pytest.raises(error) as exc:
        services.record_payout(actor=county_staff, claim=claim, **values)
    assert field in exc.value.fields
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("0.00") and not ClaimPayout.objects.exists()


def test_payees_and_references(make_policy, forest_asset, county_staff, households, bank, second_bank):
    from directory.services import ensure_party

    covered = make_policy(beneficiary=ensure_party(bank), assets=[forest_asset])
    claim = services.report_claim(
        actor=county_staff, policy=covered, incident_date=INCIDENT, cause="火", claimed_amount="3000"
    )
    services.start_assessment(actor=county_staff, claim=claim)
    services.approve_claim(actor=county_staff, claim=claim, approved_amount="3000", note="")
    pay = dict(actor=county_staff, claim=claim, paid_on=INCIDENT, amount="1000")
    with pytest.raises(DomainError) as exc:
        services.record_payout(payee=households[1], reference="R1", **pay)
    assert "payee" in exc.value.fields
    with pytest.raises(DomainError):
        services.record_payout(payee=ensure_party(second_bank), reference="R1", **pay)
    services.record_payout(payee=ensure_party(bank), reference="R1", **pay)  # the first beneficiary
    with pytest.raises(ConflictError) as exc:
        services.record_payout(payee=households[0], reference="R1", **pay)
    assert exc.value.code == "duplicate"
    services.record_payout(payee=households[0], reference="R2", **pay)
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("2000.00") and claim.payouts.count() == 2


def test_payouts_are_append_only(approved, county_staff, households):
    from django.db import DatabaseError, transaction

    claim = approved()
    payout = services.record_payout(
        actor=county_staff, claim=claim, amount="10", paid_on=INCIDENT, payee=households[0], reference="P"
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        ClaimPayout.objects.filter(pk=payout.pk).update(amount=Decimal("20"))
    with pytest.raises(DatabaseError), transaction.atomic():
        ClaimPayout.objects.filter(pk=payout.pk).delete()
