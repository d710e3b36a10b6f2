"""Loan schedules and day interest, exact to the cent (pure functions: no database, no Django).

Conventions (domain/eco-finance.md §3–4):
- the rate of a scheduled period is annual × months_per_period / 12, whatever the day count;
- 等额本息 (equal installment): A = P·i·(1+i)^n / ((1+i)^n − 1) rounded half-up to the cent;
  interest of each period = balance × i rounded half-up *per line*, principal = A − interest, and
  the last installment takes whatever principal is left, so the principals add up to P exactly;
- 等额本金 (equal principal): each principal is P/n to within a cent, by rounding the running
  total (principal_k = round(k·P/n) − round((k−1)·P/n)); the last one is what is left, so they add
  up to P exactly. This keeps the first and the last installment at round(P/n) (the worked
  example: 9233.33 and 8358.33); putting the whole rounding residue into the last line instead
  would make it n/2 cents away from P/n;
- a broken period (a first due date that is not one period after the start, or the rest of a
  period after an early repayment) earns day interest on the balance by the loan's day count,
  while its principal is the regular one, so the amounts of the later periods do not move;
- day interest: amount × annual × days / 360, rounded half-up; `days` is the actual number of days
  (act/360) or the 30/360 count (see `days_30_360`).
"""

import calendar
import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

EQUAL_INSTALLMENT = "equal_installment"
EQUAL_PRINCIPAL = "equal_principal"
ACT_360 = "act_360"
THIRTY_360 = "30_360"

# Enough digits that (1+i)^n for n ≤ 1200 periods stays exact well beyond the cent.
PRECISION = 50
# A shortened schedule never ends with a period of less than this much principal.
TAIL = Decimal("1.00")


@dataclass(frozen=True)
class Row:
    seq: int
    period_start: datetime.date
    due_date: datetime.date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self):
        return self.principal + self.interest


