# ruff: noqa: F811  (fixtures imported from test_contracts_fixtures)
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Notification
from directory.services import ensure_party
from resources import services as registry
from resources.models import AssetStatus, Restriction, RestrictionKind, Right, RightKind, RightStatus
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError
from transactions.models import (
    AccountKind,
    ContractStatus,
    DepositStatus,
    InstallmentStatus,
    ListingStatus,
    Movement,
    MovementKind,
    PackageStatus,
    PaymentFrequency,
    TradeContract,
    TradeContractItem,
    TradeInstallment,
    TradeKind,
)
from transactions.services import contracts
from transactions.services.ledger import balance

from .conftest import TERM_END, TERM_START
from .test_contracts_fixtures import (  # noqa: F401  (fixtures)
    COLLECTION_END,
    collected_assets,
    other_county_staff,
    sold_listing,
    village_clerk,
)

pytestmark = pytest.mark.django_db


def create(staff, listing, frequency=PaymentFrequency.ANNUAL, **kw):
    return contracts.create_trade_contract(actor=staff, listing=listing, payment_frequency=frequency, **kw)


def signed(staff, listing, frequency=PaymentFrequency.ANNUAL):
    return contracts.sign_trade_contract(actor=staff, contract=create(staff, listing, frequency))


# --- schedule -------------------------------------------------------------------------------


def test_installment_plan_adds_up_for_awkward_price():
    plan = contracts.installment_plan(
        Decimal("100000.01"), datetime.date(2026, 1, 31), datetime.date(2029, 1, 31), "quarterly"
    )
    assert len(plan) == 12
    assert sum(a for _d, a in plan) == Decimal("100000.01")
    assert plan[0][0] == datetime.date(2026, 1, 31)
    assert plan[1][0] == datetime.date(2026, 4, 30)  # clamped month end
    assert plan[4][0] == datetime.date(2027, 1, 31)
    # Longer quarters pay more: Q1 2026 (31 Jan → 30 Apr, 89 days) < Q3 (31 Jul → 31 Oct, 92 days).
    assert plan[0][1] < plan[2][1]


def test_installment_plan_partial_last_period_and_once():
    plan = contracts.installment_plan(
        Decimal("1000.00"), datetime.date(2026, 1, 1), datetime.date(2027, 7, 1), "annual"
    )
    assert [d for d, _a in plan] == [datetime.date(2026, 1, 1), datetime.date(2027, 1, 1)]
    assert [a for _d, a in plan] == [
        Decimal("668.50"),
        Decimal("331.50"),
    ]  # 365 : 181 days, the spare cent to the larger remainder
    assert contracts.installment_plan(Decimal("5.00"), TERM_START, TERM_END, "once") == [
        (TERM_START, Decimal("5.00"))
    ]


# --- create ---------------------------------------------------------------------------------


def test_create_from_sold_listing(sold_listing, county_staff, investor_org, county_cooperative):
    listing = sold_listing(price=Decimal("100000.01"))
    contract = create(county_staff, listing, PaymentFrequency.QUARTERLY)
    assert contract.status == ContractStatus.DRAFT
    assert contract.number.startswith(f"JY{timezone.localdate().year}")
    assert contract.investor == investor_org
    assert contract.cooperative == county_cooperative
    assert (contract.kind, contract.start_date, contract.end_date) == (TradeKind.LEASE, TERM_START, TERM_END)
    assert contract.obligations == "保持林地用途不变。"
    assert contract.items.count() == 2
    installments = list(contract.installments.all())
    assert len(installments) == 20
    assert sum(i.amount for i in installments) == Decimal("100000.01")
    assert installments[0].due_date == TERM_START
    assert installments[1].due_date == datetime.date(2026, 4, 1)


def test_create_once_single_asset(sold_listing, county_staff):
    listing = sold_listing(package=False, n=1)
    contract = create(county_staff, listing, PaymentFrequency.ONCE, obligations=" 自定义义务 ")
    assert [(i.due_date, i.amount) for i in contract.installments.all()] == [
        (TERM_START, Decimal("100000.00"))
    ]
    assert contract.obligations == "自定义义务"
    assert contract.items.get().asset == listing.asset


