"""Accounting runs: freeze inputs, compute chunks on Celery, finalize with rollups, cancel, accept.

A run is reproducible by construction: `start_run` freezes its inputs (a snapshot in RunInput, with
each asset's PostGIS area), its parameter set (locked, never edited again) and its price indices,
and records a SHA-256 of all of them. Chunks are then computed by Celery workers; a chunk replaces
its own results in one transaction, so a retried or redelivered chunk never counts twice. The last
chunk to finish triggers `finalize_run`, which adds the region-only indicators and the rollups.
"""

import hashlib
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import AdministrativeDivision
from directory.permissions import Capability
from resources.models import Asset, AssetStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, InvalidTransition, PermissionDeniedError

from .. import indicators
from ..indicators.exclusions import check_exclusions
from ..models import (
    MONEY,
    AccountingRun,
    AssetResult,
    DivisionResult,
    ParameterSet,
    ParameterSetStatus,
    PriceBasis,
    PriceIndex,
    Rollup,
    RunChunk,
    RunInput,
    RunStatus,
)
from ..rollup import sum_tree
from .common import require as _require
from .parameters import params_of

CHUNK_SIZE = 1000
MONEY_STEP = Decimal(1).scaleb(-MONEY["decimal_places"])  # results are stored to 0.000001 元
# Assets a run values: everything that has left the drafting table and is not retired.
VALUED_STATUSES = [s for s in AssetStatus if s not in (AssetStatus.DRAFT, AssetStatus.RETIRED)]
# Value-only material statistics (price is an input) are deflated by this index for comparable
# prices; the other indicators use the base-year unit prices of the parameter set itself.
DEFLATED_INDICATORS = {
    "agricultural_products": "agri_producer",
    "timber": "agri_producer",
    "livestock_products": "agri_producer",
    "fishery_products": "agri_producer",
}
AREA_INPUT = "area"


# --- runs -----------------------------------------------------------------------------------------


@transaction.atomic
def start_run(
    *, actor, division, year, parameter_set, price_basis=PriceBasis.CURRENT, base_year=None, assets=None
):
    """Freeze the inputs, lock the parameter set, cut the assets into chunks and queue them."""
    _require(actor, Capability.RUN_VALUATION, division=division)
    parameter_set = ParameterSet.objects.select_for_update().get(pk=parameter_set.pk)
    errors, warnings = {}, []
    if parameter_set.status == ParameterSetStatus.RETIRED:
        errors["parameter_set"] = [_("该参数集已停用。")]
    if price_basis == PriceBasis.COMPARABLE:
        if not base_year:
            errors["base_year"] = [_("可比价核算须指定基准年。")]
        elif parameter_set.price_year != base_year:
            errors["base_year"] = [
                _("可比价须使用基准年价格：所选参数集的价格年份为 %(year)s。")
                % {"year": parameter_set.price_year}
            ]
    elif parameter_set.price_year != year:
        warnings.append(
            _("参数集价格年份（%(price)s）与核算年份（%(year)s）不同，结果不是严格的当年价。")
            % {"price": parameter_set.price_year, "year": year}
        )
    scope = Asset.objects.filter(division__code__startswith=division.prefix, status__in=VALUED_STATUSES)
    if assets:
        chosen = list(scope.filter(pk__in=[a.pk for a in assets]).values_list("pk", flat=True))
        outside = {a.pk for a in assets} - set(chosen)
        if outside:
            errors["assets"] = [
                _("%(count)s 个资产不在核算范围内（或为草稿/已注销）。") % {"count": len(outside)}
            ]
        scope = scope.filter(pk__in=chosen)
    if errors:
        raise DomainError(_("无法发起核算。"), code="invalid", fields=errors)
    indices = _price_indices(price_basis, year, base_year, warnings)
    if parameter_set.locked_at is None:
        parameter_set.locked_at = timezone.now()
        parameter_set.save(update_fields=["locked_at"])
    with audit_context(user=actor, reason="start GEP run"):
        run = AccountingRun.objects.create(
            division=division,
            year=year,
            parameter_set=parameter_set,
            price_basis=price_basis,
            base_year=base_year if price_basis == PriceBasis.COMPARABLE else None,
            warnings=warnings,
            price_ratios={series: str(ratio) for series, ratio in indices.items()},
            created_by=actor,
        )
        if assets:
            run.assets.set(scope)
        asset_ids = list(scope.order_by("pk").values_list("pk", flat=True))
        RunChunk.objects.bulk_create(
            RunChunk(run=run, number=n, asset_ids=asset_ids[i : i + CHUNK_SIZE])
            for n, i in enumerate(range(0, len(asset_ids), CHUNK_SIZE))
        )
        _snapshot_inputs(run, asset_ids)
        run.chunk_count = (len(asset_ids) + CHUNK_SIZE - 1) // CHUNK_SIZE
        run.asset_count = len(asset_ids)
        run.inputs_checksum = inputs_checksum(run, indices)
        run.save(update_fields=["chunk_count", "asset_count", "inputs_checksum"])
    transaction.on_commit(lambda: dispatch_run(run.pk))
    return run


