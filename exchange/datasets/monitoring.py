"""生态环境: monitoring data (dated measurements of assets: stock, water quality, condition…) →
resources.AssetObservation through resources.services.record_observation, keyed by asset code +
date + source.

An observation is evidence and is never edited: a row whose key is already recorded with the same
quantity, grade and note is unchanged; with different content it is refused (a correction is a new
observation, under its own date or source)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.permissions import Capability
from resources import services as registry
from resources.models import AssetObservation

from ..models import Dataset, ExchangeFormat
from .base import CREATED, UNCHANGED, Column, ColumnType, DatasetSpec, in_division
from .common import assets_by_code, check_asset

COLUMNS = (
    Column(
        "code",
        gettext_lazy("资源编号"),
        required=True,
        max_length=30,
        help=gettext_lazy("被监测资源的平台资源编号"),
    ),
    Column(
        "observed_on",
        gettext_lazy("监测日期"),
        ColumnType.DATE,
        required=True,
        help=gettext_lazy("不晚于今天"),
    ),
    Column(
        "source",
        gettext_lazy("数据来源"),
        required=True,
        max_length=100,
        help=gettext_lazy("如“生态环境局水质自动监测站”“遥感解译”"),
    ),
    Column(
        "quantity",
        gettext_lazy("数量"),
        ColumnType.DECIMAL,
        places=4,
        help=gettext_lazy("按资源类型的计量单位，不能为负"),
    ),
    Column(
        "quality_grade",
        gettext_lazy("质量等级"),
        max_length=20,
        help=gettext_lazy("如 Ⅱ类；数量和质量等级至少填一项"),
    ),
    Column("note", gettext_lazy("说明"), max_length=500),
)


def natural_key(data):
    observed = data.get("observed_on")
    return f"{data.get('code') or ''}|{observed.isoformat() if observed else ''}|{data.get('source') or ''}"


def export_rows(user, division, filters):
    observations = (
        AssetObservation.objects.filter(in_division("asset__division__code", division))
        .select_related("asset")
        .only("asset__code", "observed_on", "source", "quantity", "quality_grade", "note")
        .order_by("asset__code", "observed_on", "source")
    )
    if filters.get("updated_since"):
        observations = observations.filter(recorded_at__date__gte=filters["updated_since"])
    if filters.get("year"):
        observations = observations.filter(observed_on__year=filters["year"])
    for observation in observations:
        yield {
            "code": observation.asset.code,
            "observed_on": observation.observed_on,
            "source": observation.source,
            "quantity": observation.quantity,
            "quality_grade": observation.quality_grade,
            "note": observation.note,
        }


def prepare(rows, context):
    codes = {row.data.get("code") for row in rows}
    context.cache["assets"] = assets_by_code(codes)
    dates = {row.data.get("observed_on") for row in rows} - {None}
    stored = AssetObservation.objects.filter(
        asset__code__in=codes - {None}, observed_on__in=dates
    ).values_list("asset__code", "observed_on", "source", "quantity", "quality_grade", "note")
    context.cache["stored"] = {(code, day, source): rest for code, day, source, *rest in stored}


def _content(data):
    return (data.get("quantity"), data.get("quality_grade") or "", data.get("note") or "")


def validate(row, context):
    data = row.data
    asset, errors = check_asset(
        context, data.get("code"), context.cache["assets"], "code", Capability.MANAGE_REGISTRY
    )
    if data.get("observed_on") and data["observed_on"] > timezone.localdate():
        errors.append(("observed_on", _("监测日期不能晚于今天。")))
    if data.get("quantity") is not None and data["quantity"] < 0:
        errors.append(("quantity", _("数量不能为负。")))
    if data.get("quantity") is None and not data.get("quality_grade"):
        errors.append(("quantity", _("数量和质量等级至少填写一项。")))
    stored = context.cache["stored"].get((data.get("code"), data.get("observed_on"), data.get("source")))
    if stored is not None and tuple(stored) != _content(data):
        errors.append(
            (
                "source",
                _(
                    "该资源在这一天已有该来源的监测记录且内容不同；监测记录不可修改，更正请以新的日期或来源记录。"
                ),
            )
        )
    row.resolved.update(asset=asset, stored=stored is not None)
    return errors


def apply(row, context):
    if row.resolved["stored"]:
        return UNCHANGED, None
    data = row.data
    return CREATED, registry.record_observation(
        actor=context.actor,
        asset=row.resolved["asset"],
        observed_on=data["observed_on"],
        source=data["source"],
        quantity=data.get("quantity"),
        quality_grade=data.get("quality_grade") or "",
        note=data.get("note") or "",
    )


SPEC = DatasetSpec(
    key=Dataset.MONITORING,
    department=gettext_lazy("生态环境部门"),
    description=gettext_lazy("资源的动态监测数据：监测日期、来源、数量、质量等级（如水质类别）和说明。"),
    columns=COLUMNS,
    formats=(ExchangeFormat.CSV, ExchangeFormat.XLSX, ExchangeFormat.JSON),
    key_columns=("code", "observed_on", "source"),
    natural_key=natural_key,
    export_rows=export_rows,
    validate=validate,
    apply=apply,
    prepare=prepare,
    import_capability=Capability.MANAGE_REGISTRY,
    filters=("updated_since", "year"),
    notes=(
        gettext_lazy("业务主键为 资源编号 + 监测日期 + 数据来源。"),
        gettext_lazy("监测记录一经记录不可修改：已有同一主键且内容相同的行计为“未变”，内容不同的行报错。"),
    ),
)
