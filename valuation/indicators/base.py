"""Building blocks of the GEP calculation core: specs, indicators, results, validation.

Pure Python + Decimal: no models, no database. An indicator is data (its inputs, parameters,
unit, method and a Chinese explanation) plus one `compute(inputs, params)` function.

Flow for a caller (the accounting run):

    errors = validate_inputs(indicator, raw_inputs, params)  # {key: [中文消息]}; raw values may be
                                                              # Decimal, int, str or Measure(value, unit)
    inputs = normalize_inputs(indicator, raw_inputs, params)  # → {key: Decimal in the spec's unit}
    result = indicator.compute(inputs, params)                # strict: Decimals only
    # or in one step: evaluate(indicator, raw_inputs, params)
"""

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from types import MappingProxyType

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import units
from .arithmetic import CONTEXT, exact_sum

NON_FIELD = "__all__"  # same key as Django's NON_FIELD_ERRORS


class Category(models.TextChoices):
    MATERIAL = "material", _("物质产品")
    REGULATING = "regulating", _("调节服务")
    CULTURAL = "cultural", _("文化服务")


class Level(models.TextChoices):
    ASSET = "asset", _("仅资产/地块")
    REGION = "region", _("仅区域")
    BOTH = "both", _("资产或区域")


class Method(models.TextChoices):
    MARKET = "market", _("市场价值法")
    SHADOW_PROJECT = "shadow_project", _("影子工程法")
    REPLACEMENT_COST = "replacement_cost", _("替代成本法")
    TREATMENT_COST = "treatment_cost", _("治理成本法")
    TRAVEL_COST = "travel_cost", _("旅行费用法")
    HEDONIC = "hedonic", _("享乐价格法")


# Codes of the choice parameters (ParamSpec with unit "code"). Parameters are Decimals, so policy
# switches are small integer codes.
NEGATIVE_CLAMP = Decimal(0)  # 负值截断为零
NEGATIVE_ALLOW = Decimal(1)  # 保留负值
NEGATIVE_POLICY_CHOICES = ((NEGATIVE_CLAMP, _("负值截断为零")), (NEGATIVE_ALLOW, _("保留负值")))
NO = Decimal(0)
YES = Decimal(1)
YES_NO_CHOICES = ((YES, _("计入")), (NO, _("不计入")))


class InputError(ValueError):
    """Inputs that fail validation; `errors` maps input keys (or "__all__") to Chinese messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)


class ParameterError(ValueError):
    """Parameters that are missing or invalid; `errors` maps parameter keys to Chinese messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)


@dataclass(frozen=True)
class Measure:
    """A raw input value with an explicit unit, e.g. Measure("3", "mu") for 3 亩."""

    value: Decimal | int | str
    unit: str


@dataclass(frozen=True)
class InputSpec:
    key: str
    label: Promise | str
    unit: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    required: bool = True
    help: Promise | str = ""
    exclusive_minimum: bool = False  # value must be > minimum (lifetimes, densities, EER)


@dataclass(frozen=True)
class ParamSpec:
    key: str
    label: Promise | str
    unit: str
    help: Promise | str = ""
    minimum: Decimal | None = Decimal(0)
    maximum: Decimal | None = None
    exclusive_minimum: bool = False
    choices: tuple = ()  # ((Decimal code, label), ...) for unit "code"
    required: bool = True


@dataclass(frozen=True)
class Component:
    key: str
    label: Promise | str
    quantity: Decimal
    unit: str
    unit_price: Decimal | None
    value: Decimal  # 元, unrounded; may be negative for a deduction


@dataclass(frozen=True)
class IndicatorResult:
    quantity: Decimal
    quantity_unit: str
    value: Decimal  # 元, unrounded, exactly Σ component values
    unit_price: Decimal | None
    components: tuple[Component, ...]
    notes: tuple[str, ...] = ()
    # The calculation branch taken, for comparability and double-counting checks, e.g.
    # "npp"/"nep"/"measured" (carbon, oxygen), "travel_cost"/"revenue" (tourism),
    # "with_nutrients"/"siltation_only" (soil retention). Empty when the indicator has one branch.
    variant: str = ""


def make_result(quantity, quantity_unit, components, notes=(), unit_price=None, variant=""):
    components = tuple(components)
    return IndicatorResult(
        quantity=quantity,
        quantity_unit=quantity_unit,
        value=exact_sum(c.value for c in components),
        unit_price=unit_price,
        components=components,
        notes=tuple(str(n) for n in notes),
        variant=variant,
    )


