"""Demo trading desk on the demo region: the registered demo forest collected from its contracting
household (保底收益+二次分红), bundled, and listed for auction in 公示 with the demo investor
applied, qualified and its deposit received; plus an investor demand. Idempotent."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from directory.models import User
from resources.models import Asset, AssetStatus, RightKind

from .models import CollectionItem, Demand, ListingMode, PaymentFrequency, RevenueModel, TradeKind
from .services import collection, demands, listings, packages

FOREST = "示范村后山杉木林（演示）"


@transaction.atomic
def load_demo_trading():
    """Returns the demo listing, or None when the demo forest is missing or already traded."""
    staff = User.objects.get(username="coop_staff")
    investor = User.objects.get(username="investor")
    forest = Asset.objects.filter(name=FOREST).first()
    if forest is None or CollectionItem.objects.filter(asset=forest).exists():
        return None
    if forest.status != AssetStatus.REGISTERED:
        return None
    today = timezone.localdate()
    start = today - datetime.timedelta(days=30)
    contract = collection.create_collection_contract(
        actor=staff,
        division=forest.division,
        grantor=forest.rights.get(kind=RightKind.CONTRACT, status="active").holder,
        source_right_kind=RightKind.CONTRACT,
        granted_right_kind=RightKind.MANAGEMENT,
        start_date=start,
        end_date=start.replace(year=start.year + 20),
        revenue_model=RevenueModel.GUARANTEED_PLUS_DIVIDEND,
        # 35 元/亩/年 as 龙泉's public-welfare forest payment, on 260 亩 (registry-trading.md §4).
        annual_amount=Decimal("9100.00"),
        dividend_rate=Decimal("0.3000"),
        payment_frequency=PaymentFrequency.ANNUAL,
        first_payment_date=start,
        obligations="合作社统一经营管护，不改变林地用途；每年支付保底收益，年终按经营收入的30%进行二次分红。",
        assets=[forest],
    )
    collection.sign_collection_contract(actor=staff, contract=contract)
    package = packages.create_package(
        actor=staff,
        division=forest.division,
        name="示范村林下经济与森林康养资源包（演示）",
        description="示范村后山杉木林约260亩，林相整齐，临近村道，适合林下中药材种植与森林康养步道。",
        suggested_use="林下经济、森林康养",
        assets=[forest],
    )
    packages.mark_package_ready(actor=staff, package=package)
    listing = listings.create_listing(
        actor=staff,
        title="示范村后山杉木林十年经营权出租（演示）",
        package=package,
        trade_kind=TradeKind.LEASE,
        mode=ListingMode.AUCTION,
        term_start=today + datetime.timedelta(days=30),
        term_end=(today + datetime.timedelta(days=30)).replace(year=today.year + 10),
        reserve_price=Decimal("600000.00"),
        deposit=Decimal("60000.00"),
        increment=Decimal("10000.00"),
        description="杉木中龄林，经营期内可开展林下种植和康养步道建设，不得采伐主林层。",
        qualification_requirements="依法设立的企业或合作社，具有林下经济或康养项目经营经验。",
        payment_terms="成交后签订合同，保证金转作首期价款；余款按年支付。",
        obligations="保护森林资源，落实森林防火责任；不得改变林地用途；期满恢复原状。",
    )
    listing = listings.publish_listing(actor=staff, listing=listing, notice_days=10, bidding_minutes=60)
    application = listings.apply_for_listing(
        actor=investor, listing=listing, statement="本公司在莲都区经营两处森林康养基地（演示）。"
    )
    listings.review_application(actor=staff, application=application, approve=True, note="资格符合")
    listings.record_deposit(
        actor=staff,
        application=application,
        amount=listing.deposit,
        reference="DEMO-BANK-0001",
        occurred_on=today,
        idempotency_key="demo-deposit-0001",
    )
    if not Demand.objects.filter(intended_use__startswith="精品民宿").exists():
        demands.post_demand(
            actor=investor,
            resource_type=None,
            division=forest.division.parent or forest.division,
            min_area_m2=Decimal("100"),
            max_area_m2=None,
            budget=Decimal("800000.00"),
            term_years=10,
            intended_use="精品民宿及森林康养（演示）",
        )
    return listing
