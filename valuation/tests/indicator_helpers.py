"""Shared helpers for the calculation-core tests (no database)."""

from decimal import Decimal
from fractions import Fraction

from valuation.default_parameters import default_params
from valuation.indicators import evaluate


def params(key, **overrides):
    values = default_params(key)
    for name, value in overrides.items():
        values[name] = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return values


def run(key, inputs, **param_overrides):
    return evaluate(key, inputs, params(key, **param_overrides))


def close(actual, expected, rel="1e-40"):
    """Equal up to the rounding of a division at 50 significant digits."""
    actual, expected = Fraction(actual), Fraction(expected)
    if expected == 0:
        return abs(actual) <= Fraction(Decimal(rel))
    return abs(actual - expected) <= abs(expected) * Fraction(Decimal(rel))


def components_sum_exactly(result):
    return sum((Fraction(c.value) for c in result.components), Fraction(0)) == Fraction(result.value)


def assert_all_decimal(result):
    """No float anywhere in a result: every number is a finite Decimal."""
    numbers = [result.quantity, result.value]
    if result.unit_price is not None:
        numbers.append(result.unit_price)
    for component in result.components:
        numbers += [component.quantity, component.value]
        if component.unit_price is not None:
            numbers.append(component.unit_price)
    for number in numbers:
        assert type(number) is Decimal, (number, type(number))
        assert number.is_finite()
    assert all(isinstance(note, str) for note in result.notes)


def by_key(result):
    return {c.key: c for c in result.components}
