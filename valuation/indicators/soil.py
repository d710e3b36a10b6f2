"""R2 土壤保持 and R3 防风固沙 (gep-methods.md §3, pitfalls §6.2, §6.3, §6.5)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resources.catalog import GEP_INDICATORS

from .base import (
    NO,
    YES_NO_CHOICES,
    Category,
    Component,
    D,
    Indicator,
    InputSpec,
    Level,
    Method,
    ParamSpec,
    make_result,
)

ZERO = D("0")
ONE = D("1")

# --- R2 soil retention ------------------------------------------------------------------------------

_USLE = ("rainfall_erosivity", "soil_erodibility", "slope_length_steepness", "cover_management")
_USLE_OPTIONAL = ("support_practice",)
_RATES = ("potential_erosion", "actual_erosion")


def _soil_retention_check(inputs, params):
    usle = [k for k in (*_USLE, *_USLE_OPTIONAL) if k in inputs]
    rates = [k for k in _RATES if k in inputs]
    if usle and rates:
        return {"__all__": [gettext("USLE 因子与“潜在/实际侵蚀模数”只能选一种方式填写。")]}
    if not usle and not rates:
        return {"__all__": [gettext("请填写 USLE 因子（R、K、LS、C，可选 P），或潜在与实际土壤侵蚀模数。")]}
    errors = {}
    if usle:
        for key in _USLE:
            if key not in inputs:
                errors[key] = [gettext("使用 USLE 方式时必须填写此项。")]
        return errors
    for key in _RATES:
        if key not in inputs:
            errors[key] = [gettext("使用侵蚀模数方式时必须填写此项。")]
    if not errors and inputs["actual_erosion"] > inputs["potential_erosion"]:
        errors["actual_erosion"] = [gettext("实际土壤侵蚀模数不能大于潜在土壤侵蚀模数。")]
    return errors


def _soil_retention(inputs, params):
    notes = []
    if "rainfall_erosivity" in inputs:
        support = inputs.get("support_practice")
        if support is None:
            support = ONE
            notes.append(gettext("未填写水土保持措施因子 P，按 1（无措施）计算。"))
        potential = (
            inputs["rainfall_erosivity"] * inputs["soil_erodibility"] * inputs["slope_length_steepness"]
        )
        rate = potential * (ONE - inputs["cover_management"] * support)  # t/(hm²·a)
    else:
        rate = inputs["potential_erosion"] - inputs["actual_erosion"]
    retained = rate * inputs["area"]  # t/a

    if "bulk_density" in inputs:
        density = inputs["bulk_density"]
    else:
        density = params["bulk_density"]
        notes.append(gettext("土壤容重采用参数集默认值 %(value)s 吨/立方米。") % {"value": density})
    volume = params["sediment_ratio"] * retained / density
    dredging = params["dredging_cost"]
    components = [
        Component("siltation", _("减少泥沙淤积"), volume, "m3", dredging, volume * dredging),
    ]
    if params["include_nutrients"] == NO:
        notes.append(gettext("按参数 include_nutrients=0 不计减少氮磷流失（避免与水质净化重复）。"))
        variant = "siltation_only"
    else:
        variant = "with_nutrients"
        for element, label in (("nitrogen", _("减少氮流失")), ("phosphorus", _("减少磷流失"))):
            content_key = f"{element}_content"
            if content_key in inputs:
                content = inputs[content_key]
            else:
                content = params[content_key]
                notes.append(
                    gettext("土壤%(element)s含量采用参数集默认值 %(value)s。")
                    % {"element": gettext("氮") if element == "nitrogen" else gettext("磷"), "value": content}
                )
            mass = retained * content
            price = params[f"{element}_price"]
            components.append(Component(element, label, mass, "t", price, mass * price))
    return make_result(retained, "t", components, notes, variant=variant)


_FRACTION = {"minimum": ZERO, "maximum": ONE}

soil_retention = Indicator(
    key="soil_retention",
    code="R2",
    name=GEP_INDICATORS["soil_retention"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=(
        InputSpec("area", _("面积"), "hm2", minimum=ZERO, help=_("可按亩、平方米、平方千米填写。")),
        InputSpec("rainfall_erosivity", _("降雨侵蚀力 R"), "usle_r_si", minimum=ZERO, required=False),
        InputSpec(
            "soil_erodibility",
            _("土壤可蚀性 K"),
            "usle_k_si",
            minimum=ZERO,
            required=False,
            help=_("SI 单位；美制单位请选“美制单位 K”，自动 × 0.1317 换算。"),
        ),
        InputSpec(
            "slope_length_steepness", _("坡长坡度因子 LS"), "dimensionless", minimum=ZERO, required=False
        ),
        InputSpec(
            "cover_management", _("植被覆盖与管理因子 C"), "dimensionless", required=False, **_FRACTION
        ),
        InputSpec("support_practice", _("水土保持措施因子 P"), "dimensionless", required=False, **_FRACTION),
        InputSpec(
            "potential_erosion",
            _("潜在土壤侵蚀模数"),
            "t_per_hm2",
            minimum=ZERO,
            required=False,
            help=_("模型（如 InVEST）结果；注意 吨/平方千米 是 吨/公顷 的 1/100。"),
        ),
        InputSpec("actual_erosion", _("实际土壤侵蚀模数"), "t_per_hm2", minimum=ZERO, required=False),
        InputSpec(
            "bulk_density",
            _("土壤容重"),
            "t_per_m3",
            minimum=ZERO,
            exclusive_minimum=True,
            required=False,
            help=_("留空则用参数集默认值。"),
        ),
        InputSpec(
            "nitrogen_content",
            _("土壤全氮含量"),
            "dimensionless",
            required=False,
            help=_("质量分数，可按百分数填写；留空则用参数集默认值。"),
            **_FRACTION,
        ),
        InputSpec(
            "phosphorus_content",
            _("土壤全磷含量"),
            "dimensionless",
            required=False,
            help=_("质量分数，可按百分数填写；留空则用参数集默认值。"),
            **_FRACTION,
        ),
    ),
    params=(
        ParamSpec("sediment_ratio", _("泥沙淤积系数 λ"), "dimensionless", maximum=ONE),
        ParamSpec("bulk_density", _("土壤容重（默认）"), "t_per_m3", exclusive_minimum=True),
        ParamSpec("dredging_cost", _("单位清淤成本"), "yuan_per_m3"),
        ParamSpec("nitrogen_content", _("土壤全氮含量（默认）"), "dimensionless", maximum=ONE),
        ParamSpec("phosphorus_content", _("土壤全磷含量（默认）"), "dimensionless", maximum=ONE),
        ParamSpec("nitrogen_price", _("氮处理成本"), "yuan_per_t"),
        ParamSpec("phosphorus_price", _("磷处理成本"), "yuan_per_t"),
        ParamSpec(
            "include_nutrients",
            _("计入减少氮磷流失"),
            "code",
            help=_("1 = 计入，0 = 不计入（同一对象已核算水质净化时避免重复）。"),
            choices=YES_NO_CHOICES,
        ),
    ),
    quantity_unit="t",
    method=Method.REPLACEMENT_COST,
    doc=_(
        "R2 土壤保持（USLE）：保持量 A_c = 潜在侵蚀 − 实际侵蚀 = R × K × LS × (1 − C × P) × 面积"
        "（吨/年；R 为 MJ·mm/(公顷·小时·年)，K 为 SI 单位 吨·公顷·小时/(公顷·MJ·mm)，面积以公顷计），"
        "也可直接填写潜在与实际侵蚀模数（吨/公顷/年）。不是实际侵蚀量。"
        "减少泥沙淤积：淤积量 = λ × A_c / ρ（立方米），V₁ = 淤积量 × 单位清淤成本（替代成本法）；"
        "减少面源污染：V₂ = A_c × 氮含量 × 氮处理成本 + A_c × 磷含量 × 磷处理成本（治理成本法）。"
        "V = V₁ + V₂。减少氮磷流失与水质净化可能重复计算同一营养物负荷，可用参数 include_nutrients 关闭。"
        "默认 λ = 0.24、ρ = 0.93 吨/立方米、氮 0.37%、磷 0.108%、清淤 15.58 元/立方米、氮 875 元/吨、"
        "磷 2800 元/吨，均为甘孜 2010 年示例值（doi:10.5846/stxb201607011362），应以本地土壤数据替换。"
    ),
    compute=_soil_retention,
    check=_soil_retention_check,
)


# --- R3 wind and sand fixation ----------------------------------------------------------------------


def _wind_sand_check(inputs, params):
    if (
        "potential_wind_erosion" in inputs
        and "actual_wind_erosion" in inputs
        and inputs["actual_wind_erosion"] > inputs["potential_wind_erosion"]
    ):
        return {"actual_wind_erosion": [gettext("实际风蚀量不能大于潜在风蚀量。")]}
    return {}


def _wind_sand_fixation(inputs, params):
    fixed = (inputs["potential_wind_erosion"] - inputs["actual_wind_erosion"]) * inputs["area"]  # t
    # t ÷ (t/m³) = m³; m³ ÷ m = m² of land that would otherwise be buried under a layer h deep
    equivalent_area = fixed / (params["sand_bulk_density"] * params["sand_layer_depth"])
    price = params["sand_control_cost"]
    component = Component(
        "sand_fixation", _("固沙量折算治沙面积"), equivalent_area, "m2", price, equivalent_area * price
    )
    return make_result(fixed, "t", [component])


wind_sand_fixation = Indicator(
    key="wind_sand_fixation",
    code="R3",
    name=GEP_INDICATORS["wind_sand_fixation"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=(
        InputSpec("area", _("面积"), "hm2", minimum=ZERO),
        InputSpec(
            "potential_wind_erosion", _("潜在风蚀模数"), "t_per_hm2", minimum=ZERO, help=_("RWEQ 模型结果。")
        ),
        InputSpec("actual_wind_erosion", _("实际风蚀模数"), "t_per_hm2", minimum=ZERO),
    ),
    params=(
        ParamSpec("sand_bulk_density", _("沙土容重 ρ"), "t_per_m3", exclusive_minimum=True),
        ParamSpec("sand_layer_depth", _("沙层厚度 h"), "m", exclusive_minimum=True),
        ParamSpec("sand_control_cost", _("单位面积治沙成本"), "yuan_per_m2"),
    ),
    quantity_unit="t",
    method=Method.REPLACEMENT_COST,
    doc=_(
        "R3 防风固沙（RWEQ）：固沙量 Q = (潜在风蚀模数 − 实际风蚀模数) × 面积（吨/年）；"
        "V = Q / (ρ × h) × 单位面积治沙成本，ρ 沙土容重（吨/立方米），h 沙层厚度（米）。"
        "湿润的丽水地区该项通常可忽略。默认 ρ = 1.28、h = 0.1 米、3.75 元/平方米为甘孜 2010 年示例值。"
    ),
    compute=_wind_sand_fixation,
    check=_wind_sand_check,
)

INDICATORS = (soil_retention, wind_sand_fixation)
