"""物质产品 (M1–M6): market value of what ecosystems provide, gep-methods.md §3 and §6.6.

M1–M4 (agricultural, forest, livestock, fishery products) keep gross value, deductions and net value
apart: gross = output quantity × market price (or the statistical output value when that is all
there is), minus products from outside the region (GB/T 46869, our reading: imported feed, stocked
fry, bought seedlings) and, on a 净产值 basis as in the Garzê paper, intermediate consumption.
The market price is an input, not a parameter: it is the local or statistical price of the product
the asset or region actually produced (tea and rice are both agricultural products).
"""

from django.utils.text import format_lazy
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
    exactly_one,
    make_result,
)

ZERO = D("0")

_GROSS_LABEL = _("总产值")
_EXTERNAL_LABEL = _("扣除：区域外投入的生态产品")
_INTERMEDIATE_LABEL = _("扣除：中间消耗")


_PRODUCT_DOC_TAIL = _(
    "价值 V = 产量 Q × 市场价格 P（或统计总产值）− 区域外投入的生态产品 − 中间消耗（单位：元/年）。"
    "总产值、各扣除项与净值分列保存。物质产品也计入 GDP，不得把 GEP 与 GDP 相加。"
    "市场价格为当地或统计价格，按产品逐项录入；多个产品可逐项核算后相加。"
    "依据：生态产品总值核算规范（试行）、GB/T 46869-2025（扣除区域外生态产品）、甘孜案例净产值口径。"
)


def _product_inputs(quantity_unit, price_unit, quantity_label, price_label):
    return (
        InputSpec(
            "output_quantity",
            quantity_label,
            quantity_unit,
            minimum=ZERO,
            help=_("核算年度内本资产/本区域的产量（生产属地原则，只计当年）。"),
        ),
        InputSpec(
            "market_price",
            price_label,
            price_unit,
            minimum=ZERO,
            required=False,
            help=_("当地市场价或统计价格；与“总产值”二选一。"),
        ),
        InputSpec(
            "gross_output_value",
            _("总产值（统计）"),
            "yuan",
            minimum=ZERO,
            required=False,
            help=_("统计年鉴或台账的总产值；与“市场价格”二选一。"),
        ),
        InputSpec(
            "external_inputs",
            _("区域外投入的生态产品价值"),
            "yuan",
            minimum=ZERO,
            required=False,
            help=_("按 GB/T 46869 扣除的区域外来源产品，如外购饲料、投放鱼苗、外购苗木。"),
        ),
        InputSpec(
            "intermediate_consumption",
            _("中间消耗"),
            "yuan",
            minimum=ZERO,
            required=False,
            help=_("按净产值口径（甘孜案例）扣除的中间投入；不采用该口径时留空。"),
        ),
    )


def _product_check(inputs, params):
    errors = exactly_one(inputs, ("market_price", "gross_output_value"), (_("市场价格"), _("总产值（统计）")))
    if errors:
        return errors
    if "market_price" in inputs:
        gross = inputs["output_quantity"] * inputs["market_price"] if "output_quantity" in inputs else None
    else:
        gross = inputs["gross_output_value"]
    deductions = inputs.get("external_inputs", ZERO) + inputs.get("intermediate_consumption", ZERO)
    if gross is not None and deductions > gross:
        return {"external_inputs": [gettext("扣除额（区域外投入 + 中间消耗）不能大于总产值。")]}
    return {}


def _product_indicator(key, code, quantity_unit, price_unit, quantity_label, price_label, doc):
    def compute(inputs, params):
        quantity = inputs["output_quantity"]
        price = inputs.get("market_price")
        if price is not None:
            gross = Component("gross_output", _GROSS_LABEL, quantity, quantity_unit, price, quantity * price)
        else:
            value = inputs["gross_output_value"]
            gross = Component("gross_output", _GROSS_LABEL, value, "yuan", None, value)
        components = [gross]
        notes = []
        for input_key, component_key, label in (
            ("external_inputs", "external_inputs", _EXTERNAL_LABEL),
            ("intermediate_consumption", "intermediate_consumption", _INTERMEDIATE_LABEL),
        ):
            if input_key in inputs:
                amount = inputs[input_key]
                components.append(Component(component_key, label, amount, "yuan", None, -amount))
        if len(components) == 1:
            notes.append(gettext("未填写扣除项：价值按总产值计。"))
        return make_result(quantity, quantity_unit, components, notes, unit_price=price)

    return Indicator(
        key=key,
        code=code,
        name=GEP_INDICATORS[key][1],
        category=Category.MATERIAL,
        level=Level.BOTH,
        inputs=_product_inputs(quantity_unit, price_unit, quantity_label, price_label),
        params=(),
        quantity_unit=quantity_unit,
        method=Method.MARKET,
        doc=format_lazy("{} {}", doc, _PRODUCT_DOC_TAIL),
        compute=compute,
        check=_product_check,
    )


