"""Revenue distribution through the services and PostgreSQL: income attribution, dividend
arithmetic, exact largest-remainder lines, ledger postings, payouts and refusals."""

# ruff: noqa: F811  (the `build` fixture is imported)
import datetime
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.models import AdministrativeDivision, Notification, Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import (
    AccountKind,
    Distribution,
    DistributionKind,
    DistributionLine,
    Movement,
    MovementKind,
    Posting,
    RevenueModel,
    ScheduleKind,
    ScheduleStatus,
)
from transactions.services import distribution as dist
from transactions.services import ledger, settlement
from transactions.tests.test_settlement_support import assets_of, build, ledger_total  # noqa: F401

Y2025 = datetime.date(2025, 1, 1)
Y2026 = datetime.date(2026, 1, 1)
PAID_ON = datetime.date(2025, 6, 1)


def _receive(actor, trade, amount, on=PAID_ON):
    return settlement.record_investor_payment(
        actor=actor, contract=trade, amount=amount, occurred_on=on, reference=f"B-{amount}"
    )


def _declare(actor, contract, kind=DistributionKind.DIVIDEND, start=Y2025, end=Y2026):
    return dist.declare_distribution(
        actor=actor, contract=contract, kind=kind, period_start=start, period_end=end
    )


@pytest.fixture
def holders(demo_region, county_cooperative):
    parties = []
    for n in range(6):
        org = Organization.objects.create(
            name=f"收益人{n}（测试）", kind=OrganizationKind.ENTERPRISE, division=county_cooperative.division
        )
        parties.append(ensure_party(org))
    return parties


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    weights=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6),
    paid_cents=st.integers(min_value=1, max_value=10**10),
    rate=st.integers(min_value=1, max_value=10_000),
)
def test_distribution_lines_add_up_exactly(county_staff, build, holders, weights, paid_cents, rate):
    shares = [Fraction(w, sum(weights)) for w in weights]
    assert sum(shares) == 1
    rate = Decimal(rate) / 10_000
    contract = build.collection(list(zip(holders, shares, strict=False)), rate=rate)
    paid = Decimal(paid_cents) / 100
    trade = build.trade(assets_of(contract), installments=(str(paid),))
    _receive(county_staff, trade, paid)
    distribution = _declare(county_staff, contract)

    expected = (paid * rate).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    assert distribution.income == paid and distribution.amount == expected
    lines = list(distribution.lines.select_related("beneficiary").order_by("beneficiary_id"))
    assert len(lines) == len(shares)
    assert sum(line.amount for line in lines) == expected
    for line, share in zip(lines, shares, strict=True):
        assert abs(Fraction(line.amount) - Fraction(expected) * share) < Fraction(1, 100)
    credits = {
        p.account.party_id: -p.amount
        for p in Posting.objects.filter(
            movement__distribution=distribution, account__kind=AccountKind.PAYABLE
        ).select_related("account")
    }
    assert credits == {line.beneficiary.party_id: line.amount for line in lines if line.amount}
    assert ledger_total() == 0


def test_income_is_apportioned_by_collection_weights(county_staff, build, households):
    ours = build.collection([(households[0], 1)], weights=[Decimal("1000")], rate=Decimal("1"))
    theirs = build.collection([(households[1], 1)], weights=[Decimal("3000")], rate=Decimal("1"))
    trade = build.trade(assets_of(ours) + assets_of(theirs), installments=("1000.00", "3000.00", "999.99"))
    _receive(county_staff, trade, "1000.00")
    _receive(county_staff, trade, "0.03")
    outside = _receive(county_staff, trade, "500.00", on=datetime.date(2026, 2, 1))
    mistaken = _receive(county_staff, trade, "40.00")
    settlement.reverse_movement(actor=county_staff, movement=mistaken, reason="错账")

    income = dist.attributed_income(ours, Y2025, Y2026)
    # 1000.00 → 250.00 / 750.00; 0.03 → 0.01 / 0.02 (largest remainder); the 2026 payment and the
    # reversed one do not count.
    assert income["total"] == Decimal("250.01")
    assert [p["attributed"] for p in income["payments"]] == ["250.00", "0.01"]
    assert outside.pk not in [p["movement"] for p in income["payments"]]
    assert dist.attributed_income(theirs, Y2025, Y2026)["total"] == Decimal("750.02")


