"""One hand-computed case (at least) per indicator. The arithmetic is written out in the comments so
that a reviewer can redo it; prices are the default (Garzê 2010 example) parameter set unless said."""

from decimal import ROUND_DOWN, Context, Decimal, localcontext
from fractions import Fraction

import pytest
from django.utils import translation

from resources.catalog import GEP_INDICATORS
from valuation.indicators import REGISTRY, Level, Measure, get
from valuation.indicators.base import D
from valuation.tests.indicator_helpers import assert_all_decimal, by_key, close, components_sum_exactly, run


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def check(result):
    assert_all_decimal(result)
    assert components_sum_exactly(result)
    return result


# --- registry ---------------------------------------------------------------------------------------


def test_registry_has_exactly_the_catalog_keys_with_their_categories():
    assert set(REGISTRY) == set(GEP_INDICATORS)
    for key, (category, label) in GEP_INDICATORS.items():
        indicator = get(key)
        assert indicator.key == key
        assert indicator.category == category
        assert str(indicator.name) == str(label)
        assert str(indicator.doc).strip()
    codes = [i.code for i in REGISTRY.values()]
    assert len(codes) == len(set(codes))
    with pytest.raises(KeyError):
        get("biodiversity")


def test_levels_follow_the_hierarchy_table():
    assert get("landscape_recreation").level == Level.REGION
    assert get("landscape_premium").level == Level.REGION
    # region or water body (an asset of type water body / intake / power plant), never plot-only
    for key in ("flood_regulation", "water_supply", "hydropower", "water_purification"):
        assert get(key).level == Level.BOTH


# --- M1–M4 material products ------------------------------------------------------------------------


def test_agricultural_products_gross_deductions_net():
    # gross 12.5 t × 3000 元/t = 37 500; − seedlings from outside 2 000 − intermediate 500 = 35 000
    result = check(
        run(
            "agricultural_products",
            {
                "output_quantity": "12.5",
                "market_price": "3000",
                "external_inputs": "2000",
                "intermediate_consumption": "500",
            },
        )
    )
    assert result.value == D("35000")
    parts = by_key(result)
    assert parts["gross_output"].value == D("37500")
    assert parts["external_inputs"].value == D("-2000")
    assert parts["intermediate_consumption"].value == D("-500")
    assert result.quantity == D("12.5") and result.quantity_unit == "t"
    assert result.unit_price == D("3000")


def test_timber_from_statistical_output_value():
    # 100 m³ harvested, output value 80 000 元 from the yearbook, no deductions → 80 000
    result = check(run("timber", {"output_quantity": "100", "gross_output_value": "80000"}))
    assert result.value == D("80000")
    assert result.quantity_unit == "m3"
    assert result.unit_price is None
    assert result.notes == ("未填写扣除项：价值按总产值计。",)


def test_livestock_deducts_imported_feed():
    # 2 t × 24 000 = 48 000 − imported feed 30 000 = 18 000
    result = check(
        run(
            "livestock_products",
            {"output_quantity": "2", "market_price": "24000", "external_inputs": "30000"},
        )
    )
    assert result.value == D("18000")


def test_fishery_quantity_in_kg_is_converted_to_t():
    # 3500 kg = 3.5 t × 16 000 = 56 000 − stocked fry 4 000 = 52 000
    result = check(
        run(
            "fishery_products",
            {"output_quantity": Measure("3500", "kg"), "market_price": "16000", "external_inputs": "4000"},
        )
    )
    assert result.quantity == D("3.5")
    assert result.value == D("52000")


# --- M5, M6 ------------------------------------------------------------------------------------------


def test_water_supply_by_use():
    # residential 100 万m³ = 1 000 000 m³ × 2.6 = 2 600 000
    # industrial 500 000 m³ × 3.6 = 1 800 000; agricultural 2 000 000 m³ × 0.07 = 140 000
    # total 4 540 000 元 for 3 500 000 m³
    result = check(
        run(
            "water_supply",
            {
                "residential_water": Measure("100", "10k_m3"),
                "industrial_water": "500000",
                "agricultural_water": "2000000",
            },
        )
    )
    assert result.value == D("4540000")
    assert result.quantity == D("3500000")
    assert by_key(result)["residential_water"].value == D("2600000")


