"""Units: exact conversions (gep-methods.md §6.1–§6.3), Decimal only."""

from decimal import Decimal
from fractions import Fraction

import pytest

from valuation.indicators import units
from valuation.indicators.arithmetic import exact_sum
from valuation.indicators.base import D
from valuation.tests.indicator_helpers import close


def test_area_units_convert_exactly():
    # 1 hm² = 15 亩 = 10000 m² = 0.01 km²
    assert units.convert(D("15"), "mu", "m2") == D("10000")
    assert units.convert(D("1"), "hm2", "mu") == D("15")
    assert units.convert(D("1"), "km2", "hm2") == D("100")
    assert units.convert(D("1"), "hm2", "km2") == D("0.01")
    assert units.conversion_factor("mu", "m2") == Fraction(2000, 3)
    # 1 亩 = 666.666… m², rounded only in the 50th significant digit
    one_mu = units.convert(D("1"), "mu", "m2")
    assert str(one_mu).startswith("666.6666666666")
    assert close(one_mu, Fraction(2000, 3), rel="1e-49")


def test_depth_over_area():
    # 1 mm over 1 m² = 0.001 m³; over 1 hm² = 10 m³; over 1 km² = 1000 m³; over 1 亩 = 2/3 m³
    assert units.depth_over_area_m3(D("1"), D("1")) == D("0.001")
    assert units.depth_over_area_m3(D("1"), units.convert(D("1"), "hm2", "m2")) == D("10")
    assert units.depth_over_area_m3(D("1"), units.convert(D("1"), "km2", "m2")) == D("1000")
    assert close(units.depth_over_area_m3(D("1"), units.convert(D("1"), "mu", "m2")), Fraction(2, 3))


def test_rates_per_area_and_other_factors():
    # t/km² is 100× smaller than t/hm²
    assert units.convert(D("500"), "t_per_km2", "t_per_hm2") == D("5")
    # MODIS kg C/m² → g C/m²; t C/hm² → g C/m²
    assert units.convert(D("0.54"), "kgC_per_m2", "gC_per_m2") == D("540")
    assert units.convert(D("5.4"), "tC_per_hm2", "gC_per_m2") == D("540")
    # USLE K in US customary units × 0.1317 → SI
    assert units.convert(D("1"), "usle_k_us", "usle_k_si") == D("0.1317")
    assert units.convert(D("0.37"), "percent", "dimensionless") == D("0.0037")
    assert units.convert(D("1.5"), "10k_m3", "m3") == D("15000")
    assert units.convert(D("23.56"), "100m_yuan", "yuan") == D("2356000000")
    assert units.convert(D("375"), "yuan_per_hm2", "yuan_per_mu") == D("25")


def test_unknown_and_incompatible_units_are_refused():
    with pytest.raises(units.UnitError):
        units.convert(D("1"), "acre", "m2")
    with pytest.raises(units.UnitError):
        units.convert(D("1"), "mm", "m2")
    assert not units.compatible("t_co2", "t")


def test_no_float_enters():
    with pytest.raises(TypeError):
        units.convert(1.5, "mu", "m2")
    with pytest.raises(TypeError):
        D(1.5)
    with pytest.raises(TypeError):
        exact_sum([Decimal("1"), 0.5])


def test_exact_sum_never_rounds():
    big, tiny = D("1E+12"), D("1.23456789E-40")
    assert exact_sum([big, tiny]) - big == tiny
    assert exact_sum([]) == 0


def test_every_unit_has_a_label_and_a_dimension():
    for unit in units.UNITS.values():
        assert str(unit.label)
        assert unit.dimension
        assert unit.factor > 0
    assert ("m2", units.UNITS["m2"].label) in units.unit_choices("area")
