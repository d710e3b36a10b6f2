"""Bad inputs and parameters give Chinese messages per key (no database)."""

from decimal import Decimal

import pytest
from django.utils import translation

from valuation.indicators import (
    InputError,
    Measure,
    ParameterError,
    evaluate,
    get,
    normalize_inputs,
    validate_inputs,
    validate_params,
)
from valuation.indicators.base import D
from valuation.tests.indicator_helpers import params

R1 = get("water_conservation")
GOOD_R1 = {"precipitation": "1650", "runoff": "300", "evapotranspiration": "800", "area": "10000"}


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def errors_for(key, inputs, with_params=True):
    return validate_inputs(get(key), inputs, params(key) if with_params else None)


def test_good_inputs_have_no_errors():
    assert validate_inputs(R1, GOOD_R1) == {}


def test_negative_precipitation():
    errors = validate_inputs(R1, {**GOOD_R1, "precipitation": "-5"})
    assert errors == {"precipitation": ["不能小于 0 毫米。"]}


def test_implausible_precipitation():
    errors = validate_inputs(R1, {**GOOD_R1, "precipitation": "20000"})
    assert errors == {"precipitation": ["不能大于 12000 毫米。"]}


def test_runoff_above_precipitation():
    errors = validate_inputs(R1, {**GOOD_R1, "precipitation": "200", "runoff": "300"})
    assert errors == {"runoff": ["地表径流量（R）不能大于降水量（P）。"]}


def test_missing_required_input():
    inputs = {k: v for k, v in GOOD_R1.items() if k != "area"}
    assert validate_inputs(R1, inputs) == {"area": ["必须填写此项。"]}
    # an empty form field counts as missing
    assert validate_inputs(R1, {**GOOD_R1, "area": ""}) == {"area": ["必须填写此项。"]}
    assert validate_inputs(R1, {**GOOD_R1, "area": Measure("", "mu")}) == {"area": ["必须填写此项。"]}


def test_unknown_key():
    errors = validate_inputs(R1, {**GOOD_R1, "rainfall": "1650"})
    assert errors == {"rainfall": ["未知的输入项：该指标没有这一项。"]}


def test_unknown_and_incompatible_units():
    assert validate_inputs(R1, {**GOOD_R1, "area": Measure("3", "acre")}) == {"area": ["未知单位“acre”。"]}
    assert validate_inputs(R1, {**GOOD_R1, "area": ("3", "mm")}) == {"area": ["单位“毫米”不能换算为平方米。"]}
    assert validate_inputs(R1, {**GOOD_R1, "area": ("3", "mu", "x")}) == {
        "area": ["请填写数值，或（数值, 单位）。"]
    }


def test_unparseable_float_and_non_finite_values():
    assert validate_inputs(R1, {**GOOD_R1, "area": "abc"}) == {"area": ["“abc”不是有效的数值。"]}
    assert validate_inputs(R1, {**GOOD_R1, "area": 10000.0}) == {
        "area": ['不接受浮点数，请以字符串或 Decimal 传入（例如 "1500.5"）。']
    }
    assert validate_inputs(R1, {**GOOD_R1, "area": "NaN"}) == {"area": ["数值必须是有限数。"]}
    assert validate_inputs(R1, {**GOOD_R1, "area": True}) == {"area": ["“True”不是有效的数值。"]}
    # ints and Decimals are fine
    assert validate_inputs(R1, {**GOOD_R1, "area": 10000}) == {}
    assert validate_inputs(R1, {**GOOD_R1, "area": Decimal("10000")}) == {}


def test_unit_is_converted_before_the_range_check():
    # C is a fraction 0–1: 150 % = 1.5 is too large, 50 % is fine
    soil = {
        "area": "1",
        "rainfall_erosivity": "4000",
        "soil_erodibility": "0.03",
        "slope_length_steepness": "5",
    }
    assert errors_for("soil_retention", {**soil, "cover_management": Measure("150", "percent")}) == {
        "cover_management": ["不能大于 1。"]
    }
    assert errors_for("soil_retention", {**soil, "cover_management": Measure("50", "percent")}) == {}


def test_evaluate_raises_with_the_errors_and_normalizes_units():
    with pytest.raises(InputError) as caught:
        evaluate("water_conservation", {**GOOD_R1, "runoff": "2000"}, params("water_conservation"))
    assert caught.value.errors == {"runoff": ["地表径流量（R）不能大于降水量（P）。"]}
    clean = normalize_inputs(
        R1, {**GOOD_R1, "area": Measure("15", "mu"), "precipitation": Measure("1.65", "m")}
    )
    assert clean["area"] == D("10000")
    assert clean["precipitation"] == D("1650")
    assert all(type(v) is Decimal for v in clean.values())


def test_parameters_are_checked():
    assert validate_params(R1, params("water_conservation")) == {}
    assert validate_params(R1, {"negative_policy": D("0")}) == {
        "reservoir_cost": ["缺少参数，请在参数集中设定。"]
    }
    assert validate_params(R1, {**params("water_conservation"), "negative_policy": D("2")}) == {
        "negative_policy": ["不是允许的选项：0=负值截断为零，1=保留负值。"]
    }
    assert validate_params(R1, {**params("water_conservation"), "reservoir_cost": D("-1")}) == {
        "reservoir_cost": ["不能小于 0 元/立方米。"]
    }
    assert validate_params(R1, {**params("water_conservation"), "price": D("1")}) == {
        "price": ["未知的参数：该指标没有这一参数。"]
    }
    with pytest.raises(ParameterError) as caught:
        R1.compute({k: Decimal(v) for k, v in GOOD_R1.items()}, {"negative_policy": D("0")})
    assert "reservoir_cost" in caught.value.errors


