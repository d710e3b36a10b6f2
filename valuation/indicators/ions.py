"""R11 负氧离子 (a Lishui feature, gep-methods.md §3 and §4.4).

N = 5.256×10¹⁵ × Q × A × H / L ions per year, where 5.256×10¹⁵ = 525 600 min/a × 10¹⁰ cm³ per
(hm² · m): Q ions/cm³, A hm², H m, L ion lifetime in minutes. Only the ions above a threshold
concentration (parameter, 600/cm³ [unverified]) are valued. Counts reach ~10²⁵ a year, so the
quantity is kept in units of 10¹⁸ ions.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resources.catalog import GEP_INDICATORS

from .base import Category, Component, D, Indicator, InputSpec, Level, Method, ParamSpec, make_result

ZERO = D("0")
MINUTES_PER_YEAR = D("525600")  # 365 × 24 × 60
CM3_PER_HM2_M = D("1E10")  # 10⁴ m² × 1 m = 10⁴ m³ = 10¹⁰ cm³
IONS_CONSTANT = MINUTES_PER_YEAR * CM3_PER_HM2_M  # 5.256×10¹⁵, exact
COUNT_UNIT_EXPONENT = 18  # quantities in 10¹⁸ ions


def _negative_ions(inputs, params):
    concentration = inputs["ion_concentration"]
    threshold = params["ion_threshold"]
    excess = concentration - threshold
    notes = []
    if excess <= 0:
        excess = ZERO
        notes.append(
            gettext("负氧离子浓度 %(q)s 个/立方厘米未超过阈值 %(t)s 个/立方厘米，不计价值。")
            % {"q": concentration, "t": threshold}
        )
    geometry = inputs["area"] * inputs["layer_height"]
    count = (IONS_CONSTANT * excess * geometry / inputs["ion_lifetime"]).scaleb(-COUNT_UNIT_EXPONENT)
    price = params["ion_unit_cost"]
    component = Component("ions", _("超过阈值的负氧离子"), count, "ions_1e18", price, count * price)
    return make_result(count, "ions_1e18", [component], notes, unit_price=price)


negative_ions = Indicator(
    key="negative_ions",
    code="R11",
    name=GEP_INDICATORS["negative_ions"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=(
        InputSpec(
            "ion_concentration",
            _("负氧离子年均浓度 Q"),
            "ions_per_cm3",
            minimum=ZERO,
            help=_("须有监测数据。"),
        ),
        InputSpec("area", _("面积 A"), "hm2", minimum=ZERO, help=_("可按亩、平方米、平方千米填写。")),
        InputSpec("layer_height", _("计算高度 H"), "m", minimum=ZERO, exclusive_minimum=True),
        InputSpec("ion_lifetime", _("负氧离子寿命 L"), "min", minimum=ZERO, exclusive_minimum=True),
    ),
    params=(
        ParamSpec("ion_threshold", _("负氧离子浓度阈值"), "ions_per_cm3"),
        ParamSpec("ion_unit_cost", _("负氧离子生产成本"), "yuan_per_1e18_ions"),
    ),
    quantity_unit="ions_1e18",
    method=Method.REPLACEMENT_COST,
    doc=_(
        "R11 负氧离子：N = 5.256×10¹⁵ × (Q − 阈值) × A × H / L（个/年），Q 年均浓度（个/立方厘米），"
        "A 面积（公顷），H 高度（米），L 寿命（分钟）；5.256×10¹⁵ = 525600 分钟/年 × 10¹⁰ 立方厘米/(公顷·米)。"
        "只计超过阈值（默认 600 个/立方厘米，未核实）的部分，数量以 10¹⁸ 个为单位保存。"
        "V = N × 负氧离子生产成本（元/10¹⁸ 个；默认值出自 LY/T 1721 / GB/T 38582，条款与数值未核实）。"
        "须有监测数据；通常不到村级 GEP 的 1%（大田村 2018 年仅 8.44 万元）。"
    ),
    compute=_negative_ions,
)

INDICATORS = (negative_ions,)
