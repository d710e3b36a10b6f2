"""The default parameter set is complete, typed and honest about its authority."""

from decimal import Decimal

import pytest

from valuation.default_parameters import (
    DEFAULT_PRICE_YEAR,
    Authority,
    ParamValue,
    default_parameter_set,
    default_params,
)
from valuation.indicators import REGISTRY, get, validate_params

ROWS = default_parameter_set()


def test_every_parameter_of_every_indicator_has_exactly_one_default():
    needed = {(key, spec.key) for key, indicator in REGISTRY.items() for spec in indicator.params}
    given = [(row.indicator_key, row.param_key) for row in ROWS]
    assert len(given) == len(set(given)), "duplicate defaults"
    assert set(given) == needed


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_defaults_pass_the_indicators_own_checks(key):
    assert validate_params(get(key), default_params(key)) == {}


def test_rows_are_well_formed():
    for row in ROWS:
        assert isinstance(row, ParamValue)
        assert isinstance(row.value, str)
        assert Decimal(row.value) == row.decimal and row.decimal.is_finite()
        assert row.unit == get(row.indicator_key).param_spec(row.param_key).unit
        assert row.authority in Authority.values
        assert row.source.strip()
        # sourced prices have a vintage (an unverified placeholder may not know its own);
        # coefficients and policies have none
        if row.unit.startswith("yuan_per") and row.authority != Authority.UNVERIFIED:
            assert row.year is not None


def test_garze_example_prices_are_marked_as_paper_examples_with_the_doi():
    garze = [row for row in ROWS if "10.5846/stxb201607011362" in row.source]
    assert garze
    for row in garze:
        assert row.authority == Authority.PAPER_EXAMPLE
        if row.unit.startswith("yuan_per"):
            assert row.year == DEFAULT_PRICE_YEAR == 2010
    reservoir = next(
        r for r in ROWS if (r.indicator_key, r.param_key) == ("water_conservation", "reservoir_cost")
    )
    assert reservoir.value == "7.06" and "LY/T 1721-2008" in reservoir.clause


@pytest.mark.parametrize(
    ("indicator_key", "param_key"),
    [
        ("water_conservation", "negative_policy"),
        ("carbon_sequestration", "negative_policy"),
        ("negative_ions", "ion_threshold"),
        ("negative_ions", "ion_unit_cost"),
        ("climate_regulation", "ac_eer"),
        ("climate_regulation", "humidifier_energy"),
        ("carbon_sequestration", "carbon_fraction"),
    ],
)
def test_unconfirmed_items_are_unverified(indicator_key, param_key):
    row = next(r for r in ROWS if (r.indicator_key, r.param_key) == (indicator_key, param_key))
    assert row.authority == Authority.UNVERIFIED


def test_nothing_claims_to_be_a_standard_yet():
    # no clause of DB33/T 2274-2025 or GB/T 46869 has been read: nothing may pretend otherwise
    assert {row.authority for row in ROWS} <= {Authority.PAPER_EXAMPLE, Authority.UNVERIFIED}


def test_default_params_are_decimals():
    params = default_params("soil_retention")
    assert params["nitrogen_content"] == Decimal("0.0037")
    assert all(type(v) is Decimal for v in params.values())
    assert default_params("landscape_premium") == {}
