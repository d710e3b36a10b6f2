"""Splitting money exactly: largest-remainder (Hamilton) apportionment to the cent."""

import math
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from .._money import CENT


def split_by_weights(amount, weights):
    """Split `amount` (元, 2 places) in proportion to `weights` (exact: int, Decimal or Fraction).

    Each part is its exact quota rounded down to the cent; the cents left over go one each to the
    largest remainders (ties: the earlier weight). The parts add up to `amount` exactly and no part
    is off its exact quota by a cent or more. Returns a list in the order of `weights`.
    """
    amount = Decimal(amount)
    if amount != amount.quantize(CENT):
        raise ValueError(f"amount {amount} has more than 2 decimal places")
    if amount < 0:
        raise ValueError("amount must not be negative")
    weights = [Fraction(str(w)) if isinstance(w, Decimal) else Fraction(w) for w in weights]
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative with a positive sum")
    # Scale the weights to integers over their common denominator: the same exact quotas, but in
    # integer arithmetic (Fractions with thousands of distinct denominators are slow).
    common = math.lcm(*(w.denominator for w in weights))
    scaled = [w.numerator * (common // w.denominator) for w in weights]
    total_cents, total_weight = int(amount * 100), sum(scaled)
    floors, remainders = [], []
    for weight in scaled:
        cents, remainder = divmod(total_cents * weight, total_weight)
        floors.append(cents)
        remainders.append(remainder)
    left = total_cents - sum(floors)
    order = sorted(range(len(scaled)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [(Decimal(c) / 100).quantize(CENT, rounding=ROUND_DOWN) for c in floors]