def test_hydropower():
    # 1200 万kWh = 12 000 000 kWh × 0.53 = 6 360 000
    result = check(run("hydropower", {"generation": Measure("1200", "10k_kWh")}))
    assert result.quantity == D("12000000")
    assert result.value == D("6360000")


# --- R1 water conservation ---------------------------------------------------------------------------

R1_PRICE = D("7.06")


def test_water_conservation_over_one_hectare():
    # (1650 − 300 − 800) mm = 550 mm; 550 mm × 10 000 m² = 5 500 m³; × 7.06 = 38 830 元
    result = check(
        run(
            "water_conservation",
            {
                "precipitation": "1650",
                "runoff": "300",
                "evapotranspiration": "800",
                "area": Measure("1", "hm2"),
            },
        )
    )
    assert result.quantity == D("5500")
    assert result.value == D("38830")
    assert result.unit_price == R1_PRICE


def test_water_conservation_over_one_mu():
    # 550 mm over 1 亩 (2000/3 m²) = 1100/3 m³ ≈ 366.667 m³; × 7.06 ≈ 2588.667 元
    result = check(
        run(
            "water_conservation",
            {
                "precipitation": "1650",
                "runoff": "300",
                "evapotranspiration": "800",
                "area": Measure("1", "mu"),
            },
        )
    )
    assert close(result.quantity, Fraction(1100, 3))
    assert close(result.value, Fraction(1100, 3) * Fraction("7.06"))
    assert result.value.quantize(D("0.01")) == D("2588.67")
    # and 15 亩 is exactly one hectare
    fifteen = run(
        "water_conservation",
        {"precipitation": "1650", "runoff": "300", "evapotranspiration": "800", "area": Measure("15", "mu")},
    )
    assert fifteen.quantity == D("5500")


def test_water_conservation_negative_is_clamped_by_default():
    # 1000 − 300 − 800 = −100 mm over 1 hm² = −1000 m³ → clamped to 0 (negative_policy = 0)
    inputs = {"precipitation": "1000", "runoff": "300", "evapotranspiration": "800", "area": "10000"}
    result = check(run("water_conservation", inputs))
    assert result.quantity == 0 and result.value == 0
    assert "截断为零" in result.notes[0]
    # negative_policy = 1 keeps it: −1000 m³ × 7.06 = −7060 元
    kept = check(run("water_conservation", inputs, negative_policy="1"))
    assert kept.quantity == D("-1000")
    assert kept.value == D("-7060")
    assert "保留负值" in kept.notes[0]


# --- R2 soil retention -------------------------------------------------------------------------------

USLE = {
    "area": "100",  # hm²
    "rainfall_erosivity": "4000",
    "soil_erodibility": "0.03",
    "slope_length_steepness": "5",
    "cover_management": "0.02",
    "support_practice": "0.5",
    "bulk_density": "1.2",
}


def test_soil_retention_usle():
    # potential = 4000 × 0.03 × 5 = 600 t/hm²; retained rate = 600 × (1 − 0.02 × 0.5) = 594 t/hm²
    # A_c = 594 × 100 hm² = 59 400 t
    # siltation: 0.24 × 59 400 / 1.2 = 11 880 m³ × 15.58 = 185 090.4
    # N: 59 400 × 0.0037 = 219.78 t × 875 = 192 307.5
    # P: 59 400 × 0.00108 = 64.152 t × 2800 = 179 625.6
    # V = 557 023.5
    result = check(run("soil_retention", USLE))
    parts = by_key(result)
    assert result.quantity == D("59400")
    assert parts["siltation"].quantity == D("11880")
    assert parts["siltation"].value == D("185090.4")
    assert parts["nitrogen"].quantity == D("219.78")
    assert parts["nitrogen"].value == D("192307.5")
    assert parts["phosphorus"].quantity == D("64.152")
    assert parts["phosphorus"].value == D("179625.6")
    assert result.value == D("557023.5")
    assert result.variant == "with_nutrients"


