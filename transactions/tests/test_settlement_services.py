"""Investor payments, schedule payouts and reversals through the services and PostgreSQL."""

# ruff: noqa: F811  (the `build` fixture is imported)
import datetime
from decimal import Decimal

import pytest

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role, User
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import (
    AccountKind,
    ContractStatus,
    InstallmentStatus,
    Movement,
    MovementKind,
    RevenueModel,
    ScheduleKind,
    ScheduleStatus,
)
from transactions.services import ledger, settlement
from transactions.tests.test_settlement_support import build, ledger_total  # noqa: F401

PAID_ON = datetime.date(2026, 3, 1)
START_2024 = datetime.date(2024, 1, 1)


@pytest.fixture
def trade(build):
    return build.trade([build.asset()], installments=("1000.00", "2000.00", "3000.00"))


def _pay(actor, contract, amount, **kw):
    kw.setdefault("occurred_on", PAID_ON)
    kw.setdefault("reference", "BANK-001")
    return settlement.record_investor_payment(actor=actor, contract=contract, amount=amount, **kw)


def test_payment_is_applied_oldest_first_and_posted(county_staff, build, trade):
    movement = _pay(county_staff, trade, "1500.50")
    assert movement.kind == MovementKind.PAYMENT_RECEIVED and movement.trade_contract == trade
    assert movement.reference == "BANK-001" and movement.occurred_on == PAID_ON
    rows = list(trade.installments.order_by("sequence").values_list("paid_amount", "status"))
    assert rows == [
        (Decimal("1000.00"), InstallmentStatus.PAID),
        (Decimal("500.50"), InstallmentStatus.PARTLY_PAID),
        (Decimal("0.00"), InstallmentStatus.DUE),
    ]
    assert ledger.balance(AccountKind.CASH, build.coop_party) == Decimal("1500.50")
    assert ledger.balance(AccountKind.RECEIVABLE, build.investor_party) == Decimal("4499.50")
    _pay(county_staff, trade, "4499.50", reference="BANK-002")
    assert set(trade.installments.values_list("status", flat=True)) == {InstallmentStatus.PAID}
    assert ledger.balance(AccountKind.RECEIVABLE, build.investor_party) == 0
    assert ledger_total() == 0


def test_overpayment_is_refused_with_the_outstanding_amount(county_staff, trade):
    _pay(county_staff, trade, "5000.00")
    with pytest.raises(DomainError, match=r"1000\.00") as caught:
        _pay(county_staff, trade, "1000.01")
    assert caught.value.code == "overpayment" and "amount" in caught.value.fields
    assert Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).count() == 1
    assert sum(trade.installments.values_list("paid_amount", flat=True)) == Decimal("5000.00")


@pytest.mark.parametrize(
    ("amount", "reference", "occurred_on", "field"),
    [
        ("0", "B", PAID_ON, "amount"),
        ("-5", "B", PAID_ON, "amount"),
        ("12.345", "B", PAID_ON, "amount"),
        ("abc", "B", PAID_ON, "amount"),
        ("10", "  ", PAID_ON, "reference"),
        ("10", "B", datetime.date(2999, 1, 1), "occurred_on"),
        ("10", "B", "not-a-date", "occurred_on"),
    ],
)
def test_bad_payment_input_writes_nothing(county_staff, trade, amount, reference, occurred_on, field):
    with pytest.raises(DomainError) as caught:
        _pay(county_staff, trade, amount, reference=reference, occurred_on=occurred_on)
    assert field in caught.value.fields
    assert not Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).exists()
    assert not trade.installments.filter(paid_amount__gt=0).exists()


def test_idempotent_payment_returns_the_same_movement(county_staff, build, trade):
    first = _pay(county_staff, trade, "100.00", idempotency_key="pay-1")
    again = _pay(county_staff, trade, "100.00", idempotency_key="pay-1")
    assert again == first
    assert Movement.objects.filter(kind=MovementKind.PAYMENT_RECEIVED).count() == 1
    assert trade.installments.get(sequence=1).paid_amount == Decimal("100.00")
    other = build.trade([build.asset()])
    with pytest.raises(ConflictError):
        _pay(county_staff, other, "100.00", idempotency_key="pay-1")


def test_contract_status_rules(county_staff, build):
    draft = build.trade([build.asset()], status=ContractStatus.DRAFT)
    with pytest.raises(ConflictError, match="不能收款"):
        _pay(county_staff, draft, "10")
    ended = build.trade([build.asset()], status=ContractStatus.TERMINATED)
    _pay(county_staff, ended, "1000.00")  # outstanding installments may still be paid
    with pytest.raises(ConflictError, match="不能收款"):
        _pay(county_staff, ended, "1")
    assert ledger_total() == 0


@pytest.fixture
def outsiders(investor, make_member, demo_region):
    """An investor, the village clerk and the staff of another county's cooperative."""
    clerk = User.objects.get(username="village_clerk")
    other_coop = Organization.objects.create(
        name="青田县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331121000000"),
    )
    return [investor, clerk, make_member(Role.COOP_STAFF, other_coop)]