def cents(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day, months):
    """`day` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb);
    the same rule as transactions.services.contracts.add_months (kept here so that this module
    stays free of Django)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_rate(annual_rate, months_per_period):
    return Decimal(annual_rate) * months_per_period / 12


def days_30_360(start, end):
    """30/360 day count, ISDA "30/360 (Bond Basis)" (2006 ISDA Definitions §4.16(f)), the same
    as the US 30/360 rule without its end-of-February adjustment:
    D1 = 31 → 30; D2 = 31 → 30 when D1 (after that change) is 30;
    days = 360·(Y2 − Y1) + 30·(M2 − M1) + (D2 − D1).
    So every whole month counts 30 days, 31 Jan → 28 Feb counts 28 and 28 Feb → 31 Mar counts 33."""
    d1 = min(start.day, 30)
    d2 = min(end.day, 30) if d1 == 30 else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def day_count(start, end, basis):
    if basis == ACT_360:
        return (end - start).days
    if basis == THIRTY_360:
        return days_30_360(start, end)
    raise ValueError(f"unknown day count basis {basis!r}")


def day_interest(amount, annual_rate, start, end, basis):
    """Interest on `amount` from `start` (inclusive) to `end` (exclusive) at `annual_rate`:
    amount × annual × days / 360 rounded half-up to the cent; zero for an empty or reversed span."""
    days = day_count(start, end, basis)
    if days <= 0 or not amount:
        return ZERO
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return cents(Decimal(amount) * Decimal(annual_rate) * days / 360)


def annuity(principal, rate, periods):
    """等额本息 installment A for `periods` periods at `rate` per period, to the cent."""
    principal = Decimal(principal)
    if periods <= 0:
        raise ValueError("periods must be positive")
    if rate == 0:
        return cents(principal / periods)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        growth = (1 + Decimal(rate)) ** periods
        return cents(principal * rate * growth / (growth - 1))


def _equal_principals(principal, periods):
    """Principals of 等额本金: running-total rounding, so each is P/n to within a cent."""
    out, paid = [], ZERO
    for k in range(1, periods + 1):
        running = principal if k == periods else cents(principal * k / periods)
        out.append(running - paid)
        paid = running
    return out


def amortize(principal, annual_rate, method, months_per_period, dates, *, basis=ACT_360, broken_first=False):
    """Rows for the periods [(period_start, due_date), …] of a balance `principal`.

    `broken_first`: the first period is not a whole period; its interest is day interest by
    `basis`, its principal the regular one. Returns [Row] (seq from 1)."""
    principal = cents(principal)
    if principal <= 0:
        raise ValueError("principal must be positive")
    if not dates:
        raise ValueError("at least one period is needed")
    rate = period_rate(annual_rate, months_per_period)
    n = len(dates)
    if method == EQUAL_INSTALLMENT:
        amount = annuity(principal, rate, n)
        principals = None
    elif method == EQUAL_PRINCIPAL:
        amount = None
        principals = _equal_principals(principal, n)
    else:
        raise ValueError(f"unknown repayment method {method!r}")
    return _rows(principal, annual_rate, months_per_period, dates, amount, principals, basis, broken_first)


def _rows(balance, annual_rate, months_per_period, dates, amount, principals, basis, broken_first):
    """Rows paying `amount` a period (等额本息) or the given `principals`; the last row takes the
    principal left, the interest is the regular one except in a broken first period."""
    rate = period_rate(annual_rate, months_per_period)
    rows, n = [], len(dates)
    for k, (start, due) in enumerate(dates, start=1):
        regular_interest = cents(balance * rate)
        if k == n:
            part = balance
        elif principals is not None:
            part = principals[k - 1]
        else:
            # A long, dear loan could have A below the interest: never let a line turn negative.
            part = min(max(amount - regular_interest, ZERO), balance)
        interest = (
            day_interest(balance, annual_rate, start, due, basis)
            if k == 1 and broken_first
            else regular_interest
        )
        rows.append(Row(k, start, due, part, interest))
        balance -= part
    return rows


def due_dates(start, periods, months_per_period, first_due=None):
    """[(period_start, due_date)]: due dates one period apart from `start` (or from `first_due`),
    each computed from the anchor so that month-end clamping never drifts (31 Jan, 28 Feb, 31 Mar)."""
    if first_due is None:
        dues = [add_months(start, months_per_period * k) for k in range(1, periods + 1)]
    else:
        dues = [add_months(first_due, months_per_period * k) for k in range(periods)]
    starts = [start, *dues[:-1]]
    return list(zip(starts, dues, strict=True))


def first_due_allowed(start, first_due, months_per_period):
    """A first due date lies after the start and at most two periods after it."""
    return start < first_due <= add_months(start, 2 * months_per_period)


def build_schedule(
    principal, annual_rate, periods, method, months_per_period, start, first_due=None, *, basis=ACT_360
):
    """The full schedule of a loan disbursed on `start`: [Row] with principals adding up to the
    principal exactly. A `first_due` other than one period after `start` makes the first period
    a broken one (day interest by `basis`)."""
    if periods <= 0:
        raise ValueError("periods must be positive")
    if first_due is not None and not first_due_allowed(start, first_due, months_per_period):
        raise ValueError("the first due date must be after the start and within two periods")
    if first_due == add_months(start, months_per_period):
        first_due = None  # one whole period: the regular schedule (anchored on the start)
    dates = due_dates(start, periods, months_per_period, first_due)
    broken = first_due is not None
    return amortize(
        principal, annual_rate, method, months_per_period, dates, basis=basis, broken_first=broken
    )


def shorten_term(
    balance, annual_rate, method, months_per_period, dates, installment, *, basis=ACT_360, broken_first=False
):
    """Early repayment that keeps the installment and drops the last periods.

    `installment`: for 等额本息 the amount A kept (principal + regular interest of a period): every
    row pays A until the last, which takes what is left (at most A plus a residue below
    `TAIL`, so that no period is left over for a few cents). For 等额本金 the principal per period
    kept: that principal each period, the last one what is left (a tail below `TAIL` joins
    the period before it). Uses only as many of `dates` as needed."""
    balance = cents(balance)
    if balance <= 0:
        raise ValueError("balance must be positive")
    if method == EQUAL_PRINCIPAL:
        periods = min(len(dates), max(1, int((balance / installment).to_integral_value(ROUND_CEILING))))
        if periods > 1 and balance - (periods - 1) * installment < TAIL:
            periods -= 1  # a tail of a few cents joins the period before
        principals = [installment] * (periods - 1) + [balance - (periods - 1) * installment]
        return _rows(
            balance, annual_rate, months_per_period, dates[:periods], None, principals, basis, broken_first
        )
    if method != EQUAL_INSTALLMENT:
        raise ValueError(f"unknown repayment method {method!r}")
    rate = period_rate(annual_rate, months_per_period)
    rows, left = [], balance
    for k, (start, due) in enumerate(dates, start=1):
        regular_interest = cents(left * rate)
        part = installment - regular_interest
        last = k == len(dates) or part <= 0 or left - part < TAIL
        if last:
            part = left
        interest = (
            day_interest(left, annual_rate, start, due, basis)
            if k == 1 and broken_first
            else regular_interest
        )
        rows.append(Row(k, start, due, part, interest))
        left -= part
        if last:
            break
    return rows


def periods_needed(balance, rate, installment):
    """How many periods an installment A pays off `balance` at `rate` per period (ceil of the
    closed form n = −ln(1 − B·i/A) / ln(1 + i)); for reference and display."""
    balance, installment = Decimal(balance), Decimal(installment)
    if rate == 0:
        return int((balance / installment).to_integral_value(rounding=ROUND_CEILING))
    with localcontext() as ctx:
        ctx.prec = PRECISION
        ratio = 1 - balance * rate / installment
        if ratio <= 0:
            raise ValueError("the installment does not cover the interest")
        n = -ratio.ln() / (1 + Decimal(rate)).ln()
        return int(n.to_integral_value(rounding=ROUND_CEILING))


def penalty_on_segments(segments, penalty_rate, basis):
    """罚息 and 复利 of an overdue installment: `segments` = [(start, end, principal, interest)]
    with the amounts overdue during [start, end). Returns (on principal, on interest), each
    summed unrounded over the segments and rounded half-up once."""
    on_principal = on_interest = Decimal(0)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        for start, end, principal, interest in segments:
            days = day_count(start, end, basis)
            if days <= 0:
                continue
            on_principal += Decimal(principal) * Decimal(penalty_rate) * days / 360
            on_interest += Decimal(interest) * Decimal(penalty_rate) * days / 360
        return cents(on_principal), cents(on_interest)
