# ruff: noqa: F811  (pytest fixtures imported from test_listings_fixtures)
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Notification
from directory.services import ensure_party
from resources.models import AssetStatus
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError
from transactions.models import (
    AccountKind,
    DepositStatus,
    Listing,
    ListingApplication,
    ListingQuestion,
    ListingStatus,
    Movement,
    MovementKind,
    PackageItem,
    PackageStatus,
    ReviewStatus,
)
from transactions.services import ledger
from transactions.services import listings as svc

from .test_listings_fixtures import (  # noqa: F401  (fixtures)
    collected,
    draft_listing,
    open_listing,
    other_county_staff,
    pending_investor,
    ready_package,
    terms,
    today,
)

pytestmark = pytest.mark.django_db


def _deposit(staff, application, key=None, amount="10000.00"):
    return svc.record_deposit(
        actor=staff,
        application=application,
        amount=amount,
        reference="BANK-001",
        occurred_on=today(),
        idempotency_key=key,
    )


# --- create / update ------------------------------------------------------------------------


def test_create_listing_for_asset(collected, county_staff):
    asset = collected(1)[0]
    listing = svc.create_listing(actor=county_staff, asset=asset, **terms())
    assert listing.status == ListingStatus.DRAFT
    assert listing.code.startswith(f"GP{today().year}")
    assert listing.division == asset.division
    assert listing.reserve_price == Decimal("100000.00") and listing.increment == Decimal("1000.00")
    assert listing.reference_gep is None and "暂无" in listing.reference_gep_note


def test_create_listing_for_package(ready_package, county_staff):
    package = ready_package(2)
    listing = svc.create_listing(actor=county_staff, package=package, **terms())
    assert listing.package == package and listing.asset is None


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"reserve_price": "0"}, "reserve_price"),
        ({"reserve_price": "abc"}, "reserve_price"),
        ({"reserve_price": "1.234"}, "reserve_price"),
        ({"deposit": "-1"}, "deposit"),
        ({"deposit": "200000"}, "deposit"),
        ({"increment": "0"}, "increment"),
        ({"mode": "lottery"}, "mode"),
        ({"trade_kind": ""}, "trade_kind"),
        ({"title": "  "}, "title"),
        ({"term_start": "2026-13-01"}, "term_start"),
        ({"term_start": today() - datetime.timedelta(days=1)}, "term_start"),
        ({"term_end": today() + datetime.timedelta(days=10)}, "term_end"),
        ({"term_end": today().replace(year=today().year + 20)}, "term_end"),
    ],
)
def test_create_listing_refuses_bad_terms(collected, county_staff, overrides, field):
    asset = collected(1)[0]
    with pytest.raises(DomainError) as exc:
        svc.create_listing(actor=county_staff, asset=asset, **terms(**overrides))
    assert field in exc.value.fields
    assert not Listing.objects.exists()


def test_negotiated_listing_needs_no_increment(collected, county_staff):
    listing = svc.create_listing(
        actor=county_staff, asset=collected(1)[0], **terms(mode="negotiated", increment="0")
    )
    assert listing.increment == 0


def test_create_listing_refuses_wrong_targets(
    collected, ready_package, registered_asset, households, county_staff
):
    asset = collected(1)[0]
    package = ready_package(2)
    with pytest.raises(DomainError):
        svc.create_listing(actor=county_staff, asset=asset, package=package, **terms())
    with pytest.raises(DomainError):
        svc.create_listing(actor=county_staff, **terms())
    registered = registered_asset([(households[1], 1)])
    with pytest.raises(ConflictError, match="已收储"):
        svc.create_listing(actor=county_staff, asset=registered, **terms())
    in_package = PackageItem.objects.filter(package=package).first().asset
    with pytest.raises(ConflictError, match="资源包"):
        svc.create_listing(actor=county_staff, asset=in_package, **terms())
    package.status = PackageStatus.DRAFT
    package.save()
    with pytest.raises(ConflictError, match="可挂牌"):
        svc.create_listing(actor=county_staff, package=package, **terms())
    assert not Listing.objects.exists()