def _price_indices(price_basis, year, base_year, warnings):
    """{series: I_base / I_year} for comparable runs; a missing index is an error, not a guess."""
    if price_basis != PriceBasis.COMPARABLE:
        return {}
    ratios = {}
    for series in sorted(set(DEFLATED_INDICATORS.values())):
        values = dict(
            PriceIndex.objects.filter(series=series, year__in=[year, base_year]).values_list("year", "value")
        )
        if year not in values or base_year not in values:
            raise DomainError(
                _("缺少价格指数 %(series)s 的 %(years)s 年数值，无法换算可比价。")
                % {
                    "series": series,
                    "years": "、".join(str(y) for y in (base_year, year) if y not in values),
                },
                code="invalid",
                fields={"base_year": [_("缺少价格指数。")]},
            )
        ratios[series] = values[base_year] / values[year]
    return ratios


def _snapshot_inputs(run, asset_ids):
    """Copy the year's inputs of the scope (and each valued asset's area) into RunInput: the run
    reads only these rows, so later edits of inputs never change its numbers."""
    area_keys = [k for k, i in indicators.REGISTRY.items() if AREA_INPUT in {s.key for s in i.inputs}]
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO valuation_runinput (run_id, asset_id, division_id, indicator_key, input_key, value, unit)
               SELECT %(run)s, e.asset_id, NULL::bigint, e.indicator_key, e.input_key, e.value, e.unit
               FROM valuation_ecologicalinput e
               WHERE e.year = %(year)s AND e.asset_id = ANY(%(assets)s)
               UNION ALL
               SELECT %(run)s, NULL::bigint, e.division_id, e.indicator_key, e.input_key, e.value, e.unit
               FROM valuation_ecologicalinput e JOIN directory_administrativedivision d ON d.id = e.division_id
               WHERE e.year = %(year)s AND d.code LIKE %(prefix)s
               UNION ALL
               SELECT DISTINCT %(run)s, a.id, NULL::bigint, e.indicator_key, 'area', a.area_m2, 'm2'
               FROM valuation_ecologicalinput e JOIN resources_asset a ON a.id = e.asset_id
               WHERE e.year = %(year)s AND e.asset_id = ANY(%(assets)s) AND a.area_m2 IS NOT NULL
                 AND e.indicator_key = ANY(%(area_keys)s)
                 AND NOT EXISTS (SELECT 1 FROM valuation_ecologicalinput x
                                 WHERE x.asset_id = e.asset_id AND x.year = e.year
                                   AND x.indicator_key = e.indicator_key AND x.input_key = 'area')""",
            {
                "run": run.pk,
                "year": run.year,
                "assets": asset_ids,
                "prefix": run.division.prefix + "%",
                "area_keys": area_keys,
            },
        )


def inputs_checksum(run, indices):
    """SHA-256 over everything a run's numbers depend on, in a canonical order."""
    digest = hashlib.sha256()
    digest.update(f"{run.year}|{run.price_basis}|{run.base_year}|{run.division.code}\n".encode())
    for row in (
        RunInput.objects.filter(run=run)
        .order_by("asset_id", "division_id", "indicator_key", "input_key")
        .values_list("asset_id", "division_id", "indicator_key", "input_key", "value", "unit")
    ):
        digest.update(("|".join(str(part) for part in row) + "\n").encode())
    for row in run.parameter_set.values.order_by("indicator_key", "param_key").values_list(
        "indicator_key", "param_key", "value"
    ):
        digest.update(("|".join(str(part) for part in row) + "\n").encode())
    for series, ratio in sorted(indices.items()):
        digest.update(f"{series}|{ratio}\n".encode())
    return digest.hexdigest()


def dispatch_run(run_id):
    from ..tasks import finalize_run_task, run_chunk_task

    run = AccountingRun.objects.get(pk=run_id)
    numbers = list(run.chunks.filter(done_at=None).values_list("number", flat=True))
    if not numbers:  # an empty scope, or every chunk already done: go straight to the rollups
        finalize_run_task.delay(run_id)
    for number in numbers:
        run_chunk_task.delay(run_id, number)