Formula = Callable[[Mapping[str, Decimal], Mapping[str, Decimal]], IndicatorResult]
Check = Callable[[Mapping[str, Decimal], Mapping[str, Decimal] | None], dict[str, list[str]]]


@dataclass(frozen=True)
class Indicator:
    key: str
    code: str
    name: Promise | str
    category: str
    level: str
    inputs: tuple[InputSpec, ...]
    params: tuple[ParamSpec, ...]
    quantity_unit: str
    method: str
    doc: Promise | str
    compute: Callable[[Mapping[str, Decimal], Mapping[str, Decimal]], IndicatorResult]
    # Indicator-specific cross checks on the converted inputs (and params when known).
    check: Check | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.category not in Category.values:
            raise ValueError(f"{self.key}: unknown category {self.category!r}")
        if self.level not in Level.values:
            raise ValueError(f"{self.key}: unknown level {self.level!r}")
        if self.method not in Method.values:
            raise ValueError(f"{self.key}: unknown method {self.method!r}")
        units.unit(self.quantity_unit)
        for specs in (self.inputs, self.params):
            keys = [s.key for s in specs]
            if len(keys) != len(set(keys)):
                raise ValueError(f"{self.key}: duplicate keys in {keys}")
            for spec in specs:
                units.unit(spec.unit)
        # `compute` becomes the checked entry point; the bare formula stays reachable as `formula`.
        formula = self.compute
        object.__setattr__(self, "formula", formula)
        object.__setattr__(self, "compute", _checked_compute(self, formula))

    def input_spec(self, key: str) -> InputSpec:
        return {s.key: s for s in self.inputs}[key]

    def param_spec(self, key: str) -> ParamSpec:
        return {s.key: s for s in self.params}[key]


def _checked_compute(indicator: Indicator, formula: Formula):
    def compute(inputs: Mapping[str, Decimal], params: Mapping[str, Decimal]) -> IndicatorResult:
        """Strict entry point: inputs already in the specs' units, every value a Decimal."""
        for what, mapping in (("input", inputs), ("parameter", params)):
            for key, value in mapping.items():
                if not isinstance(value, Decimal):
                    raise TypeError(
                        f"{indicator.key}: {what} {key!r} must be a Decimal, not {type(value).__name__}"
                    )
        param_errors = validate_params(indicator, params)
        if param_errors:
            raise ParameterError(param_errors)
        input_errors = validate_inputs(indicator, inputs, params)
        if input_errors:
            raise InputError(input_errors)
        with localcontext(CONTEXT):
            result = formula(MappingProxyType(dict(inputs)), MappingProxyType(dict(params)))
        _check_result(indicator, result)
        return result

    compute.__name__ = f"compute_{indicator.key}"
    compute.__doc__ = formula.__doc__
    return compute


def _check_result(indicator: Indicator, result: IndicatorResult) -> None:
    def decimal(value, what):
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError(f"{indicator.key}: {what} must be a finite Decimal, got {value!r}")

    if result.quantity_unit != indicator.quantity_unit:
        raise ValueError(f"{indicator.key}: quantity unit {result.quantity_unit} ≠ {indicator.quantity_unit}")
    decimal(result.quantity, "quantity")
    decimal(result.value, "value")
    if result.unit_price is not None:
        decimal(result.unit_price, "unit_price")
    for component in result.components:
        units.unit(component.unit)
        decimal(component.quantity, f"{component.key}.quantity")
        decimal(component.value, f"{component.key}.value")
        if component.unit_price is not None:
            decimal(component.unit_price, f"{component.key}.unit_price")
    if result.value != exact_sum(c.value for c in result.components):
        raise ValueError(f"{indicator.key}: value is not the sum of its components")


# --- parsing and validation -------------------------------------------------------------------


def _unit_suffix(code: str) -> str:
    if code in ("dimensionless", "code"):
        return ""
    return f" {units.unit_label(code)}"


def parse_decimal(raw) -> Decimal:
    """Decimal from a Decimal, an int or a string; ValueError with a Chinese message otherwise."""
    if isinstance(raw, float):
        raise ValueError(gettext('不接受浮点数，请以字符串或 Decimal 传入（例如 "1500.5"）。'))
    if isinstance(raw, bool):
        raise ValueError(gettext("“%(value)s”不是有效的数值。") % {"value": raw})
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, str):
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise ValueError(gettext("“%(value)s”不是有效的数值。") % {"value": raw}) from None
    else:
        raise ValueError(gettext("“%(value)s”不是有效的数值。") % {"value": raw})
    if not value.is_finite():
        raise ValueError(gettext("数值必须是有限数。"))
    return value


