"""GEP 占补平衡: a division's GEP must not decline. A project that consumes GEP is debited at
admission (its consumed share of each asset's GEP in the asset's latest accepted valuation run,
times the rule's offset ratio); restoration and new protection are credited from accepted runs.
The balance lives in one row per balancing division, locked by every posting, so two admissions
never spend the same credit; entries are append-only and keep their calculation.

The balancing division of a place is the nearest division at or above it that has a rule
(typically the county): the guidance leaves the mechanics to local rules, so they are data.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from valuation.models import AccountingRun, AssetResult

from ..models import GepBalance, GepBalanceEntry, GepBalanceRule, GepEntryKind
from .common import ancestors_and_self, next_number

CENT = Decimal("0.01")
ALL_CATEGORIES = ["material", "regulating", "cultural"]


def rule_for(division, on=None):
    """The rule in force for `division` on `on`: the nearest division at or above it with a rule
    effective by then. Refuses when there is none (nothing can be balanced without a rule)."""
    on = on or timezone.localdate()
    chain = ancestors_and_self(division)
    rules = {
        rule.division_id: rule
        for rule in GepBalanceRule.objects.filter(division__in=chain, effective_from__lte=on)
        .select_related("division")
        .order_by("division_id", "-effective_from")
        .distinct("division_id")
    }
    for candidate in chain:
        if candidate.pk in rules:
            return rules[candidate.pk]
    raise DomainError(
        _("%(division)s 及其上级区划尚未设定 GEP 占补平衡规则，不能办理。") % {"division": division.name},
        code="no_gep_rule",
    )


def balancing_division(division, on=None):
    return rule_for(division, on).division


def latest_accepted_run(asset, *, before_year=None):
    """The latest accepted run with results for `asset` (optionally of a year before `before_year`)."""
    runs = AccountingRun.objects.filter(accepted_at__isnull=False, asset_results__asset=asset)
    if before_year is not None:
        runs = runs.filter(year__lt=before_year)
    return runs.order_by("-year", "-accepted_at", "-pk").distinct().first()


def asset_gep(asset, categories, run=None):
    """(value, run): the asset's GEP in the counted categories in `run` (default: its latest
    accepted run); (None, None) when the asset has never been valued."""
    run = run or latest_accepted_run(asset)
    if run is None:
        return None, None
    total = AssetResult.objects.filter(run=run, asset=asset, category__in=categories).aggregate(
        s=Sum("value")
    )["s"]
    return (total or Decimal("0")), run


@dataclass
class DebitMeasure:
    division: object
    rule: object
    amount: Decimal = Decimal("0.00")  # positive: what the project takes, after the offset ratio
    lines: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # asset codes with no accepted valuation

    @property
    def calculation(self):
        return {
            "offset_ratio": str(self.rule.offset_ratio),
            "categories": self.rule.categories or ALL_CATEGORIES,
            "lines": self.lines,
            "amount": str(self.amount),
        }


def measure_project_debit(project, on=None):
    """What admitting `project` would debit: Σ fraction × the asset's GEP (counted categories) in
    its latest accepted run × the rule's offset ratio, rounded to the cent once at the end."""
    rule = rule_for(project.division, on)
    categories = rule.categories or ALL_CATEGORIES
    measure = DebitMeasure(division=rule.division, rule=rule)
    raw = Decimal("0")
    for consumption in project.consumptions.select_related("asset").order_by("pk"):
        value, run = asset_gep(consumption.asset, categories)
        if run is None:
            measure.missing.append(consumption.asset.code)
            continue
        consumed = value * consumption.fraction
        raw += consumed
        measure.lines.append(
            {
                "asset": consumption.asset.code,
                "asset_id": consumption.asset_id,
                "run": run.pk,
                "run_year": run.year,
                "gep": str(value),
                "fraction": str(consumption.fraction),
                "consumed": str(consumed),
            }
        )
    measure.amount = (raw * rule.offset_ratio).quantize(CENT, ROUND_HALF_UP)
    return measure


