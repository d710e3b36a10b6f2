"""Double-counting rules (gep-methods.md §6.5) as data, and a simple check.

These rules are TMCS's reading of the methods brief, not clauses of a standard: they warn, they do
not remove anything. Each rule names two indicator "sides" (an indicator key, optionally limited to
one calculation variant, see `IndicatorResult.variant`) that must not both be counted for the same
object (asset, water body, watershed or region: whatever `object_key` the caller uses).

    check_exclusions([
        ("soil_retention", "basin:ouJiang", "with_nutrients"),
        ("water_purification", "basin:ouJiang"),
    ])  # → ["……可能重复计算同一营养物负荷……"]
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import get


@dataclass(frozen=True)
class Counted:
    """One indicator counted for one object; variant as in IndicatorResult.variant ("" if none)."""

    indicator_key: str
    object_key: str
    variant: str = ""


@dataclass(frozen=True)
class Side:
    indicator_key: str
    variant: str | None = None  # None: any variant

    def matches(self, counted: Counted) -> bool:
        return counted.indicator_key == self.indicator_key and (
            self.variant is None or counted.variant == self.variant
        )


@dataclass(frozen=True)
class ExclusionRule:
    code: str
    first: Side
    second: Side
    reason: object  # lazy Chinese text


RULES: tuple[ExclusionRule, ...] = (
    ExclusionRule(
        "nutrients_soil_vs_water_purification",
        Side("soil_retention", "with_nutrients"),
        Side("water_purification"),
        _(
            "土壤保持中的减少氮磷流失与水质净化可能重复计算同一营养物负荷（两者均按约 875 元/吨氮计价）；"
            "只保留其一，例如把土壤保持参数 include_nutrients 设为 0。"
        ),
    ),
    ExclusionRule(
        "tourism_travel_cost_vs_revenue",
        Side("landscape_recreation", "travel_cost"),
        Side("landscape_recreation", "revenue"),
        _("休闲旅游只能按旅行费用法或旅游收入之一核算，不能两者都计入。"),
    ),
    ExclusionRule(
        "reservoir_water_conservation_vs_flood",
        Side("water_conservation"),
        Side("flood_regulation"),
        _("水源涵养与洪水调蓄可能重复计算同一水库的蓄水，请确认两者计量的是不同的水量。"),
    ),
    ExclusionRule(
        "reservoir_water_conservation_vs_supply",
        Side("water_conservation"),
        Side("water_supply"),
        _("水源涵养与水资源可能重复计算同一水库的蓄水，请确认两者计量的是不同的水量。"),
    ),
    ExclusionRule(
        "reservoir_flood_vs_supply",
        Side("flood_regulation"),
        Side("water_supply"),
        _("洪水调蓄与水资源可能重复计算同一水库的蓄水，请确认防洪库容与供水水量不重叠。"),
    ),
    ExclusionRule(
        "visits_recreation_vs_heritage",
        Side("landscape_recreation"),
        Side("cultural_heritage"),
        _("休闲旅游与文化遗产可能重复计算同一批游客，请从休闲旅游人次中扣除文化遗产游客。"),
    ),
)


def _as_counted(entry) -> Counted:
    counted = entry if isinstance(entry, Counted) else Counted(*entry)
    get(counted.indicator_key)  # KeyError for an unknown indicator
    return counted


def check_exclusions(indicator_keys_with_context: Iterable) -> list[str]:
    """Chinese warnings for pairs that must not both be counted for the same object.

    Each entry is a Counted or a tuple (indicator_key, object_key[, variant]). Also warns when the
    same indicator and variant is counted twice for one object.
    """
    entries = [_as_counted(entry) for entry in indicator_keys_with_context]
    warnings: list[str] = []
    by_object: dict[str, list[Counted]] = {}
    for entry in entries:
        by_object.setdefault(entry.object_key, []).append(entry)
    for object_key, counted in by_object.items():
        seen = set()
        for entry in counted:
            if entry in seen:
                warnings.append(
                    gettext("对象“%(object)s”：%(indicator)s被重复计入。")
                    % {"object": object_key, "indicator": get(entry.indicator_key).name}
                )
            seen.add(entry)
        for rule in RULES:
            if any(rule.first.matches(c) for c in counted) and any(rule.second.matches(c) for c in counted):
                warnings.append(
                    gettext("对象“%(object)s”：%(reason)s") % {"object": object_key, "reason": rule.reason}
                )
    return warnings
