"""Schedules and day interest against the worked examples of domain/eco-finance.md §4."""

import datetime
from decimal import Decimal as D

import pytest

from finance import schedule as calc

START = datetime.date(2025, 1, 15)


def test_equal_installment_worked_example():
    rows = calc.build_schedule(D("300000"), D("0.036"), 36, calc.EQUAL_INSTALLMENT, 1, START)
    assert len(rows) == 36
    assert calc.annuity(D("300000"), D("0.003"), 36) == D("8803.91")
    first, second, last = rows[0], rows[1], rows[-1]
    assert (first.interest, first.principal, first.amount) == (D("900.00"), D("7903.91"), D("8803.91"))
    assert (second.interest, second.principal) == (D("876.29"), D("7927.62"))
    assert D("300000") - first.principal - second.principal == D("284168.47")
    assert last.amount == D("8804.07")
    assert {row.amount for row in rows[:-1]} == {D("8803.91")}
    assert sum(row.interest for row in rows) == D("16940.92")
    assert sum(row.principal for row in rows) == D("300000.00")
    assert [row.seq for row in rows] == list(range(1, 37))


def test_equal_principal_worked_example():
    rows = calc.build_schedule(D("300000"), D("0.036"), 36, calc.EQUAL_PRINCIPAL, 1, START)
    assert rows[0].amount == D("9233.33")
    assert (rows[0].principal, rows[0].interest) == (D("8333.33"), D("900.00"))
    assert rows[-1].amount == D("8358.33")
    assert sum(row.interest for row in rows) == D("16650.00")
    assert sum(row.principal for row in rows) == D("300000.00")
    assert all(abs(row.principal - D("8333.33")) <= D("0.01") for row in rows)


def test_penalty_worked_example():
    """Month 2 paid 15 days late at contract + 50 % = 5.40 %: 17.84 + 1.97 = 19.81 (+30 %: 15.46 + 1.71)."""
    due = datetime.date(2025, 3, 15)
    segment = [(due, due + datetime.timedelta(days=15), D("7927.62"), D("876.29"))]
    assert calc.penalty_on_segments(segment, D("0.054"), calc.ACT_360) == (D("17.84"), D("1.97"))
    assert sum(calc.penalty_on_segments(segment, D("0.054"), calc.ACT_360)) == D("19.81")
    assert calc.penalty_on_segments(segment, D("0.0468"), calc.ACT_360) == (D("15.46"), D("1.71"))
    assert calc.day_interest(
        D("7927.62"), D("0.054"), due, due + datetime.timedelta(days=15), calc.ACT_360
    ) == D("17.84")


def test_penalty_segments_follow_partial_payments():
    """Two stretches: 10 days on 1000 + 5 days on 400 at 3.6 % / 360 = 1.00 + 0.20."""
    d0 = datetime.date(2025, 5, 1)
    segments = [
        (d0, d0 + datetime.timedelta(days=10), D("1000"), D("0")),
        (d0 + datetime.timedelta(days=10), d0 + datetime.timedelta(days=15), D("400"), D("0")),
    ]
    assert calc.penalty_on_segments(segments, D("0.036"), calc.ACT_360) == (D("1.20"), D("0.00"))


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ((2025, 1, 15), (2025, 2, 15), 30),
        ((2025, 1, 31), (2025, 2, 28), 28),  # no end-of-February rule (bond basis)
        ((2025, 1, 30), (2025, 3, 31), 60),  # D1 = 30 → D2 31 becomes 30
        ((2025, 1, 29), (2025, 3, 31), 62),  # D1 = 29 → D2 stays 31
        ((2025, 1, 31), (2025, 3, 31), 60),
        ((2025, 2, 28), (2025, 3, 31), 33),
        ((2024, 12, 15), (2025, 12, 15), 360),
        ((2025, 3, 10), (2025, 3, 10), 0),
    ],
)
def test_days_30_360_bond_basis(start, end, days):
    assert calc.days_30_360(datetime.date(*start), datetime.date(*end)) == days


def test_day_interest_act_360_and_30_360():
    jan, feb = datetime.date(2025, 1, 15), datetime.date(2025, 2, 15)
    assert calc.day_interest(D("100000"), D("0.036"), jan, feb, calc.ACT_360) == D("310.00")  # 31 days
    assert calc.day_interest(D("100000"), D("0.036"), jan, feb, calc.THIRTY_360) == D("300.00")
    assert calc.day_interest(D("100000"), D("0.036"), feb, jan, calc.ACT_360) == D("0.00")
    assert calc.day_interest(D("0"), D("0.036"), jan, feb, calc.ACT_360) == D("0.00")
    with pytest.raises(ValueError, match="basis"):
        calc.day_interest(D("1"), D("0.036"), jan, feb, "act_365")


