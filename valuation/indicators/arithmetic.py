"""Decimal arithmetic of the engine: one explicit context, exact sums, no floats.

Multiplications of inputs with ordinary numbers of digits are exact at 50 significant digits;
divisions (by 3 for 亩, by 12 for 44/12, by 3600·EER, by an ion lifetime) are correctly rounded at
50 significant digits (ROUND_HALF_EVEN). Nothing is quantized to cents or 万元 here: the ledger
rounds for display only. Sums of components are exact (no rounding at all).
"""

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)

PRECISION = 50

CONTEXT = Context(
    prec=PRECISION,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

ZERO = Decimal(0)
ONE = Decimal(1)


def exact_sum(values) -> Decimal:
    """The exact sum of Decimals, whatever their magnitudes (raises if rounding were needed)."""
    values = list(values)
    for value in values:
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise InvalidOperation("non-finite Decimal")
    nonzero = [v for v in values if v]
    if not nonzero:
        return ZERO
    top = max(v.adjusted() for v in nonzero)
    bottom = min(v.as_tuple().exponent for v in nonzero)
    digits = top - bottom + len(str(len(nonzero))) + 2
    context = Context(
        prec=max(digits, PRECISION),
        rounding=ROUND_HALF_EVEN,
        Emin=-999_999_999,
        Emax=999_999_999,
        traps=[Inexact, InvalidOperation, Overflow],
    )
    with localcontext(context):
        total = ZERO
        for value in nonzero:
            total += value
    return total