def test_create_refusals(sold_listing, county_staff, investor, village_clerk, other_county_staff):
    listing = sold_listing()
    for actor in (investor, village_clerk, other_county_staff):
        with pytest.raises(PermissionDeniedError):
            create(actor, listing)
    with pytest.raises(DomainError) as bad:
        create(county_staff, listing, "weekly")
    assert "payment_frequency" in bad.value.fields
    create(county_staff, listing)
    with pytest.raises(ConflictError, match="已有交易合同"):
        create(county_staff, listing)
    assert TradeContract.objects.count() == 1

    not_sold = sold_listing()
    not_sold.status = ListingStatus.BIDDING
    not_sold.save()
    with pytest.raises(ConflictError, match="只有已成交"):
        create(county_staff, not_sold)
    assert not TradeContract.objects.filter(listing=not_sold).exists()


# --- sign: lease ----------------------------------------------------------------------------


def test_sign_lease_registers_leases_and_books_price(
    sold_listing, county_staff, investor_org, county_cooperative
):
    listing = sold_listing(price=Decimal("100000.00"), deposit=Decimal("10000.00"))
    contract = signed(county_staff, listing)
    investor_party, coop_party = ensure_party(investor_org), ensure_party(county_cooperative)
    assert contract.status == ContractStatus.SIGNED and contract.signed_by == county_staff
    for item in contract.items.select_related("lease", "asset"):
        assert item.lease.kind == RestrictionKind.LEASE
        assert item.lease.holder == investor_party
        assert (item.lease.period.lower, item.lease.period.upper) == (TERM_START, TERM_END)
        assert item.lease.source_document == f"交易合同 {contract.number}"
        assert item.asset.status == AssetStatus.LEASED
    listing.refresh_from_db()
    assert listing.status == ListingStatus.CONTRACTED
    assert listing.package.status == PackageStatus.CONTRACTED
    assert balance(AccountKind.RECEIVABLE, investor_party) == Decimal("90000.00")
    assert balance(AccountKind.DEPOSIT_HELD, investor_party) == Decimal("0.00")
    assert balance(AccountKind.TRADE_INCOME, coop_party) == Decimal("-100000.00")
    kinds = set(contract.movements.values_list("kind", flat=True))
    assert kinds == {MovementKind.PRICE_DUE, MovementKind.DEPOSIT_APPLIED}
    assert all(m.listing_id == listing.pk for m in contract.movements.all())
    assert listing.winning_bid.application.__class__.objects.get(
        pk=listing.winning_bid.application_id
    ).deposit_status == (DepositStatus.APPLIED)
    first, second = contract.installments.all()[:2]
    assert (first.paid_amount, first.status) == (Decimal("10000.00"), InstallmentStatus.PARTLY_PAID)
    assert (second.paid_amount, second.status) == (Decimal("0.00"), InstallmentStatus.DUE)
    assert Notification.objects.filter(recipient__username="investor", title="交易合同已签订").exists()


def test_deposit_larger_than_first_installment_is_applied_oldest_first(sold_listing, county_staff):
    contract = signed(
        county_staff, sold_listing(price=Decimal("1000.00"), deposit=Decimal("300.00")), "quarterly"
    )
    rows = list(contract.installments.all())
    covered = [i for i in rows if i.status == InstallmentStatus.PAID]
    assert len(covered) == 6 and all(i.paid_amount == i.amount for i in covered)
    assert rows[:6] == covered  # oldest first
    assert rows[6].status == InstallmentStatus.PARTLY_PAID and 0 < rows[6].paid_amount < rows[6].amount
    assert all(i.paid_amount == 0 for i in rows[7:])
    assert sum(i.paid_amount for i in contract.installments.all()) == Decimal("300.00")


def test_sign_twice_and_unauthorised(sold_listing, county_staff, investor, village_clerk, other_county_staff):
    contract = create(county_staff, sold_listing())
    for actor in (investor, village_clerk, other_county_staff):
        with pytest.raises(PermissionDeniedError):
            contracts.sign_trade_contract(actor=actor, contract=contract)
    contracts.sign_trade_contract(actor=county_staff, contract=contract)
    with pytest.raises(InvalidTransition):
        contracts.sign_trade_contract(actor=county_staff, contract=contract)
    assert Movement.objects.filter(trade_contract=contract, kind=MovementKind.PRICE_DUE).count() == 1