def test_create_listing_refuses_asset_without_collection(registered_asset, households, county_staff):
    asset = registered_asset([(households[0], 1)])
    asset.status = AssetStatus.COLLECTED
    asset.save()
    with pytest.raises(DomainError, match="收储合同"):
        svc.create_listing(actor=county_staff, asset=asset, **terms())


def test_duplicate_open_listing_refused(collected, county_staff):
    asset = collected(1)[0]
    first = svc.create_listing(actor=county_staff, asset=asset, **terms())
    with pytest.raises(ConflictError, match=first.code):
        svc.create_listing(actor=county_staff, asset=asset, **terms())
    svc.withdraw_listing(actor=county_staff, listing=first, reason="重新编制")
    second = svc.create_listing(actor=county_staff, asset=asset, **terms())
    assert second.code != first.code


def test_create_listing_permissions(collected, investor, other_county_staff, city_admin, demo_region):
    from directory.models import User

    asset = collected(1)[0]
    for actor in (investor, other_county_staff, User.objects.get(username="village_clerk")):
        with pytest.raises(PermissionDeniedError):
            svc.create_listing(actor=actor, asset=asset, **terms())
    assert not Listing.objects.exists()
    assert svc.create_listing(actor=city_admin, asset=asset, **terms()).status == ListingStatus.DRAFT


def test_update_listing_only_in_draft(draft_listing, county_staff):
    listing = draft_listing()
    listing = svc.update_listing(actor=county_staff, listing=listing, title="新标题", reserve_price="120000")
    assert listing.title == "新标题" and listing.reserve_price == Decimal("120000.00")
    with pytest.raises(DomainError):
        svc.update_listing(actor=county_staff, listing=listing, deposit="999999")
    listing.refresh_from_db()
    assert listing.deposit == Decimal("10000.00")
    svc.publish_listing(actor=county_staff, listing=listing, notice_days=10, bidding_minutes=30)
    with pytest.raises(ConflictError):
        svc.update_listing(actor=county_staff, listing=listing, title="再改")


def test_reference_gep_from_latest_valuations(collected, county_staff, monkeypatch):
    from types import SimpleNamespace

    assets = collected(1)
    run = SimpleNamespace(pk=7, year=2025)
    monkeypatch.setattr(
        svc, "latest_asset_valuation", lambda a: SimpleNamespace(total=Decimal("1234.567"), run=run)
    )
    listing = svc.create_listing(actor=county_staff, asset=assets[0], **terms())
    assert listing.reference_gep == Decimal("1234.57")
    assert "#7" in listing.reference_gep_note


# --- publish / withdraw ---------------------------------------------------------------------


def test_publish_sets_times_and_statuses(ready_package, county_staff):
    package = ready_package(2)
    listing = svc.create_listing(actor=county_staff, package=package, **terms())
    before = timezone.now()
    listing = svc.publish_listing(actor=county_staff, listing=listing, notice_days=12, bidding_minutes=90)
    assert listing.status == ListingStatus.IN_NOTICE
    assert listing.notice_start >= before
    assert listing.notice_end - listing.notice_start == datetime.timedelta(days=12)
    assert listing.bidding_start == listing.notice_end
    assert (
        listing.bidding_end
        == listing.scheduled_bidding_end
        == listing.notice_end + datetime.timedelta(minutes=90)
    )
    package.refresh_from_db()
    assert package.status == PackageStatus.LISTED
    statuses = {i.asset.status for i in PackageItem.objects.filter(package=package).select_related("asset")}
    assert statuses == {AssetStatus.LISTED}


@pytest.mark.parametrize(
    "days, minutes, field",
    [
        (9, 60, "notice_days"),
        ("x", 60, "notice_days"),
        (10, 9, "bidding_minutes"),
        (10, 1441, "bidding_minutes"),
        (10, None, "bidding_minutes"),
    ],
)
def test_publish_refuses_bad_periods(draft_listing, county_staff, days, minutes, field):
    listing = draft_listing()
    with pytest.raises(DomainError) as exc:
        svc.publish_listing(actor=county_staff, listing=listing, notice_days=days, bidding_minutes=minutes)
    assert field in exc.value.fields
    listing.refresh_from_db()
    assert listing.status == ListingStatus.DRAFT and listing.notice_start is None
    assert listing.asset.status == AssetStatus.COLLECTED


