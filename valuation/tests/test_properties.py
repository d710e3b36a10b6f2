"""Property tests (hypothesis): linearity in area and in price, exact component sums, Decimal only.

Where a formula only multiplies (R1, R7/R8 on NPP dry matter, R10, M5, C2 …) scaling is exact; where
it divides (÷ρ, ÷12, ÷3600·EER, ÷L, 亩) the results agree to the 50-digit rounding of one division.
Expected values are computed with Fraction: Decimal arithmetic in the test's default context (28
digits) would itself round.
"""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuation.default_parameters import default_params
from valuation.indicators import REGISTRY, Measure, evaluate, get
from valuation.indicators.base import D
from valuation.tests.indicator_helpers import assert_all_decimal, close, components_sum_exactly, run

PROFILE = settings(max_examples=50, deadline=None)


def dec(low, high, places=2):
    return st.decimals(
        min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False, allow_infinity=False
    )


factor = st.integers(min_value=2, max_value=1000).map(Decimal)
area = dec("0.01", "100000000")


@st.composite
def r1_inputs(draw):
    runoff = draw(dec("0", "2000", 1))
    evapotranspiration = draw(dec("0", "1500", 1))
    surplus = draw(dec("0.1", "2000", 1))
    return {
        "precipitation": runoff + evapotranspiration + surplus,
        "runoff": runoff,
        "evapotranspiration": evapotranspiration,
        "area": draw(area),
    }


@st.composite
def rates(draw, potential_key, actual_key):
    actual = draw(dec("0", "500"))
    return {potential_key: actual + draw(dec("0", "1000")), actual_key: actual}


fraction = dec("0", "1", 3)