def test_lease_overlap_is_refused_and_nothing_stays(sold_listing, collected_assets, county_staff, household):
    assets = collected_assets(2)
    registry.add_lease(
        actor=county_staff,
        asset=assets[1],
        holder=household,
        start=datetime.date(2029, 1, 1),
        end=datetime.date(2033, 1, 1),
        source_document="旧租赁",
    )
    listing = sold_listing(assets=assets)
    contract = create(county_staff, listing)
    with pytest.raises(ConflictError, match="已出租给"):
        contracts.sign_trade_contract(actor=county_staff, contract=contract)
    contract.refresh_from_db()
    listing.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT and listing.status == ListingStatus.SOLD
    assert Restriction.objects.filter(kind=RestrictionKind.LEASE).count() == 1
    assert not Movement.objects.filter(trade_contract=contract).exists()
    assert {a.status for a in type(assets[0]).objects.filter(pk__in=[a.pk for a in assets])} == {
        AssetStatus.LISTED
    }


# --- sign: transfer -------------------------------------------------------------------------


def test_sign_transfer_supersedes_the_cooperative_right(
    sold_listing, county_staff, investor_org, county_cooperative
):
    listing = sold_listing(kind=TradeKind.TRANSFER, n=1)
    contract = signed(county_staff, listing)
    item = contract.items.select_related("right", "asset").get()
    coop = ensure_party(county_cooperative)
    assert item.right.holder == ensure_party(investor_org)
    assert item.right.kind == RightKind.MANAGEMENT
    assert (item.right.period.lower, item.right.period.upper) == (TERM_START, TERM_END)
    assert item.right.supersedes.holder == coop and item.right.supersedes.status == RightStatus.ENDED
    coop_active = Right.objects.filter(asset=item.asset, holder=coop, status=RightStatus.ACTIVE).order_by(
        "period"
    )
    assert [(r.period.lower, r.period.upper) for r in coop_active] == [
        (datetime.date(2025, 1, 1), TERM_START),
        (TERM_END, COLLECTION_END),
    ]
    assert item.asset.status == AssetStatus.LEASED


def test_transfer_term_outside_cooperative_right_is_refused(sold_listing, collected_assets, county_staff):
    assets = collected_assets(1, end=datetime.date(2030, 1, 1))  # collected only until 2030
    contract = create(county_staff, sold_listing(kind=TradeKind.TRANSFER, assets=assets))
    with pytest.raises(ConflictError, match="不在合作社有效的经营权"):
        contracts.sign_trade_contract(actor=county_staff, contract=contract)
    assert (
        Right.objects.filter(asset=assets[0], kind=RightKind.MANAGEMENT, status=RightStatus.ACTIVE).count()
        == 1
    )
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


# --- terminate ------------------------------------------------------------------------------


def test_terminate_lease_cancels_future_installments_and_reverses(
    sold_listing, county_staff, investor_org, county_cooperative
):
    contract = signed(county_staff, sold_listing(price=Decimal("100000.00")))
    effective = datetime.date(2028, 6, 1)
    contracts.terminate_trade_contract(
        actor=county_staff, contract=contract, reason="受让方违约", effective_date=effective
    )
    contract.refresh_from_db()
    assert contract.status == ContractStatus.TERMINATED and contract.end_reason == "受让方违约"
    for item in contract.items.select_related("lease", "asset"):
        assert item.lease.status == RightStatus.ENDED
        assert item.asset.status == AssetStatus.COLLECTED
    statuses = dict(contract.installments.values_list("due_date", "status"))
    assert statuses[datetime.date(2028, 1, 1)] == InstallmentStatus.DUE
    assert statuses[datetime.date(2029, 1, 1)] == InstallmentStatus.CANCELLED
    assert statuses[datetime.date(2030, 1, 1)] == InstallmentStatus.CANCELLED
    cancelled = sum(i.amount for i in contract.installments.all() if i.status == InstallmentStatus.CANCELLED)
    reversal = contract.movements.get(kind=MovementKind.REVERSAL)
    assert reversal.occurred_on == effective and "解除" in reversal.memo
    investor_party = ensure_party(investor_org)
    assert balance(AccountKind.RECEIVABLE, investor_party) == Decimal("90000.00") - cancelled
    assert balance(AccountKind.TRADE_INCOME, ensure_party(county_cooperative)) == -(
        Decimal("100000.00") - cancelled
    )
    with pytest.raises(InvalidTransition):
        contracts.terminate_trade_contract(
            actor=county_staff, contract=contract, reason="再次", effective_date=effective
        )
    assert contract.movements.filter(kind=MovementKind.REVERSAL).count() == 1