def test_second_dividend_subtracts_guaranteed_paid_and_is_never_negative(county_staff, build, households):
    contract = build.collection(
        [(households[0], "1/2"), (households[1], "1/2")],
        model=RevenueModel.GUARANTEED_PLUS_DIVIDEND,
        rate=Decimal("0.5"),
        annual=Decimal("3000.00"),
    )
    build.schedule(
        contract,
        kind=ScheduleKind.GUARANTEED,
        due=Y2025,
        period_start=Y2025,
        period_end=Y2026,
        amount="1500.00",
    )
    build.schedule(  # a period outside the distribution's: not subtracted
        contract,
        kind=ScheduleKind.GUARANTEED,
        due=Y2025,
        period_start=datetime.date(2024, 1, 1),
        period_end=Y2025,
        amount="7.00",
    )
    settlement.pay_scheduled_payments(
        actor=county_staff, contract=contract, due_on_or_before=Y2025, reference="G", occurred_on=Y2025
    )
    trade = build.trade(assets_of(contract), installments=("10000.01",))
    _receive(county_staff, trade, "10000.01")
    with pytest.raises(DomainError, match="二次分红"):
        _declare(county_staff, contract, kind=DistributionKind.DIVIDEND)
    second = _declare(county_staff, contract, kind=DistributionKind.SECOND_DIVIDEND)
    # 10000.01 × 0.5 = 5000.005 − 3000.00 guaranteed = 2000.005 → 2000.00 (rounded down)
    assert (second.income, second.guaranteed_paid, second.amount) == (
        Decimal("10000.01"),
        Decimal("3000.00"),
        Decimal("2000.00"),
    )
    assert second.calculation["already_paid"] == "3000.00" and Decimal(
        second.calculation["gross"]
    ) == Decimal("5000.005")
    assert sorted(second.lines.values_list("amount", flat=True)) == [Decimal("1000.00")] * 2

    lean = build.collection(
        [(households[0], 1)], model=RevenueModel.GUARANTEED_PLUS_DIVIDEND, rate=Decimal("0.1")
    )
    build.schedule(
        lean, kind=ScheduleKind.GUARANTEED, due=Y2025, period_start=Y2025, period_end=Y2026, amount="50"
    )
    settlement.pay_scheduled_payments(
        actor=county_staff, contract=lean, due_on_or_before=Y2025, reference="G", occurred_on=Y2025
    )
    _receive(county_staff, build.trade(assets_of(lean), installments=("100.00",)), "100.00")
    zero = _declare(county_staff, lean, kind=DistributionKind.SECOND_DIVIDEND)
    assert zero.amount == 0 and zero.income == Decimal("100.00")
    assert list(zero.lines.values_list("amount", flat=True)) == [Decimal("0.00")]
    assert not zero.movements.exists()
    with pytest.raises(ConflictError, match="金额为0"):
        dist.pay_distribution(actor=county_staff, distribution=zero, reference="P", occurred_on=PAID_ON)
    assert ledger_total() == 0


def test_savings_dividend_subtracts_savings_yield(county_staff, build, households):
    contract = build.collection([(households[0], 1)], model=RevenueModel.SAVINGS, rate=Decimal("0.3"))
    build.schedule(
        contract, kind=ScheduleKind.SAVINGS, due=Y2025, period_start=Y2025, period_end=Y2026, amount="10"
    )
    settlement.pay_scheduled_payments(
        actor=county_staff, contract=contract, due_on_or_before=Y2025, reference="S", occurred_on=Y2025
    )
    _receive(county_staff, build.trade(assets_of(contract), installments=("100.00",)), "100.00")
    savings = _declare(county_staff, contract, kind=DistributionKind.SAVINGS_DIVIDEND)
    assert savings.amount == Decimal("20.00") and savings.guaranteed_paid == Decimal("10.00")


