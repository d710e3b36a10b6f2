# ruff: noqa: F811  (fixtures imported from transactions tests)
"""Registering, releasing and enforcing pledges through finance.services.pledges: every refusal
leaves nothing behind; the registry restriction and the finance row move together; the database
history records who did it and why."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Notification
from finance.models import ApplicationStatus, Pledge, PledgeStatus
from finance.services import pledges
from resources import services as registry
from resources.models import Restriction, RestrictionKind, RightStatus
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError
from transactions.tests.test_contracts_fixtures import other_county_staff  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(valued_right, make_product, make_application, make_appraisal):
    """A right, an approved application on it and a current appraisal (500,000 元 → max 240,000)."""

    def make(appraised_value=Decimal("500000"), status=ApplicationStatus.APPROVED, **appraisal_fields):
        right = valued_right()
        product = make_product()
        application = make_application(rights=[right], product=product, status=status)
        appraisal = make_appraisal(right, product, appraised_value=appraised_value, **appraisal_fields)
        return right, product, application, appraisal

    return make


def nothing_written():
    return (
        not Pledge.objects.exists() and not Restriction.objects.filter(kind=RestrictionKind.PLEDGE).exists()
    )


def test_register_by_bank_officer(
    setup, bank, bank_officer, county_staff, checker, django_capture_on_commit_callbacks
):
    right, _product, application, appraisal = setup()
    with django_capture_on_commit_callbacks(execute=True):
        pledge = pledges.register_pledge(
            actor=bank_officer,
            application=application,
            right=right,
            secured_amount="240000.00",
            bank_reference="ZH-001",
        )
    assert pledge.number.startswith(f"ZY{timezone.localdate().year}")
    assert (pledge.rank, pledge.secured_amount, pledge.bank, pledge.appraisal) == (
        1,
        Decimal("240000.00"),
        bank,
        appraisal,
    )
    assert len(pledge.verification_code) == 12 and pledge.verification_code.isalnum()
    assert not set(pledge.verification_code) & set("01IO")
    restriction = pledge.restriction
    assert restriction.kind == RestrictionKind.PLEDGE and restriction.status == RightStatus.ACTIVE
    assert restriction.holder.organization == bank and restriction.right == right
    assert restriction.secured_amount == Decimal("240000.00") and restriction.rank == 1
    today = timezone.localdate()
    assert restriction.period.lower == today
    assert restriction.period.upper == datetime.date(today.year + 3, today.month, today.day)  # 36 months
    assert pledge.number in restriction.source_document and "ZH-001" in restriction.source_document
    # the cooperative's staff (maker and checker) are told; the actor is not
    told = set(
        Notification.objects.filter(title__contains=pledge.number).values_list(
            "recipient__username", flat=True
        )
    )
    assert {county_staff.username, checker.username} <= told and bank_officer.username not in told


def test_next_free_rank_and_period_capped_by_the_right(setup, make_application, county_staff):
    right, product, application, _appraisal = setup()
    # the right ends in a year: the pledge cannot outlive it
    ends = timezone.localdate() + datetime.timedelta(days=365)
    type(right).objects.filter(pk=right.pk).update(period=(right.period.lower, ends))
    right.refresh_from_db()
    first = pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="100000", rank=2
    )
    other = make_application(rights=[right], product=product)
    second = pledges.register_pledge(
        actor=county_staff, application=other, right=right, secured_amount="100000"
    )
    third_app = make_application(rights=[right], product=product)
    third = pledges.register_pledge(
        actor=county_staff, application=third_app, right=right, secured_amount="50000"
    )
    assert (first.rank, second.rank, third.rank) == (2, 1, 3)
    assert first.restriction.period.upper == ends


@pytest.mark.parametrize(
    "status", [ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.BANK_DECLINED]
)
def test_wrong_application_status_is_refused(setup, county_staff, status):
    right, _p, application, _a = setup(status=status)
    with pytest.raises(ConflictError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="1000"
        )
    assert exc.value.code == "application_status"
    assert nothing_written()


def test_disbursed_application_may_be_pledged(setup, county_staff):
    right, _p, application, _a = setup(status=ApplicationStatus.DISBURSED)
    pledge = pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="1000"
    )
    assert pledge.status == PledgeStatus.ACTIVE


def test_right_not_in_collateral(setup, valued_right, county_staff):
    _right, _p, application, _a = setup()
    stranger = valued_right()
    with pytest.raises(DomainError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=stranger, secured_amount="1000"
        )
    assert exc.value.code == "not_collateral" and "right" in exc.value.fields
    assert nothing_written()


def test_no_appraisal_or_expired_appraisal(
    valued_right, make_product, make_application, make_appraisal, county_staff
):
    right = valued_right()
    product = make_product()
    application = make_application(rights=[right], product=product)
    with pytest.raises(ConflictError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="1000"
        )
    assert exc.value.code == "no_appraisal"
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    make_appraisal(right, product, valid_until=yesterday)
    with pytest.raises(ConflictError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="1000"
        )
    assert exc.value.code == "no_appraisal"
    # an appraisal under another product does not count
    make_appraisal(right, make_product())
    with pytest.raises(ConflictError):
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="1000"
        )
    assert nothing_written()


def test_amount_beyond_max_loan(setup, county_staff):
    right, _p, application, appraisal = setup()
    assert appraisal.max_loan == Decimal("240000.00")
    with pytest.raises(DomainError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="240000.01"
        )
    assert exc.value.code == "over_max_loan" and "240000.00" in str(exc.value.detail)
    assert "secured_amount" in exc.value.fields
    assert nothing_written()


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.001", "NaN", "Infinity", None])
def test_malformed_amount(setup, county_staff, amount):
    right, _p, application, _a = setup()
    with pytest.raises(DomainError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount=amount
        )
    assert "secured_amount" in exc.value.fields
    assert nothing_written()


@pytest.mark.parametrize("rank", [0, 100, "x", -1, "1.5"])
def test_malformed_rank(setup, county_staff, rank):
    right, _p, application, _a = setup()
    with pytest.raises(DomainError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="1000", rank=rank
        )
    assert "rank" in exc.value.fields
    assert nothing_written()


def test_bank_reference_too_long(setup, county_staff):
    right, _p, application, _a = setup()
    with pytest.raises(DomainError) as exc:
        pledges.register_pledge(
            actor=county_staff,
            application=application,
            right=right,
            secured_amount="1000",
            bank_reference="x" * 61,
        )
    assert "bank_reference" in exc.value.fields
    assert nothing_written()


def test_capacity_across_ranks_names_the_figures(setup, make_application, county_staff):
    right, product, application, appraisal = setup()
    pledges.register_pledge(actor=county_staff, application=application, right=right, secured_amount="240000")
    second = make_application(rights=[right], product=product)
    pledges.register_pledge(actor=county_staff, application=second, right=right, secured_amount="240000")
    third = make_application(rights=[right], product=product)
    with pytest.raises(ConflictError) as exc:
        pledges.register_pledge(actor=county_staff, application=third, right=right, secured_amount="20000.01")
    message = str(exc.value.detail)
    assert exc.value.code == "over_capacity"
    for figure in ("500000.00", appraisal.number, "480000.00", "20000.01", "20000.00"):
        assert figure in message
    assert exc.value.fields["secured_amount"]
    assert (
        Pledge.objects.count() == 2 and Restriction.objects.filter(kind=RestrictionKind.PLEDGE).count() == 2
    )
    assert not Pledge.objects.filter(application=third).exists()
    # exactly what is left still fits, at rank 3
    assert (
        pledges.register_pledge(
            actor=county_staff, application=third, right=right, secured_amount="20000.00"
        ).rank
        == 3
    )


def test_rank_taken(setup, make_application, county_staff):
    right, product, application, _a = setup()
    pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="1000", rank=1
    )
    other = make_application(rights=[right], product=product)
    with pytest.raises(ConflictError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=other, right=right, secured_amount="1000", rank=1
        )
    assert exc.value.code == "rank_taken" and "rank" in exc.value.fields
    assert "2" in str(exc.value.detail)  # the lowest free rank is named
    assert Pledge.objects.count() == 1


def test_same_application_twice_on_one_right(setup, county_staff):
    right, _p, application, _a = setup()
    first = pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="1000"
    )
    with pytest.raises(ConflictError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="1000"
        )
    assert exc.value.code == "duplicate" and first.number in str(exc.value.detail)


def test_frozen_asset_is_refused(setup, county_staff):
    right, _p, application, _a = setup()
    registry.freeze_for_dispute(
        actor=county_staff, asset=right.asset, reason="边界争议", source_document="调解申请书"
    )
    with pytest.raises(ConflictError) as exc:
        pledges.register_pledge(
            actor=county_staff, application=application, right=right, secured_amount="1000"
        )
    assert exc.value.code == "frozen"
    assert not Pledge.objects.exists()


def test_other_bank_and_outsiders_are_refused(setup, second_bank_officer, other_county_staff):
    right, _p, application, _a = setup()
    for outsider in (second_bank_officer, other_county_staff):
        with pytest.raises(PermissionDeniedError):
            pledges.register_pledge(
                actor=outsider, application=application, right=right, secured_amount="1000"
            )
    assert nothing_written()


def test_release_by_the_bank_ends_the_restriction_and_is_audited(setup, bank_officer, county_staff):
    right, _p, application, _a = setup()
    pledge = pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="1000"
    )
    with pytest.raises(DomainError) as exc:
        pledges.release_pledge(actor=bank_officer, pledge=pledge, reason="  ")
    assert "reason" in exc.value.fields
    released = pledges.release_pledge(actor=bank_officer, pledge=pledge, reason="贷款已结清")
    assert released.status == PledgeStatus.RELEASED and released.released_at is not None
    assert released.release_reason == "贷款已结清"
    restriction = Restriction.objects.get(pk=pledge.restriction_id)
    assert restriction.status == RightStatus.ENDED and "贷款已结清" in restriction.end_reason
    with pytest.raises(InvalidTransition):
        pledges.release_pledge(actor=bank_officer, pledge=pledge, reason="再次解除")
    # pghistory: insert + release of both rows, tagged with who and why
    events = list(Pledge.pgh_event_model.objects.filter(pgh_obj_id=pledge.pk).order_by("pgh_id"))
    assert [e.status for e in events] == ["active", "released"]
    assert events[0].pgh_context.metadata["username"] == county_staff.username
    assert events[0].pgh_context.metadata["reason"] == f"register pledge {pledge.number}"
    assert events[1].pgh_context.metadata["username"] == bank_officer.username
    assert "贷款已结清" in events[1].pgh_context.metadata["reason"]
    r_events = list(Restriction.pgh_event_model.objects.filter(pgh_obj_id=restriction.pk).order_by("pgh_id"))
    assert [e.status for e in r_events] == ["active", "ended"]
    assert r_events[0].pgh_context.metadata["username"] == county_staff.username
    assert r_events[1].pgh_context.metadata["username"] == bank_officer.username
    # a released rank is free again
    again = pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="1000", rank=1
    )
    assert again.rank == 1


def test_release_by_another_bank_is_refused(setup, second_bank_officer, county_staff):
    right, _p, application, _a = setup()
    pledge = pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="1000"
    )
    with pytest.raises(PermissionDeniedError):
        pledges.release_pledge(actor=second_bank_officer, pledge=pledge, reason="x")
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.ACTIVE and pledge.restriction.status == RightStatus.ACTIVE


def test_release_follows_a_restriction_the_registry_already_ended(setup, county_staff):
    right, _p, application, _a = setup()
    pledge = pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="1000"
    )
    registry.release_restriction(actor=county_staff, restriction=pledge.restriction, reason="法院裁定")
    released = pledges.release_pledge(actor=county_staff, pledge=pledge, reason="登记簿已解除")
    assert released.status == PledgeStatus.RELEASED
    assert Restriction.objects.get(pk=pledge.restriction_id).end_reason == "法院裁定"


def test_enforce_and_pledges_of_loan(setup, make_loan, county_staff):
    right, _p, application, _a = setup(status=ApplicationStatus.BANK_APPROVED)
    pledge = pledges.register_pledge(
        actor=county_staff, application=application, right=right, secured_amount="1000"
    )
    loan = make_loan(application)
    assert list(pledges.pledges_of_loan(loan)) == [pledge]
    enforced = pledges.enforce_pledge(actor=county_staff, pledge=pledge, reason="违约回购")
    assert enforced.status == PledgeStatus.ENFORCED
    restriction = Restriction.objects.get(pk=pledge.restriction_id)
    assert restriction.status == RightStatus.ENDED and "违约回购" in restriction.end_reason
    assert list(pledges.pledges_of_loan(loan)) == []
    with pytest.raises(InvalidTransition):
        pledges.release_pledge(actor=county_staff, pledge=pledge, reason="x")
