"""The GEP indicators, one per key of `resources.catalog.GEP_INDICATORS`.

    from valuation.indicators import REGISTRY, get, evaluate
    result = evaluate("water_conservation", {"precipitation": "1650", ..., "area": Measure("3", "mu")}, params)

Pure calculation: no models, no database. Parameters come from a parameter set
(valuation.default_parameters for the defaults).
"""

from collections.abc import Mapping

from . import carbon, climate, cultural, ions, material, pest, purification, soil, water
from .arithmetic import CONTEXT, exact_sum
from .base import (
    NEGATIVE_ALLOW,
    NEGATIVE_CLAMP,
    NON_FIELD,
    Category,
    Component,
    Indicator,
    IndicatorResult,
    InputError,
    InputSpec,
    Level,
    Measure,
    Method,
    ParameterError,
    ParamSpec,
    normalize_inputs,
    normalize_params,
    validate_inputs,
    validate_params,
)
from .base import evaluate as _evaluate
from .cultural import REVENUE, TRAVEL_COST

_ORDER = (
    *material.INDICATORS,
    *water.INDICATORS[:1],  # R1
    *soil.INDICATORS,  # R2, R3
    *water.INDICATORS[1:],  # R4
    *purification.INDICATORS,  # R5, R6
    *carbon.INDICATORS,  # R7, R8
    *climate.INDICATORS,  # R9
    *pest.INDICATORS,  # R10
    *ions.INDICATORS,  # R11
    *cultural.INDICATORS,  # C1–C3
)

REGISTRY: dict[str, Indicator] = {indicator.key: indicator for indicator in _ORDER}
assert len(REGISTRY) == len(_ORDER), "duplicate indicator keys"


def get(key: str) -> Indicator:
    """The indicator for a catalog key; KeyError for an unknown key."""
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown GEP indicator: {key!r}") from None


def evaluate(indicator: Indicator | str, inputs: Mapping, params: Mapping) -> IndicatorResult:
    """Validate raw inputs (units converted) and parameters, then compute. Raises InputError or
    ParameterError (both carry `.errors`: {key: [中文消息]})."""
    if isinstance(indicator, str):
        indicator = get(indicator)
    return _evaluate(indicator, inputs, params)


__all__ = [
    "CONTEXT",
    "NEGATIVE_ALLOW",
    "NEGATIVE_CLAMP",
    "NON_FIELD",
    "REGISTRY",
    "REVENUE",
    "TRAVEL_COST",
    "Category",
    "Component",
    "Indicator",
    "IndicatorResult",
    "InputError",
    "InputSpec",
    "Level",
    "Measure",
    "Method",
    "ParamSpec",
    "ParameterError",
    "evaluate",
    "exact_sum",
    "get",
    "normalize_inputs",
    "normalize_params",
    "validate_inputs",
    "validate_params",
]