def _split(raw):
    if isinstance(raw, Measure):
        return raw.value, raw.unit
    if isinstance(raw, tuple):
        if len(raw) != 2:
            raise ValueError(gettext("请填写数值，或（数值, 单位）。"))
        return raw
    return raw, None


def _is_blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _range_errors(value, unit_code, minimum, maximum, exclusive_minimum) -> list[str]:
    errors = []
    suffix = _unit_suffix(unit_code)
    if minimum is not None:
        if exclusive_minimum and value <= minimum:
            errors.append(gettext("必须大于 %(minimum)s%(unit)s。") % {"minimum": minimum, "unit": suffix})
        elif not exclusive_minimum and value < minimum:
            errors.append(gettext("不能小于 %(minimum)s%(unit)s。") % {"minimum": minimum, "unit": suffix})
    if maximum is not None and value > maximum:
        errors.append(gettext("不能大于 %(maximum)s%(unit)s。") % {"maximum": maximum, "unit": suffix})
    return errors


def _convert_input(spec: InputSpec, raw) -> Decimal:
    raw_value, unit_code = _split(raw)
    value = parse_decimal(raw_value)
    if unit_code is None or unit_code == spec.unit:
        return value
    if unit_code not in units.UNITS:
        raise ValueError(gettext("未知单位“%(unit)s”。") % {"unit": unit_code})
    if not units.compatible(unit_code, spec.unit):
        raise ValueError(
            gettext("单位“%(unit)s”不能换算为%(expected)s。")
            % {"unit": units.unit_label(unit_code), "expected": units.unit_label(spec.unit)}
        )
    return units.convert(value, unit_code, spec.unit)


def _add(errors: dict[str, list[str]], more: Mapping[str, list[str]]) -> None:
    for key, messages in more.items():
        errors.setdefault(key, []).extend(messages)


