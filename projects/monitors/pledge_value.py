"""质押物估值跌破抵质押率: loans whose pledged collateral, re-marked by the assets' latest
accepted GEP, no longer covers the loan.

For each active pledge of an active loan:
  current value = the appraisal's collateral value (after haircut) × min(1, the asset's GEP in its
  latest accepted run ÷ the GEP the appraisal was based on (CollateralAppraisal.gep_annual_value)).
The ratio is capped at 1: monitoring marks collateral down, a rise needs a new appraisal. An
appraisal with no GEP basis (market approach only) or an asset with no accepted run keeps its
value. Per loan: alert when the outstanding principal exceeds Σ current value × the product's
max_ltv — the same measure as the appraisal's max_loan, so at appraisal time it never fires. The
principal, not the secured amount (which also covers interest and costs), is compared, because
max_ltv caps the principal lent. The key carries the valuation runs read, so a new valuation that
still breaches raises a fresh alert with the new numbers."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from finance.models import Loan, LoanStatus, Pledge, PledgeStatus
from finance.services.loans import position, with_schedule
from valuation.models import AssetResult

from ..models import MonitorJob
from . import CheckResult, Finding, Job, stable_key
from .installments_due import loan_audience

CENT = Decimal("0.01")


def latest_gep(asset_ids):
    """{asset id: (total GEP, run)} in each asset's latest accepted run (latest year, then latest
    acceptance, as valuation.selectors.latest_asset_valuation), in one query for all assets."""
    rows = (
        AssetResult.objects.filter(asset_id__in=asset_ids, run__accepted_at__isnull=False)
        .values("asset_id", "run_id", "run__year", "run__accepted_at")
        .annotate(total=Sum("value"))
    )
    best = {}
    for row in rows:
        rank = (row["run__year"], row["run__accepted_at"], row["run_id"])
        if row["asset_id"] not in best or rank > best[row["asset_id"]][0]:
            best[row["asset_id"]] = (rank, row["total"], row["run_id"], row["run__year"])
    return {asset_id: (total, run_id, year) for asset_id, (_rank, total, run_id, year) in best.items()}


def remark(pledge, current):
    """(current collateral value, ratio, line for the body) of one pledge."""
    appraisal = pledge.appraisal
    base = appraisal.gep_annual_value
    ratio = Decimal(1)
    if current is not None and base:
        ratio = min(Decimal(1), current[0] / base)
    value = (appraisal.collateral_value * ratio).quantize(CENT, ROUND_HALF_UP)
    line = _(
        "质押 %(number)s（资产 %(asset)s）：评估所依据 GEP %(base)s 元，最新 GEP %(now)s 元%(year)s，"
        "折后价值 %(before)s 元 → %(after)s 元"
    ) % {
        "number": pledge.number,
        "asset": appraisal.asset.code,
        "base": base if base is not None else "—",
        "now": current[0].quantize(CENT, ROUND_HALF_UP) if current else "—",
        "year": _("（%(year)s 年核算）") % {"year": current[2]} if current else "",
        "before": appraisal.collateral_value,
        "after": value,
    }
    return value, ratio, line


def check(params, today, audience):
    pledges = list(
        Pledge.objects.filter(status=PledgeStatus.ACTIVE, application__loan__status=LoanStatus.ACTIVE)
        .select_related("appraisal__asset", "application__loan")
        .order_by("application__loan", "pk")
    )
    by_loan = defaultdict(list)
    for pledge in pledges:
        by_loan[pledge.application.loan.pk].append(pledge)
    geps = latest_gep({pledge.appraisal.asset_id for pledge in pledges})
    loans = with_schedule(
        Loan.objects.filter(pk__in=by_loan).select_related("bank", "division", "product").order_by("pk")
    )
    result = CheckResult(checked=len(pledges))
    for loan in loans:
        outstanding = position(loan, today).outstanding_principal
        marked = [remark(p, geps.get(p.appraisal.asset_id)) for p in by_loan[loan.pk]]
        value = sum((v for v, _ratio, _line in marked), Decimal("0.00"))
        capacity = (value * loan.product.max_ltv).quantize(CENT, ROUND_HALF_UP)
        if outstanding <= capacity:
            continue
        runs = sorted(
            {geps[p.appraisal.asset_id][1] for p in by_loan[loan.pk] if p.appraisal.asset_id in geps}
        )
        body = _(
            "贷款 %(number)s（%(bank)s）未还本金 %(outstanding)s 元，超过质押物现值 %(value)s 元 × 最高抵押率 "
            "%(ltv)s = %(capacity)s 元，缺口 %(gap)s 元。"
        ) % {
            "number": loan.number,
            "bank": loan.bank.name,
            "outstanding": outstanding,
            "value": value,
            "ltv": loan.product.max_ltv.normalize(),
            "capacity": capacity,
            "gap": outstanding - capacity,
        }
        result.findings.append(
            Finding(
                key=stable_key("loan", loan.pk, "below_ltv", "runs", "-".join(map(str, runs)) or "none"),
                level="danger",
                title=_("质押物估值跌破抵押率：贷款 %(number)s") % {"number": loan.number},
                body="\n".join([body, *(line for _v, _r, line in marked)]),
                link=loan.get_absolute_url(),
                division=loan.division,
                recipients=loan_audience(audience, loan),
            )
        )
    return result


JOB = Job(key=MonitorJob.PLEDGE_VALUE, check=check)