def test_notice_minimum_is_configurable(draft_listing, county_staff, settings):
    settings.TMCS_LISTING_NOTICE_DAYS = 7
    listing = svc.publish_listing(
        actor=county_staff, listing=draft_listing(), notice_days=7, bidding_minutes=10
    )
    assert listing.notice_end - listing.notice_start == datetime.timedelta(days=7)


def test_negotiated_publish_has_no_bidding_window(draft_listing, county_staff):
    listing = draft_listing(mode="negotiated", increment="0")
    listing = svc.publish_listing(actor=county_staff, listing=listing, notice_days=10)
    assert listing.bidding_start is None and listing.bidding_end is None


def test_publish_refuses_twice_and_strangers(draft_listing, county_staff, investor, other_county_staff):
    listing = draft_listing()
    for actor in (investor, other_county_staff):
        with pytest.raises(PermissionDeniedError):
            svc.publish_listing(actor=actor, listing=listing, notice_days=10, bidding_minutes=60)
    svc.publish_listing(actor=county_staff, listing=listing, notice_days=10, bidding_minutes=60)
    with pytest.raises(InvalidTransition):
        svc.publish_listing(actor=county_staff, listing=listing, notice_days=10, bidding_minutes=60)


def test_publish_refuses_asset_no_longer_collected(draft_listing, county_staff):
    listing = draft_listing()
    asset = listing.asset
    asset.status = AssetStatus.LEASED
    asset.save()
    with pytest.raises(ConflictError, match=asset.code):
        svc.publish_listing(actor=county_staff, listing=listing, notice_days=10, bidding_minutes=60)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.DRAFT


def test_withdraw_restores_statuses_and_refunds(
    ready_package, county_staff, investor, investor_org, county_cooperative
):
    package = ready_package(2)
    listing = svc.create_listing(actor=county_staff, package=package, **terms())
    listing = svc.publish_listing(actor=county_staff, listing=listing, notice_days=10, bidding_minutes=60)
    application = svc.apply_for_listing(actor=investor, listing=listing, statement="我们有经验")
    _deposit(county_staff, application)
    coop, inv = ensure_party(county_cooperative), ensure_party(investor_org)
    assert ledger.balance(AccountKind.CASH, coop) == Decimal("10000.00")
    assert ledger.balance(AccountKind.DEPOSIT_HELD, inv) == Decimal("-10000.00")

    with pytest.raises(DomainError):
        svc.withdraw_listing(actor=county_staff, listing=listing, reason=" ")
    svc.withdraw_listing(actor=county_staff, listing=listing, reason="规划调整")
    listing.refresh_from_db()
    package.refresh_from_db()
    application.refresh_from_db()
    assert listing.status == ListingStatus.WITHDRAWN and listing.close_note == "规划调整"
    assert package.status == PackageStatus.READY
    assert {i.asset.status for i in package.items.select_related("asset")} == {AssetStatus.COLLECTED}
    assert application.deposit_status == DepositStatus.REFUNDED
    assert ledger.balance(AccountKind.CASH, coop) == 0
    assert ledger.balance(AccountKind.DEPOSIT_HELD, inv) == 0
    refund = Movement.objects.get(kind=MovementKind.DEPOSIT_REFUNDED)
    assert refund.listing == listing and refund.application == application
    assert Notification.objects.filter(recipient=investor, title__contains="撤牌").exists()
    with pytest.raises(ConflictError):
        svc.withdraw_listing(actor=county_staff, listing=listing, reason="再撤")


def test_withdraw_draft_keeps_asset_collected(draft_listing, county_staff):
    listing = svc.withdraw_listing(actor=county_staff, listing=draft_listing(), reason="不挂了")
    assert listing.status == ListingStatus.WITHDRAWN
    listing.asset.refresh_from_db()
    assert listing.asset.status == AssetStatus.COLLECTED


def test_withdraw_refused_once_bidding(open_listing, county_staff):
    listing = open_listing()
    Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.BIDDING)
    with pytest.raises(ConflictError):
        svc.withdraw_listing(actor=county_staff, listing=listing, reason="晚了")


# --- applications and deposits -----------------------------------------------------------------


