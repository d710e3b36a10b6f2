"""Ecological inputs, entered one value at a time and checked against the indicator's specs."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.permissions import Capability
from tmcs.audit import audit_context
from tmcs.errors import DomainError

from .. import indicators
from ..indicators.base import converted_inputs
from ..models import (
    EcologicalInput,
)
from .common import require as _require

# --- inputs ---------------------------------------------------------------------------------------


def _input_target(asset, division):
    if (asset is None) == (division is None):
        raise DomainError(_("输入须属于一个资产或一个区划。"), code="invalid")
    return asset.division if asset is not None else division


@transaction.atomic
def record_input(
    *, actor, year, indicator_key, input_key, value, unit, source, asset=None, division=None, batch=None
):
    """Enter (or correct) one input; checked against the indicator's spec, its unit and its range,
    and cross-checked with the object's other inputs of the same indicator and year. `batch`
    ({input_key: Measure}) holds the other values saved together with this one: they stand in for
    the stored ones in the cross-check, so the order in which a set is saved does not matter."""
    place = _input_target(asset, division)
    _require(actor, Capability.MANAGE_VALUATION_INPUTS, division=place)
    errors = validate_input_value(
        year=year,
        indicator_key=indicator_key,
        input_key=input_key,
        value=value,
        unit=unit,
        division_level=division is not None,
    )
    if not (source or "").strip():
        errors.setdefault("source", []).append(_("请填写数据来源。"))
    if not errors:
        siblings = EcologicalInput.objects.filter(
            asset=asset, division=division, year=year, indicator_key=indicator_key
        ).exclude(input_key=input_key)
        raw = {i.input_key: indicators.Measure(i.value, i.unit) for i in siblings}
        raw.update({key: measure for key, measure in (batch or {}).items() if key != input_key})
        raw[input_key] = indicators.Measure(str(value), unit)
        for key, messages in contradictions(indicators.get(indicator_key), raw).items():
            errors.setdefault("value" if key == input_key else key, []).extend(messages)
    if errors:
        raise DomainError(_("输入数据有误。"), code="invalid", fields=errors)
    with audit_context(user=actor, reason="record GEP input"):
        record, _created = EcologicalInput.objects.update_or_create(
            asset=asset,
            division=division,
            year=year,
            indicator_key=indicator_key,
            input_key=input_key,
            defaults={
                "value": Decimal(str(value)),
                "unit": unit,
                "source": source.strip(),
                "entered_by": actor,
            },
        )
    return record


def contradictions(indicator, raw):
    """Errors among the inputs entered so far (runoff above precipitation, two alternatives both
    given…). Inputs not yet entered are not errors here: they are entered one at a time, and a run
    reports an incomplete indicator as a warning."""
    errors = {}
    values = converted_inputs(indicator, raw, errors)
    errors = {key: messages for key, messages in errors.items() if key in raw}
    if indicator.check and not errors:
        errors = {key: messages for key, messages in indicator.check(values, None).items() if key in raw}
    return errors


def validate_input_value(*, year, indicator_key, input_key, value, unit, division_level):
    """Field errors of one input value on its own (spec, unit, range); {} when fine."""
    errors = {}
    this_year = timezone.localdate().year
    if not isinstance(year, int) or not 1990 <= year <= this_year:
        errors["year"] = [_("年份须在 1990 至 %(year)s 之间。") % {"year": this_year}]
    try:
        indicator = indicators.get(indicator_key)
    except KeyError:
        return {**errors, "indicator_key": [_("未知的指标“%(key)s”。") % {"key": indicator_key}]}
    if not division_level and indicator.level == indicators.Level.REGION:
        errors["indicator_key"] = [
            _("“%(name)s”只在区域层面核算，不能录入到资产。") % {"name": indicator.name}
        ]
    specs = {s.key: s for s in indicator.inputs}
    if input_key not in specs:
        errors["input_key"] = [
            _("指标“%(name)s”没有输入项“%(key)s”。") % {"name": indicator.name, "key": input_key}
        ]
        return errors
    single = indicators.validate_inputs(indicator, {input_key: indicators.Measure(str(value), unit)})
    if input_key in single:
        errors["value"] = single[input_key]
    return errors