def test_soil_retention_rates_in_t_per_km2_and_area_in_mu():
    # 60 000 t/km² = 600 t/hm²; 600 t/km² = 6 t/hm² → 594 t/hm²; 1500 亩 = 100 hm² → same as USLE
    result = check(
        run(
            "soil_retention",
            {
                "area": Measure("1500", "mu"),
                "potential_erosion": Measure("60000", "t_per_km2"),
                "actual_erosion": Measure("600", "t_per_km2"),
                "bulk_density": "1.2",
            },
        )
    )
    assert result.quantity == D("59400")
    assert result.value == D("557023.5")


def test_soil_retention_without_nutrients_and_with_default_density():
    # include_nutrients = 0: only siltation. Default ρ = 0.93:
    # 0.24 × 59 400 / 0.93 = 15 329.0322… m³ × 15.58 = 238 826.32…
    inputs = {k: v for k, v in USLE.items() if k != "bulk_density"}
    result = check(run("soil_retention", inputs, include_nutrients="0"))
    assert [c.key for c in result.components] == ["siltation"]
    assert result.variant == "siltation_only"
    assert close(result.value, Fraction("0.24") * 59400 / Fraction("0.93") * Fraction("15.58"))
    assert any("0.93" in note for note in result.notes)


def test_soil_retention_nutrient_content_in_percent():
    # 0.37 % given as a percentage equals the 0.0037 mass fraction
    result = run("soil_retention", {**USLE, "nitrogen_content": Measure("0.37", "percent")})
    assert by_key(result)["nitrogen"].quantity == D("219.78")


# --- R3 wind and sand fixation ------------------------------------------------------------------------


def test_wind_sand_fixation():
    # (12 − 4) t/hm² × 50 hm² = 400 t; 400 / (1.28 × 0.1) = 3125 m² × 3.75 = 11 718.75
    result = check(
        run("wind_sand_fixation", {"area": "50", "potential_wind_erosion": "12", "actual_wind_erosion": "4"})
    )
    assert result.quantity == D("400")
    assert result.components[0].quantity == D("3125")
    assert result.value == D("11718.75")


# --- R4 flood regulation ------------------------------------------------------------------------------


def test_flood_regulation():
    # reservoir 1000 万m³ × 0.35 = 3 500 000 m³; lake 200 000 m³; marsh 2 km² × 0.3 m = 600 000 m³
    # 4 300 000 m³ × 7.06 = 30 358 000
    result = check(
        run(
            "flood_regulation",
            {
                "reservoir_capacity": Measure("1000", "10k_m3"),
                "lake_flood_storage": "200000",
                "marsh_area": Measure("2", "km2"),
            },
        )
    )
    parts = by_key(result)
    assert parts["reservoir"].quantity == D("3500000")
    assert parts["marsh"].quantity == D("600000")
    assert result.quantity == D("4300000")
    assert result.value == D("30358000")


# --- R5, R6 purification ------------------------------------------------------------------------------


def test_air_purification_capped_by_emissions():
    # SO₂ 12 t × 1200 = 14 400; NOx 8 t × 630 = 5 040; dust 1500 t capped at emission 1000 t × 150 = 150 000
    # V = 169 440 for 1020 t
    result = check(
        run(
            "air_purification",
            {"so2_removed": "12", "nox_removed": "8", "dust_removed": "1500", "dust_emission": "1000"},
        )
    )
    assert result.value == D("169440")
    assert result.quantity == D("1020")
    assert "按排放量计" in result.notes[0]


def test_water_purification():
    # COD 30 t × 700 = 21 000; NH₃-N 4 t × 875 = 3 500 → 24 500
    result = check(run("water_purification", {"cod_removed": "30", "nh3n_removed": "4"}))
    assert result.value == D("24500")


# --- R7, R8 carbon and oxygen -------------------------------------------------------------------------


def test_carbon_from_npp_dry_matter():
    # 1.63 × 1200 g/m² = 1956 g/m²; × 1 km² (10⁶ m²) = 1.956×10⁹ g = 1956 t CO₂; × 380 = 743 280
    result = check(run("carbon_sequestration", {"npp_dry_matter": "1200", "area": Measure("1", "km2")}))
    assert result.quantity == D("1956")
    assert result.value == D("743280")
    assert result.variant == "npp"


