"""Hypothesis over amount, rate, term, method and frequency: every schedule adds up to its principal
exactly, every line is whole cents and non-negative, and two independent references agree:

- an exact re-implementation in rational arithmetic (`fractions.Fraction`, integer cents) of the
  same rules agrees with `finance.schedule` to the cent on every line;
- the closed form of the annuity balance after k payments, B_k = P(1+i)^k − A((1+i)^k − 1)/i (in
  Decimal), agrees with the schedule's running balance within the rounding it can accumulate
  (half a cent per line, compounded: 0.005 · Σ_{j<k} (1+i)^j).
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from finance import schedule as calc

START = datetime.date(2025, 1, 31)  # month-end start: clamping on every short month
CENT = Decimal("0.01")

principals = st.integers(min_value=100_00, max_value=5_000_000_00).map(lambda c: Decimal(c) / 100)
rates = st.integers(min_value=1, max_value=239_999).map(lambda r: Decimal(r) / 1_000_000)  # < 24 %
methods = st.sampled_from([calc.EQUAL_INSTALLMENT, calc.EQUAL_PRINCIPAL])
frequencies = st.sampled_from([1, 3])
terms = st.integers(min_value=1, max_value=120)


def periods_of(term_months, months):
    return max(1, term_months // months)


def _half_up_cents(value):
    """Fraction → integer cents, half up (values here are non-negative)."""
    scaled = value * 100
    return int(scaled + Fraction(1, 2)) if scaled >= 0 else -int(-scaled + Fraction(1, 2))


def reference_rows(principal, annual_rate, periods, method, months):
    """The same rules in exact rational arithmetic and integer cents: [(principal, interest)] in cents."""
    p = int(principal * 100)
    i = Fraction(annual_rate) * months / 12
    rows, balance = [], p
    if method == calc.EQUAL_INSTALLMENT:
        if i == 0:
            a = _half_up_cents(Fraction(p, 100) / periods)
        else:
            growth = (1 + i) ** periods
            a = _half_up_cents(Fraction(p, 100) * i * growth / (growth - 1))
        for k in range(1, periods + 1):
            interest = _half_up_cents(Fraction(balance, 100) * i)
            part = balance if k == periods else min(max(a - interest, 0), balance)
            rows.append((part, interest))
            balance -= part
        return rows
    running_before = 0
    for k in range(1, periods + 1):
        running = p if k == periods else _half_up_cents(Fraction(p, 100) * k / periods)
        interest = _half_up_cents(Fraction(balance, 100) * i)
        part = running - running_before
        rows.append((part, interest))
        balance -= part
        running_before = running
    return rows


def _whole_cents(value):
    return value == value.quantize(CENT) and value.as_tuple().exponent == -2


@settings(max_examples=300, deadline=None)
@given(principal=principals, rate=rates, term=terms, method=methods, months=frequencies)
def test_schedule_adds_up_and_matches_the_exact_reference(principal, rate, term, method, months):
    periods = periods_of(term, months)
    rows = calc.build_schedule(principal, rate, periods, method, months, START)
    assert len(rows) == periods
    assert sum(r.principal for r in rows) == principal
    for row in rows:
        assert _whole_cents(row.principal) and _whole_cents(row.interest)
        assert row.principal >= 0 and row.interest >= 0
        assert row.period_start < row.due_date
    assert rows[-1].due_date == calc.add_months(START, months * periods)
    expected = reference_rows(principal, rate, periods, method, months)
    assert [(int(r.principal * 100), int(r.interest * 100)) for r in rows] == expected


@settings(max_examples=300, deadline=None)
@given(principal=principals, rate=rates, term=terms, months=frequencies)
def test_equal_installments_are_equal_and_follow_the_closed_form(principal, rate, term, months):
    periods = periods_of(term, months)
    rows = calc.build_schedule(principal, rate, periods, calc.EQUAL_INSTALLMENT, months, START)
    i = calc.period_rate(rate, months)
    amount = calc.annuity(principal, i, periods)
    assert all(row.amount == amount for row in rows[:-1])
    with localcontext() as ctx:
        ctx.prec = 50
        growth_sum = sum((1 + i) ** j for j in range(periods))  # Σ_{j<n} (1+i)^j
        assert abs(rows[-1].amount - amount) <= Decimal("0.01") * growth_sum + Decimal("0.01")
        balance = principal
        for k, row in enumerate(rows[:-1], start=1):
            balance -= row.principal
            closed_form = principal * (1 + i) ** k - amount * ((1 + i) ** k - 1) / i
            bound = Decimal("0.005") * sum((1 + i) ** j for j in range(k)) + Decimal("0.000001")
            assert abs(balance - closed_form) <= bound


@settings(max_examples=300, deadline=None)
@given(principal=principals, rate=rates, term=terms, months=frequencies)
def test_equal_principal_follows_the_formula(principal, rate, term, months):
    """payment_k = P/n + (P − (k−1)·P/n)·i, each line within a cent and a half of it; interest in
    total P·i·(n+1)/2 within half a cent per line."""
    periods = periods_of(term, months)
    rows = calc.build_schedule(principal, rate, periods, calc.EQUAL_PRINCIPAL, months, START)
    i = calc.period_rate(rate, months)
    with localcontext() as ctx:
        ctx.prec = 50
        share = principal / periods
        for k, row in enumerate(rows, start=1):
            assert abs(row.principal - share) < CENT
            formula = share + (principal - (k - 1) * share) * i
            assert abs(row.amount - formula) <= Decimal("0.015") + CENT * i
        total = principal * i * (periods + 1) / 2
        assert abs(sum(r.interest for r in rows) - total) <= Decimal("0.005") * periods + CENT * i * periods


@settings(max_examples=200, deadline=None)
@given(
    principal=principals,
    rate=rates,
    term=terms,
    method=methods,
    months=frequencies,
    offset=st.integers(min_value=1, max_value=180),
    basis=st.sampled_from([calc.ACT_360, calc.THIRTY_360]),
)
def test_broken_first_period_keeps_the_principals(principal, rate, term, method, months, offset, basis):
    periods = periods_of(term, months)
    first_due = START + datetime.timedelta(days=offset)
    if not calc.first_due_allowed(START, first_due, months):
        return
    rows = calc.build_schedule(principal, rate, periods, method, months, START, first_due, basis=basis)
    regular = calc.build_schedule(principal, rate, periods, method, months, START)
    assert [r.principal for r in rows] == [r.principal for r in regular]
    if first_due == calc.add_months(START, months):  # one whole period: the regular schedule
        assert rows == regular
    else:
        assert rows[0].interest == calc.day_interest(principal, rate, START, first_due, basis)
    assert rows[0].due_date == first_due
    assert sum(r.principal for r in rows) == principal


@settings(max_examples=200, deadline=None)
@given(
    principal=principals,
    rate=rates,
    term=st.integers(min_value=2, max_value=120),
    method=methods,
    months=frequencies,
    paid_share=st.integers(min_value=1, max_value=99),
)
def test_recast_schedules_add_up(principal, rate, term, method, months, paid_share):
    """After an early repayment the rest of the balance is rescheduled either way, exactly."""
    periods = periods_of(term, months)
    rows = calc.build_schedule(principal, rate, periods, method, months, START)
    balance = (principal * paid_share / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    if balance <= 0:
        return
    dates = [(r.period_start, r.due_date) for r in rows]
    keep = rows[0].amount if method == calc.EQUAL_INSTALLMENT else rows[0].principal
    shorter = calc.shorten_term(balance, rate, method, months, dates, keep)
    lower = calc.amortize(balance, rate, method, months, dates)
    for recast in (shorter, lower):
        assert sum(r.principal for r in recast) == balance
        assert all(r.principal >= 0 and r.interest >= 0 for r in recast)
    assert len(shorter) <= len(lower) == len(dates)
    if method == calc.EQUAL_INSTALLMENT:
        assert all(r.amount == keep for r in shorter[:-1])
        assert shorter[-1].amount <= keep + calc.TAIL + CENT
        assert all(r.amount <= keep for r in lower[:-1])
