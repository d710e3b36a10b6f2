"""Parameter sets: load the defaults, copy to a new version, edit drafts, publish."""

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.permissions import Capability
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, InvalidTransition

from .. import indicators
from ..default_parameters import DEFAULT_PARAMETER_SET_NAME, DEFAULT_PRICE_YEAR, default_parameter_set
from ..models import (
    ParameterSet,
    ParameterSetStatus,
    ParameterValue,
    PriceIndex,
)
from .common import require as _require

# --- parameter sets -------------------------------------------------------------------------------


@transaction.atomic
def load_default_parameter_set(*, actor):
    """The shipped defaults as version 1 of their set (idempotent), published."""
    name = str(DEFAULT_PARAMETER_SET_NAME)
    existing = ParameterSet.objects.filter(name=name, version=1).first()
    if existing:
        return existing
    with audit_context(user=actor, reason="load default parameter set"):
        parameter_set = ParameterSet.objects.create(
            name=name,
            version=1,
            standard=_("甘孜案例（生态学报 2017）示例价"),
            price_year=DEFAULT_PRICE_YEAR,
            valid_from=timezone.localdate().replace(month=1, day=1),
            status=ParameterSetStatus.PUBLISHED,
            note=_("示例参数，正式核算前请复制为新版本并按 DB33/T 2274-2025 或丽水本地价格替换。"),
            created_by=actor,
        )
        _add_values(parameter_set, [(p, p.decimal) for p in default_parameter_set()])
    return parameter_set


def _add_values(parameter_set, rows):
    """Values with their provenance, from defaults or another set: [(record, Decimal value)]."""
    fields = ("indicator_key", "param_key", "unit", "year", "source", "clause", "authority")
    ParameterValue.objects.bulk_create(
        ParameterValue(parameter_set=parameter_set, value=value, **{f: getattr(row, f) for f in fields})
        for row, value in rows
    )


@transaction.atomic
def copy_parameter_set(*, actor, source, name=None, price_year=None, standard=None):
    """A new draft version (or a new set when `name` differs) with every value copied."""
    _require(actor, Capability.MANAGE_VALUATION)
    name = (name or source.name).strip()
    version = (ParameterSet.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
    with audit_context(user=actor, reason=f"copy parameter set {source.pk}"):
        copy = ParameterSet.objects.create(
            name=name,
            version=version,
            standard=standard or source.standard,
            price_year=price_year or source.price_year,
            valid_from=timezone.localdate(),
            copied_from=source,
            created_by=actor,
        )
        _add_values(copy, [(v, v.value) for v in source.values.all()])
    return copy


@transaction.atomic
def update_parameter_value(*, actor, value, new_value, source, year=None, clause="", authority):
    """Change one value of a draft set; a locked (used) or published set is never edited."""
    _require(actor, Capability.MANAGE_VALUATION)
    value = (
        ParameterValue.objects.select_related("parameter_set")
        .select_for_update(of=("self",))
        .get(pk=value.pk)
    )
    parameter_set = ParameterSet.objects.select_for_update().get(pk=value.parameter_set_id)
    if parameter_set.is_locked or parameter_set.status != ParameterSetStatus.DRAFT:
        raise ConflictError(_("该参数集已发布或已被核算使用，不能修改；请复制为新版本。"), code="locked")
    indicator = indicators.get(value.indicator_key)
    errors = indicators.validate_params(
        indicator,
        {
            **{v.param_key: v.value for v in parameter_set.values.filter(indicator_key=value.indicator_key)},
            value.param_key: new_value,
        },
    )
    if not (source or "").strip():
        errors.setdefault("source", []).append(_("请注明来源（标准、论文或统计年鉴）。"))
    if errors:
        fields = {("value" if k == value.param_key else k): v for k, v in errors.items()}
        raise DomainError(_("参数值不符合要求。"), code="invalid", fields=fields)
    with audit_context(user=actor, reason=f"parameter {value.indicator_key}.{value.param_key}"):
        value.value, value.source, value.year, value.clause, value.authority = (
            Decimal(str(new_value)),
            source.strip(),
            year,
            clause,
            authority,
        )
        value.save()
    return value


@transaction.atomic
def publish_parameter_set(*, actor, parameter_set):
    _require(actor, Capability.MANAGE_VALUATION)
    parameter_set = ParameterSet.objects.select_for_update().get(pk=parameter_set.pk)
    if parameter_set.status != ParameterSetStatus.DRAFT:
        raise InvalidTransition(_("只有草稿状态的参数集可以发布。"))
    missing = _missing_parameters(parameter_set)
    if missing:
        raise DomainError(_("参数集缺少以下参数：%(keys)s") % {"keys": "、".join(missing)}, code="incomplete")
    with audit_context(user=actor, reason="publish parameter set"):
        parameter_set.status = ParameterSetStatus.PUBLISHED
        parameter_set.save(update_fields=["status"])
    return parameter_set


def _missing_parameters(parameter_set):
    present = set(parameter_set.values.values_list("indicator_key", "param_key"))
    return [
        f"{key}.{spec.key}"
        for key, indicator in indicators.REGISTRY.items()
        for spec in indicator.params
        if spec.required and (key, spec.key) not in present
    ]


def params_of(parameter_set):
    """{indicator_key: {param_key: Decimal}} of a set, read once."""
    params = defaultdict(dict)
    for indicator_key, param_key, value in parameter_set.values.values_list(
        "indicator_key", "param_key", "value"
    ):
        params[indicator_key][param_key] = value
    return params


@transaction.atomic
def record_price_index(*, actor, series, year, value, source):
    """Enter or correct one yearly index value. Runs keep the ratios they started with, so a
    correction only affects runs started afterwards."""
    _require(actor, Capability.MANAGE_VALUATION)
    errors = {}
    series = (series or "").strip()
    if not series or len(series) > 40 or not series.replace("_", "").isalnum() or not series.isascii():
        errors["series"] = [_("指数编码须为字母、数字或下划线，如 agri_producer。")]
    if not isinstance(year, int) or not 1950 <= year <= timezone.localdate().year:
        errors["year"] = [_("年份须在 1950 至今年之间。")]
    try:
        value = Decimal(str(value))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.0001")):
        errors["value"] = [_("指数值须为正数，最多四位小数。")]
    if not (source or "").strip():
        errors["source"] = [_("请注明来源（如统计年鉴及表号）。")]
    if errors:
        raise DomainError(_("价格指数有误。"), code="invalid", fields=errors)
    with audit_context(user=actor, reason="price index"):
        index, _created = PriceIndex.objects.update_or_create(
            series=series, year=year, defaults={"value": value, "source": source.strip()}
        )
    return index
