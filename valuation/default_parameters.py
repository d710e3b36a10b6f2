"""The default parameter set: every unit price and coefficient the indicators need, as sourced data.

Nothing here is authoritative for Lishui. Most prices are the **2010-basis example prices of the
Garzê paper** (authority "paper_example"); items the methods brief marks [U] are "unverified"
placeholders. Replace them with DB33/T 2274-2025 or Lishui values (authority "standard" or
"local_rule") in a new parameter set before production use; never mix price years in one result.

    default_parameter_set() -> tuple[ParamValue, ...]
    default_params("water_conservation") -> {"reservoir_cost": Decimal("7.06"), "negative_policy": Decimal("0")}
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_PARAMETER_SET_CODE = "tmcs-default-v1"
DEFAULT_PARAMETER_SET_NAME = _("默认参数集（甘孜 2010 年示例价与未核实占位值）")
DEFAULT_PRICE_YEAR = 2010


class Authority(models.TextChoices):
    STANDARD = "standard", _("标准")
    LOCAL_RULE = "local_rule", _("地方规定")
    STATISTICS = "statistics", _("统计年鉴")
    PAPER_EXAMPLE = "paper_example", _("论文示例")
    UNVERIFIED = "unverified", _("未核实")


@dataclass(frozen=True)
class ParamValue:
    indicator_key: str
    param_key: str
    value: str  # a Decimal literal; Decimal(value) is exact
    unit: str  # a code of valuation.indicators.units
    year: int | None  # price year (None for coefficients and policies that have no vintage)
    source: str
    clause: str
    authority: str

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.value)


GARZE = (
    "白玛卓嘎（Pema Dolkar）, Xiao Y., 欧阳志云, Wang L. 甘孜藏族自治州生态系统生产总值核算研究. "
    "生态学报, 2017, 37(19):6302-6312. doi:10.5846/stxb201607011362"
)
GARZE_TABLE = "表3（2010年价格）"
GARZE_METHOD = "方法部分（核算公式）"
TMCS_RULE = "TMCS 约定（gep-methods.md）"

_PE = Authority.PAPER_EXAMPLE
_U = Authority.UNVERIFIED


def _garze(indicator, param, value, unit, clause=GARZE_TABLE, year=DEFAULT_PRICE_YEAR):
    return ParamValue(indicator, param, value, unit, year, GARZE, clause, _PE)


def _unverified(indicator, param, value, unit, source, clause="", year=None):
    return ParamValue(indicator, param, value, unit, year, source, clause, _U)


_NEGATIVE_POLICY_SOURCE = (
    f"{TMCS_RULE} §6.8：负的物理量如何处理未在标准中确认；默认 0 = 截断为零，1 = 保留负值"
)
_RESERVOIR_CLAUSE = f"{GARZE_TABLE}；原文引 LY/T 1721-2008"
_POLLUTANT_CLAUSE = f"{GARZE_TABLE}；依据 2003 年排污费征收标准（2018 年起由环境保护税取代，未复核）"
_STOICHIOMETRY = "光合作用方程：162 g 干物质固定 264 g CO₂、释放 192 g O₂（264/162≈1.63，192/162≈1.19）"

_DEFAULTS = (
    # M5 水资源
    _garze("water_supply", "price_residential", "2.6", "yuan_per_m3"),
    _garze("water_supply", "price_industrial", "3.6", "yuan_per_m3"),
    _garze("water_supply", "price_agricultural", "0.07", "yuan_per_m3"),
    # M6 水电
    _garze("hydropower", "electricity_price", "0.53", "yuan_per_kWh"),
    # R1 水源涵养
    _garze("water_conservation", "reservoir_cost", "7.06", "yuan_per_m3", _RESERVOIR_CLAUSE),
    _unverified("water_conservation", "negative_policy", "0", "code", _NEGATIVE_POLICY_SOURCE),
    # R2 土壤保持
    _garze("soil_retention", "sediment_ratio", "0.24", "dimensionless", GARZE_METHOD, None),
    _garze("soil_retention", "bulk_density", "0.93", "t_per_m3", f"{GARZE_METHOD}；应改用本地土壤数据", None),
    _garze("soil_retention", "dredging_cost", "15.58", "yuan_per_m3"),
    _garze("soil_retention", "nitrogen_content", "0.0037", "dimensionless", f"{GARZE_METHOD}（0.37%）", None),
    _garze(
        "soil_retention", "phosphorus_content", "0.00108", "dimensionless", f"{GARZE_METHOD}（0.108%）", None
    ),
    _garze("soil_retention", "nitrogen_price", "875", "yuan_per_t"),
    _garze("soil_retention", "phosphorus_price", "2800", "yuan_per_t"),
    _unverified(
        "soil_retention",
        "include_nutrients",
        "1",
        "code",
        f"{TMCS_RULE} §6.5：默认计入减少氮磷流失（甘孜做法）；同一对象核算水质净化时应设为 0",
    ),
    # R3 防风固沙
    _garze("wind_sand_fixation", "sand_bulk_density", "1.28", "t_per_m3", GARZE_METHOD, None),
    _garze("wind_sand_fixation", "sand_layer_depth", "0.1", "m", GARZE_METHOD, None),
    _garze("wind_sand_fixation", "sand_control_cost", "3.75", "yuan_per_m2"),
    # R4 洪水调蓄
    _garze("flood_regulation", "reservoir_flood_coefficient", "0.35", "dimensionless", GARZE_METHOD, None),
    _garze(
        "flood_regulation",
        "marsh_storage_depth",
        "0.3",
        "m",
        f"{GARZE_METHOD}：0.3·S·10⁶（S 以平方千米计），按调蓄水深 0.3 米理解，单位待核",
        None,
    ),
    _garze("flood_regulation", "reservoir_cost", "7.06", "yuan_per_m3", _RESERVOIR_CLAUSE),
    # R5 空气净化
    _garze("air_purification", "price_so2", "1200", "yuan_per_t", _POLLUTANT_CLAUSE),
    _garze("air_purification", "price_nox", "630", "yuan_per_t", _POLLUTANT_CLAUSE),
    _garze("air_purification", "price_dust", "150", "yuan_per_t", _POLLUTANT_CLAUSE),
    # R6 水质净化
    _garze("water_purification", "price_cod", "700", "yuan_per_t", _POLLUTANT_CLAUSE),
    _garze("water_purification", "price_nh3n", "875", "yuan_per_t", _POLLUTANT_CLAUSE),
    # R7 固碳
    _garze("carbon_sequestration", "co2_per_dry_matter", "1.63", "dimensionless", _STOICHIOMETRY, None),
    _unverified(
        "carbon_sequestration",
        "carbon_fraction",
        "0.45",
        "dimensionless",
        f"{TMCS_RULE} §6.4：碳→干物质 ÷0.45（化学计量为 72/162≈0.444）",
    ),
    _garze("carbon_sequestration", "carbon_price", "380", "yuan_per_t_co2", f"{GARZE_TABLE}；造林成本"),
    _unverified("carbon_sequestration", "negative_policy", "0", "code", _NEGATIVE_POLICY_SOURCE),
    # R8 释氧
    _garze("oxygen_release", "o2_per_dry_matter", "1.19", "dimensionless", _STOICHIOMETRY, None),
    _unverified(
        "oxygen_release",
        "carbon_fraction",
        "0.45",
        "dimensionless",
        f"{TMCS_RULE} §6.4：碳→干物质 ÷0.45（化学计量为 72/162≈0.444）",
    ),
    _garze("oxygen_release", "oxygen_price", "727", "yuan_per_t_o2", f"{GARZE_TABLE}；工业制氧成本"),
    _unverified("oxygen_release", "negative_policy", "0", "code", _NEGATIVE_POLICY_SOURCE),
    # R9 气候调节
    _unverified(
        "climate_regulation",
        "ac_eer",
        "3.0",
        "dimensionless",
        f"{TMCS_RULE}：空调能效比占位值，未核实；应按采用的规范取值",
    ),
    _garze("climate_regulation", "latent_heat", "2450", "kJ_per_kg", f"{GARZE_METHOD}（约 2450 J/g）", None),
    _unverified(
        "climate_regulation",
        "humidifier_energy",
        "100",
        "kWh_per_m3",
        f"{TMCS_RULE}：加湿器每立方米水耗电的数量级占位值（约 30 W 超声波加湿器每小时 0.3 L），未核实",
    ),
    _garze("climate_regulation", "electricity_price", "0.53", "yuan_per_kWh"),
    # R10 病虫害控制
    _garze("pest_control", "forest_control_cost", "375", "yuan_per_hm2"),
    _garze("pest_control", "grassland_control_cost", "112.5", "yuan_per_hm2"),
    # R11 负氧离子
    _unverified(
        "negative_ions",
        "ion_threshold",
        "600",
        "ions_per_cm3",
        f"{TMCS_RULE} §3 R11：阈值 600 个/立方厘米，未核实",
    ),
    _unverified(
        "negative_ions",
        "ion_unit_cost",
        "5.8185",
        "yuan_per_1e18_ions",
        "LY/T 1721-2008 / GB/T 38582-2020 负离子生产费用（数值与条款均未核对）",
    ),
    # C1 休闲旅游
    _garze(
        "landscape_recreation",
        "tourism_basis",
        "0",
        "code",
        f"{GARZE_METHOD}：甘孜采用旅行费用法（0 = 旅行费用法，1 = 旅游收入）",
        None,
    ),
)


def default_parameter_set() -> tuple[ParamValue, ...]:
    """Every default parameter value, one row per (indicator_key, param_key)."""
    return _DEFAULTS


def default_params(indicator_key: str) -> dict[str, Decimal]:
    """The default parameters of one indicator as Decimals, ready for `Indicator.compute`."""
    return {p.param_key: p.decimal for p in _DEFAULTS if p.indicator_key == indicator_key}