def test_due_dates_clamp_to_month_end_without_drift():
    rows = calc.build_schedule(D("1200"), D("0.036"), 4, calc.EQUAL_PRINCIPAL, 1, datetime.date(2025, 1, 31))
    assert [row.due_date for row in rows] == [
        datetime.date(2025, 2, 28),
        datetime.date(2025, 3, 31),
        datetime.date(2025, 4, 30),
        datetime.date(2025, 5, 31),
    ]
    assert [row.period_start for row in rows][1:] == [row.due_date for row in rows][:-1]


def test_quarterly_schedule_uses_a_quarter_of_the_annual_rate():
    rows = calc.build_schedule(D("120000"), D("0.048"), 4, calc.EQUAL_PRINCIPAL, 3, START)
    assert [row.due_date for row in rows] == [
        datetime.date(2025, 4, 15),
        datetime.date(2025, 7, 15),
        datetime.date(2025, 10, 15),
        datetime.date(2026, 1, 15),
    ]
    assert [row.interest for row in rows] == [D("1440.00"), D("1080.00"), D("720.00"), D("360.00")]


def test_first_due_date_makes_a_broken_first_period():
    first_due = datetime.date(2025, 3, 1)  # 45 days after 15 Jan
    rows = calc.build_schedule(
        D("300000"), D("0.036"), 36, calc.EQUAL_INSTALLMENT, 1, START, first_due, basis=calc.ACT_360
    )
    regular = calc.build_schedule(D("300000"), D("0.036"), 36, calc.EQUAL_INSTALLMENT, 1, START)
    assert rows[0].interest == D("1350.00")  # 300000 × 3.6 % × 45 / 360
    assert rows[0].principal == regular[0].principal  # the later installments do not move
    assert [r.amount for r in rows[1:]] == [r.amount for r in regular[1:]]
    assert rows[1].due_date == datetime.date(2025, 4, 1)
    assert sum(r.principal for r in rows) == D("300000.00")
    # one period after the start is the regular schedule
    same = calc.build_schedule(
        D("300000"), D("0.036"), 36, calc.EQUAL_INSTALLMENT, 1, START, datetime.date(2025, 2, 15)
    )
    assert same == regular


@pytest.mark.parametrize("first_due", [START, datetime.date(2025, 1, 1), datetime.date(2025, 3, 16)])
def test_first_due_date_out_of_range_is_refused(first_due):
    with pytest.raises(ValueError, match="first due"):
        calc.build_schedule(D("1000"), D("0.036"), 12, calc.EQUAL_INSTALLMENT, 1, START, first_due)


@pytest.mark.parametrize(
    ("principal", "periods", "method"),
    [
        (D("0"), 12, calc.EQUAL_INSTALLMENT),
        (D("1000"), 0, calc.EQUAL_INSTALLMENT),
        (D("1000"), 12, "balloon"),
    ],
)
def test_bad_input_is_refused(principal, periods, method):
    with pytest.raises(ValueError):
        calc.build_schedule(principal, D("0.036"), periods, method, 1, START)


def test_zero_rate_splits_the_principal():
    rows = calc.build_schedule(D("1000"), D("0"), 3, calc.EQUAL_INSTALLMENT, 1, START)
    assert [r.principal for r in rows] == [D("333.33"), D("333.33"), D("333.34")]
    assert all(r.interest == 0 for r in rows)


def test_shorten_term_keeps_the_installment():
    dates = calc.due_dates(START, 24, 1)
    balance = D("150000.00")
    rows = calc.shorten_term(balance, D("0.036"), calc.EQUAL_INSTALLMENT, 1, dates, D("8803.91"))
    assert {r.amount for r in rows[:-1]} == {D("8803.91")}
    assert 0 < rows[-1].amount <= D("8803.91")
    assert sum(r.principal for r in rows) == balance
    assert len(rows) == calc.periods_needed(balance, D("0.003"), D("8803.91")) == 18
    equal_principal = calc.shorten_term(balance, D("0.036"), calc.EQUAL_PRINCIPAL, 1, dates, D("8333.33"))
    assert len(equal_principal) == 18 and sum(r.principal for r in equal_principal) == balance
    assert {r.principal for r in equal_principal[:-1]} == {D("8333.33")}
    assert equal_principal[-1].principal == D("8333.39")  # a 0.06 tail joins the last period