def test_carbon_from_npp_in_carbon_converts_to_dry_matter_first():
    # MODIS 0.54 kg C/m² = 540 g C/m² ÷ 0.45 = 1200 g dry matter → same 1956 t as above,
    # never 1.63 × 540 = 880.2 g/m² (880.2 t)
    result = check(
        run(
            "carbon_sequestration", {"npp_carbon": Measure("0.54", "kgC_per_m2"), "area": Measure("1", "km2")}
        )
    )
    assert result.quantity == D("1956")
    assert result.quantity != D("880.2")
    assert "含碳率" in result.notes[0]


def test_carbon_from_nep():
    # 44/12 × 300 g C/m² = 1100 g CO₂/m²; × 100 hm² (10⁶ m²) = 1100 t; × 380 = 418 000
    result = check(run("carbon_sequestration", {"nep_carbon": "300", "area": Measure("100", "hm2")}))
    assert result.quantity == D("1100")
    assert result.value == D("418000")
    assert result.variant == "nep"


def test_carbon_measured_and_negative_nep():
    # a verified carbon-sink project: 1000 t CO₂ × 380 = 380 000
    assert run("carbon_sequestration", {"co2_fixed": "1000"}).value == D("380000")
    # NEP −30 g C/m² (a source) over 10⁶ m²: −110 t → clamped to 0, or kept as −41 800 元
    source = {"nep_carbon": "-30", "area": "1000000"}
    assert run("carbon_sequestration", source).value == 0
    assert run("carbon_sequestration", source, negative_policy="1").value == D("-41800")


def test_oxygen_release():
    # NPP: 1.19 × 1200 = 1428 g/m² × 10⁶ m² = 1428 t O₂ × 727 = 1 038 156
    result = check(run("oxygen_release", {"npp_dry_matter": "1200", "area": Measure("1", "km2")}))
    assert result.quantity == D("1428")
    assert result.value == D("1038156")
    # NEP: 32/12 × 300 = 800 g/m² × 10⁶ m² = 800 t × 727 = 581 600
    nep = check(run("oxygen_release", {"nep_carbon": "300", "area": "1000000"}))
    assert nep.quantity == D("800") and nep.value == D("581600")
    # measured 1100 t CO₂ → 32/44 × 1100 = 800 t O₂ (consistent with the NEP branch)
    assert run("oxygen_release", {"co2_fixed": "1100"}).quantity == D("800")


# --- R9 climate regulation ----------------------------------------------------------------------------


def test_climate_regulation_vegetation_and_water():
    # vegetation: 81 kJ/(m²·d) × 10⁶ m² × 100 d = 8.1×10⁹ kJ ÷ (3600 × 3.0) = 750 000 kWh
    # water: 12 hm² × 300 mm = 36 000 m³ evaporated
    #   cooling 36 000 × 1000 kg/m³ × 2450 kJ/kg ÷ 3600 = 24 500 000 kWh
    #   humidifying 36 000 m³ × 100 kWh/m³ = 3 600 000 kWh
    # total 28 850 000 kWh × 0.53 = 15 290 500 元
    result = check(
        run(
            "climate_regulation",
            {
                "vegetation_area": Measure("1", "km2"),
                "transpiration_heat": "81",
                "cooling_days": "100",
                "water_surface_area": Measure("12", "hm2"),
                "evaporation_depth": "300",
            },
        )
    )
    parts = by_key(result)
    assert parts["vegetation_cooling"].quantity == D("750000")
    assert parts["water_cooling"].quantity == D("24500000")
    assert parts["water_humidifying"].quantity == D("3600000")
    assert result.quantity == D("28850000")
    assert result.value == D("15290500")


def test_climate_regulation_water_volume_given_directly():
    # 36 000 m³ as a volume gives the same water part: (24 500 000 + 3 600 000) × 0.53 = 14 893 000
    result = check(run("climate_regulation", {"water_evaporation": Measure("3.6", "10k_m3")}))
    assert result.value == D("14893000")


# --- R10 pest control ---------------------------------------------------------------------------------


def test_pest_control():
    # 300 亩 = 20 hm² × 375 = 7 500; grassland 10 hm² × 112.5 = 1 125 → 8 625 for 30 hm²
    result = check(
        run("pest_control", {"natural_forest_area": Measure("300", "mu"), "natural_grassland_area": "10"})
    )
    assert result.quantity == D("30")
    assert result.value == D("8625")


# --- R11 negative ions --------------------------------------------------------------------------------