SAMPLES = {
    "agricultural_products": st.fixed_dictionaries(
        {"output_quantity": dec("0", "100000"), "market_price": dec("0", "50000")}
    ),
    "timber": st.fixed_dictionaries(
        {"output_quantity": dec("0", "100000"), "gross_output_value": dec("0", "1E9")}
    ),
    "livestock_products": st.fixed_dictionaries(
        {
            "output_quantity": dec("1", "1000"),
            "market_price": dec("1000", "50000"),
            "external_inputs": dec("0", "1000"),
        }
    ),
    "fishery_products": st.fixed_dictionaries(
        {"output_quantity": dec("1", "1000"), "market_price": dec("1000", "50000")},
        optional={"intermediate_consumption": dec("0", "1000")},
    ),
    "water_supply": st.fixed_dictionaries(
        {"residential_water": dec("0", "1E8")},
        optional={"industrial_water": dec("0", "1E8"), "agricultural_water": dec("0", "1E9")},
    ),
    "hydropower": st.fixed_dictionaries({"generation": dec("0", "1E10")}),
    "water_conservation": r1_inputs(),
    "soil_retention": st.fixed_dictionaries(
        {
            "area": area,
            "rainfall_erosivity": dec("0", "20000", 1),
            "soil_erodibility": dec("0", "0.1", 4),
            "slope_length_steepness": dec("0", "50"),
            "cover_management": fraction,
        },
        optional={
            "support_practice": fraction,
            "bulk_density": dec("0.5", "2"),
            "nitrogen_content": dec("0", "0.01", 5),
        },
    ),
    "wind_sand_fixation": rates("potential_wind_erosion", "actual_wind_erosion").map(
        lambda r: {**r, "area": Decimal("250")}
    ),
    "flood_regulation": st.fixed_dictionaries(
        {"reservoir_capacity": dec("0", "1E10")},
        optional={"lake_flood_storage": dec("0", "1E9"), "marsh_area": dec("0", "1E8")},
    ),
    "air_purification": st.fixed_dictionaries(
        {"so2_removed": dec("0", "1000")},
        optional={
            "nox_removed": dec("0", "1000"),
            "dust_removed": dec("0", "1E5"),
            "dust_emission": dec("0", "1E5"),
        },
    ),
    "water_purification": st.fixed_dictionaries(
        {"cod_removed": dec("0", "1000")}, optional={"nh3n_removed": dec("0", "100")}
    ),
    "carbon_sequestration": st.one_of(
        st.fixed_dictionaries({"area": area, "npp_dry_matter": dec("0", "3000")}),
        st.fixed_dictionaries({"area": area, "npp_carbon": dec("0", "1500")}),
        st.fixed_dictionaries({"area": area, "nep_carbon": dec("-500", "1000")}),
        st.fixed_dictionaries({"co2_fixed": dec("0", "1E6")}),
    ),
    "oxygen_release": st.one_of(
        st.fixed_dictionaries({"area": area, "npp_dry_matter": dec("0", "3000")}),
        st.fixed_dictionaries({"area": area, "nep_carbon": dec("-500", "1000")}),
        st.fixed_dictionaries({"co2_fixed": dec("0", "1E6")}),
    ),
    "climate_regulation": st.fixed_dictionaries(
        {"vegetation_area": area, "transpiration_heat": dec("0", "200"), "cooling_days": dec("0", "200", 0)},
        optional={"water_evaporation": dec("0", "1E7")},
    ),
    "pest_control": st.fixed_dictionaries(
        {"natural_forest_area": area}, optional={"natural_grassland_area": area}
    ),
    "negative_ions": st.fixed_dictionaries(
        {
            "ion_concentration": dec("0", "50000", 0),
            "area": dec("0", "1E6"),
            "layer_height": dec("0.1", "100", 1),
            "ion_lifetime": dec("0.1", "100", 1),
        }
    ),
    "landscape_recreation": st.fixed_dictionaries(
        {"visits": dec("0", "1E8", 0), "travel_cost_per_visit": dec("0", "5000")},
        optional={"tourism_revenue": dec("0", "1E10")},
    ),
    "landscape_premium": st.fixed_dictionaries({"benefiting_area": area, "premium_per_m2": dec("0", "500")}),
    "cultural_heritage": st.fixed_dictionaries(
        {"heritage_visits": dec("0", "1E7", 0), "travel_cost_per_visit": dec("0", "5000")},
        optional={"heritage_share": fraction},
    ),
}


def test_every_indicator_has_a_sample_strategy():
    assert set(SAMPLES) == set(REGISTRY)


@pytest.mark.parametrize("key", sorted(REGISTRY))
@PROFILE
@given(data=st.data())
def test_components_sum_exactly_and_no_float(key, data):
    inputs = data.draw(SAMPLES[key])
    result = get(key).compute(inputs, default_params(key))
    assert_all_decimal(result)
    assert components_sum_exactly(result)
    assert result.quantity_unit == get(key).quantity_unit


# --- linearity in area (exact where the formula only multiplies) -----------------------------------------

EXACT_AREA_LINEAR = {
    "water_conservation": ("area",),
    "pest_control": ("natural_forest_area", "natural_grassland_area"),
    "landscape_premium": ("benefiting_area",),
}


def scale(inputs, keys, k):
    return {name: value * k if name in keys else value for name, value in inputs.items()}


@pytest.mark.parametrize(("key", "area_keys"), sorted(EXACT_AREA_LINEAR.items()))
@PROFILE
@given(data=st.data(), k=factor)
def test_value_is_exactly_linear_in_area(key, area_keys, data, k):
    inputs = data.draw(SAMPLES[key])
    indicator, params = get(key), default_params(key)
    scaled = indicator.compute(scale(inputs, area_keys, k), params)
    base = indicator.compute(inputs, params)
    assert Fraction(scaled.value) == Fraction(k) * Fraction(base.value)
    assert Fraction(scaled.quantity) == Fraction(k) * Fraction(base.quantity)


