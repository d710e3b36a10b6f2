"""Largest-remainder splitting: parts add up to the cent and stay within a cent of the quota."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactions.services.allocation import split_by_weights

amounts = st.integers(min_value=0, max_value=10**12).map(lambda cents: Decimal(cents) / 100)
weights = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40).filter(
    lambda w: sum(w) > 0
)


@given(amount=amounts, weights=weights)
def test_parts_add_up_and_each_is_within_a_cent_of_its_quota(amount, weights):
    parts = split_by_weights(amount, weights)
    assert sum(parts) == amount
    assert all(part == part.quantize(Decimal("0.01")) and part >= 0 for part in parts)
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        quota = Fraction(str(amount)) * weight / total
        assert abs(Fraction(str(part)) - quota) < Fraction(1, 100)
        if weight == 0:
            assert part == 0


@given(
    amount=amounts,
    shares=st.lists(st.fractions(min_value=Fraction(1, 1000), max_value=1), min_size=1, max_size=10),
)
def test_exact_fraction_shares(amount, shares):
    assert sum(split_by_weights(amount, shares)) == amount


def test_leftover_cents_go_to_the_largest_remainders_then_the_first():
    assert split_by_weights(Decimal("100.00"), [1, 1, 1]) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert split_by_weights(Decimal("0.05"), [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]) == [
        Decimal("0.02"),  # quotas 2.5, 1.67, 0.83 cents: the two leftover cents go to .83 and .67
        Decimal("0.02"),
        Decimal("0.01"),
    ]


@pytest.mark.parametrize(
    ("amount", "weights"),
    [
        (Decimal("1.005"), [1]),
        (Decimal("-1.00"), [1]),
        (Decimal("1.00"), []),
        (Decimal("1.00"), [0, 0]),
        (Decimal("1.00"), [-1, 2]),
    ],
)
def test_refuses_bad_input(amount, weights):
    with pytest.raises(ValueError):
        split_by_weights(amount, weights)