agricultural_products = _product_indicator(
    "agricultural_products",
    "M1",
    "t",
    "yuan_per_t",
    _("农产品产量"),
    _("市场价格"),
    _("M1 农业产品：粮食、蔬菜、茶叶、水果等种植业产品，产量以吨计。"),
)
timber = _product_indicator(
    "timber",
    "M2",
    "m3",
    "yuan_per_m3",
    _("木材产量"),
    _("木材价格"),
    _("M2 林业产品（木材）：核算年度内采伐的木材，产量以立方米计。"),
)
livestock_products = _product_indicator(
    "livestock_products",
    "M3",
    "t",
    "yuan_per_t",
    _("畜产品产量"),
    _("市场价格"),
    _("M3 畜牧业产品：肉、蛋、奶等，产量以吨计；外购饲料作为区域外投入扣除。"),
)
fishery_products = _product_indicator(
    "fishery_products",
    "M4",
    "t",
    "yuan_per_t",
    _("水产品产量"),
    _("市场价格"),
    _("M4 渔业产品：淡水捕捞与养殖产品，产量以吨计；投放的外来鱼苗作为区域外投入扣除。"),
)

# --- M5 water supply ------------------------------------------------------------------------------

_WATER_USES = (
    ("residential", _("生活用水量"), _("生活用水价格"), _("生活用水")),
    ("industrial", _("工业用水量"), _("工业用水价格"), _("工业用水")),
    ("agricultural", _("农业用水量"), _("农业用水价格"), _("农业用水")),
)


def _water_supply(inputs, params):
    components = []
    for use, _q_label, _p_label, label in _WATER_USES:
        key = f"{use}_water"
        if key in inputs:
            price = params[f"price_{use}"]
            components.append(Component(key, label, inputs[key], "m3", price, inputs[key] * price))
    quantity = exact_sum(c.quantity for c in components)
    return make_result(quantity, "m3", components)


def _water_supply_check(inputs, params):
    keys = tuple(f"{use}_water" for use, *_rest in _WATER_USES)
    return at_least_one(inputs, keys, tuple(q for _u, q, _p, _l in _WATER_USES))


water_supply = Indicator(
    key="water_supply",
    code="M5",
    name=GEP_INDICATORS["water_supply"][1],
    category=Category.MATERIAL,
    level=Level.BOTH,
    inputs=tuple(
        InputSpec(f"{use}_water", q_label, "m3", minimum=ZERO, required=False)
        for use, q_label, _p, _l in _WATER_USES
    ),
    params=tuple(ParamSpec(f"price_{use}", p_label, "yuan_per_m3") for use, _q, p_label, _l in _WATER_USES),
    quantity_unit="m3",
    method=Method.MARKET,
    doc=_(
        "M5 水资源：V = Σ 用水量ᵢ（立方米/年）× 水价ᵢ（元/立方米），i = 生活、工业、农业。"
        "适用于区域或作为取水口/水库的水体资产，不分摊到地块。"
        "同一水库的蓄水不得在水源涵养、洪水调蓄与水资源中重复计算（见重复计算规则）。"
        "默认价格 2.6/3.6/0.07 元/立方米为甘孜 2010 年示例价（doi:10.5846/stxb201607011362），"
        "正式核算前应替换为浙江/丽水现行水价。"
    ),
    compute=_water_supply,
    check=_water_supply_check,
)


# --- M6 hydropower --------------------------------------------------------------------------------


def _hydropower(inputs, params):
    generation = inputs["generation"]
    price = params["electricity_price"]
    component = Component("generation", _("水力发电量"), generation, "kWh", price, generation * price)
    return make_result(generation, "kWh", [component], unit_price=price)


hydropower = Indicator(
    key="hydropower",
    code="M6",
    name=GEP_INDICATORS["hydropower"][1],
    category=Category.MATERIAL,
    level=Level.BOTH,
    inputs=(InputSpec("generation", _("年发电量"), "kWh", minimum=ZERO),),
    params=(ParamSpec("electricity_price", _("上网电价"), "yuan_per_kWh"),),
    quantity_unit="kWh",
    method=Method.MARKET,
    doc=_(
        "M6 水电：V = 年发电量（千瓦时）× 电价（元/千瓦时）。适用于区域或电站资产。"
        "默认电价 0.53 元/千瓦时为甘孜 2010 年示例价，应替换为浙江上网电价。"
    ),
    compute=_hydropower,
)

INDICATORS = (agricultural_products, timber, livestock_products, fishery_products, water_supply, hydropower)