@PROFILE
@given(npp=dec("0", "3000"), a=area, k=factor)
def test_carbon_and_oxygen_from_npp_are_exactly_linear_in_area(npp, a, k):
    for key in ("carbon_sequestration", "oxygen_release"):
        one = get(key).compute({"npp_dry_matter": npp, "area": a}, default_params(key))
        many = get(key).compute({"npp_dry_matter": npp, "area": a * k}, default_params(key))
        assert Fraction(many.value) == Fraction(k) * Fraction(one.value)
        assert Fraction(many.quantity) == Fraction(k) * Fraction(one.quantity)


AREA_LINEAR_WITH_DIVISION = {
    "soil_retention": "area",
    "wind_sand_fixation": "area",
    "climate_regulation": "vegetation_area",
    "negative_ions": "area",
}


@pytest.mark.parametrize(("key", "area_key"), sorted(AREA_LINEAR_WITH_DIVISION.items()))
@PROFILE
@given(data=st.data(), k=factor)
def test_value_is_linear_in_area_up_to_division_rounding(key, area_key, data, k):
    inputs = data.draw(SAMPLES[key])
    if key == "climate_regulation":
        inputs.pop("water_evaporation", None)  # the water part does not scale with vegetation area
    scaled = {**inputs, area_key: inputs[area_key] * k}
    indicator, params = get(key), default_params(key)
    base = indicator.compute(inputs, params).value
    assert close(indicator.compute(scaled, params).value, Fraction(k) * Fraction(base))


@PROFILE
@given(n=st.integers(min_value=1, max_value=10**9))
def test_fifteen_mu_is_exactly_one_hectare(n):
    inputs = {"precipitation": "1650", "runoff": "300", "evapotranspiration": "800"}
    params = default_params("water_conservation")
    in_mu = evaluate("water_conservation", {**inputs, "area": Measure(str(15 * n), "mu")}, params)
    in_hm2 = evaluate("water_conservation", {**inputs, "area": Measure(str(n), "hm2")}, params)
    assert in_mu.value == in_hm2.value == D("38830") * n


# --- linearity in price ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(REGISTRY))
@PROFILE
@given(data=st.data(), k=factor)
def test_value_is_linear_in_the_unit_prices(key, data, k):
    indicator = get(key)
    inputs = data.draw(SAMPLES[key])
    params = default_params(key)
    # prices (元/…) and money amounts (元: revenue, statistical output value, deductions) scale by k
    money_params = {s.key for s in indicator.params if s.unit.startswith("yuan")}
    money_inputs = {s.key for s in indicator.inputs if s.unit.startswith("yuan")}
    scaled_params = scale(params, money_params, k)
    scaled_inputs = scale(inputs, money_inputs, k)
    base = indicator.compute(inputs, params).value
    scaled = indicator.compute(scaled_inputs, scaled_params).value
    assert close(scaled, Fraction(k) * Fraction(base))


@PROFILE
@given(inputs=r1_inputs(), k=factor)
def test_water_conservation_is_exactly_linear_in_the_reservoir_cost(inputs, k):
    params = default_params("water_conservation")
    doubled = {**params, "reservoir_cost": params["reservoir_cost"] * k}
    r1 = get("water_conservation")
    base = r1.compute(inputs, params).value
    assert Fraction(r1.compute(inputs, doubled).value) == Fraction(k) * Fraction(base)


# --- sign and policy ------------------------------------------------------------------------------------


@PROFILE
@given(
    p=dec("0", "3000", 1),
    r_share=dec("0", "1", 2),
    et=dec("0", "4000", 1),
    a=area,
)
def test_water_conservation_is_never_negative_under_the_clamp_policy(p, r_share, et, a):
    inputs = {"precipitation": p, "runoff": p * r_share, "evapotranspiration": et, "area": a}
    clamped = run("water_conservation", inputs)
    kept = run("water_conservation", inputs, negative_policy="1")
    assert clamped.value >= 0
    assert clamped.value == max(kept.value, Decimal(0))
