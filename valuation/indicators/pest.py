"""R10 病虫害控制: area of natural forest and grassland that keeps pests down by itself, valued at
the cost of controlling pests artificially (gep-methods.md §3)."""

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

_KINDS = (
    ("forest", _("天然林面积"), _("森林病虫害防治成本"), _("天然林自然控制病虫害")),
    ("grassland", _("天然草地面积"), _("草地病虫害防治成本"), _("天然草地自然控制病虫害")),
)


def _check(inputs, params):
    return at_least_one(
        inputs, tuple(f"natural_{kind}_area" for kind, *_rest in _KINDS), tuple(a for _k, a, *_r in _KINDS)
    )


def _pest_control(inputs, params):
    components = []
    for kind, _area, _price, label in _KINDS:
        key = f"natural_{kind}_area"
        if key in inputs:
            price = params[f"{kind}_control_cost"]
            components.append(Component(kind, label, inputs[key], "hm2", price, inputs[key] * price))
    return make_result(exact_sum(c.quantity for c in components), "hm2", components)


pest_control = Indicator(
    key="pest_control",
    code="R10",
    name=GEP_INDICATORS["pest_control"][1],
    category=Category.REGULATING,
    level=Level.BOTH,
    inputs=tuple(
        InputSpec(
            f"natural_{kind}_area",
            area_label,
            "hm2",
            minimum=ZERO,
            required=False,
            help=_("可按亩、平方米、平方千米填写。"),
        )
        for kind, area_label, _p, _l in _KINDS
    ),
    params=tuple(ParamSpec(f"{kind}_control_cost", p, "yuan_per_hm2") for kind, _a, p, _l in _KINDS),
    quantity_unit="hm2",
    method=Method.REPLACEMENT_COST,
    doc=_(
        "R10 病虫害控制：V = 天然林面积（公顷）× 森林病虫害防治成本 + 天然草地面积（公顷）× 草地病虫害防治成本"
        "（元/公顷）。只计能自然控制病虫害的天然林、草地。默认 375、112.5 元/公顷为甘孜 2010 年示例价。"
    ),
    compute=_pest_control,
    check=_check,
)

INDICATORS = (pest_control,)