def test_terminate_refusals(sold_listing, county_staff, investor, other_county_staff):
    draft = create(county_staff, sold_listing())
    with pytest.raises(InvalidTransition):
        contracts.terminate_trade_contract(
            actor=county_staff, contract=draft, reason="x", effective_date=datetime.date(2027, 1, 1)
        )
    contract = signed(county_staff, sold_listing())
    for day in (datetime.date(2025, 12, 31), TERM_END):
        with pytest.raises(DomainError) as bad:
            contracts.terminate_trade_contract(
                actor=county_staff, contract=contract, reason="x", effective_date=day
            )
        assert "effective_date" in bad.value.fields
    with pytest.raises(DomainError):
        contracts.terminate_trade_contract(
            actor=county_staff, contract=contract, reason="  ", effective_date=datetime.date(2027, 1, 1)
        )
    for actor in (investor, other_county_staff):
        with pytest.raises(PermissionDeniedError):
            contracts.terminate_trade_contract(
                actor=actor, contract=contract, reason="x", effective_date=datetime.date(2027, 1, 1)
            )
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED
    assert not contract.movements.filter(kind=MovementKind.REVERSAL).exists()


def test_terminate_transfer_returns_right_to_cooperative(sold_listing, county_staff, county_cooperative):
    contract = signed(county_staff, sold_listing(kind=TradeKind.TRANSFER, n=1))
    effective = datetime.date(2027, 3, 1)
    contracts.terminate_trade_contract(
        actor=county_staff, contract=contract, reason="协商解除", effective_date=effective
    )
    item = contract.items.select_related("right", "asset").get()
    item.right.refresh_from_db()
    assert item.right.status == RightStatus.ENDED
    coop = ensure_party(county_cooperative)
    active = Right.objects.filter(asset=item.asset, holder=coop, status=RightStatus.ACTIVE).order_by("period")
    assert [(r.period.lower, r.period.upper) for r in active] == [
        (datetime.date(2025, 1, 1), TERM_START),
        (effective, COLLECTION_END),
    ]
    item.asset.refresh_from_db()
    assert item.asset.status == AssetStatus.COLLECTED


# --- expire ---------------------------------------------------------------------------------


def test_expire_is_idempotent(sold_listing, county_staff):
    contract = signed(county_staff, sold_listing())
    assert contracts.expire_trade_contracts(today=TERM_END - datetime.timedelta(days=1)) == 0
    assert contracts.expire_trade_contracts(today=TERM_END) == 1
    assert contracts.expire_trade_contracts(today=TERM_END) == 0
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXPIRED
    assert {i.asset.status for i in contract.items.select_related("asset")} == {AssetStatus.COLLECTED}


def test_expire_task_calls_service(sold_listing, county_staff, celery_eager, monkeypatch):
    from transactions import tasks
    from transactions.services import collection

    signed(county_staff, sold_listing(start=datetime.date(2020, 1, 1), end=datetime.date(2021, 1, 1)))
    monkeypatch.setattr(collection, "expire_collection_contracts", lambda: 0, raising=False)
    assert tasks.expire_contracts.delay().get() == 1
    assert tasks.expire_contracts.delay().get() == 0


# --- renew ----------------------------------------------------------------------------------


def test_renew_lease(sold_listing, county_staff, investor_org):
    contract = signed(county_staff, sold_listing(price=Decimal("100000.00")))
    renewal = contracts.renew_trade_contract(
        actor=county_staff,
        contract=contract,
        end_date=datetime.date(2036, 1, 1),
        price="120000.50",
        payment_frequency="semiannual",
    )
    assert renewal.status == ContractStatus.DRAFT and renewal.renewal_of == contract
    assert (renewal.start_date, renewal.price) == (TERM_END, Decimal("120000.50"))
    assert renewal.installments.count() == 10
    assert sum(i.amount for i in renewal.installments.all()) == Decimal("120000.50")
    with pytest.raises(ConflictError, match="已有续签"):
        contracts.renew_trade_contract(
            actor=county_staff,
            contract=contract,
            end_date=datetime.date(2036, 1, 1),
            price="1",
            payment_frequency="annual",
        )
    contracts.sign_trade_contract(actor=county_staff, contract=renewal)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.RENEWED
    leases = Restriction.objects.filter(kind=RestrictionKind.LEASE, status=RightStatus.ACTIVE).order_by(
        "period"
    )
    assert len(leases) == 4
    assert {(r.period.lower, r.period.upper) for r in leases} == {
        (TERM_START, TERM_END),
        (TERM_END, datetime.date(2036, 1, 1)),
    }
    assert balance(AccountKind.RECEIVABLE, ensure_party(investor_org)) == Decimal("90000.00") + Decimal(
        "120000.50"
    )
    assert contracts.expire_trade_contracts(today=datetime.date(2032, 1, 1)) == 0  # the old one is renewed