def process_chunk(run_id, number):
    """Compute one chunk (idempotent); returns True when this call did the work."""
    with transaction.atomic():
        run = AccountingRun.objects.select_related("parameter_set").get(pk=run_id)
        if run.status in (RunStatus.CANCELLED, RunStatus.FAILED, RunStatus.SUCCEEDED):
            return False  # a cancelled or failed run computes nothing more until it is retried
        chunk = RunChunk.objects.select_for_update().get(run_id=run_id, number=number)
        if chunk.done_at:
            return False
        if run.status == RunStatus.QUEUED:
            AccountingRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
                status=RunStatus.RUNNING, started_at=timezone.now()
            )
        AssetResult.objects.filter(run_id=run_id, asset_id__in=chunk.asset_ids).delete()
        results, warnings = _chunk_results(run, chunk.asset_ids)
        AssetResult.objects.bulk_create(results, batch_size=2000)
        chunk.done_at = timezone.now()
        chunk.warnings = warnings
        chunk.save(update_fields=["done_at", "warnings"])
    return True


def _chunk_results(run, asset_ids):
    params = params_of(run.parameter_set)
    ratios = _ratios(run)
    assets = {
        a.pk: a for a in Asset.objects.filter(pk__in=asset_ids).select_related("resource_type", "division")
    }
    inputs = defaultdict(lambda: defaultdict(dict))
    for asset_id, key, input_key, value, unit in RunInput.objects.filter(
        run=run, asset_id__in=asset_ids
    ).values_list("asset_id", "indicator_key", "input_key", "value", "unit"):
        inputs[asset_id][key][input_key] = indicators.Measure(value, unit)
    results, warnings, counted = [], [], []
    for asset_id in asset_ids:
        asset = assets[asset_id]
        for key in asset.resource_type.gep_indicators:
            raw = inputs[asset_id].get(key)
            if not raw or key not in indicators.REGISTRY:
                continue
            outcome = _evaluate(key, raw, params, ratios, warnings, asset.code)
            if outcome:
                results.append(
                    AssetResult(run=run, asset=asset, division_code=asset.division.code, **outcome)
                )
                counted.append((key, asset.code, outcome["variant"]))
    warnings.extend(check_exclusions(counted))  # double counting is flagged for a reviewer, not hidden
    return results, warnings


def _evaluate(key, raw, params, ratios, warnings, label):
    indicator = indicators.get(key)
    try:
        result = indicators.evaluate(indicator, raw, params.get(key, {}))
    except (indicators.InputError, indicators.ParameterError) as exc:
        detail = "；".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.errors.items())
        warnings.append(
            _("%(object)s 的“%(indicator)s”未核算：%(detail)s")
            % {"object": label, "indicator": indicator.name, "detail": detail}
        )
        return None
    value = result.value
    series = DEFLATED_INDICATORS.get(key)
    if series and series in ratios:
        value = value * ratios[series]
    return {
        "indicator_key": key,
        "category": indicator.category,
        "quantity": result.quantity,
        "quantity_unit": result.quantity_unit,
        "unit_price": result.unit_price,
        "value": value.quantize(MONEY_STEP),
        "components": [
            {
                "key": c.key,
                "label": str(c.label),
                "quantity": str(c.quantity),
                "unit": c.unit,
                "unit_price": None if c.unit_price is None else str(c.unit_price),
                "value": str(c.value),
            }
            for c in result.components
        ],
        "variant": result.variant,
        "notes": list(result.notes),
    }


def _ratios(run):
    """The price-index ratios frozen at the start (an index corrected later changes no run)."""
    return {series: Decimal(ratio) for series, ratio in run.price_ratios.items()}


def maybe_finalize(run_id):
    """Called after each chunk: the last one (seen under the run's row lock) finalizes."""
    if not RunChunk.objects.filter(run_id=run_id, done_at=None).exists():
        finalize_run(run_id)


@transaction.atomic
def finalize_run(run_id):
    run = AccountingRun.objects.select_for_update().select_related("division", "parameter_set").get(pk=run_id)
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return run
    if run.chunks.filter(done_at=None).exists():
        return run
    warnings = list(run.warnings)
    for chunk_warnings in run.chunks.values_list("warnings", flat=True):
        warnings.extend(chunk_warnings)
    DivisionResult.objects.filter(run=run).delete()
    Rollup.objects.filter(run=run).delete()
    DivisionResult.objects.bulk_create(_division_results(run, warnings))
    rollups, superseded = compute_rollups(run)
    warnings.extend(superseded)
    Rollup.objects.bulk_create(rollups, batch_size=2000)
    run.total_value = sum((r.value for r in rollups if r.division_id == run.division_id), Decimal(0))
    run.status, run.finished_at, run.warnings = RunStatus.SUCCEEDED, timezone.now(), warnings
    if run.started_at is None:
        run.started_at = run.finished_at
    run.save(update_fields=["total_value", "status", "finished_at", "started_at", "warnings"])
    return run


