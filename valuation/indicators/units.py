"""The closed set of units the GEP indicators speak, with exact conversions.

Every input and parameter of an indicator names one of these codes. A value given in another unit
of the same dimension (亩 instead of m², 万m³ instead of m³, t/km² instead of t/hm²) is converted
with an exact rational factor: the multiplication is done first and the one division last, in the
engine's Decimal context (`arithmetic.CONTEXT`), so 15 亩 is exactly 10000 m² and the only inexact step
is a division by 3 (亩) carried to 50 significant digits. No float is ever involved.

Rates are per year unless the label says otherwise (GEP is an annual flow).
"""

from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .arithmetic import CONTEXT


@dataclass(frozen=True)
class Unit:
    code: str
    label: Promise | str
    dimension: str
    # Size of one of this unit in the dimension's base unit (the unit whose factor is 1).
    factor: Fraction = Fraction(1)


class UnitError(ValueError):
    """An unknown unit code, or two units that cannot be converted into each other."""


def _u(code, label, dimension, factor=1):
    return Unit(code, label, dimension, Fraction(factor))


_ALL = [
    # 无量纲 / 选项
    _u("dimensionless", _("无量纲"), "ratio"),
    _u("percent", "%", "ratio", Fraction(1, 100)),
    _u("code", _("选项代码"), "code"),
    # 长度、深度（base: m）
    _u("mm", _("毫米"), "length", Fraction(1, 1000)),
    _u("m", _("米"), "length"),
    # 面积（base: m²）; 1 亩 = 10000/15 m²
    _u("m2", _("平方米"), "area"),
    _u("mu", _("亩"), "area", Fraction(10000, 15)),
    _u("hm2", _("公顷"), "area", 10_000),
    _u("km2", _("平方千米"), "area", 1_000_000),
    # 体积（base: m³）
    _u("m3", _("立方米"), "volume"),
    _u("10k_m3", _("万立方米"), "volume", 10_000),
    # 质量（base: t）
    _u("kg", _("千克"), "mass", Fraction(1, 1000)),
    _u("t", _("吨"), "mass"),
    _u("t_co2", _("吨二氧化碳"), "mass_co2"),
    _u("t_o2", _("吨氧气"), "mass_o2"),
    # 能量（base: kWh）
    _u("kWh", _("千瓦时"), "energy"),
    _u("10k_kWh", _("万千瓦时"), "energy", 10_000),
    # 单位面积年生产力（base: g/m²）; 1 t/hm² = 100 g/m²; MODIS MOD17 gives kg C/m²
    _u("g_dm_per_m2", _("克干物质/平方米/年"), "dry_matter_density"),
    _u("t_dm_per_hm2", _("吨干物质/公顷/年"), "dry_matter_density", 100),
    _u("gC_per_m2", _("克碳/平方米/年"), "carbon_density"),
    _u("kgC_per_m2", _("千克碳/平方米/年"), "carbon_density", 1000),
    _u("tC_per_hm2", _("吨碳/公顷/年"), "carbon_density", 100),
    # 单位面积年侵蚀/保持量（base: t/hm²）; t/km² is 100× smaller than t/hm²
    _u("t_per_hm2", _("吨/公顷/年"), "mass_per_area"),
    _u("t_per_km2", _("吨/平方千米/年"), "mass_per_area", Fraction(1, 100)),
    # USLE 因子（SI）
    _u("usle_r_si", _("MJ·mm/(公顷·小时·年)"), "usle_r"),
    _u("usle_k_si", _("吨·公顷·小时/(公顷·MJ·mm)"), "usle_k"),
    # US customary K × 0.1317 → SI (conventional factor, gep-methods.md §6.3, not re-checked)
    _u("usle_k_us", _("美制单位 K（×0.1317 换算为 SI）"), "usle_k", Fraction(1317, 10000)),
    # 密度（base: t/m³）
    _u("t_per_m3", _("吨/立方米"), "density"),
    _u("g_per_cm3", _("克/立方厘米"), "density"),
    # 负氧离子
    _u("ions_per_cm3", _("个/立方厘米"), "ion_concentration"),
    _u("ions_1e18", _("10¹⁸个"), "ion_count"),
    # 时间
    _u("min", _("分钟"), "duration_min"),
    _u("days", _("天"), "duration_days"),
    # 热量
    _u("kJ_per_m2_day", _("千焦/(平方米·天)"), "heat_flux"),
    _u("kJ_per_kg", _("千焦/千克"), "latent_heat"),
    _u("kWh_per_m3", _("千瓦时/立方米"), "energy_per_volume"),
    # 人次
    _u("person_visits", _("人次"), "visits"),
    _u("10k_person_visits", _("万人次"), "visits", 10_000),
    # 货币（base: 元）
    _u("yuan", _("元"), "money"),
    _u("10k_yuan", _("万元"), "money", 10_000),
    _u("100m_yuan", _("亿元"), "money", 100_000_000),
    # 单价
    _u("yuan_per_m3", _("元/立方米"), "price_volume"),
    _u("yuan_per_t", _("元/吨"), "price_mass"),
    _u("yuan_per_t_co2", _("元/吨二氧化碳"), "price_co2"),
    _u("yuan_per_t_o2", _("元/吨氧气"), "price_o2"),
    _u("yuan_per_kWh", _("元/千瓦时"), "price_energy"),
    # per area prices (base: 元/m²); 元/hm² is 10000× smaller per m²
    _u("yuan_per_m2", _("元/平方米"), "price_area"),
    _u("yuan_per_mu", _("元/亩"), "price_area", Fraction(15, 10000)),
    _u("yuan_per_hm2", _("元/公顷"), "price_area", Fraction(1, 10_000)),
    _u("yuan_per_visit", _("元/人次"), "price_visit"),
    _u("yuan_per_1e18_ions", _("元/10¹⁸个"), "price_ions"),
]

UNITS: dict[str, Unit] = {unit.code: unit for unit in _ALL}


def unit(code: str) -> Unit:
    try:
        return UNITS[code]
    except (KeyError, TypeError):
        raise UnitError(code) from None


def unit_label(code: str):
    return unit(code).label


def unit_choices(dimension: str | None = None) -> list[tuple[str, Promise | str]]:
    """(code, label) pairs for a form field, optionally limited to one dimension."""
    return [(u.code, u.label) for u in _ALL if dimension is None or u.dimension == dimension]


def compatible(from_code: str, to_code: str) -> bool:
    return unit(from_code).dimension == unit(to_code).dimension


def conversion_factor(from_code: str, to_code: str) -> Fraction:
    """Exact factor f such that value[from] × f = value[to]."""
    source, target = unit(from_code), unit(to_code)
    if source.dimension != target.dimension:
        raise UnitError(f"{from_code} → {to_code}")
    return source.factor / target.factor


def convert(value: Decimal, from_code: str, to_code: str) -> Decimal:
    """Convert a Decimal between two units of one dimension (multiply first, divide last)."""
    if not isinstance(value, Decimal):
        raise TypeError(f"expected Decimal, got {type(value).__name__}")
    factor = conversion_factor(from_code, to_code)
    if factor == 1:
        return value
    with localcontext(CONTEXT):
        return value * Decimal(factor.numerator) / Decimal(factor.denominator)


def depth_over_area_m3(depth_mm: Decimal, area_m2: Decimal) -> Decimal:
    """Water depth in mm over an area in m² → volume in m³ (1 mm × 1 m² = 0.001 m³)."""
    with localcontext(CONTEXT):
        return (depth_mm * area_m2).scaleb(-3)