def test_renew_transfer_uses_cooperative_tail_right(sold_listing, county_staff, investor_org):
    contract = signed(county_staff, sold_listing(kind=TradeKind.TRANSFER, n=1))
    renewal = contracts.renew_trade_contract(
        actor=county_staff,
        contract=contract,
        end_date=datetime.date(2035, 1, 1),
        price="50000",
        payment_frequency="once",
    )
    contracts.sign_trade_contract(actor=county_staff, contract=renewal)
    item = renewal.items.select_related("right").get()
    assert item.right.holder == ensure_party(investor_org)
    assert (item.right.period.lower, item.right.period.upper) == (TERM_END, datetime.date(2035, 1, 1))


def test_renew_refusals(sold_listing, county_staff, investor):
    draft = create(county_staff, sold_listing())
    with pytest.raises(InvalidTransition):
        contracts.renew_trade_contract(
            actor=county_staff,
            contract=draft,
            end_date=datetime.date(2035, 1, 1),
            price="1",
            payment_frequency="annual",
        )
    contract = signed(county_staff, sold_listing())
    cases = [
        ({"end_date": COLLECTION_END + datetime.timedelta(days=1)}, "end_date"),
        ({"end_date": TERM_END}, "end_date"),
        ({"price": "abc"}, "price"),
        ({"price": "-5"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"payment_frequency": "daily"}, "payment_frequency"),
    ]
    for override, field in cases:
        args = {
            "end_date": datetime.date(2035, 1, 1),
            "price": "1000",
            "payment_frequency": "annual",
            **override,
        }
        with pytest.raises(DomainError) as bad:
            contracts.renew_trade_contract(actor=county_staff, contract=contract, **args)
        assert field in bad.value.fields
    with pytest.raises(PermissionDeniedError):
        contracts.renew_trade_contract(
            actor=investor,
            contract=contract,
            end_date=datetime.date(2035, 1, 1),
            price="1",
            payment_frequency="annual",
        )
    assert not TradeContract.objects.filter(renewal_of=contract).exists()


# --- abandon --------------------------------------------------------------------------------


def test_abandon_sale_forfeits_deposit(sold_listing, county_staff, investor_org, county_cooperative):
    listing = sold_listing(closed_at=timezone.now() - datetime.timedelta(days=8))
    create(county_staff, listing)  # an unsigned draft goes with the sale
    contracts.abandon_sale(actor=county_staff, listing=listing, reason="竞得人逾期未签约")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.FAILED
    assert listing.package.status == PackageStatus.READY
    application = listing.applications.get()
    assert application.deposit_status == DepositStatus.FORFEITED
    assert balance(AccountKind.DEPOSIT_HELD, ensure_party(investor_org)) == Decimal("0.00")
    assert balance(AccountKind.FORFEIT_INCOME, ensure_party(county_cooperative)) == Decimal("-10000.00")
    assert Movement.objects.filter(listing=listing, kind=MovementKind.DEPOSIT_FORFEITED).count() == 1
    assert {i.asset.status for i in listing.package.items.select_related("asset")} == {AssetStatus.COLLECTED}
    assert not TradeContract.objects.filter(listing=listing).exists()
    assert not TradeContractItem.objects.exists() and not TradeInstallment.objects.exists()
    with pytest.raises(InvalidTransition):
        contracts.abandon_sale(actor=county_staff, listing=listing, reason="再次")


def test_abandon_refusals(sold_listing, county_staff, investor, settings):
    listing = sold_listing()
    with pytest.raises(ConflictError, match="签约期限"):
        contracts.abandon_sale(actor=county_staff, listing=listing, reason="太早")
    with pytest.raises(PermissionDeniedError):
        contracts.abandon_sale(actor=investor, listing=listing, reason="x")
    settings.TMCS_CONTRACT_SIGNING_DAYS = 0
    signed(county_staff, listing)
    listing.refresh_from_db()
    with pytest.raises(InvalidTransition):
        contracts.abandon_sale(actor=county_staff, listing=listing, reason="已签约")
    assert listing.applications.get().deposit_status == DepositStatus.APPLIED
    assert not Movement.objects.filter(kind=MovementKind.DEPOSIT_FORFEITED).exists()
