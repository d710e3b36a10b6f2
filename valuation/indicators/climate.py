"""R9 气候调节: cooling by vegetation transpiration and by water-surface evaporation, plus
humidifying by water-surface evaporation, valued at the electricity an air conditioner or a
humidifier would use (gep-methods.md §3)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resources.catalog import GEP_INDICATORS

from .arithmetic import exact_sum
from .base import (
    NON_FIELD,
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
from .units import depth_over_area_m3

ZERO = D("0")
KJ_PER_KWH = D("3600")
WATER_DENSITY_KG_PER_M3 = D("1000")

_VEGETATION = ("vegetation_area", "transpiration_heat", "cooling_days")
_WATER_DEPTH = ("water_surface_area", "evaporation_depth")


def _check(inputs, params):
    errors = {}
    vegetation = [k for k in _VEGETATION if k in inputs]
    if vegetation:
        for key in _VEGETATION:
            if key not in inputs:
                errors[key] = [gettext("计算植被降温时必须填写此项。")]
    depth = [k for k in _WATER_DEPTH if k in inputs]
    if depth and "water_evaporation" in inputs:
        errors.setdefault(NON_FIELD, []).append(
            gettext("水面蒸发量与“水面面积 + 蒸发深度”只能选一种方式填写。")
        )
    elif depth:
        for key in _WATER_DEPTH:
            if key not in inputs:
                errors[key] = [gettext("按蒸发深度计算水面蒸发时必须填写此项。")]
    if not vegetation and not depth and "water_evaporation" not in inputs:
        errors.setdefault(NON_FIELD, []).append(
            gettext("请填写植被部分（面积、蒸腾耗热、空调开放天数）或水面部分（蒸发量）。")
        )
    return errors


def _climate_regulation(inputs, params):
    price = params["electricity_price"]
    components = []
    if "vegetation_area" in inputs:
        # kJ/(m²·d) × m² × d = kJ; ÷ 3600 → kWh of heat; ÷ EER → kWh of electricity
        heat = inputs["transpiration_heat"] * inputs["vegetation_area"] * inputs["cooling_days"]
        kwh = heat / (KJ_PER_KWH * params["ac_eer"])
        components.append(Component("vegetation_cooling", _("植被蒸腾降温"), kwh, "kWh", price, kwh * price))
    if "water_evaporation" in inputs:
        evaporation = inputs["water_evaporation"]
    elif "water_surface_area" in inputs:
        evaporation = depth_over_area_m3(inputs["evaporation_depth"], inputs["water_surface_area"])
    else:
        evaporation = None
    if evaporation is not None:
        # m³ × kg/m³ × kJ/kg = kJ; ÷ 3600 → kWh
        cooling = evaporation * WATER_DENSITY_KG_PER_M3 * params["latent_heat"] / KJ_PER_KWH
        components.append(
            Component("water_cooling", _("水面蒸发降温"), cooling, "kWh", price, cooling * price)
        )
        humidifying = evaporation * params["humidifier_energy"]
        components.append(
            Component("water_humidifying", _("水面蒸发增湿"), humidifying, "kWh", price, humidifying * price)
        )
    quantity = exact_sum(c.quantity for c in components)
    return make_result(quantity, "kWh", components, unit_price=price)


climate_regulation = Indicator(
    key="climate_regulation",
    code="R9",
    name=GEP_INDICATORS["climate_regulation"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=(
        InputSpec("vegetation_area", _("植被面积"), "m2", minimum=ZERO, required=False),
        InputSpec(
            "transpiration_heat",
            _("单位面积蒸腾消耗热量"),
            "kJ_per_m2_day",
            minimum=ZERO,
            required=False,
            help=_("按植被类型取值（森林、灌丛、草地不同），须注明来源。"),
        ),
        InputSpec(
            "cooling_days",
            _("空调开放天数"),
            "days",
            minimum=ZERO,
            maximum=D("366"),
            required=False,
            help=_("日均温高于 26℃ 的天数。"),
        ),
        InputSpec(
            "water_evaporation",
            _("水面蒸发量"),
            "m3",
            minimum=ZERO,
            required=False,
            help=_("空调开放期内的水面蒸发量；或填写水面面积与蒸发深度。"),
        ),
        InputSpec("water_surface_area", _("水面面积"), "m2", minimum=ZERO, required=False),
        InputSpec("evaporation_depth", _("蒸发深度"), "mm", minimum=ZERO, required=False),
    ),
    params=(
        ParamSpec("ac_eer", _("空调能效比 EER"), "dimensionless", exclusive_minimum=True),
        ParamSpec("latent_heat", _("水的汽化潜热 q"), "kJ_per_kg", exclusive_minimum=True),
        ParamSpec("humidifier_energy", _("加湿器耗电 γ"), "kWh_per_m3"),
        ParamSpec("electricity_price", _("电价"), "yuan_per_kWh"),
    ),
    quantity_unit="kWh",
    method=Method.REPLACEMENT_COST,
    doc=_(
        "R9 气候调节（替代成本法，电量计）：植被降温 E₁ = 蒸腾耗热（千焦/(平方米·天)）× 面积（平方米）"
        "× 空调开放天数 /（3600 × EER）；水面降温 E₂ = E_w × ρ × q / 3600，E_w 水面蒸发量（立方米），"
        "ρ = 1000 千克/立方米，q 汽化潜热（约 2450 千焦/千克，即 2450 焦/克）；水面增湿 E₃ = E_w × γ，"
        "γ 加湿器每立方米水的耗电（千瓦时）。水面部分按甘孜案例公式，不除以 EER。"
        "V = (E₁ + E₂ + E₃)（千瓦时）× 电价（元/千瓦时）。默认电价 0.53 元/千瓦时为甘孜 2010 年示例价，应改用浙江电价；"
        "EER 与 γ 的默认值为未核实的占位值。"
    ),
    compute=_climate_regulation,
    check=_check,
)

INDICATORS = (climate_regulation,)
