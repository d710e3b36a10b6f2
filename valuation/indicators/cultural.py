"""文化服务: C1 休闲旅游/景观游憩, C2 景观价值, C3 文化遗产 (gep-methods.md §3, §6.5).

C1 uses the travel-cost method or tourism revenue, never both: the parameter `tourism_basis`
chooses and the other figure, if given, is left out with a note.

C3 (cultural heritage) has no formula in the methods brief. Our choice, documented in the UI:
travel cost of the visits made for the heritage site, optionally weighted by the share of the trip
motivated by the heritage (0–1). These visits must not be counted again in C1 for the same place
(see exclusions.py).
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resources.catalog import GEP_INDICATORS

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
    required_with,
)

ZERO = D("0")
ONE = D("1")
TRAVEL_COST = D("0")
REVENUE = D("1")
TOURISM_BASIS_CHOICES = ((TRAVEL_COST, _("旅行费用法")), (REVENUE, _("旅游收入")))

# --- C1 recreation / tourism ------------------------------------------------------------------------


def _recreation_check(inputs, params):
    if params is None or "tourism_basis" not in params:
        return at_least_one(
            inputs, ("travel_cost_per_visit", "tourism_revenue"), (_("人均旅行费用"), _("旅游收入"))
        )
    if params["tourism_basis"] == REVENUE:
        return required_with(inputs, "tourism_revenue", _("按旅游收入核算时"))
    return required_with(inputs, "travel_cost_per_visit", _("按旅行费用法核算时"))


def _landscape_recreation(inputs, params):
    visits = inputs["visits"]
    notes = []
    if params["tourism_basis"] == REVENUE:
        revenue = inputs["tourism_revenue"]
        component = Component("tourism_revenue", _("旅游收入"), revenue, "yuan", None, revenue)
        if "travel_cost_per_visit" in inputs:
            notes.append(gettext("按旅游收入核算，已填写的人均旅行费用未计入（两种方法只取其一）。"))
        variant, unit_price = "revenue", None
    else:
        cost = inputs["travel_cost_per_visit"]
        component = Component("travel_cost", _("旅行费用"), visits, "person_visits", cost, visits * cost)
        if "tourism_revenue" in inputs:
            notes.append(gettext("按旅行费用法核算，已填写的旅游收入未计入（两种方法只取其一）。"))
        variant, unit_price = "travel_cost", cost
    return make_result(visits, "person_visits", [component], notes, unit_price=unit_price, variant=variant)


landscape_recreation = Indicator(
    key="landscape_recreation",
    code="C1",
    name=GEP_INDICATORS["landscape_recreation"][1],
    category=Category.CULTURAL,
    level=Level.REGION,
    inputs=(
        InputSpec("visits", _("游客人次"), "person_visits", minimum=ZERO, help=_("可按万人次填写。")),
        InputSpec(
            "travel_cost_per_visit",
            _("人均旅行费用"),
            "yuan_per_visit",
            minimum=ZERO,
            required=False,
            help=_("交通、食宿、门票、时间成本等，按游客调查测算。"),
        ),
        InputSpec(
            "tourism_revenue",
            _("旅游收入"),
            "yuan",
            minimum=ZERO,
            required=False,
            help=_("可按万元、亿元填写。"),
        ),
    ),
    params=(
        ParamSpec(
            "tourism_basis",
            _("旅游价值核算口径"),
            "code",
            help=_("0 = 旅行费用法，1 = 旅游收入；两者只取其一。"),
            choices=TOURISM_BASIS_CHOICES,
        ),
    ),
    quantity_unit="person_visits",
    method=Method.TRAVEL_COST,
    doc=_(
        "C1 休闲旅游/景观游憩：旅行费用法 V = 游客人次 × 人均旅行费用（元/人次）；"
        "或按参数改用旅游收入 V = 旅游收入（元）。两者只取其一，绝不相加。"
        "属区域性需求：只在村、乡镇、县、市核算，分摊到地块须有书面分摊依据。"
        "甘孜 2010 年：358.68 万人次、旅游收入 23.56 亿元，旅行费用法价值 70.67 亿元（约为收入的 3 倍）。"
    ),
    compute=_landscape_recreation,
    check=_recreation_check,
)


# --- C2 landscape premium ---------------------------------------------------------------------------


def _landscape_premium(inputs, params):
    area = inputs["benefiting_area"]
    premium = inputs["premium_per_m2"]
    component = Component("premium", _("景观溢价"), area, "m2", premium, area * premium)
    return make_result(area, "m2", [component], unit_price=premium)


landscape_premium = Indicator(
    key="landscape_premium",
    code="C2",
    name=GEP_INDICATORS["landscape_premium"][1],
    category=Category.CULTURAL,
    level=Level.REGION,
    inputs=(
        InputSpec("benefiting_area", _("受益建筑面积"), "m2", minimum=ZERO),
        InputSpec(
            "premium_per_m2",
            _("单位面积年景观溢价"),
            "yuan_per_m2",
            minimum=ZERO,
            help=_(
                "享乐价格法测得的每平方米每年溢价（如租金溢价或年化房价溢价），不能直接用一次性房价溢价。"
            ),
        ),
    ),
    params=(),
    quantity_unit="m2",
    method=Method.HEDONIC,
    doc=_(
        "C2 景观价值（享乐价格法）：V = 受益建筑面积（平方米）× 单位面积年景观溢价（元/平方米/年）。"
        "溢价须为年度流量（租金溢价或年化房价溢价），否则会把存量房价混入年度 GEP。"
        "溢价为当地测算值，系统不设默认值。只在区域层级核算。"
    ),
    compute=_landscape_premium,
)


# --- C3 cultural heritage ---------------------------------------------------------------------------


def _cultural_heritage(inputs, params):
    visits = inputs["heritage_visits"]
    cost = inputs["travel_cost_per_visit"]
    notes = []
    share = inputs.get("heritage_share")
    if share is None:
        share = ONE
        notes.append(gettext("未填写文化遗产动机占比，按 1（全部计入）计算。"))
    attributed = visits * share
    component = Component(
        "heritage_visits", _("文化遗产游憩"), attributed, "person_visits", cost, attributed * cost
    )
    return make_result(visits, "person_visits", [component], notes, unit_price=cost)


cultural_heritage = Indicator(
    key="cultural_heritage",
    code="C3",
    name=GEP_INDICATORS["cultural_heritage"][1],
    category=Category.CULTURAL,
    level=Level.BOTH,
    inputs=(
        InputSpec("heritage_visits", _("文化遗产地游客人次"), "person_visits", minimum=ZERO),
        InputSpec("travel_cost_per_visit", _("人均旅行费用"), "yuan_per_visit", minimum=ZERO),
        InputSpec(
            "heritage_share",
            _("文化遗产动机占比"),
            "dimensionless",
            minimum=ZERO,
            maximum=ONE,
            required=False,
            help=_("出行中以文化遗产为目的的比例（0–1），可按百分数填写；留空按 1。"),
        ),
    ),
    params=(),
    quantity_unit="person_visits",
    method=Method.TRAVEL_COST,
    doc=_(
        "C3 文化遗产（TMCS 约定，现有依据未给出公式，未见标准条款）：采用旅行费用法，"
        "V = 文化遗产地游客人次 × 文化遗产动机占比 × 人均旅行费用（元/人次）。"
        "适用于古村落等遗产地资产或区域。同一批游客不得同时计入休闲旅游（C1），"
        "核算 C3 时应从 C1 的人次中扣除这部分游客。"
    ),
    compute=_cultural_heritage,
)

INDICATORS = (landscape_recreation, landscape_premium, cultural_heritage)