def validate_inputs(
    indicator: Indicator, inputs: Mapping, params: Mapping | None = None
) -> dict[str, list[str]]:
    """Chinese error messages per input key ("__all__" for errors about several inputs).

    Raw values may be Decimal, int, str or Measure(value, unit)/(value, unit); None and "" count as
    missing. Floats are refused. Cross checks (e.g. runoff above precipitation) run once every input
    is valid on its own; give `params` to enable the checks that depend on a parameter (e.g. the
    tourism basis).
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(inputs, Mapping):
        return {NON_FIELD: [gettext("输入必须是“键: 数值”的映射。")]}
    specs = {s.key: s for s in indicator.inputs}
    for key in inputs:
        if key not in specs:
            errors.setdefault(str(key), []).append(gettext("未知的输入项：该指标没有这一项。"))
    field_errors: dict[str, list[str]] = {}
    values = converted_inputs(indicator, inputs, field_errors)
    _add(errors, field_errors)
    # Cross checks only once every given input is valid on its own: a value refused above would
    # otherwise also show up as "missing" in a cross check.
    if indicator.check is not None and not field_errors:
        checked_params = None
        if params is not None:
            checked_params = {}
            for key, raw in params.items():
                with contextlib.suppress(ValueError):
                    checked_params[key] = parse_decimal(raw)
        with localcontext(CONTEXT):
            _add(errors, indicator.check(values, checked_params))
    return errors


def converted_inputs(indicator, inputs, errors) -> dict[str, Decimal]:
    values = {}
    for spec in indicator.inputs:
        raw = inputs.get(spec.key)
        if not _is_blank(raw):
            try:
                raw_value, _unit = _split(raw)
            except ValueError as exc:
                errors.setdefault(spec.key, []).append(str(exc))
                continue
            if _is_blank(raw_value):
                raw = None
        if _is_blank(raw):
            if spec.required:
                errors.setdefault(spec.key, []).append(gettext("必须填写此项。"))
            continue
        try:
            value = _convert_input(spec, raw)
        except ValueError as exc:
            errors.setdefault(spec.key, []).append(str(exc))
            continue
        problems = _range_errors(value, spec.unit, spec.minimum, spec.maximum, spec.exclusive_minimum)
        if problems:
            errors.setdefault(spec.key, []).extend(problems)
            continue
        values[spec.key] = value
    return values


def normalize_inputs(
    indicator: Indicator, inputs: Mapping, params: Mapping | None = None
) -> dict[str, Decimal]:
    """Validated inputs converted to the units of the specs; raises InputError."""
    errors = validate_inputs(indicator, inputs, params)
    if errors:
        raise InputError(errors)
    return converted_inputs(indicator, inputs, {})


def validate_params(indicator: Indicator, params: Mapping) -> dict[str, list[str]]:
    """Chinese error messages per parameter key: missing, unknown, unparseable, out of range."""
    errors: dict[str, list[str]] = {}
    if not isinstance(params, Mapping):
        return {NON_FIELD: [gettext("参数必须是“键: 数值”的映射。")]}
    specs = {s.key: s for s in indicator.params}
    for key in params:
        if key not in specs:
            errors.setdefault(str(key), []).append(gettext("未知的参数：该指标没有这一参数。"))
    for spec in indicator.params:
        raw = params.get(spec.key)
        if _is_blank(raw):
            if spec.required:
                errors.setdefault(spec.key, []).append(gettext("缺少参数，请在参数集中设定。"))
            continue
        try:
            value = parse_decimal(raw)
        except ValueError as exc:
            errors.setdefault(spec.key, []).append(str(exc))
            continue
        if spec.choices:
            allowed = [code for code, _label in spec.choices]
            if value not in allowed:
                listed = "，".join(f"{code}={label}" for code, label in spec.choices)
                errors.setdefault(spec.key, []).append(
                    gettext("不是允许的选项：%(choices)s。") % {"choices": listed}
                )
            continue
        problems = _range_errors(value, spec.unit, spec.minimum, spec.maximum, spec.exclusive_minimum)
        if problems:
            errors.setdefault(spec.key, []).extend(problems)
    return errors


def normalize_params(indicator: Indicator, params: Mapping) -> dict[str, Decimal]:
    """Validated parameters as Decimals; raises ParameterError."""
    errors = validate_params(indicator, params)
    if errors:
        raise ParameterError(errors)
    return {key: parse_decimal(raw) for key, raw in params.items() if not _is_blank(raw)}


def evaluate(indicator: Indicator, inputs: Mapping, params: Mapping) -> IndicatorResult:
    """Validate, convert units and compute in one call; raises InputError / ParameterError."""
    clean_params = normalize_params(indicator, params)
    clean_inputs = normalize_inputs(indicator, inputs, clean_params)
    return indicator.compute(clean_inputs, clean_params)


# --- helpers for the indicator modules ------------------------------------------------------------


def given(inputs: Mapping, *keys: str) -> list[str]:
    return [k for k in keys if k in inputs]


def exactly_one(inputs: Mapping, keys: tuple[str, ...], labels: tuple[str, ...]) -> dict[str, list[str]]:
    """Error unless exactly one of `keys` is given (labels name them in the message)."""
    present = given(inputs, *keys)
    if len(present) == 1:
        return {}
    listed = "、".join(str(label) for label in labels)
    if not present:
        return {NON_FIELD: [gettext("请填写以下其中一项：%(items)s。") % {"items": listed}]}
    return {NON_FIELD: [gettext("以下各项只能填写一项：%(items)s。") % {"items": listed}]}


def at_least_one(inputs: Mapping, keys: tuple[str, ...], labels: tuple[str, ...]) -> dict[str, list[str]]:
    if given(inputs, *keys):
        return {}
    listed = "、".join(str(label) for label in labels)
    return {NON_FIELD: [gettext("至少填写一项：%(items)s。") % {"items": listed}]}


def required_with(inputs: Mapping, key: str, reason) -> dict[str, list[str]]:
    if key in inputs:
        return {}
    return {key: [gettext("必须填写此项（%(reason)s）。") % {"reason": reason}]}


def merge(*error_dicts: Mapping[str, list[str]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for more in error_dicts:
        _add(errors, more)
    return errors


def apply_negative_policy(quantity: Decimal, policy: Decimal, what) -> tuple[Decimal, list[str]]:
    """Clamp a negative physical quantity to zero or keep it, per the versioned parameter."""
    if quantity >= 0:
        return quantity, []
    if policy == NEGATIVE_ALLOW:
        return quantity, [
            gettext("%(what)s计算为负值（%(quantity)s），按参数 negative_policy=1 保留负值。")
            % {"what": what, "quantity": quantity}
        ]
    return Decimal(0), [
        gettext("%(what)s计算为负值（%(quantity)s），按参数 negative_policy=0 截断为零。")
        % {"what": what, "quantity": quantity}
    ]


def D(text: str) -> Decimal:
    """Decimal from a string literal (never from a float)."""
    if not isinstance(text, str):
        raise TypeError("build Decimals from strings")
    return Decimal(text)