def test_apply_review_and_deposit(
    open_listing, county_staff, investor, investor_org, second_investor, county_cooperative
):
    listing = open_listing()
    first = svc.apply_for_listing(actor=investor, listing=listing, statement="资质齐全")
    assert first.status == ReviewStatus.PENDING and first.investor == investor_org
    with pytest.raises(ConflictError):
        svc.apply_for_listing(actor=investor, listing=listing)
    second = svc.apply_for_listing(actor=second_investor, listing=listing)

    svc.review_application(actor=county_staff, application=first, approve=True, note="")
    with pytest.raises(DomainError) as exc:
        svc.review_application(actor=county_staff, application=second, approve=False, note="")
    assert "note" in exc.value.fields
    with pytest.raises(ConflictError):
        svc.review_application(actor=county_staff, application=first, approve=False, note="改判")

    first = _deposit(county_staff, first)
    second = _deposit(county_staff, second)
    assert (first.bidder_number, second.bidder_number) == ("001", "002")
    assert first.deposit_status == second.deposit_status == DepositStatus.PAID
    coop = ensure_party(county_cooperative)
    assert ledger.balance(AccountKind.CASH, coop) == Decimal("20000.00")
    assert ledger.balance(AccountKind.DEPOSIT_HELD, ensure_party(investor_org)) == Decimal("-10000.00")
    movement = Movement.objects.get(application=first)
    assert movement.kind == MovementKind.DEPOSIT_RECEIVED and movement.listing == listing
    assert movement.reference == "BANK-001"

    # A rejection after the deposit returns it.
    svc.review_application(actor=county_staff, application=second, approve=False, note="资质不符")
    second.refresh_from_db()
    assert second.status == ReviewStatus.REJECTED and second.deposit_status == DepositStatus.REFUNDED
    assert ledger.balance(AccountKind.CASH, coop) == Decimal("10000.00")


@pytest.mark.parametrize(
    "amount, field", [("9999.99", "amount"), ("10000.001", "amount"), ("abc", "amount"), ("0", "amount")]
)
def test_deposit_amount_must_match(open_listing, county_staff, investor, amount, field):
    application = svc.apply_for_listing(actor=investor, listing=open_listing())
    with pytest.raises(DomainError) as exc:
        _deposit(county_staff, application, amount=amount)
    assert field in exc.value.fields
    application.refresh_from_db()
    assert application.deposit_status == DepositStatus.UNPAID and not application.bidder_number
    assert not Movement.objects.exists()


def test_deposit_refusals(open_listing, county_staff, investor, other_county_staff):
    listing = open_listing()
    application = svc.apply_for_listing(actor=investor, listing=listing)
    with pytest.raises(PermissionDeniedError):
        _deposit(investor, application)
    with pytest.raises(PermissionDeniedError):
        _deposit(other_county_staff, application)
    with pytest.raises(DomainError) as exc:
        svc.record_deposit(
            actor=county_staff, application=application, amount="10000", reference="", occurred_on=today()
        )
    assert "reference" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        svc.record_deposit(
            actor=county_staff,
            application=application,
            amount="10000",
            reference="X",
            occurred_on=today() + datetime.timedelta(days=1),
        )
    assert "occurred_on" in exc.value.fields
    _deposit(county_staff, application)
    with pytest.raises(ConflictError):
        _deposit(county_staff, application)
    Listing.objects.filter(pk=listing.pk).update(notice_end=timezone.now() - datetime.timedelta(seconds=1))
    assert Movement.objects.count() == 1


def test_deposit_after_notice_end_refused(open_listing, county_staff, investor):
    listing = open_listing()
    application = svc.apply_for_listing(actor=investor, listing=listing)
    Listing.objects.filter(pk=listing.pk).update(notice_end=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ConflictError):
        _deposit(county_staff, application)
    assert not Movement.objects.exists()


def test_deposit_idempotency_key(open_listing, county_staff, investor, second_investor, county_cooperative):
    listing = open_listing()
    application = svc.apply_for_listing(actor=investor, listing=listing)
    other = svc.apply_for_listing(actor=second_investor, listing=listing)
    first = _deposit(county_staff, application, key="dep-1")
    again = _deposit(county_staff, application, key="dep-1")
    assert again.pk == first.pk and again.bidder_number == "001"
    assert Movement.objects.filter(kind=MovementKind.DEPOSIT_RECEIVED).count() == 1
    assert ledger.balance(AccountKind.CASH, ensure_party(county_cooperative)) == Decimal("10000.00")
    with pytest.raises(ConflictError):
        _deposit(county_staff, other, key="dep-1")


