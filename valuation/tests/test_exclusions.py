"""Double-counting rules (gep-methods.md §6.5)."""

import pytest
from django.utils import translation

from valuation.indicators import REGISTRY
from valuation.indicators.exclusions import RULES, Counted, check_exclusions
from valuation.tests.indicator_helpers import run


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def test_rules_name_real_indicators_and_variants():
    for rule in RULES:
        for side in (rule.first, rule.second):
            assert side.indicator_key in REGISTRY
        assert str(rule.reason)


def test_soil_nutrients_and_water_purification_on_the_same_basin():
    soil = run(
        "soil_retention",
        {"area": "1", "potential_erosion": "10", "actual_erosion": "1"},
    )
    entries = [("soil_retention", "basin:瓯江", soil.variant), ("water_purification", "basin:瓯江")]
    warnings = check_exclusions(entries)
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "对象“basin:瓯江”：土壤保持中的减少氮磷流失与水质净化可能重复计算同一营养物负荷"
    )
    # switched off in the parameters: the variant changes and the warning goes away
    siltation_only = run(
        "soil_retention",
        {"area": "1", "potential_erosion": "10", "actual_erosion": "1"},
        include_nutrients="0",
    )
    assert check_exclusions([("soil_retention", "basin:瓯江", siltation_only.variant), entries[1]]) == []


def test_different_objects_do_not_conflict():
    assert check_exclusions([("soil_retention", "a", "with_nutrients"), ("water_purification", "b")]) == []


def test_tourism_both_bases_for_one_region():
    warnings = check_exclusions(
        [
            Counted("landscape_recreation", "331125", "travel_cost"),
            Counted("landscape_recreation", "331125", "revenue"),
        ]
    )
    assert warnings == ["对象“331125”：休闲旅游只能按旅行费用法或旅游收入之一核算，不能两者都计入。"]


def test_same_reservoir_water_three_ways():
    warnings = check_exclusions(
        [
            ("water_conservation", "reservoir:乌溪江"),
            ("flood_regulation", "reservoir:乌溪江"),
            ("water_supply", "reservoir:乌溪江"),
        ]
    )
    assert len(warnings) == 3
    assert all("同一水库的蓄水" in w for w in warnings)


def test_heritage_visits_and_recreation_and_duplicates():
    warnings = check_exclusions(
        [
            ("landscape_recreation", "village:1", "travel_cost"),
            ("cultural_heritage", "village:1"),
            ("cultural_heritage", "village:1"),
        ]
    )
    assert "对象“village:1”：文化遗产被重复计入。" in warnings
    assert any("同一批游客" in w for w in warnings)


def test_unknown_indicator_is_an_error():
    with pytest.raises(KeyError):
        check_exclusions([("biodiversity", "x")])