def test_material_products_need_exactly_one_of_price_or_output_value():
    base = {"output_quantity": "10"}
    assert errors_for("agricultural_products", base) == {
        "__all__": ["请填写以下其中一项：市场价格、总产值（统计）。"]
    }
    both = {**base, "market_price": "3", "gross_output_value": "30"}
    assert errors_for("agricultural_products", both) == {
        "__all__": ["以下各项只能填写一项：市场价格、总产值（统计）。"]
    }
    too_much = {**base, "market_price": "3", "external_inputs": "31"}
    assert errors_for("agricultural_products", too_much) == {
        "external_inputs": ["扣除额（区域外投入 + 中间消耗）不能大于总产值。"]
    }


def test_soil_retention_cross_checks():
    assert errors_for("soil_retention", {"area": "1"}) == {
        "__all__": ["请填写 USLE 因子（R、K、LS、C，可选 P），或潜在与实际土壤侵蚀模数。"]
    }
    mixed = {"area": "1", "rainfall_erosivity": "4000", "potential_erosion": "10"}
    assert errors_for("soil_retention", mixed) == {
        "__all__": ["USLE 因子与“潜在/实际侵蚀模数”只能选一种方式填写。"]
    }
    partial = {"area": "1", "rainfall_erosivity": "4000", "soil_erodibility": "0.03"}
    assert errors_for("soil_retention", partial) == {
        "slope_length_steepness": ["使用 USLE 方式时必须填写此项。"],
        "cover_management": ["使用 USLE 方式时必须填写此项。"],
    }
    upside_down = {"area": "1", "potential_erosion": "5", "actual_erosion": "8"}
    assert errors_for("soil_retention", upside_down) == {
        "actual_erosion": ["实际土壤侵蚀模数不能大于潜在土壤侵蚀模数。"]
    }


def test_carbon_basis_is_exactly_one_input():
    both = {"area": "1", "npp_dry_matter": "1200", "nep_carbon": "300"}
    assert errors_for("carbon_sequestration", both) == {
        "__all__": ["以下各项只能填写一项：NPP（干物质）、NPP（碳）、NEP（碳）、实测/核证固碳量。"]
    }
    assert errors_for("carbon_sequestration", {"npp_dry_matter": "1200"}) == {
        "area": ["必须填写此项（使用 NPP 或 NEP 时）。"]
    }
    assert errors_for("carbon_sequestration", {"co2_fixed": "10"}) == {}


def test_tourism_basis_decides_which_input_is_required():
    assert errors_for("landscape_recreation", {"visits": "10", "travel_cost_per_visit": "100"}) == {}
    revenue_params = params("landscape_recreation", tourism_basis="1")
    assert validate_inputs(
        get("landscape_recreation"), {"visits": "10", "travel_cost_per_visit": "100"}, revenue_params
    ) == {"tourism_revenue": ["必须填写此项（按旅游收入核算时）。"]}
    # without parameters, at least one of the two must be there
    assert errors_for("landscape_recreation", {"visits": "10"}, with_params=False) == {
        "__all__": ["至少填写一项：人均旅行费用、旅游收入。"]
    }


def test_other_cross_checks():
    assert errors_for(
        "negative_ions", {"ion_concentration": "900", "area": "1", "layer_height": "10", "ion_lifetime": "0"}
    ) == {"ion_lifetime": ["必须大于 0 分钟。"]}
    assert errors_for(
        "wind_sand_fixation", {"area": "1", "potential_wind_erosion": "1", "actual_wind_erosion": "2"}
    ) == {"actual_wind_erosion": ["实际风蚀量不能大于潜在风蚀量。"]}
    assert errors_for("flood_regulation", {}) == {
        "__all__": ["至少填写一项：水库总库容、湖泊可调蓄水量、沼泽面积。"]
    }
    assert errors_for("climate_regulation", {"vegetation_area": "1"}) == {
        "transpiration_heat": ["计算植被降温时必须填写此项。"],
        "cooling_days": ["计算植被降温时必须填写此项。"],
    }
    assert errors_for("climate_regulation", {"water_evaporation": "1", "evaporation_depth": "3"}) == {
        "__all__": ["水面蒸发量与“水面面积 + 蒸发深度”只能选一种方式填写。"]
    }
    assert errors_for("water_supply", {}) == {
        "__all__": ["至少填写一项：生活用水量、工业用水量、农业用水量。"]
    }
    assert errors_for("pest_control", {}) == {"__all__": ["至少填写一项：天然林面积、天然草地面积。"]}
    # a value refused on its own is not reported again by the cross checks
    assert errors_for("pest_control", {"natural_forest_area": "-1"}) == {
        "natural_forest_area": ["不能小于 0 公顷。"]
    }


def test_messages_are_translatable_and_english_is_not_required_here():
    # validation messages come from gettext; with no English catalogue entry they stay Chinese
    with translation.override("en"):
        errors = validate_inputs(R1, {**GOOD_R1, "precipitation": "-5"})
    assert list(errors) == ["precipitation"]
