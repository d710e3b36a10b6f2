"""Plausibility guards from gep-methods.md §5 (heuristics, not rules), with the default parameters.

The inputs are "typical" values for Lishui-like mountain forest, chosen by us and written out here;
they are not measurements. The guards catch unit slips (mm × m², t/hm² vs t/km², gC vs dry
matter), which move results by factors of 100–1000, not by tens of percent.
"""

from decimal import Decimal

from valuation.indicators import Measure
from valuation.indicators.base import D
from valuation.tests.indicator_helpers import run

ONE_KM2 = Measure("1", "km2")


def forest_regulating_services_per_km2():
    """Asset-level regulating services of 1 km² of Lishui-like forest (元/a)."""
    values = {
        # 1700 mm rain, 300 mm storm runoff, 800 mm ET → 600 mm × 10⁶ m² = 6×10⁵ m³ × 7.06 = 4 236 000
        "water_conservation": run(
            "water_conservation",
            {"precipitation": "1700", "runoff": "300", "evapotranspiration": "800", "area": ONE_KM2},
        ),
        # R 5000, K 0.03, LS 5, C 0.05 → 750 × 0.95 = 712.5 t/hm² × 100 hm² = 71 250 t retained
        "soil_retention": run(
            "soil_retention",
            {
                "area": ONE_KM2,
                "rainfall_erosivity": "5000",
                "soil_erodibility": "0.03",
                "slope_length_steepness": "5",
                "cover_management": "0.05",
            },
        ),
        # 88.65 kg SO₂/hm² ≈ 8.865 t, NOx 6 t, dust 10 t/hm² → 1000 t per km²
        "air_purification": run(
            "air_purification", {"so2_removed": "8.865", "nox_removed": "6", "dust_removed": "1000"}
        ),
        # NPP 1200 g dry matter/m²: 1956 t CO₂ × 380 = 743 280; 1428 t O₂ × 727 = 1 038 156
        "carbon_sequestration": run("carbon_sequestration", {"npp_dry_matter": "1200", "area": ONE_KM2}),
        "oxygen_release": run("oxygen_release", {"npp_dry_matter": "1200", "area": ONE_KM2}),
        # 81 kJ/(m²·d) × 10⁶ m² × 100 d / (3600 × 3) = 750 000 kWh × 0.53 = 397 500
        "climate_regulation": run(
            "climate_regulation",
            {"vegetation_area": ONE_KM2, "transpiration_heat": "81", "cooling_days": "100"},
        ),
        # 100 hm² × 375 = 37 500
        "pest_control": run("pest_control", {"natural_forest_area": ONE_KM2}),
        # (2000 − 600) × 100 hm² × 10 m / 10 min × 5.256×10⁻³ = 735.84 × 10¹⁸ × 5.8185 ≈ 4 281
        "negative_ions": run(
            "negative_ions",
            {"ion_concentration": "2000", "area": ONE_KM2, "layer_height": "10", "ion_lifetime": "10"},
        ),
    }
    return {key: result.value for key, result in values.items()}


def test_lishui_like_forest_is_of_the_order_of_ten_million_yuan_per_km2():
    per_km2 = sum(forest_regulating_services_per_km2().values(), Decimal(0))
    # §5: flag anything below 5×10⁶ or above 10⁸ 元/km² (Lishui 2018 ≈ 2.9×10⁷ over all services)
    assert D("5E6") <= per_km2 <= D("1E8"), per_km2
    # water conservation is the biggest single forest service here, as in Lishui's reports
    parts = forest_regulating_services_per_km2()
    assert max(parts, key=parts.get) == "water_conservation"


def test_negative_ions_are_below_one_percent_of_a_dacun_like_village():
    # A Dacun-like village: ≈15 km² of forest (Dacun 2018: GEP ≈ 1.6 亿, water retention 5152 万).
    village_forest = 15 * sum(forest_regulating_services_per_km2().values(), Decimal(0))
    # ions with monitoring data: 1800/cm³ over 1500 hm², H 10 m, L 10 min:
    # (1800 − 600) × 1500 × 10 / 10 × 5.256×10⁻³ = 9460.8 × 10¹⁸ ions × 5.8185 = 55 047.66 元
    ions = run(
        "negative_ions",
        {
            "ion_concentration": "1800",
            "area": Measure("15", "km2"),
            "layer_height": "10",
            "ion_lifetime": "10",
        },
    )
    assert ions.quantity == D("9460.8")
    assert ions.value == D("55047.6648")
    # the same order as Dacun's reported 8.44 万元, and far below 1 % of the village value
    assert D("1E4") < ions.value < D("1E6")
    assert ions.value < village_forest / 100
    assert ions.value < D("1.6E8") / 100


def test_city_scale_water_conservation_keeps_every_digit():
    # Lishui city, 17 300 km², 600 mm: 1.038×10¹⁰ m³ × 7.06 = 73 282 800 000 元 ≈ 733 亿,
    # a plausible share of the 2018 GEP of 5024.47 亿元 (regulating 3659.4 亿)
    result = run(
        "water_conservation",
        {
            "precipitation": "1700",
            "runoff": "300",
            "evapotranspiration": "800",
            "area": Measure("17300", "km2"),
        },
    )
    assert result.quantity == D("10380000000")
    assert result.value == D("73282800000")
    assert result.value < D("3659.4E8")
    # reported to the cent and in 亿元 with ROUND_HALF_UP only at display time
    assert result.value.quantize(D("0.01")) == D("73282800000.00")


def test_garze_tourism_travel_cost_is_about_three_times_revenue():
    # Garzê 2010: 358.68 万 visits, revenue 23.56 亿, travel-cost value 70.67 亿 → 1970.28 元/visit
    inputs = {"visits": Measure("358.68", "10k_person_visits"), "travel_cost_per_visit": "1970.28"}
    value = run("landscape_recreation", inputs).value
    assert abs(value - D("70.67E8")) < D("0.01E8")
    assert D("2.9") < value / D("23.56E8") < D("3.1")


def test_extremes_village_ions_to_city_totals():
    # §6.10: magnitudes from 8.44 万 (village ions) to 10¹² 元 (city) in one arithmetic
    tiny = run(
        "negative_ions",
        {"ion_concentration": "601", "area": "1", "layer_height": "1", "ion_lifetime": "60"},
    )
    # (601 − 600) × 1 × 1 / 60 × 5.256×10⁻³ = 8.76×10⁻⁵ × 10¹⁸ ions
    assert tiny.quantity == D("0.0000876")
    huge = run("hydropower", {"generation": Measure("2E8", "10k_kWh")})  # 2×10¹² kWh
    assert huge.value == D("1.06E12")