def _division_results(run, warnings):
    params = params_of(run.parameter_set)
    ratios = _ratios(run)
    inputs = defaultdict(lambda: defaultdict(dict))
    for division_id, key, input_key, value, unit in RunInput.objects.filter(run=run, asset=None).values_list(
        "division_id", "indicator_key", "input_key", "value", "unit"
    ):
        inputs[division_id][key][input_key] = indicators.Measure(value, unit)
    divisions = AdministrativeDivision.objects.in_bulk(list(inputs))
    results = []
    for division_id, by_indicator in inputs.items():
        for key, raw in by_indicator.items():
            outcome = _evaluate(key, raw, params, ratios, warnings, divisions[division_id].name)
            if outcome:
                outcome.pop("variant"), outcome.pop("notes")
                results.append(DivisionResult(run=run, division_id=division_id, **outcome))
    return results


def compute_rollups(run):
    """Rollup rows for every division of the scope that has a value, and the notes on regional
    figures that replaced plot figures (a regional statistic of an indicator supersedes the plot
    results beneath it, so nothing is counted twice)."""
    divisions = list(
        AdministrativeDivision.objects.filter(code__startswith=run.division.prefix)
        .defer("boundary")
        .order_by("-code")
    )
    by_code = {d.code: d for d in divisions}
    children = defaultdict(list)
    for d in divisions:
        if d.parent_id and d.pk != run.division_id:
            children[d.parent_id].append(d.pk)
    own = defaultdict(Decimal)  # (division pk, indicator) → Σ asset results placed directly there
    category = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT division_code, indicator_key, category, sum(value)
               FROM valuation_assetresult WHERE run_id = %s GROUP BY 1, 2, 3""",
            [run.pk],
        )
        for code, key, cat, total in cursor.fetchall():
            own[(by_code[code].pk, key)] += total
            category[key] = cat
    regional = {}
    for result in DivisionResult.objects.filter(run=run):
        regional[(result.division_id, result.indicator_key)] = result.value
        category[result.indicator_key] = result.category
    totals, superseded = sum_tree(run.division_id, children, own, regional, sorted(category))
    names = {d.pk: d.name for d in divisions}
    notes = [
        _("%(division)s 的“%(indicator)s”采用区域核算值，其下地块核算值 %(below)s 元不再重复计入。")
        % {"division": names[pk], "indicator": indicators.get(key).name, "below": below}
        for pk, key, below in superseded
    ]
    rows = [
        Rollup(run=run, division_id=pk, indicator_key=key, category=category[key], value=value)
        for (pk, key), value in totals.items()
        if value
    ]
    return rows, notes


@transaction.atomic
def cancel_run(*, actor, run):
    run = AccountingRun.objects.select_for_update().get(pk=run.pk)
    _require(actor, Capability.RUN_VALUATION, division=run.division)
    if run.is_done:
        raise InvalidTransition(_("核算已结束，不能取消。"))
    with audit_context(user=actor, reason="cancel GEP run"):
        run.status, run.finished_at = RunStatus.CANCELLED, timezone.now()
        run.save(update_fields=["status", "finished_at"])
    return run


def fail_run(run_id, error):
    """Record that a chunk could not be computed (the worker's traceback has the details); the
    chunks already done keep their results and `retry_run` continues from there."""
    AccountingRun.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
        status=RunStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
    )


@transaction.atomic
def retry_run(*, actor, run):
    """Continue a failed run: only the chunks not yet done are queued again."""
    run = AccountingRun.objects.select_for_update().get(pk=run.pk)
    _require(actor, Capability.RUN_VALUATION, division=run.division)
    if run.status != RunStatus.FAILED:
        raise InvalidTransition(_("只有失败的核算可以重试。"))
    with audit_context(user=actor, reason="retry GEP run"):
        run.status, run.error, run.finished_at = RunStatus.RUNNING, "", None
        run.save(update_fields=["status", "error", "finished_at"])
    transaction.on_commit(lambda: dispatch_run(run.pk))
    return run


@transaction.atomic
def accept_run(*, actor, run):
    """Adopt a finished run: its values become the assets' latest accepted valuation."""
    run = AccountingRun.objects.select_for_update().get(pk=run.pk)
    _require(actor, Capability.ACCEPT_VALUATION, division=run.division)
    if run.status != RunStatus.SUCCEEDED:
        raise InvalidTransition(_("只有已完成的核算可以采纳。"))
    if run.accepted_at:
        raise ConflictError(_("该核算已被采纳。"))
    if run.created_by_id == actor.pk:
        raise PermissionDeniedError(_("核算须由发起人以外的人员复核采纳。"))
    with audit_context(user=actor, reason="accept GEP run"):
        run.accepted_at, run.accepted_by = timezone.now(), actor
        run.save(update_fields=["accepted_at", "accepted_by"])
    return run