def test_apply_refusals(open_listing, draft_listing, county_staff, pending_investor, investor):
    listing = open_listing()
    for actor in (county_staff, pending_investor):
        with pytest.raises(PermissionDeniedError):
            svc.apply_for_listing(actor=actor, listing=listing)
    with pytest.raises(ConflictError):
        svc.apply_for_listing(actor=investor, listing=draft_listing())
    with pytest.raises(DomainError):
        svc.apply_for_listing(actor=investor, listing=listing, statement="长" * 2001)
    Listing.objects.filter(pk=listing.pk).update(notice_end=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ConflictError, match="报名期"):
        svc.apply_for_listing(actor=investor, listing=listing)
    assert not ListingApplication.objects.exists()


def test_investor_cannot_review(open_listing, investor):
    application = svc.apply_for_listing(actor=investor, listing=open_listing())
    with pytest.raises(PermissionDeniedError):
        svc.review_application(actor=investor, application=application, approve=True)
    application.refresh_from_db()
    assert application.status == ReviewStatus.PENDING


def test_withdraw_application_refunds(
    open_listing, county_staff, investor, second_investor, investor_org, county_cooperative
):
    listing = open_listing()
    application = svc.apply_for_listing(actor=investor, listing=listing)
    _deposit(county_staff, application)
    with pytest.raises(PermissionDeniedError):
        svc.withdraw_application(actor=second_investor, application=application)
    application = svc.withdraw_application(actor=investor, application=application)
    assert application.status == ReviewStatus.REJECTED and application.review_note == svc.WITHDRAWN_NOTE
    assert application.deposit_status == DepositStatus.REFUNDED
    assert ledger.balance(AccountKind.CASH, ensure_party(county_cooperative)) == 0
    assert ledger.balance(AccountKind.DEPOSIT_HELD, ensure_party(investor_org)) == 0
    with pytest.raises(ConflictError):
        svc.withdraw_application(actor=investor, application=application)
    assert Movement.objects.filter(kind=MovementKind.DEPOSIT_REFUNDED).count() == 1


def test_zero_deposit_approval_admits_bidder(open_listing, county_staff, investor):
    listing = open_listing(deposit="0")
    application = svc.apply_for_listing(actor=investor, listing=listing)
    application = svc.review_application(actor=county_staff, application=application, approve=True)
    assert application.deposit_status == DepositStatus.PAID and application.bidder_number == "001"
    assert not Movement.objects.exists()


# --- Q&A --------------------------------------------------------------------------------------


def test_questions_and_answers(
    open_listing, draft_listing, county_staff, investor, other_county_staff, pending_investor
):
    listing = open_listing()
    question = svc.ask_question(actor=investor, listing=listing, question="林道可以通车吗？")
    assert Notification.objects.filter(recipient=county_staff, title__contains=listing.code).exists()
    for bad in ("", "问" * 1001):
        with pytest.raises(DomainError):
            svc.ask_question(actor=investor, listing=listing, question=bad)
    with pytest.raises(PermissionDeniedError):
        svc.ask_question(actor=pending_investor, listing=listing, question="我能问吗？")
    with pytest.raises(ConflictError):
        svc.ask_question(actor=investor, listing=draft_listing(), question="草稿？")
    with pytest.raises(PermissionDeniedError):
        svc.answer_question(actor=investor, question=question, answer="自答")
    with pytest.raises(PermissionDeniedError):
        svc.answer_question(actor=other_county_staff, question=question, answer="越界")
    with pytest.raises(DomainError):
        svc.answer_question(actor=county_staff, question=question, answer=" ")
    answered = svc.answer_question(actor=county_staff, question=question, answer="可以，路宽4米。")
    assert answered.answered_by == county_staff and answered.answer == "可以，路宽4米。"
    assert Notification.objects.filter(recipient=investor, title__contains="已答复").exists()
    with pytest.raises(ConflictError):
        svc.answer_question(actor=county_staff, question=question, answer="再答")
    assert ListingQuestion.objects.count() == 1
