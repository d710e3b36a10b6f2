"""Reads of performance evaluation: schemes are platform-wide (read by whoever reads oversight),
evaluations are read within the reader's division reach (VIEW_OVERSIGHT: staff, city
administrators, auditors), and the comparison of peers for a scheme and period."""

import datetime
from decimal import Decimal

from django.db.models import Prefetch

from directory.models import Organization, OrganizationKind
from directory.permissions import Capability, can
from directory.selectors import within_reach

from .models import EvaluationIndicator, EvaluationScheme, IndicatorKey, PerformanceEvaluation
from .services.performance import COOPERATIVE_LEVELS


def may_read(user):
    return can(user, Capability.VIEW_OVERSIGHT) or can(user, Capability.MANAGE_OVERSIGHT)


def may_manage_schemes(user):
    return can(user, Capability.MANAGE_OVERSIGHT)


def may_evaluate_any(user):
    return can(user, Capability.MANAGE_PROJECTS) or can(user, Capability.MANAGE_OVERSIGHT)


def schemes_for(user):
    if not may_read(user):
        return EvaluationScheme.objects.none()
    return EvaluationScheme.objects.select_related("created_by").prefetch_related(
        Prefetch("indicators", EvaluationIndicator.objects.order_by("pk"))
    )


def evaluations_for(user):
    q = within_reach(user, "cooperative__division__code", Capability.VIEW_OVERSIGHT) | within_reach(
        user, "cooperative__division__code", Capability.MANAGE_OVERSIGHT
    )
    return (
        PerformanceEvaluation.objects.filter(q)
        .select_related("scheme", "cooperative__division", "computed_by")
        .defer("cooperative__division__boundary")
    )


def evaluable_cooperatives(user):
    """Active cooperatives the user may evaluate (their desk's subtree)."""
    reach = within_reach(user, "division__code", Capability.MANAGE_PROJECTS) | within_reach(
        user, "division__code", Capability.MANAGE_OVERSIGHT
    )
    return (
        Organization.objects.filter(
            reach, kind=OrganizationKind.COOPERATIVE, is_active=True, division__level__in=COOPERATIVE_LEVELS
        )
        .select_related("division")
        .defer("division__boundary")
        .order_by("division__code", "name")
    )


def with_target_text(indicators):
    """Indicators with `target_text`: the target without trailing zeros or an exponent."""
    for indicator in indicators:
        indicator.target_text = format(indicator.target.normalize(), "f")
    return indicators


def last_day(evaluation_or_end):
    """The period's last day (the stored end is exclusive)."""
    end = getattr(evaluation_or_end, "period_end", evaluation_or_end)
    return end - datetime.timedelta(days=1)


def comparison(user, scheme, period_start, period_end, level):
    """The peers' evaluations in reach for one scheme, period and level, by rank, with one row of
    scores per cooperative in the scheme's indicator order, and the chart series."""
    indicators = with_target_text(list(scheme.indicators.all()))
    evaluations = list(
        evaluations_for(user)
        .filter(
            scheme=scheme,
            period_start=period_start,
            period_end=period_end,
            cooperative__division__level=level,
        )
        .order_by("rank", "cooperative__division__code", "pk")
    )
    rows = []
    for evaluation in evaluations:
        by_key = {row["key"]: row for row in evaluation.indicators}
        cells = [by_key.get(indicator.key) for indicator in indicators]
        rows.append({"evaluation": evaluation, "cells": cells})
    labels = [str(IndicatorKey(indicator.key).label) for indicator in indicators]
    chart = {
        "indicators": labels,
        "weights": [float(indicator.weight) for indicator in indicators],
        "series": [
            {
                "name": row["evaluation"].cooperative.name,
                # scores for the grouped bars, attainment (score ÷ weight, %) for the radar
                "scores": [float(Decimal(cell["score"])) if cell else 0 for cell in row["cells"]],
                "attainment": [
                    float((Decimal(cell["score"]) / indicator.weight * 100).quantize(Decimal("0.01")))
                    if cell
                    else 0
                    for cell, indicator in zip(row["cells"], indicators, strict=True)
                ],
                "total": float(row["evaluation"].total_score),
            }
            for row in rows
        ],
    }
    return {"indicators": indicators, "rows": rows, "chart": chart}
