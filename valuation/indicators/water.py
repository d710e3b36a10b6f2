"""R1 水源涵养 and R4 洪水调蓄 (gep-methods.md §3, pitfalls §6.1, §6.5, §6.8)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resources.catalog import GEP_INDICATORS

from .arithmetic import exact_sum
from .base import (
    NEGATIVE_POLICY_CHOICES,
    Category,
    Component,
    D,
    Indicator,
    InputSpec,
    Level,
    Method,
    ParamSpec,
    apply_negative_policy,
    at_least_one,
    make_result,
)
from .units import depth_over_area_m3

ZERO = D("0")

# --- R1 water conservation ------------------------------------------------------------------------

_NEGATIVE_POLICY = ParamSpec(
    "negative_policy",
    _("负值处理规则"),
    "code",
    help=_("物理量计算为负时：0 = 截断为零，1 = 保留负值。标准未明确，属可版本化的约定。"),
    choices=NEGATIVE_POLICY_CHOICES,
)


def _water_conservation_check(inputs, params):
    if "precipitation" in inputs and "runoff" in inputs and inputs["runoff"] > inputs["precipitation"]:
        return {"runoff": [gettext("地表径流量（R）不能大于降水量（P）。")]}
    return {}


def _water_conservation(inputs, params):
    precipitation = inputs["precipitation"]
    runoff = inputs["runoff"]
    evapotranspiration = inputs["evapotranspiration"]
    area = inputs["area"]
    depth = precipitation - runoff - evapotranspiration  # mm
    quantity, notes = apply_negative_policy(
        depth_over_area_m3(depth, area), params["negative_policy"], _("水源涵养量")
    )
    price = params["reservoir_cost"]
    component = Component("water_conservation", _("水源涵养量"), quantity, "m3", price, quantity * price)
    return make_result(quantity, "m3", [component], notes, unit_price=price)


water_conservation = Indicator(
    key="water_conservation",
    code="R1",
    name=GEP_INDICATORS["water_conservation"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=(
        InputSpec("precipitation", _("降水量 P"), "mm", minimum=ZERO, maximum=D("12000")),
        InputSpec("runoff", _("地表径流量 R"), "mm", minimum=ZERO, help=_("暴雨径流深，不得大于降水量。")),
        InputSpec("evapotranspiration", _("蒸散发量 ET"), "mm", minimum=ZERO),
        InputSpec("area", _("面积 A"), "m2", minimum=ZERO, help=_("可按亩、公顷、平方千米填写，自动换算。")),
    ),
    params=(
        ParamSpec("reservoir_cost", _("单位库容造价"), "yuan_per_m3"),
        _NEGATIVE_POLICY,
    ),
    quantity_unit="m3",
    method=Method.SHADOW_PROJECT,
    doc=_(
        "R1 水源涵养（水量平衡法）：Q = (P − R − ET) × A，P 降水量、R 地表径流量、ET 蒸散发量（毫米/年），"
        "A 面积（平方米）；1 毫米 × 1 平方米 = 0.001 立方米，1 毫米 × 1 亩 ≈ 0.667 立方米。"
        "V = Q × 单位库容造价（影子工程法，元/立方米）。多种生态系统逐类（逐资产）计算后相加。"
        "ET + R > P 时 Q 为负，按参数 negative_policy 处理（0 截断为零，1 保留负值），处理结果写入说明。"
        "降水年际变化可使该项大幅波动。默认单位库容造价 7.06 元/立方米为甘孜 2010 年示例价"
        "（白玛卓嘎等，生态学报 2017，doi:10.5846/stxb201607011362，引 LY/T 1721-2008）。"
    ),
    compute=_water_conservation,
    check=_water_conservation_check,
)


# --- R4 flood regulation --------------------------------------------------------------------------


def _flood_regulation_check(inputs, params):
    return at_least_one(
        inputs,
        ("reservoir_capacity", "lake_flood_storage", "marsh_area"),
        (_("水库总库容"), _("湖泊可调蓄水量"), _("沼泽面积")),
    )


def _flood_regulation(inputs, params):
    price = params["reservoir_cost"]
    components = []
    if "reservoir_capacity" in inputs:
        volume = params["reservoir_flood_coefficient"] * inputs["reservoir_capacity"]
        components.append(Component("reservoir", _("水库防洪库容"), volume, "m3", price, volume * price))
    if "lake_flood_storage" in inputs:
        volume = inputs["lake_flood_storage"]
        components.append(Component("lake", _("湖泊调蓄量"), volume, "m3", price, volume * price))
    if "marsh_area" in inputs:
        volume = params["marsh_storage_depth"] * inputs["marsh_area"]  # m × m² = m³
        components.append(Component("marsh", _("沼泽调蓄量"), volume, "m3", price, volume * price))
    quantity = exact_sum(c.quantity for c in components)
    return make_result(quantity, "m3", components, unit_price=price)


flood_regulation = Indicator(
    key="flood_regulation",
    code="R4",
    name=GEP_INDICATORS["flood_regulation"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=(
        InputSpec(
            "reservoir_capacity",
            _("水库总库容"),
            "m3",
            minimum=ZERO,
            required=False,
            help=_("可按万立方米填写。"),
        ),
        InputSpec(
            "lake_flood_storage",
            _("湖泊可调蓄水量"),
            "m3",
            minimum=ZERO,
            required=False,
            help=_("由浙江适用的湖泊调蓄模型（如面积 × 允许水位变幅）算得；不使用高原湖泊回归式。"),
        ),
        InputSpec(
            "marsh_area",
            _("沼泽面积"),
            "m2",
            minimum=ZERO,
            required=False,
            help=_("可按平方千米填写。"),
        ),
    ),
    params=(
        ParamSpec("reservoir_flood_coefficient", _("水库防洪库容系数"), "dimensionless", maximum=D("1")),
        ParamSpec("marsh_storage_depth", _("沼泽调蓄水深"), "m"),
        ParamSpec("reservoir_cost", _("单位库容造价"), "yuan_per_m3"),
    ),
    quantity_unit="m3",
    method=Method.SHADOW_PROJECT,
    doc=_(
        "R4 洪水调蓄：Q = 水库 0.35 × 总库容 + 湖泊可调蓄水量 + 沼泽 H × S（立方米/年），"
        "S 为沼泽面积（平方米，可按平方千米填写：甘孜式 0.3 × S × 10⁶ 中 S 以平方千米计，0.3 即调蓄水深 H 米）。"
        "V = Q × 单位库容造价（影子工程法）。湖泊调蓄量须由浙江适用的模型给出，本系统不套用高原湖泊回归式。"
        "属水体/流域性质：适用于区域或水体资产，不分摊到地块。同一水库的蓄水不得与水源涵养、水资源重复计算。"
        "系数 0.35、0.3 米与 7.06 元/立方米均为甘孜 2010 年示例值（doi:10.5846/stxb201607011362）。"
    ),
    compute=_flood_regulation,
    check=_flood_regulation_check,
)

INDICATORS = (water_conservation, flood_regulation)