def test_permissions(build, trade, outsiders, households):
    contract = build.collection([(households[0], 1)], model=RevenueModel.FIXED_RENT, annual=Decimal("10"))
    build.schedule(
        contract,
        kind=ScheduleKind.RENT,
        due=START_2024,
        period_start=START_2024,
        period_end=datetime.date(2025, 1, 1),
        amount="10.00",
    )
    for actor in outsiders:
        with pytest.raises(PermissionDeniedError):
            _pay(actor, trade, "10")
        with pytest.raises(PermissionDeniedError):
            settlement.pay_scheduled_payments(
                actor=actor, contract=contract, due_on_or_before=PAID_ON, reference="B", occurred_on=PAID_ON
            )
    # Without a contract, another county's staff pay only within their reach: nothing here.
    assert (
        settlement.pay_scheduled_payments(
            actor=outsiders[2], due_on_or_before=PAID_ON, reference="B", occurred_on=PAID_ON
        )
        == []
    )
    assert not Movement.objects.filter(kind__in=[MovementKind.PAYMENT_RECEIVED, MovementKind.PAYOUT]).exists()
    assert contract.schedule.get().status == ScheduleStatus.DUE


def test_scheduled_payments_pay_once_and_empty_payable(county_staff, build, households):
    contract = build.collection(
        [(households[0], "1/3"), (households[1], "2/3")],
        model=RevenueModel.FIXED_RENT,
        annual=Decimal("300.00"),
    )
    build.schedule(
        contract,
        kind=ScheduleKind.RENT,
        due=datetime.date(2025, 1, 1),
        period_start=datetime.date(2024, 1, 1),
        period_end=datetime.date(2025, 1, 1),
        amount="100.01",
    )
    later = build.schedule(
        contract,
        kind=ScheduleKind.RENT,
        due=datetime.date(2030, 1, 1),
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2026, 1, 1),
        amount="50.00",
    )
    cash_before = ledger.balance(AccountKind.CASH, build.coop_party)
    paid = settlement.pay_scheduled_payments(
        actor=county_staff,
        contract=contract,
        due_on_or_before=datetime.date(2026, 1, 1),
        reference="PAY-1",
        occurred_on=PAID_ON,
    )
    assert len(paid) == 2 and {line.status for line in paid} == {ScheduleStatus.PAID}
    movement = paid[0].movement
    assert movement.kind == MovementKind.PAYOUT and movement.collection_contract == contract
    assert ledger.balance(AccountKind.CASH, build.coop_party) == cash_before - Decimal("200.02")
    assert ledger.balance(AccountKind.COLLECTION_COST, build.coop_party) == Decimal("200.02")
    for party in households[:2]:
        assert ledger.balance(AccountKind.PAYABLE, party) == 0
    assert all(line.status == ScheduleStatus.DUE for line in later if line.refresh_from_db() is None)
    again = settlement.pay_scheduled_payments(
        actor=county_staff, due_on_or_before=datetime.date(2026, 1, 1), reference="PAY-2", occurred_on=PAID_ON
    )
    assert again == []
    assert Movement.objects.filter(kind=MovementKind.PAYOUT).count() == 1
    assert ledger_total() == 0


def test_reversal_of_payment_and_payout_restores_state(county_staff, build, trade, households):
    payment = _pay(county_staff, trade, "1500.00")
    with pytest.raises(DomainError, match="冲正原因"):
        settlement.reverse_movement(actor=county_staff, movement=payment, reason=" ")
    reversal = settlement.reverse_movement(actor=county_staff, movement=payment, reason="金额录错")
    assert reversal.kind == MovementKind.REVERSAL and reversal.reverses == payment
    assert not trade.installments.filter(paid_amount__gt=0).exists()
    assert set(trade.installments.values_list("status", flat=True)) == {InstallmentStatus.DUE}
    assert ledger.balance(AccountKind.CASH, build.coop_party) == 0
    with pytest.raises(ConflictError, match="已冲正"):
        settlement.reverse_movement(actor=county_staff, movement=payment, reason="again")

    contract = build.collection([(households[0], 1)], model=RevenueModel.FIXED_RENT, annual=Decimal("10"))
    build.schedule(
        contract,
        kind=ScheduleKind.RENT,
        due=datetime.date(2025, 1, 1),
        period_start=START_2024,
        period_end=datetime.date(2025, 1, 1),
        amount="10.00",
    )
    (line,) = settlement.pay_scheduled_payments(
        actor=county_staff, contract=contract, due_on_or_before=PAID_ON, reference="R", occurred_on=PAID_ON
    )
    settlement.reverse_movement(actor=county_staff, movement=line.movement, reason="重复支付")
    line.refresh_from_db()
    assert line.status == ScheduleStatus.DUE and line.movement is None
    price_due = Movement.objects.get(kind=MovementKind.PRICE_DUE, trade_contract=trade)
    with pytest.raises(ConflictError, match="不能在结算中冲正"):
        settlement.reverse_movement(actor=county_staff, movement=price_due, reason="x")
    assert ledger_total() == 0


def test_reversal_is_staff_only(trade, investor, county_staff):
    payment = _pay(county_staff, trade, "10.00")
    with pytest.raises(PermissionDeniedError):
        settlement.reverse_movement(actor=investor, movement=payment, reason="x")
    assert not Movement.objects.filter(kind=MovementKind.REVERSAL).exists()
