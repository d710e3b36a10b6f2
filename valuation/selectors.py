"""Reads of the valuation app, restricted to what the user may see."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from directory.selectors import reach_prefixes

from .models import AccountingRun, AssetResult, EcologicalInput, ParameterSet


def _within(field, user):
    q = Q(pk__in=[])
    for prefix in reach_prefixes(user):
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def runs_for(user):
    """Runs over divisions in the user's reach (banks read valuations through assets_for)."""
    return AccountingRun.objects.filter(_within("division__code", user)).select_related(
        "division", "parameter_set", "created_by", "accepted_by"
    )


def inputs_for(user):
    return EcologicalInput.objects.filter(
        _within("asset__division__code", user) | _within("division__code", user)
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
