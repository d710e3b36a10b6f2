# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""Whose books a posting belongs to, with two cooperatives dealing with the same investor: the
per-counterparty accounts follow the cooperative whose own accounts share the movement (the
trade contract's cooperative for a deposit applied to the price); loan exposure follows the
cooperative's share in the risk scheme."""

from decimal import Decimal

import pytest

from directory.services import ensure_party
from projects.models import RedLineKey
from projects.services import books, red_lines
from transactions.models import AccountKind, MovementKind, TradeContract, TradeKind
from transactions.services import ledger

from .fixtures_red_lines import (  # noqa: F401  (fixtures)
    PAST,
    capital,
    coop_scheme,
    lend,
    red_line_defaults,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("red_line_defaults")]


def post(actor, kind, lines, **links):
    return ledger.post(actor=actor, kind=kind, memo="测试", lines=lines, occurred_on=PAST, **links)


@pytest.fixture
def two_books(county_staff, county_cooperative, city_cooperative, investor_org, households):
    """The shapes the trading services post (transactions.services.listings / contracts /
    settlement): the county cooperative takes a deposit, bills a price, receives part of it and
    applies the deposit; the city cooperative takes a deposit from the same investor and owes a
    household its rent."""
    county, city = ensure_party(county_cooperative), ensure_party(city_cooperative)
    investor = ensure_party(investor_org)
    debit, credit = ledger.debit, ledger.credit
    post(
        county_staff,
        MovementKind.DEPOSIT_RECEIVED,
        [debit("cash", county, 50000), credit("deposit_held", investor, 50000)],
    )
    post(
        county_staff,
        MovementKind.PRICE_DUE,
        [debit("receivable", investor, 100000), credit("trade_income", county, 100000)],
    )
    post(
        county_staff,
        MovementKind.PAYMENT_RECEIVED,
        [debit("cash", county, 40000), credit("receivable", investor, 40000)],
    )
    contract = TradeContract.objects.create(
        number="JY-TEST-1",
        investor=investor_org,
        cooperative=county_cooperative,
        division=county_cooperative.division,
        kind=TradeKind.LEASE,
        start_date=PAST,
        end_date=PAST.replace(year=PAST.year + 5),
        price=Decimal("100000"),
        created_by=county_staff,
    )
    post(
        county_staff,
        MovementKind.DEPOSIT_APPLIED,
        [debit("deposit_held", investor, 50000), credit("receivable", investor, 50000)],
        trade_contract=contract,
    )
    post(
        county_staff,
        MovementKind.DEPOSIT_RECEIVED,
        [debit("cash", city, 20000), credit("deposit_held", investor, 20000)],
    )
    post(
        county_staff,
        MovementKind.SCHEDULED_PAYMENT_DUE,
        [debit("collection_cost", city, 30000), credit("payable", households[0], 30000)],
    )
    return contract


def test_per_counterparty_accounts_follow_the_cooperative(two_books, county_cooperative, city_cooperative):
    county = books.balance_sheet(county_cooperative)
    assert county["assets"][AccountKind.CASH] == Decimal("90000.00")
    assert county["assets"][AccountKind.RECEIVABLE] == Decimal("10000.00")  # 100k − 40k − 50k applied
    assert county["liabilities"][AccountKind.DEPOSIT_HELD] == 0  # received 50k, applied 50k
    assert county["liabilities"][AccountKind.PAYABLE] == 0
    city = books.balance_sheet(city_cooperative)
    assert city["assets"][AccountKind.CASH] == Decimal("20000.00")
    assert city["assets"][AccountKind.RECEIVABLE] == 0
    assert city["liabilities"][AccountKind.DEPOSIT_HELD] == Decimal("20000.00")
    assert city["liabilities"][AccountKind.PAYABLE] == Decimal("30000.00")
    assert city["counterparties"] == {"deposit_held": 1, "receivable": 0, "payable": 1}
    # the investor's deposit account holds both cooperatives' money: 20k in all
    assert ledger.balance(AccountKind.DEPOSIT_HELD, two_books.investor.party) == Decimal("-20000.00")
    debt = red_lines.compute_red_lines(city_cooperative)[0]
    assert debt.key == RedLineKey.DEBT_RATIO and debt.value == Decimal("2.500000")  # 50k ÷ 20k
    assert debt.details["counterparties"]["payable"] == 1
    assert books.attribution_problems() == []


def test_unattributable_movements_are_reported(
    two_books, county_staff, county_cooperative, city_cooperative, investor_org
):
    investor = ensure_party(investor_org)
    orphan = post(
        county_staff,
        MovementKind.DEPOSIT_APPLIED,
        [ledger.debit("deposit_held", investor, 10), ledger.credit("receivable", investor, 10)],
    )
    both = post(
        county_staff,
        MovementKind.PAYMENT_RECEIVED,
        [
            ledger.debit("cash", ensure_party(county_cooperative), 10),
            ledger.debit("cash", ensure_party(city_cooperative), 10),
            ledger.credit("receivable", investor, 20),
        ],
    )
    assert books.attribution_problems() == [orphan.pk, both.pk]


def test_exposure_is_the_share_of_the_cooperative_named_in_the_scheme(
    capital, lend, coop_scheme, households, county_cooperative, city_cooperative, city_admin
):
    capital("1000000")
    capital("2000000", cooperative=city_cooperative, actor=city_admin)
    city_scheme = coop_scheme("0.2", cooperative=city_cooperative, actor=city_admin)
    lend("100000", households[0], share="0.5")  # the county's scheme, in the county
    lend("300000", households[1], scheme=city_scheme)  # the city's scheme, in the county too
    county = {r.key: r for r in red_lines.compute_red_lines(county_cooperative)}
    assert county[RedLineKey.BORROWER_CONCENTRATION].details["total_exposure"] == "50000.00"
    assert county[RedLineKey.BORROWER_CONCENTRATION].value == Decimal("0.050000")
    city = {r.key: r for r in red_lines.compute_red_lines(city_cooperative)}
    assert city[RedLineKey.BORROWER_CONCENTRATION].details["total_exposure"] == "60000.00"
    assert city[RedLineKey.BORROWER_CONCENTRATION].value == Decimal("0.030000")  # 60k ÷ 2M
    assert (
        city[RedLineKey.BORROWER_CONCENTRATION].details["largest_borrowers"][0]["party"] == households[1].pk
    )
