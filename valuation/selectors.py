"""Reads of the valuation app, restricted to what the user may see."""

from dataclasses import dataclass
from decimal import Decimal

from directory.selectors import within_reach

from .models import AccountingRun, AssetResult, EcologicalInput, ParameterSet


def runs_for(user):
    """Runs over divisions in the user's reach (banks read valuations through assets_for)."""
    return AccountingRun.objects.filter(within_reach(user, "division__code")).select_related(
        "division", "parameter_set", "created_by", "accepted_by"
    )


def inputs_for(user):
    return EcologicalInput.objects.filter(
        within_reach(user, "asset__division__code") | within_reach(user, "division__code")
    ).select_related("asset", "division", "entered_by")


def parameter_sets():
    return ParameterSet.objects.select_related("created_by", "copied_from")


@dataclass(frozen=True)
class AssetValuation:
    run: AccountingRun
    total: Decimal
    results: list  # AssetResult rows, largest value first


def latest_asset_valuation(asset):
    """The asset's value in the most recent accepted run (latest year, then latest adoption), with
    its breakdown per indicator; None when no accepted run has valued it. Collateral appraisal and
    projects read this."""
    latest = (
        AssetResult.objects.filter(asset=asset, run__accepted_at__isnull=False)
        .order_by("-run__year", "-run__accepted_at")
        .values_list("run_id", flat=True)
        .first()
    )
    if latest is None:
        return None
    results = list(
        AssetResult.objects.filter(asset=asset, run_id=latest).select_related("run").order_by("-value")
    )
    return AssetValuation(
        run=results[0].run, total=sum((r.value for r in results), Decimal(0)), results=results
    )


def indicator_totals(run):
    """Per-indicator totals at the run's own division, largest first (unrounded)."""
    from . import indicators
    from .models import Rollup

    return [
        {
            "key": r.indicator_key,
            "name": str(indicators.get(r.indicator_key).name),
            "code": indicators.get(r.indicator_key).code,
            "category": r.category,
            "value": r.value,
        }
        for r in Rollup.objects.filter(run=run, division_id=run.division_id).order_by("-value")
    ]


def run_summary(run):
    """What the run page, the PDF report and the API show: totals per indicator and per category at
    the run's division, the next level of divisions, and the trend of earlier runs of the same
    division (the latest finished run per year, accepted ones preferred). Values stay unrounded."""
    from .models import RunStatus

    totals = indicator_totals(run)
    by_category = {}
    for item in totals:
        by_category[item["category"]] = by_category.get(item["category"], Decimal(0)) + item["value"]
    trend, seen = [], set()
    for other in (
        AccountingRun.objects.filter(
            division_id=run.division_id, status=RunStatus.SUCCEEDED, price_basis=run.price_basis
        )
        .order_by("year", "-accepted_at", "-finished_at")
        .only("year", "total_value", "accepted_at")
    ):
        if other.year not in seen:
            seen.add(other.year)
            trend.append((other.year, other.total_value or Decimal(0), other.accepted_at is not None))
    return {"indicators": totals, "categories": by_category, "children": _child_totals(run), "trend": trend}


def _child_totals(run):
    from django.db.models import Sum

    from .models import Rollup

    return list(
        Rollup.objects.filter(run=run, division__parent_id=run.division_id)
        .values("division__code", "division__name")
        .annotate(total=Sum("value"))
        .order_by("-total")
    )