def test_negative_ions():
    # (1500 − 600) ions/cm³ above the threshold; A 5000 hm², H 10 m, L 10 min
    # N = 5.256×10¹⁵ × 900 × 5000 × 10 / 10 = 2.3652×10²² ions = 23 652 × 10¹⁸
    # V = 23 652 × 5.8185 元/10¹⁸ = 137 619.162 元
    result = check(
        run(
            "negative_ions",
            {"ion_concentration": "1500", "area": "5000", "layer_height": "10", "ion_lifetime": "10"},
        )
    )
    assert result.quantity == D("23652")
    assert result.quantity_unit == "ions_1e18"
    assert result.value == D("137619.162")


def test_negative_ions_below_threshold_count_nothing():
    result = check(
        run(
            "negative_ions",
            {"ion_concentration": "500", "area": "5000", "layer_height": "10", "ion_lifetime": "10"},
        )
    )
    assert result.value == 0
    assert "未超过阈值" in result.notes[0]
    # the threshold is a parameter: at 400/cm³, (500 − 400) × 5000 × 10 / 10 × 5.256×10⁻³ = 2628 × 10¹⁸
    lowered = run(
        "negative_ions",
        {"ion_concentration": "500", "area": "5000", "layer_height": "10", "ion_lifetime": "10"},
        ion_threshold="400",
    )
    assert lowered.quantity == D("2628")


# --- C1–C3 cultural -----------------------------------------------------------------------------------

GARZE_TOURISM = {
    "visits": Measure("358.68", "10k_person_visits"),
    "travel_cost_per_visit": "1970.28",
    "tourism_revenue": Measure("23.56", "100m_yuan"),
}


def test_recreation_travel_cost_or_revenue_never_both():
    # travel cost: 3 586 800 visits × 1970.28 元 = 7 067 000 304 元 ≈ 70.67 亿 (Garzê 2010)
    travel = check(run("landscape_recreation", GARZE_TOURISM))
    assert travel.value == D("7067000304")
    assert travel.variant == "travel_cost"
    assert "旅游收入未计入" in travel.notes[0]
    # revenue basis: 23.56 亿 = 2 356 000 000 元, travel cost left out
    revenue = check(run("landscape_recreation", GARZE_TOURISM, tourism_basis="1"))
    assert revenue.value == D("2356000000")
    assert revenue.variant == "revenue"
    assert len(revenue.components) == 1 and len(travel.components) == 1
    # Garzê: the travel-cost value is about 3× the revenue
    assert D("2.9") < travel.value / revenue.value < D("3.1")


def test_landscape_premium():
    # 20 000 m² × 15 元/m²/a = 300 000
    result = check(run("landscape_premium", {"benefiting_area": "20000", "premium_per_m2": "15"}))
    assert result.value == D("300000")


def test_cultural_heritage():
    # 50 000 visits × 40 % heritage motive × 300 元 = 6 000 000
    result = check(
        run(
            "cultural_heritage",
            {
                "heritage_visits": "50000",
                "travel_cost_per_visit": "300",
                "heritage_share": Measure("40", "percent"),
            },
        )
    )
    assert result.value == D("6000000")
    # share left blank → 1: 50 000 × 300 = 15 000 000, with a note
    full = run("cultural_heritage", {"heritage_visits": "50000", "travel_cost_per_visit": "300"})
    assert full.value == D("15000000")
    assert full.notes


def test_compute_is_strict_and_evaluate_is_lenient():
    indicator = get("hydropower")
    params = {"electricity_price": Decimal("0.53")}
    assert indicator.compute({"generation": Decimal("100")}, params).value == D("53")
    with pytest.raises(TypeError):
        indicator.compute({"generation": 100.0}, params)
    with pytest.raises(TypeError):
        indicator.compute({"generation": "100"}, params)


def test_results_do_not_depend_on_the_callers_decimal_context():
    # a run must be reproducible: same inputs + parameters → identical numbers, whatever context
    # the calling code happens to have set
    inputs = {
        "precipitation": "1650",
        "runoff": "300",
        "evapotranspiration": "800",
        "area": Measure("7", "mu"),
    }
    expected = run("water_conservation", inputs)
    with localcontext(Context(prec=5, rounding=ROUND_DOWN)):
        again = run("water_conservation", inputs)
    assert again == expected
