"""R7 固碳 and R8 释氧 (gep-methods.md §3 and pitfall §6.4).

The basis is chosen by which input is given, exactly one of:
- NPP as dry matter (g/m²/a): CO₂ = 1.63 × NPP, O₂ = 1.19 × NPP;
- NPP as carbon (gC/m²/a, e.g. MODIS MOD17 kg C/m² — convert the 0.0001 scale factor first):
  dry matter = NPP_C ÷ carbon fraction (parameter, 0.45), then as above. Never 1.63 × gC;
- NEP as carbon (gC/m²/a): CO₂ = 44/12 × NEP, O₂ = 32/12 × NEP (= 32/44 × CO₂);
- a measured/verified CO₂ amount (t CO₂/a, e.g. a forest carbon-sink project): O₂ = 32/44 × CO₂.
NPP-based results overstate net uptake against NEP; the branch is kept in `result.variant`
("npp", "nep", "measured") so that runs never compare or mix the two across years.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resources.catalog import GEP_INDICATORS

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
    exactly_one,
    make_result,
    required_with,
)

ZERO = D("0")
ONE = D("1")
CO2_PER_C = (D("44"), D("12"))  # molar masses: CO₂ 44, C 12
O2_PER_C = (D("32"), D("12"))  # O₂ 32 per C fixed
O2_PER_CO2 = (D("32"), D("44"))

_BASES = ("npp_dry_matter", "npp_carbon", "nep_carbon", "co2_fixed")
_BASIS_LABELS = (_("NPP（干物质）"), _("NPP（碳）"), _("NEP（碳）"), _("实测/核证固碳量"))

_INPUTS = (
    InputSpec(
        "area",
        _("面积"),
        "m2",
        minimum=ZERO,
        required=False,
        help=_("使用 NPP/NEP 时必填；可按亩、公顷、平方千米填写。"),
    ),
    InputSpec("npp_dry_matter", _("NPP（干物质）"), "g_dm_per_m2", minimum=ZERO, required=False),
    InputSpec(
        "npp_carbon",
        _("NPP（碳）"),
        "gC_per_m2",
        minimum=ZERO,
        required=False,
        help=_("以碳计的 NPP；MODIS MOD17 为千克碳/平方米（已乘 0.0001 比例因子）。先按含碳率折算为干物质。"),
    ),
    InputSpec(
        "nep_carbon",
        _("NEP（碳）"),
        "gC_per_m2",
        required=False,
        help=_("净生态系统生产力，以碳计；可为负（碳源）。"),
    ),
    InputSpec(
        "co2_fixed",
        _("实测/核证固碳量"),
        "t_co2",
        minimum=ZERO,
        required=False,
        help=_("如林业碳汇项目经核证的年固碳量（吨二氧化碳）。"),
    ),
)


def _check(inputs, params):
    errors = exactly_one(inputs, _BASES, _BASIS_LABELS)
    if errors:
        return errors
    if "co2_fixed" not in inputs:
        return required_with(inputs, "area", _("使用 NPP 或 NEP 时"))
    return {}


def _dry_matter_grams(inputs, params, notes):
    """NPP dry matter over the area in g (or None for the NEP and measured branches)."""
    if "npp_dry_matter" in inputs:
        return inputs["npp_dry_matter"] * inputs["area"]
    if "npp_carbon" in inputs:
        fraction = params["carbon_fraction"]
        notes.append(
            gettext("NPP 以碳计，按含碳率 %(fraction)s 折算为干物质后再乘系数。") % {"fraction": fraction}
        )
        return inputs["npp_carbon"] * inputs["area"] / fraction
    return None


_NEGATIVE_POLICY = ParamSpec(
    "negative_policy",
    _("负值处理规则"),
    "code",
    help=_("NEP 为负（碳源）时：0 = 截断为零，1 = 保留负值。"),
    choices=NEGATIVE_POLICY_CHOICES,
)
_CARBON_FRACTION = ParamSpec(
    "carbon_fraction",
    _("干物质含碳率"),
    "dimensionless",
    help=_("NPP 以碳计时折算干物质：干物质 = 碳 ÷ 含碳率。"),
    exclusive_minimum=True,
    maximum=ONE,
)


def _carbon_sequestration(inputs, params):
    notes = []
    grams = _dry_matter_grams(inputs, params, notes)
    if grams is not None:
        co2 = (params["co2_per_dry_matter"] * grams).scaleb(-6)  # g → t
        variant = "npp"
    elif "nep_carbon" in inputs:
        numerator, denominator = CO2_PER_C
        co2 = (numerator * inputs["nep_carbon"] * inputs["area"] / denominator).scaleb(-6)
        co2, more = apply_negative_policy(co2, params["negative_policy"], _("固碳量"))
        notes.extend(more)
        variant = "nep"
    else:
        co2 = inputs["co2_fixed"]
        variant = "measured"
    price = params["carbon_price"]
    component = Component("co2", _("固定二氧化碳"), co2, "t_co2", price, co2 * price)
    return make_result(co2, "t_co2", [component], notes, unit_price=price, variant=variant)


carbon_sequestration = Indicator(
    key="carbon_sequestration",
    code="R7",
    name=GEP_INDICATORS["carbon_sequestration"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=_INPUTS,
    params=(
        ParamSpec("co2_per_dry_matter", _("单位干物质固定 CO₂ 系数"), "dimensionless"),
        _CARBON_FRACTION,
        ParamSpec(
            "carbon_price",
            _("固碳价格"),
            "yuan_per_t_co2",
            help=_("造林成本或碳市场价格，由参数集选定。"),
        ),
        _NEGATIVE_POLICY,
    ),
    quantity_unit="t_co2",
    method=Method.REPLACEMENT_COST,
    doc=_(
        "R7 固碳：按所填数据择一：CO₂ = 1.63 × NPP（干物质，克/平方米/年）× 面积；"
        "NPP 以碳计时先除以含碳率（默认 0.45）折算为干物质，绝不用 1.63 × 碳；"
        "CO₂ = 44/12 × NEP（碳）× 面积；或直接采用实测/核证固碳量。克换算为吨（÷10⁶）。"
        "V = CO₂（吨）× 固碳价格（元/吨 CO₂；默认 380 元/吨为甘孜 2010 年造林成本示例价，也可改用碳市场价格）。"
        "NPP 口径高估净吸收，跨年比较不得混用 NPP 与 NEP。1.63 = 264/162（光合作用方程）。"
    ),
    compute=_carbon_sequestration,
    check=_check,
)


def _oxygen_release(inputs, params):
    notes = []
    grams = _dry_matter_grams(inputs, params, notes)
    if grams is not None:
        o2 = (params["o2_per_dry_matter"] * grams).scaleb(-6)
        variant = "npp"
    elif "nep_carbon" in inputs:
        numerator, denominator = O2_PER_C
        o2 = (numerator * inputs["nep_carbon"] * inputs["area"] / denominator).scaleb(-6)
        o2, more = apply_negative_policy(o2, params["negative_policy"], _("释氧量"))
        notes.extend(more)
        variant = "nep"
    else:
        numerator, denominator = O2_PER_CO2
        o2 = numerator * inputs["co2_fixed"] / denominator
        notes.append(gettext("释氧量按 32/44 × 实测/核证固碳量计算。"))
        variant = "measured"
    price = params["oxygen_price"]
    component = Component("o2", _("释放氧气"), o2, "t_o2", price, o2 * price)
    return make_result(o2, "t_o2", [component], notes, unit_price=price, variant=variant)


oxygen_release = Indicator(
    key="oxygen_release",
    code="R8",
    name=GEP_INDICATORS["oxygen_release"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=_INPUTS,
    params=(
        ParamSpec("o2_per_dry_matter", _("单位干物质释放 O₂ 系数"), "dimensionless"),
        _CARBON_FRACTION,
        ParamSpec("oxygen_price", _("工业制氧成本"), "yuan_per_t_o2"),
        _NEGATIVE_POLICY,
    ),
    quantity_unit="t_o2",
    method=Method.REPLACEMENT_COST,
    doc=_(
        "R8 释氧：O₂ = 1.19 × NPP（干物质）× 面积（NPP 以碳计时先除以含碳率），"
        "或 O₂ = 32/12 × NEP（碳）× 面积（= 32/44 × CO₂），或 32/44 × 实测/核证固碳量；克换算为吨。"
        "V = O₂（吨）× 工业制氧成本（默认 727 元/吨为甘孜 2010 年示例价）。1.19 = 192/162（光合作用方程）。"
    ),
    compute=_oxygen_release,
    check=_check,
)

INDICATORS = (carbon_sequestration, oxygen_release)