def balance_of(division):
    """The balance of a balancing division (0 when nothing was ever posted there)."""
    row = GepBalance.objects.filter(division=division).first()
    return row.balance if row else Decimal("0.00")


def preview_admission(project, on=None):
    """The GEP check a reviewer sees: balance before, debit, balance after and any shortfall."""
    measure = measure_project_debit(project, on)
    before = balance_of(measure.division)
    after = before - measure.amount
    return {
        "division": measure.division.name,
        "division_id": measure.division.pk,
        "balance_before": str(before),
        "debit": str(measure.amount),
        "balance_after": str(after),
        "shortfall": str(max(-after, Decimal("0.00"))),
        "missing_valuations": measure.missing,
        "calculation": measure.calculation,
    }


def _locked_balance(division):
    GepBalance.objects.get_or_create(division=division)
    return GepBalance.objects.select_for_update().get(division=division)


def post_entry(
    *,
    actor,
    division,
    kind,
    amount,
    rule,
    memo,
    occurred_on,
    calculation,
    project=None,
    run=None,
    baseline_run=None,
    assets=(),
    reverses=None,
    allow_negative=False,
):
    """Append one entry under the division's balance lock. Debits that would take the balance
    below zero are refused with the shortfall (unless a reversal says otherwise)."""
    balance = _locked_balance(division)
    after = balance.balance + amount
    if after < 0 and not allow_negative:
        shortfall = -after
        raise ConflictError(
            _(
                "%(division)s GEP 占补平衡余额不足：现有 %(before)s 元，本次占用 %(debit)s 元，缺口 %(shortfall)s 元。"
                "请先登记生态修复或新增保护等补充。"
            )
            % {
                "division": division.name,
                "before": balance.balance,
                "debit": -amount,
                "shortfall": shortfall,
            },
            code="gep_shortfall",
            fields={"shortfall": str(shortfall), "balance": str(balance.balance), "debit": str(-amount)},
        )
    entry = GepBalanceEntry.objects.create(
        number=next_number("ZB"),
        division=division,
        kind=kind,
        amount=amount,
        project=project,
        run=run,
        baseline_run=baseline_run,
        rule=rule,
        calculation=calculation,
        memo=memo[:300],
        occurred_on=occurred_on,
        balance_after=after,
        reverses=reverses,
        recorded_by=actor,
    )
    if assets:
        entry.assets.set(assets)
    balance.balance = after
    balance.save(update_fields=["balance", "updated_at"])
    return entry


@transaction.atomic
def post_project_debit(*, actor, project, occurred_on=None):
    """Debit the project's consumption at admission (called by the admission service inside its
    transaction). None when the project consumes nothing; refuses when an asset it consumes has
    no accepted valuation (the debit could not be priced) or the balance would go negative."""
    occurred_on = occurred_on or timezone.localdate()
    if not project.consumptions.exists():
        return None
    measure = measure_project_debit(project, occurred_on)
    if measure.missing:
        raise DomainError(
            _("以下资源尚无已采纳的 GEP 核算结果，无法测算占用：%(codes)s")
            % {"codes": "、".join(measure.missing)},
            code="gep_not_valued",
            fields={"assets": measure.missing},
        )
    if measure.amount == 0:
        return None
    run_ids = {line["run"] for line in measure.lines}
    with audit_context(user=actor, reason=f"gep balance: debit {project.number}"):
        return post_entry(
            actor=actor,
            division=measure.division,
            kind=GepEntryKind.PROJECT_DEBIT,
            amount=-measure.amount,
            rule=measure.rule,
            memo=_("%(number)s %(name)s 入库占用 GEP") % {"number": project.number, "name": project.name},
            occurred_on=occurred_on,
            calculation=measure.calculation,
            project=project,
            run=AccountingRun.objects.get(pk=max(run_ids)) if len(run_ids) == 1 else None,
            assets=[line["asset_id"] for line in measure.lines],
        )
