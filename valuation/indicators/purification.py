"""R5 空气净化 and R6 水质净化: pollutants removed × treatment cost (gep-methods.md §3, §6.5, §6.7).

Following the Garzê paper, the amount removed may be capped at the region's emissions of that
pollutant (an ecosystem cannot clean what nobody emitted): give the emission to apply the cap.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resources.catalog import GEP_INDICATORS

from .arithmetic import exact_sum
from .base import (
    Category,
    Component,
    D,
    Indicator,
    InputSpec,
    Level,
    Method,
    ParamSpec,
    at_least_one,
    make_result,
)

ZERO = D("0")


def _pollutant_indicator(key, code, lines, doc):
    """lines: (pollutant, removed label, emission label, price label, component label)."""

    def compute(inputs, params):
        components, notes = [], []
        for pollutant, _removed, _emission, _price, label in lines:
            removed_key = f"{pollutant}_removed"
            if removed_key not in inputs:
                continue
            amount = inputs[removed_key]
            emission = inputs.get(f"{pollutant}_emission")
            if emission is not None and amount > emission:
                notes.append(
                    gettext("%(label)s：去除量 %(amount)s 吨超过排放量 %(cap)s 吨，按排放量计。")
                    % {"label": label, "amount": amount, "cap": emission}
                )
                amount = emission
            price = params[f"price_{pollutant}"]
            components.append(Component(pollutant, label, amount, "t", price, amount * price))
        quantity = exact_sum(c.quantity for c in components)
        return make_result(quantity, "t", components, notes)

    def check(inputs, params):
        return at_least_one(
            inputs,
            tuple(f"{pollutant}_removed" for pollutant, *_rest in lines),
            tuple(removed for _p, removed, *_rest in lines),
        )

    input_specs = []
    for pollutant, removed, emission, _price, _label in lines:
        input_specs.append(InputSpec(f"{pollutant}_removed", removed, "t", minimum=ZERO, required=False))
        input_specs.append(
            InputSpec(
                f"{pollutant}_emission",
                emission,
                "t",
                minimum=ZERO,
                required=False,
                help=_("填写后，去除量以排放量为上限。"),
            )
        )
    return Indicator(
        key=key,
        code=code,
        name=GEP_INDICATORS[key][1],
        category=Category.REGULATING,
        level=Level.BOTH,
        inputs=tuple(input_specs),
        params=tuple(ParamSpec(f"price_{p}", price, "yuan_per_t") for p, _r, _e, price, _l in lines),
        quantity_unit="t",
        method=Method.TREATMENT_COST,
        doc=doc,
        compute=compute,
        check=check,
    )


air_purification = _pollutant_indicator(
    "air_purification",
    "R5",
    (
        ("so2", _("二氧化硫吸收量"), _("二氧化硫排放量"), _("二氧化硫治理成本"), _("净化二氧化硫")),
        ("nox", _("氮氧化物吸收量"), _("氮氧化物排放量"), _("氮氧化物治理成本"), _("净化氮氧化物")),
        ("dust", _("滞尘量"), _("烟粉尘排放量"), _("粉尘治理成本"), _("滞尘")),
    ),
    _(
        "R5 空气净化：V = Σ 污染物净化量ᵢ（吨/年）× 治理成本ᵢ（元/吨），i = 二氧化硫、氮氧化物、粉尘；"
        "填写区域排放量时净化量以排放量为上限（甘孜做法）。地块级只计植被吸收。"
        "默认 1200/630/150 元/吨为甘孜 2010 年示例价，源自 2003 年排污费标准（2018 年起由环境保护税取代，未复核）。"
    ),
)

water_purification = _pollutant_indicator(
    "water_purification",
    "R6",
    (
        ("cod", _("化学需氧量（COD）去除量"), _("COD 排放量"), _("COD 治理成本"), _("净化 COD")),
        ("nh3n", _("氨氮去除量"), _("氨氮排放量"), _("氨氮治理成本"), _("净化氨氮")),
    ),
    _(
        "R6 水质净化：V = Σ 污染物去除量ᵢ（吨/年）× 治理成本ᵢ（元/吨），i = COD、氨氮；"
        "填写排放量时去除量以排放量为上限。属水体/湿地性质：适用于区域或水体资产。"
        "与土壤保持中的减少氮磷流失可能重复计算同一营养物负荷（见重复计算规则）。"
        "默认 COD 700、氨氮 875 元/吨为甘孜 2010 年示例价（2003 年排污费标准，未复核）。"
    ),
)

INDICATORS = (air_purification, water_purification)