def test_payout_empties_payable_and_reduces_cash_once(county_staff, build, holders):
    contract = build.collection(
        [(holders[0], "1/3"), (holders[1], "1/3"), (holders[2], "1/3")], rate=Decimal("1")
    )
    _receive(county_staff, build.trade(assets_of(contract), installments=("100.00",)), "100.00")
    distribution = _declare(county_staff, contract)
    assert sorted(distribution.lines.values_list("amount", flat=True)) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    assert ledger.balance(AccountKind.PAYABLE, holders[0]) + ledger.balance(
        AccountKind.PAYABLE, holders[1]
    ) + ledger.balance(AccountKind.PAYABLE, holders[2]) == Decimal("-100.00")
    cash = ledger.balance(AccountKind.CASH, build.coop_party)
    payout = dist.pay_distribution(
        actor=county_staff, distribution=distribution, reference="P-1", occurred_on=PAID_ON
    )
    assert payout.kind == MovementKind.PAYOUT and payout.distribution == distribution
    assert ledger.balance(AccountKind.CASH, build.coop_party) == cash - Decimal("100.00")
    assert all(ledger.balance(AccountKind.PAYABLE, p) == 0 for p in holders[:3])
    assert dist.is_paid(distribution)
    with pytest.raises(ConflictError, match="已支付"):
        dist.pay_distribution(
            actor=county_staff, distribution=distribution, reference="P-2", occurred_on=PAID_ON
        )
    assert Movement.objects.filter(kind=MovementKind.PAYOUT, distribution=distribution).count() == 1
    # A reversed payout may be paid again.
    settlement.reverse_movement(actor=county_staff, movement=payout, reason="付错账户")
    assert not dist.is_paid(distribution)
    dist.pay_distribution(actor=county_staff, distribution=distribution, reference="P-3", occurred_on=PAID_ON)
    assert ledger.balance(AccountKind.CASH, build.coop_party) == cash - Decimal("100.00")
    assert ledger_total() == 0


def test_period_rules_and_overlap(county_staff, build, households):
    contract = build.collection([(households[0], 1)])
    _declare(county_staff, contract, start=Y2025, end=datetime.date(2025, 7, 1))
    with pytest.raises(ConflictError, match="重叠"):
        _declare(county_staff, contract, start=datetime.date(2025, 6, 1), end=Y2026)
    cases = [
        (Y2026, Y2025, "period_end"),
        (datetime.date(2023, 1, 1), Y2025, "period_start"),
        (datetime.date(2028, 1, 1), datetime.date(2029, 1, 1), "period_end"),  # not over yet
        ("2025-01-01", Y2026, "period_start"),
    ]
    for start, end, field in cases:
        with pytest.raises(DomainError) as caught:
            _declare(county_staff, contract, start=start, end=end)
        assert field in caught.value.fields
    assert Distribution.objects.filter(contract=contract).count() == 1
    _declare(county_staff, contract, start=datetime.date(2025, 7, 1), end=Y2026)  # adjacent is fine


def test_models_without_dividends_and_unsigned_contracts_are_refused(county_staff, build, households):
    rent = build.collection([(households[0], 1)], model=RevenueModel.FIXED_RENT)
    with pytest.raises(DomainError, match="不分红"):
        _declare(county_staff, rent)
    draft = build.collection([(households[0], 1)], status="draft")
    with pytest.raises(ConflictError, match="不能分配收益"):
        _declare(county_staff, draft)
    assert not Distribution.objects.exists() and not DistributionLine.objects.exists()


def test_permissions_and_village_notice(county_staff, build, households, investor, make_member):
    contract = build.collection([(households[0], 1)])
    clerk = User.objects.get(username="village_clerk")
    other_coop = Organization.objects.create(
        name="缙云县两山合作社（测试）",
        kind=OrganizationKind.COOPERATIVE,
        division=AdministrativeDivision.objects.get(code="331122000000"),
    )
    for actor in (investor, clerk, make_member(Role.COOP_STAFF, other_coop)):
        with pytest.raises(PermissionDeniedError):
            _declare(actor, contract)
    assert not Distribution.objects.exists()
    distribution = _declare(county_staff, contract)
    note = Notification.objects.get(recipient=clerk)
    assert contract.number in note.title and note.link == distribution.get_absolute_url()
    with pytest.raises(PermissionDeniedError):
        dist.pay_distribution(actor=clerk, distribution=distribution, reference="x", occurred_on=PAID_ON)


def test_paid_schedule_lines_are_marked(county_staff, build, households):
    contract = build.collection([(households[0], 1)], model=RevenueModel.SAVINGS, rate=Decimal("0.3"))
    (line,) = build.schedule(
        contract, kind=ScheduleKind.SAVINGS, due=Y2025, period_start=Y2025, period_end=Y2026, amount="10"
    )
    settlement.pay_scheduled_payments(
        actor=county_staff, due_on_or_before=Y2025, reference="S", occurred_on=Y2025
    )
    line.refresh_from_db()
    assert line.status == ScheduleStatus.PAID and line.movement.kind == MovementKind.PAYOUT
