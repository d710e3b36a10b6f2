# ruff: noqa: F811  (fixtures imported from fixtures_insurance)
"""Recording, cancelling and expiring green insurance policies: every validation rule (nothing
written when refused), the subsidy rounding, the links to applications, loans and projects, and
who hears of a cancellation."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Notification, Organization, OrganizationKind
from greenfinance.models import InsurancePolicy, PolicyStatus
from greenfinance.services import insurance as services
from resources.models import AssetStatus
from resources.tests.conftest import square
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError

from .fixtures_insurance import (  # noqa: F401  (fixtures)
    END,
    INCIDENT,
    START,
    auditor,
    forest_asset,
    insurer,
    make_policy,
    policy,
    qingtian_staff,
)

pytestmark = pytest.mark.django_db


def refused(exc_type, call, *, field=None, code=None):
    before = InsurancePolicy.objects.count()
    with pytest.raises(exc_type) as exc:
        call()
    if field:
        assert field in exc.value.fields, exc.value.fields
    if code:
        assert exc.value.code == code
    assert InsurancePolicy.objects.count() == before  # nothing half-written
    return exc.value


def test_a_policy_is_recorded_with_its_subsidy(policy, forest_asset, insurer, households, county_staff):
    assert policy.status == PolicyStatus.ACTIVE and policy.insurer == insurer
    assert policy.insured == households[0] and policy.created_by == county_staff
    assert list(policy.assets.all()) == [forest_asset]
    assert policy.subsidy_amount == Decimal("720.00")  # 1,200 × 60 %
    assert policy.events.count() == 1  # pghistory tracks it


@pytest.mark.parametrize(
    ("premium", "rate", "subsidy"),
    [
        ("1000.01", "0.5", "500.01"),  # 500.005 → half up
        ("999.99", "0.333333", "333.33"),
        ("0", "0.8", "0.00"),
        ("100", "1", "100.00"),
        ("100", "0", "0.00"),
    ],
)
def test_subsidy_rounds_half_up_to_the_cent(make_policy, premium, rate, subsidy):
    made = make_policy(premium=Decimal(premium), subsidy_rate=Decimal(rate))
    assert made.subsidy_amount == Decimal(subsidy)
    assert services.subsidy_of(Decimal("0.05"), Decimal("0.1")) == Decimal("0.01")  # 0.005 → 0.01


def test_a_duplicate_number_is_a_conflict(make_policy):
    make_policy(number="DUP-1")
    error = refused(ConflictError, lambda: make_policy(number="DUP-1"), field="number", code="duplicate")
    assert "DUP-1" in str(error.detail)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": "  "}, "number"),
        ({"number": "N" * 41}, "number"),
        ({"kind": "fire"}, "kind"),
        ({"sum_insured": Decimal("0")}, "sum_insured"),
        ({"sum_insured": "-1"}, "sum_insured"),
        ({"sum_insured": "abc"}, "sum_insured"),
        ({"sum_insured": "100.001"}, "sum_insured"),
        ({"premium": Decimal("-0.01")}, "premium"),
        ({"subsidy_rate": Decimal("1.01")}, "subsidy_rate"),
        ({"subsidy_rate": Decimal("-0.1")}, "subsidy_rate"),
        ({"subsidy_rate": "0.1234567"}, "subsidy_rate"),
        ({"subsidy_rate": "六成"}, "subsidy_rate"),
        ({"end_date": START}, "end_date"),
        ({"end_date": START - datetime.timedelta(days=1)}, "end_date"),
        ({"end_date": datetime.date(2060, 1, 2)}, "end_date"),
        ({"start_date": "2026-01-01"}, "start_date"),
        ({"terms": "条" * 5001}, "terms"),
        ({"insured": None}, "insured"),
        ({"beneficiary": "bank"}, "beneficiary"),
    ],
)
def test_bad_input_is_refused(make_policy, overrides, field):
    refused(DomainError, lambda: make_policy(**overrides), field=field)


def test_the_insurer_must_be_an_active_insurer(make_policy, bank, insurer):
    refused(DomainError, lambda: make_policy(insurer=bank), field="insurer")
    insurer.is_active = False
    insurer.save(update_fields=["is_active"])
    refused(DomainError, lambda: make_policy(insurer=insurer), field="insurer")


def test_assets_must_be_registered_and_within_reach(make_policy, make_asset, forest_asset, qingtian_staff):
    draft = make_asset(name="未登记林地", geometry=square(dx=0.05))
    error = refused(DomainError, lambda: make_policy(assets=[draft]), field="assets")
    assert draft.code in str(error.detail) and "已登记" in str(error.detail)
    forest_asset.status = AssetStatus.RETIRED
    forest_asset.save(update_fields=["status"])
    refused(DomainError, lambda: make_policy(assets=[forest_asset]), field="assets")
    # a desk of another county may not record policies here, nor cover these assets
    refused(PermissionDeniedError, lambda: make_policy(actor=qingtian_staff))


def test_out_of_reach_assets_are_refused_even_in_own_division(make_policy, forest_asset, qingtian_staff):
    from directory.models import AdministrativeDivision

    qingtian = AdministrativeDivision.objects.get(code="331121000000")
    error = refused(
        DomainError, lambda: make_policy(actor=qingtian_staff, division=qingtian, assets=[forest_asset])
    )
    assert error.fields["assets"] and "管辖范围" in str(error.detail)


def test_who_may_record(make_policy, bank_officer, auditor, city_admin):
    refused(PermissionDeniedError, lambda: make_policy(actor=bank_officer))
    refused(PermissionDeniedError, lambda: make_policy(actor=auditor))
    assert make_policy(actor=city_admin).created_by == city_admin


def test_links_must_insure_the_applicant_or_borrower(
    make_policy, make_application, make_loan, forest_asset, households, make_project
):
    right = forest_asset.rights.get()
    application = make_application(rights=[right])
    loan = make_loan(application)
    made = make_policy(application=application, loan=loan, assets=[forest_asset])
    assert (made.application, made.loan) == (application, loan)
    refused(
        DomainError, lambda: make_policy(insured=households[1], application=application), field="application"
    )
    refused(DomainError, lambda: make_policy(insured=households[1], loan=loan), field="loan")
    other = make_application(rights=[right])
    refused(DomainError, lambda: make_policy(application=other, loan=loan), field="loan")
    project = make_project()
    assert make_policy(project=project).project == project
    refused(DomainError, lambda: make_policy(application="SQ1"), field="application")


def test_a_project_out_of_reach_is_refused(make_policy, make_project, qingtian_staff):
    from directory.models import AdministrativeDivision

    qingtian = AdministrativeDivision.objects.get(code="331121000000")
    project = make_project()
    refused(
        DomainError,
        lambda: make_policy(actor=qingtian_staff, division=qingtian, project=project),
        field="project",
    )


# --- cancelling -------------------------------------------------------------------------------


def test_cancel_ends_cover_from_the_day_and_tells_the_bank(
    make_policy, make_application, forest_asset, county_staff, django_capture_on_commit_callbacks
):
    application = make_application(rights=[forest_asset.rights.get()])
    made = make_policy(application=application, assets=[forest_asset])
    day = datetime.date(2026, 6, 1)
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = services.cancel_policy(actor=county_staff, policy=made, reason="农户退保", on=day)
    assert cancelled.status == PolicyStatus.CANCELLED and cancelled.end_reason == "农户退保"
    assert timezone.localtime(cancelled.ended_at).date() == day
    assert services.coverage_end(cancelled) == day
    notes = Notification.objects.filter(title__contains=made.number)
    assert sorted(notes.values_list("recipient__username", flat=True)) == ["bank_officer"]
    with pytest.raises(InvalidTransition):
        services.cancel_policy(actor=county_staff, policy=made, reason="再次", on=day)


def test_cancel_is_validated(policy, county_staff, bank_officer):
    def cancel(**kw):
        values = {"actor": county_staff, "policy": policy, "reason": "退保", "on": datetime.date(2026, 6, 1)}
        values.update(kw)
        return services.cancel_policy(**values)

    for kw, field in [
        ({"reason": " "}, "reason"),
        ({"on": timezone.localdate() + datetime.timedelta(days=1)}, "on"),
        ({"on": None}, "on"),
    ]:
        with pytest.raises(DomainError) as exc:
            cancel(**kw)
        assert field in exc.value.fields
    with pytest.raises(PermissionDeniedError):
        cancel(actor=bank_officer)
    services.report_claim(
        actor=county_staff, policy=policy, incident_date=INCIDENT, cause="山火", claimed_amount="1000"
    )
    with pytest.raises(ConflictError) as exc:
        cancel(on=INCIDENT)
    assert exc.value.code == "claims_after_cancellation"
    policy.refresh_from_db()
    assert policy.status == PolicyStatus.ACTIVE and policy.ended_at is None
    assert cancel(on=INCIDENT + datetime.timedelta(days=1)).status == PolicyStatus.CANCELLED


def test_cancel_after_the_end_is_refused(make_policy, county_staff):
    ended = make_policy(start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2026, 1, 1))
    with pytest.raises(DomainError) as exc:
        services.cancel_policy(actor=county_staff, policy=ended, reason="x", on=datetime.date(2026, 2, 1))
    assert "on" in exc.value.fields


# --- expiring ---------------------------------------------------------------------------------


def test_expire_policies_is_idempotent(make_policy):
    old = make_policy(start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2026, 1, 1))
    current = make_policy()
    assert services.expire_policies(datetime.date(2025, 12, 31)) == 0
    assert services.expire_policies(datetime.date(2026, 1, 1)) == 1
    assert services.expire_policies(datetime.date(2026, 1, 1)) == 0
    old.refresh_from_db()
    current.refresh_from_db()
    assert old.status == PolicyStatus.EXPIRED and old.end_reason == "保险期满"
    assert timezone.localtime(old.ended_at).date() == datetime.date(2026, 1, 1)
    assert current.status == PolicyStatus.ACTIVE
    with pytest.raises(DomainError):
        services.expire_policies(timezone.localdate() + datetime.timedelta(days=1))


def test_other_kinds_of_organization_are_not_insurers(make_policy, demo_region):
    guarantor = Organization.objects.get(kind=OrganizationKind.GUARANTOR)
    refused(DomainError, lambda: make_policy(insurer=guarantor), field="insurer")
