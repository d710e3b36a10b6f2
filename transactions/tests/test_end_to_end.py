"""The whole road of an idle farmhouse, checked in the ledger at every step:

village listing → registration → collection (保底+二次分红) → package → listing (公示) → auction
→ trade contract (lease) → investor payment → guaranteed payouts → year-end second dividend.
"""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from directory.models import Organization, OrganizationKind, User
from directory.services import ensure_party
from resources import listings as idle_listings
from resources import registration
from resources.models import Asset, AssetStatus, ResourceType, Restriction, RestrictionKind, Right, RightKind
from resources.tests.conftest import square
from resources.tests.test_listings import png
from transactions.models import (
    AccountKind,
    ContractStatus,
    DepositStatus,
    ListingMode,
    ListingStatus,
    PackageStatus,
    PaymentFrequency,
    Posting,
    RevenueModel,
    TradeKind,
)
from transactions.services import (
    auctions,
    collection,
    contracts,
    distribution,
    ledger,
    listings,
    packages,
    settlement,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _ledger_is_balanced():
    assert Posting.objects.aggregate(s=Sum("amount"))["s"] in (None, Decimal("0.00"))


def _registered_farmhouse(clerk, staff, collective_party):
    farmhouse = ResourceType.objects.get(code="farmhouse")
    idle = idle_listings.create_listing(
        actor=clerk,
        resource_type=farmhouse,
        title="示范村闲置老宅",
        description="两层砖木结构，空置多年。",
        location="示范村8号",
        area_estimate_m2="320.00",
        expected_use="lease",
        expected_price="20000",
        price_note="每年",
        photos=[png()],
    )
    idle = idle_listings.accept_listing(
        actor=staff,
        listing=idle,
        geometry=square(dx=0.05, size=0.0003),
        attributes={"floor_area_m2": 320, "storeys": 2, "condition": "基本完好"},
    )
    asset = idle.asset
    application = registration.submit_registration(actor=staff, asset=asset)
    registration.review_registration(actor=staff, registration=application, approve=True)
    assert registration.close_due_notices(now=timezone.now() + datetime.timedelta(days=30)) == 1
    asset.refresh_from_db()
    assert asset.status == AssetStatus.REGISTERED
    from resources import services as registry

    registry.grant_right(
        actor=staff,
        asset=asset,
        holder=collective_party,
        kind=RightKind.OWNERSHIP,
        start=datetime.date(2020, 1, 1),
        source_document="集体土地所有权证（演示）",
    )
    return asset, idle


def test_village_listing_to_second_dividend(
    demo_region, catalog, county_staff, county_cooperative, investor, second_investor
):
    clerk = User.objects.get(username="village_clerk")
    collective_org = Organization.objects.get(kind=OrganizationKind.VILLAGE_COLLECTIVE)
    collective_party = ensure_party(collective_org)
    coop_party = ensure_party(county_cooperative)
    investor_org = Organization.objects.get(name__contains="生态旅游")
    investor_party = ensure_party(investor_org)
    rival_org = second_investor.memberships.get().organization
    today = timezone.localdate()
    collected_on = today - datetime.timedelta(days=400)  # collected a year ago, let from next month
    term_start = today + datetime.timedelta(days=30)
    term_end = term_start.replace(year=term_start.year + 10)

    # 1. The village lists its idle farmhouse; it is registered with the collective as owner.
    asset, idle = _registered_farmhouse(clerk, county_staff, collective_party)

    # 2. Collection: guaranteed 10,000 a year plus 30 % of the income as a second dividend.
    contract = collection.create_collection_contract(
        actor=county_staff,
        division=asset.division,
        grantor=collective_party,
        source_right_kind=RightKind.OWNERSHIP,
        granted_right_kind=RightKind.MANAGEMENT,
        start_date=collected_on,
        end_date=collected_on.replace(year=collected_on.year + 15),
        revenue_model=RevenueModel.GUARANTEED_PLUS_DIVIDEND,
        annual_amount=Decimal("10000.00"),
        dividend_rate=Decimal("0.3000"),
        payment_frequency=PaymentFrequency.ANNUAL,
        first_payment_date=collected_on,
        obligations="合作社负责修缮并统一招商。",
        assets=[asset],
        source_listing=idle,
    )
    contract = collection.sign_collection_contract(actor=county_staff, contract=contract)
    asset.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED and asset.status == AssetStatus.COLLECTED
    coop_right = Right.objects.get(asset=asset, kind=RightKind.MANAGEMENT, holder=coop_party, status="active")
    assert contract.beneficiaries.get().party == collective_party
    assert contract.schedule.aggregate(s=Sum("amount"))["s"] == Decimal("150000.00")
    _ledger_is_balanced()

    # 3. Package and listing (auction, 公示, two qualified bidders with deposits).
    package = packages.create_package(
        actor=county_staff,
        division=asset.division,
        name="示范村老宅民宿资源包",
        description="整村闲置农房，适合精品民宿。",
        suggested_use="民宿",
        assets=[asset],
    )
    packages.mark_package_ready(actor=county_staff, package=package)
    listing = listings.create_listing(
        actor=county_staff,
        title="示范村老宅十年租赁",
        package=package,
        trade_kind=TradeKind.LEASE,
        mode=ListingMode.AUCTION,
        term_start=term_start,
        term_end=term_end,
        reserve_price=Decimal("300000.00"),
        deposit=Decimal("30000.00"),
        increment=Decimal("5000.00"),
        description="老宅一栋。",
        qualification_requirements="具有民宿经营经验的企业。",
        payment_terms="按年支付。",
        obligations="不得改变房屋主体结构。",
    )
    listing = listings.publish_listing(
        actor=county_staff, listing=listing, notice_days=10, bidding_minutes=60
    )
    asset.refresh_from_db()
    assert listing.status == ListingStatus.IN_NOTICE and asset.status == AssetStatus.LISTED
    applications = []
    for user, org in ((investor, investor_org), (second_investor, rival_org)):
        application = listings.apply_for_listing(actor=user, listing=listing, statement="经营民宿五年。")
        listings.review_application(actor=county_staff, application=application, approve=True, note="")
        listings.record_deposit(
            actor=county_staff,
            application=application,
            amount=Decimal("30000.00"),
            reference=f"BANK-{org.pk}",
            occurred_on=today,
        )
        applications.append(application)
    assert ledger.balance(AccountKind.CASH, coop_party) == Decimal("60000.00")
    _ledger_is_balanced()

    # 4. Auction: the notice ends, both bid, the close is decided by the server.
    listing.refresh_from_db()
    auctions.end_notice(listing=listing, now=listing.notice_end)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.BIDDING
    start = listing.bidding_start
    auctions.place_bid(actor=investor, listing=listing, amount=Decimal("300000.00"), now=start)
    auctions.place_bid(
        actor=second_investor,
        listing=listing,
        amount=Decimal("305000.00"),
        now=start + datetime.timedelta(minutes=1),
    )
    auctions.place_bid(
        actor=investor,
        listing=listing,
        amount=Decimal("320000.00"),
        now=start + datetime.timedelta(minutes=2),
    )
    listing.refresh_from_db()
    listing = auctions.close_listing(listing=listing, now=listing.bidding_end)
    assert listing.status == ListingStatus.SOLD and listing.final_price == Decimal("320000.00")
    rival = next(a for a in applications if a.investor == rival_org)
    rival.refresh_from_db()
    assert rival.deposit_status == DepositStatus.REFUNDED
    assert ledger.balance(AccountKind.DEPOSIT_HELD, ensure_party(rival_org)) == 0
    assert ledger.balance(AccountKind.CASH, coop_party) == Decimal("30000.00")
    _ledger_is_balanced()

    # 5. Trade contract: a lease registered on the asset; the deposit goes towards the price.
    trade = contracts.create_trade_contract(
        actor=county_staff, listing=listing, payment_frequency=PaymentFrequency.ANNUAL
    )
    trade = contracts.sign_trade_contract(actor=county_staff, contract=trade)
    asset.refresh_from_db()
    lease = Restriction.objects.get(asset=asset, kind=RestrictionKind.LEASE, status="active")
    assert lease.holder == investor_party and asset.status == AssetStatus.LEASED
    assert trade.installments.aggregate(s=Sum("amount"))["s"] == Decimal("320000.00")
    assert ledger.balance(AccountKind.RECEIVABLE, investor_party) == Decimal("290000.00")
    assert ledger.balance(AccountKind.DEPOSIT_HELD, investor_party) == 0
    listing.refresh_from_db()
    package.refresh_from_db()
    assert listing.status == ListingStatus.CONTRACTED and package.status == PackageStatus.CONTRACTED
    _ledger_is_balanced()

    # 6. The investor paid part of the balance yesterday (the bank transfer's date).
    yesterday = today - datetime.timedelta(days=1)
    settlement.record_investor_payment(
        actor=county_staff,
        contract=trade,
        amount=Decimal("62000.00"),
        occurred_on=yesterday,
        reference="BANK-Y1",
    )
    assert ledger.balance(AccountKind.RECEIVABLE, investor_party) == Decimal("228000.00")
    assert ledger.balance(AccountKind.CASH, coop_party) == Decimal("92000.00")

    # 7. The guaranteed amounts due so far (two years: at collection and a year later) go to the
    # collective.
    paid = settlement.pay_scheduled_payments(
        actor=county_staff, contract=contract, due_on_or_before=today, reference="PAY-1", occurred_on=today
    )
    assert sum(line.amount for line in paid) == Decimal("20000.00")
    assert ledger.balance(AccountKind.PAYABLE, collective_party) == 0
    assert ledger.balance(AccountKind.CASH, coop_party) == Decimal("72000.00")

    # 8. Second dividend for the first 400 days: 30 % of the price paid in the period (the deposit
    # was applied today, outside it) less the guaranteed amount for the one schedule year that lies
    # wholly inside the period.
    second = distribution.declare_distribution(
        actor=county_staff,
        contract=contract,
        kind="second_dividend",
        period_start=collected_on,
        period_end=today,
    )
    assert second.income == Decimal("62000.00")
    assert second.amount == Decimal("62000.00") * Decimal("0.3") - Decimal("10000.00")
    assert [line.amount for line in second.lines.all()] == [Decimal("8600.00")]
    assert ledger.balance(AccountKind.PAYABLE, collective_party) == Decimal("-8600.00")
    distribution.pay_distribution(
        actor=county_staff, distribution=second, reference="PAY-2", occurred_on=today
    )
    assert ledger.balance(AccountKind.PAYABLE, collective_party) == 0
    assert ledger.balance(AccountKind.CASH, coop_party) == Decimal("63400.00")
    assert Right.objects.get(pk=coop_right.pk).status == "active"  # the cooperative still runs the asset
    assert Asset.objects.get(pk=asset.pk).status == AssetStatus.LEASED
    _ledger_is_balanced()
