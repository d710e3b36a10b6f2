"""GEP 占补平衡: a division's GEP must not decline. A project that consumes GEP is debited at
admission (its consumed share of each asset's GEP in the asset's latest accepted valuation run,
times the rule's offset ratio); restoration and new protection are credited from accepted runs.
The balance lives in one row per balancing division, locked by every posting, so two admissions
never spend the same credit; entries are append-only and keep their calculation.

The balancing division of a place is the nearest division at or above it that has a rule
(typically the county): the guidance leaves the mechanics to local rules, so they are data.

Credits and corrections (each section below explains its choices): a restoration credits the net
GEP change of the chosen assets between two accepted runs (losses included; an asset's span of
years is credited once); a protection credits the regulating-service value of newly protected
assets in their latest accepted run (once per asset); a release returns the debit of a project
that left the list without consuming (not after 建成达效); a reversal undoes one entry once and is
refused when the credit it takes back is already spent. Rules are versioned, never edited.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import AdministrativeDivision
from directory.permissions import Capability
from directory.selectors import users_with
from directory.services import notify
from resources.models import Asset, AssetStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from transactions._money import parse_money
from transactions.services.settlement import business_date
from valuation.models import AccountingRun, AssetResult

from ..models import (
    ExitReason,
    GepBalance,
    GepBalanceEntry,
    GepBalanceRule,
    GepEntryKind,
    KeyProject,
    ProjectStatus,
)
from .common import ancestors_and_self, next_number, require, required_text

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


# --- rules --------------------------------------------------------------------------------------
#
# A rule is never edited: a new version takes over from its date. A version may not start on or
# before a day already booked in the division's ledger (the entries of that day were measured
# under the old version) nor before the latest existing version (versions only move forward).

MAX_OFFSET_RATIO = Decimal("10")  # a sanity bound: 10 yuan of gain per yuan consumed is already extreme
RATIO_PLACES = Decimal("0.000001")  # GepBalanceRule.offset_ratio has 6 decimal places


def _invalid(field, message, code="invalid"):
    return DomainError(message, code=code, fields={field: [message]})


def _parse_ratio(value):
    try:
        ratio = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        ratio = None
    if ratio is None or not ratio.is_finite():
        raise _invalid("offset_ratio", _("占补比例须为数字，如 1 或 1.2。"))
    if ratio < 1:
        raise _invalid("offset_ratio", _("占补比例不能小于 1（补充的 GEP 不能少于占用的 GEP）。"))
    if ratio > MAX_OFFSET_RATIO:
        raise _invalid("offset_ratio", _("占补比例不能大于 %(max)s。") % {"max": MAX_OFFSET_RATIO})
    if ratio != ratio.quantize(RATIO_PLACES):
        raise _invalid("offset_ratio", _("占补比例最多保留六位小数。"))
    return ratio


def _clean_categories(categories):
    if isinstance(categories, str) or not isinstance(categories, list | tuple | set | frozenset):
        raise _invalid("categories", _("请选择计入的 GEP 类别。"))
    chosen = {str(c).strip() for c in categories}
    unknown = sorted(chosen - set(ALL_CATEGORIES))
    if unknown:
        raise _invalid(
            "categories",
            _("未知的 GEP 类别：%(names)s（可选 material / regulating / cultural）。")
            % {"names": "、".join(unknown)},
        )
    if not chosen:
        raise _invalid("categories", _("至少选择一个计入的 GEP 类别。"))
    return [c for c in ALL_CATEGORIES if c in chosen]  # canonical order


def _own_rules(division):
    return GepBalanceRule.objects.filter(division=division).order_by("-effective_from", "-pk")


@transaction.atomic
def set_rule(*, actor, division, offset_ratio, categories, warning_balance, effective_from, source):
    """Publish a new version of a division's GEP balance rule, in force from `effective_from`."""
    if division is None:
        raise _invalid("division", _("请选择平衡区划。"))
    require(actor, Capability.MANAGE_OVERSIGHT, division)
    ratio = _parse_ratio(offset_ratio)
    categories = _clean_categories(categories)
    warning = parse_money(warning_balance, "warning_balance", allow_zero=True)
    if not isinstance(effective_from, datetime.date):
        raise _invalid("effective_from", _("请输入有效的生效日期。"))
    source = required_text(source, "source", _("请填写规则依据（文件名称及文号）。"), max_length=300)
    # The balance row lock orders this against postings, so no entry slips in under the old
    # version after the check below.
    _locked_balance(division)
    same_day = _own_rules(division).filter(effective_from=effective_from).first()
    if same_day is not None:
        message = _(
            "%(division)s 已有自 %(date)s 起生效的规则（占补比例 %(ratio)s）。规则发布后不可修改，请以更晚的生效日期发布新版本。"
        ) % {"division": division.name, "date": effective_from, "ratio": same_day.offset_ratio}
        raise ConflictError(message, code="duplicate", fields={"effective_from": [message]})
    latest = _own_rules(division).first()
    if latest is not None and effective_from < latest.effective_from:
        message = _("新版本的生效日期须晚于现行最新版本的生效日期（%(date)s）。") % {
            "date": latest.effective_from
        }
        raise ConflictError(message, code="rule_date_order", fields={"effective_from": [message]})
    booked = (
        GepBalanceEntry.objects.filter(division=division)
        .order_by("-occurred_on")
        .values_list("occurred_on", flat=True)
        .first()
    )
    if booked is not None and effective_from <= booked:
        message = _(
            "%(division)s 的台账已记至 %(date)s，这些记录按原规则计算；新规则的生效日期须晚于该日期。"
        ) % {"division": division.name, "date": booked}
        raise ConflictError(message, code="rule_date_order", fields={"effective_from": [message]})
    with audit_context(user=actor, reason=f"gep balance: rule {division.code} from {effective_from}"):
        return GepBalanceRule.objects.create(
            division=division,
            offset_ratio=ratio,
            categories=categories,
            warning_balance=warning,
            effective_from=effective_from,
            source=source,
            created_by=actor,
        )


# --- status -------------------------------------------------------------------------------------


def monitored_divisions():
    """Divisions that have a rule (any version), by code: the balancing divisions to watch."""
    ids = GepBalanceRule.objects.values("division_id")
    return list(AdministrativeDivision.objects.filter(pk__in=ids).defer("boundary").order_by("code"))


def status_of(balance, warning):
    if balance < 0:
        return "negative"
    if balance < warning:
        return "warning"
    return "ok"


def balance_status(division):
    """{"balance", "warning", "status"}: the balance against the warning line of the division's
    own rule in force today (0 when none is in force yet)."""
    rule = _own_rules(division).filter(effective_from__lte=timezone.localdate()).first()
    warning = rule.warning_balance if rule else Decimal("0.00")
    balance = balance_of(division)
    return {"balance": balance, "warning": warning, "status": status_of(balance, warning)}


# --- credits: shared checks ---------------------------------------------------------------------


def _accepted(run, field):
    if not isinstance(run, AccountingRun):
        raise _invalid(field, _("请选择核算批次。"))
    if run.accepted_at is None:
        raise _invalid(
            field,
            _("核算批次 #%(pk)s（%(year)s 年）尚未采纳，不能作为台账依据。")
            % {"pk": run.pk, "year": run.year},
            code="run_not_accepted",
        )
    return run


def _clean_assets(assets):
    assets = list(dict.fromkeys(assets or ()))  # keep order, drop repeats
    if not assets:
        raise _invalid("assets", _("请选择至少一项资源。"))
    return (
        list(
            Asset.objects.filter(pk__in=[getattr(a, "pk", a) for a in assets])
            .select_related("division")
            .defer("geometry", "division__boundary")
            .order_by("code")
        ),
        len(assets),
    )


def _credit_division(division, assets, project, on):
    """The balancing division of a credit: the one given, else the project's, else the first
    asset's. It must carry a rule of its own in force on `on`."""
    anchor = division or (project.division if project is not None else assets[0].division)
    rule = rule_for(anchor, on)
    if division is not None and rule.division_id != division.pk:
        raise _invalid(
            "division",
            _("%(division)s 本身没有占补平衡规则（平衡区划为 %(balancing)s）。")
            % {"division": division.name, "balancing": rule.division.name},
            code="not_balancing_division",
        )
    return rule.division, rule


def _check_inside(division, assets, on):
    """Every asset lies in `division` and balances there (not in a nested division with its own rule)."""
    outside, resolved = [], {}
    for asset in assets:
        if not division.contains(asset.division):
            outside.append(asset.code)
            continue
        if asset.division_id not in resolved:
            resolved[asset.division_id] = balancing_division(asset.division, on).pk
        if resolved[asset.division_id] != division.pk:
            outside.append(asset.code)
    if outside:
        raise _invalid(
            "assets",
            _("以下资源不在平衡区划 %(division)s 内（或属于另设规则的下级区划），不能计入：%(codes)s")
            % {"division": division.name, "codes": "、".join(outside)},
            code="asset_outside_division",
        )
    retired = [a.code for a in assets if a.status == AssetStatus.RETIRED]
    if retired:
        raise _invalid(
            "assets",
            _("以下资源已注销，不能计入：%(codes)s") % {"codes": "、".join(retired)},
            code="asset_retired",
        )


def _credit_date(occurred_on, runs):
    """A credit cannot be dated before the valuation behind it was accepted."""
    occurred_on = business_date(occurred_on, "occurred_on")
    for run in runs:
        accepted_on = timezone.localdate(run.accepted_at)
        if occurred_on < accepted_on:
            raise _invalid(
                "occurred_on",
                _("业务日期不能早于核算批次 #%(pk)s 的采纳日期（%(date)s）。")
                % {"pk": run.pk, "date": accepted_on},
            )
    return occurred_on


def _results_by_asset(runs, assets):
    """{(run_id, asset_id): {category: value}} of every category (unrounded sums, one query)."""
    rows = (
        AssetResult.objects.filter(run__in=runs, asset__in=assets)
        .values("run_id", "asset_id", "category")
        .annotate(total=Sum("value"))
        .order_by()
    )
    found = {}
    for row in rows:
        found.setdefault((row["run_id"], row["asset_id"]), {})[row["category"]] = row["total"]
    return found


def _counted(by_category, categories):
    return sum((by_category.get(c, Decimal("0")) for c in categories), Decimal("0"))


def _run_info(run):
    return {
        "id": run.pk,
        "year": run.year,
        "division": run.division.name,
        "price_basis": run.price_basis,
        "base_year": run.base_year,
        "parameter_set": str(run.parameter_set),
        "accepted_at": timezone.localtime(run.accepted_at).isoformat(),
    }


def _require_results(found, runs, assets):
    missing = [
        f"{asset.code}（#{run.pk} {run.year}）"
        for run in runs
        for asset in assets
        if (run.pk, asset.pk) not in found
    ]
    if missing:
        raise _invalid(
            "assets",
            _("以下资源在所选核算批次中没有核算结果：%(items)s") % {"items": "、".join(missing)},
            code="missing_results",
        )


def _cents(value):
    return str(value.quantize(CENT, ROUND_HALF_UP))


def _earlier_credits(kind, assets, **entry_filters):
    """(asset code, entry number) of unreversed credits of `kind` naming any of `assets`."""
    through = GepBalanceEntry.assets.through
    filters = {f"gepbalanceentry__{k}": v for k, v in entry_filters.items()}
    return list(
        through.objects.filter(
            asset__in=assets,
            gepbalanceentry__kind=kind,
            gepbalanceentry__reversed_by__isnull=True,
            **filters,
        )
        .order_by("asset__code", "gepbalanceentry_id")
        .values_list("asset__code", "gepbalanceentry__number")
    )


def _already_credited(clashes, message):
    pairs = "、".join(f"{code}（{number}）" for code, number in clashes)
    detail = message % {"items": pairs}
    raise ConflictError(
        detail,
        code="already_credited",
        fields={"assets": [detail], "entries": sorted({number for _code, number in clashes})},
    )


@dataclass
class CreditMeasure:
    division: object
    rule: object
    categories: list
    amount: Decimal
    calculation: dict
    assets: list


# --- restoration --------------------------------------------------------------------------------
#
# Gain of an asset = its GEP (the rule's categories) in `run` − in `baseline_run`, both accepted,
# same price basis. The credit is the sum over ALL chosen assets, losses included: assets whose
# GEP fell are listed and reduce the total (choosing only the gainers of a restored area would
# overstate it). The offset ratio is not applied here: it already weighs every debit.
# An asset's gain over a span of years is credited once: spans may chain (2023→2024, 2024→2025)
# but never overlap an unreversed earlier restoration of that asset (so one (asset, run) pair is
# never credited twice).


def _resolve(assets, division, project, on, actor):
    """The credit's assets, balancing division and rule; with `actor`, checks MANAGE_PROJECTS
    there before anything else is looked at."""
    assets, asked = _clean_assets(assets)
    if len(assets) != asked:
        raise _invalid("assets", _("所选资源不存在。"))
    division, rule = _credit_division(division, assets, project, on)
    if actor is not None:
        require(actor, Capability.MANAGE_PROJECTS, division)
    _check_inside(division, assets, on)
    return assets, division, rule


def measure_restoration(*, assets, baseline_run, run, division=None, project=None, on=None, actor=None):
    """The restoration credit these assets and runs would give (no writes, no duplicate check)."""
    on = on or timezone.localdate()
    assets, division, rule = _resolve(assets, division, project, on, actor)
    baseline_run = _accepted(baseline_run, "baseline_run")
    run = _accepted(run, "run")
    if run.year <= baseline_run.year:
        raise _invalid(
            "run",
            _("核算批次的年份（%(year)s）须晚于基期批次的年份（%(base)s）。")
            % {"year": run.year, "base": baseline_run.year},
            code="run_order",
        )
    if (run.price_basis, run.base_year) != (baseline_run.price_basis, baseline_run.base_year):
        raise _invalid(
            "run",
            _("两个核算批次的价格基准不同（%(a)s / %(b)s），增量不可比。")
            % {"a": baseline_run.get_price_basis_display(), "b": run.get_price_basis_display()},
            code="price_basis_mismatch",
        )
    categories = rule.categories or ALL_CATEGORIES
    found = _results_by_asset([baseline_run, run], assets)
    _require_results(found, [baseline_run, run], assets)
    lines, total, gains, losses = [], Decimal("0"), Decimal("0"), Decimal("0")
    for asset in assets:
        before_parts = found[(baseline_run.pk, asset.pk)]
        after_parts = found[(run.pk, asset.pk)]
        before = _counted(before_parts, categories)
        after = _counted(after_parts, categories)
        gain = after - before
        total += gain
        if gain > 0:
            gains += gain
        else:
            losses += gain
        lines.append(
            {
                "asset": asset.code,
                "asset_id": asset.pk,
                "name": asset.name,
                "baseline": {c: str(before_parts.get(c, Decimal("0"))) for c in categories},
                "baseline_value": str(before),
                "current": {c: str(after_parts.get(c, Decimal("0"))) for c in categories},
                "current_value": str(after),
                "gain": str(gain),
                "declined": gain < 0,
            }
        )
    amount = total.quantize(CENT, ROUND_HALF_UP)
    calculation = {
        "method": "restoration",
        "categories": categories,
        "offset_ratio": str(rule.offset_ratio),
        "ratio_applied": False,
        "baseline_run": _run_info(baseline_run),
        "run": _run_info(run),
        "lines": lines,
        "gains": str(gains),
        "declines": str(losses),
        "declined_assets": [line["asset"] for line in lines if line["declined"]],
        "total": str(total),
        "amount": str(amount),
    }
    return CreditMeasure(division, rule, categories, amount, calculation, assets)


def _check_project(project, division):
    if project is None:
        return None
    if project.status not in (ProjectStatus.ADMITTED, ProjectStatus.EXITED):
        raise _invalid("project", _("只能关联已入库（或已退库）的项目。"))
    if balancing_division(project.division).pk != division.pk:
        raise _invalid("project", _("项目不在该平衡区划内。"))
    return project


@transaction.atomic
def record_restoration(*, actor, assets, baseline_run, run, memo, occurred_on, project=None, division=None):
    """Credit the GEP gain of restored assets between two accepted runs (see the notes above)."""
    memo = required_text(memo, "memo", _("请填写摘要（修复工程名称、文号等）。"), max_length=300)
    occurred_on = business_date(occurred_on, "occurred_on")
    measure = measure_restoration(
        assets=assets,
        baseline_run=baseline_run,
        run=run,
        division=division,
        project=project,
        on=occurred_on,
        actor=actor,
    )
    _check_project(project, measure.division)
    occurred_on = _credit_date(occurred_on, [baseline_run, run])
    if measure.amount <= 0:
        declined = measure.calculation["declined_assets"]
        raise _invalid(
            "assets",
            _("所选资源的 GEP 合计没有增加（净变化 %(total)s 元），无可计入的修复增量。%(declined)s")
            % {
                "total": measure.amount,
                "declined": _("下降的资源：%(codes)s") % {"codes": "、".join(declined)} if declined else "",
            },
            code="nothing_gained",
        )
    _locked_balance(measure.division)  # the duplicate check and the posting under one lock
    clashes = _earlier_credits(
        GepEntryKind.RESTORATION,
        measure.assets,
        baseline_run__year__lt=run.year,
        run__year__gt=baseline_run.year,
    )
    if clashes:
        _already_credited(
            clashes,
            _("以下资源在 %(from)s–%(to)s 年间的增量已计入台账，不能重复计入：%%(items)s")
            % {"from": baseline_run.year, "to": run.year},
        )
    with audit_context(user=actor, reason=f"gep balance: restoration {measure.division.code}"):
        return post_entry(
            actor=actor,
            division=measure.division,
            kind=GepEntryKind.RESTORATION,
            amount=measure.amount,
            rule=measure.rule,
            memo=memo,
            occurred_on=occurred_on,
            calculation=measure.calculation,
            project=project,
            run=run,
            baseline_run=baseline_run,
            assets=[a.pk for a in measure.assets],
        )


# --- protection ---------------------------------------------------------------------------------
#
# An asset newly put under protection (e.g. designated public-welfare forest, closed for
# conservation) is credited with the REGULATING-service value of its GEP in the given run
# (× PROTECTION_SHARE = 1), and only if the rule counts regulating services. Protection secures
# water retention, soil retention, carbon and climate regulation; it does not secure, and often
# forgoes, material products (logging, harvesting), and cultural value is mostly regional. The run
# must be the asset's latest accepted valuation; an asset is credited for protection once (a
# reversed credit may be booked again).

PROTECTION_CATEGORIES = ("regulating",)
PROTECTION_SHARE = Decimal("1")


def measure_protection(*, assets, run, division=None, on=None, actor=None):
    """The protection credit these assets would give from `run` (no writes, no duplicate check)."""
    on = on or timezone.localdate()
    assets, division, rule = _resolve(assets, division, None, on, actor)
    run = _accepted(run, "run")
    categories = [c for c in (rule.categories or ALL_CATEGORIES) if c in PROTECTION_CATEGORIES]
    if not categories:
        raise _invalid(
            "run",
            _("%(division)s 的规则不计调节服务，新增保护没有可计入的 GEP。") % {"division": division.name},
            code="nothing_gained",
        )
    found = _results_by_asset([run], assets)
    _require_results(found, [run], assets)
    newer = list(
        AssetResult.objects.filter(asset__in=assets, run__accepted_at__isnull=False, run__year__gt=run.year)
        .order_by("asset__code")
        .values_list("asset__code", flat=True)
        .distinct()
    )
    if newer:
        raise _invalid(
            "run",
            _("以下资源已有年份更新的已采纳核算，请按最新核算计入：%(codes)s") % {"codes": "、".join(newer)},
            code="run_not_latest",
        )
    lines, total = [], Decimal("0")
    for asset in assets:
        parts = found[(run.pk, asset.pk)]
        value = _counted(parts, categories)
        credit = value * PROTECTION_SHARE
        total += credit
        lines.append(
            {
                "asset": asset.code,
                "asset_id": asset.pk,
                "name": asset.name,
                "current": {c: str(parts.get(c, Decimal("0"))) for c in ALL_CATEGORIES if c in parts},
                "current_value": str(value),
                "credit": str(credit),
            }
        )
    amount = total.quantize(CENT, ROUND_HALF_UP)
    calculation = {
        "method": "protection",
        "categories": categories,
        "rule_categories": rule.categories or ALL_CATEGORIES,
        "share": str(PROTECTION_SHARE),
        "offset_ratio": str(rule.offset_ratio),
        "ratio_applied": False,
        "run": _run_info(run),
        "lines": lines,
        "total": str(total),
        "amount": str(amount),
    }
    return CreditMeasure(division, rule, categories, amount, calculation, assets)


@transaction.atomic
def record_protection(*, actor, assets, run, memo, occurred_on, protection_document, division=None):
    """Credit assets newly put under protection (see the notes above)."""
    memo = required_text(memo, "memo", _("请填写摘要。"), max_length=300)
    document = required_text(
        protection_document,
        "protection_document",
        _("请填写保护依据（划定或批准保护的文件名称及文号）。"),
        max_length=300,
    )
    occurred_on = business_date(occurred_on, "occurred_on")
    measure = measure_protection(assets=assets, run=run, division=division, on=occurred_on, actor=actor)
    occurred_on = _credit_date(occurred_on, [run])
    if measure.amount <= 0:
        raise _invalid(
            "assets",
            _("所选资源在该批次中的调节服务价值为 0，无可计入的保护价值。"),
            code="nothing_gained",
        )
    _locked_balance(measure.division)
    clashes = _earlier_credits(GepEntryKind.PROTECTION, measure.assets)
    if clashes:
        _already_credited(clashes, _("以下资源已作为新增保护计入台账，不能重复计入：%(items)s"))
    measure.calculation["protection_document"] = document
    with audit_context(user=actor, reason=f"gep balance: protection {measure.division.code}"):
        return post_entry(
            actor=actor,
            division=measure.division,
            kind=GepEntryKind.PROTECTION,
            amount=measure.amount,
            rule=measure.rule,
            memo=memo,
            occurred_on=occurred_on,
            calculation=measure.calculation,
            run=run,
            assets=[a.pk for a in measure.assets],
        )


# --- release and reversal -----------------------------------------------------------------------
#
# A project that leaves the list after admission (exited or withdrawn) gets its unreleased debit
# back once, unless it exited as completed (建成达效): then the GEP was really consumed and stays
# debited. A reversal undoes any entry but a reversal, once, dated today; it is refused when it
# would take the balance below zero (a spent credit cannot be taken back), with the shortfall.

RELEASABLE_STATUSES = (ProjectStatus.EXITED, ProjectStatus.WITHDRAWN)


def unreleased_debits(project):
    """The project's unreversed debit entries (what a release would credit back)."""
    return list(
        GepBalanceEntry.objects.filter(
            project=project, kind=GepEntryKind.PROJECT_DEBIT, reversed_by__isnull=True
        ).order_by("pk")
    )


def own_rule_on(division, on):
    return _own_rules(division).filter(effective_from__lte=on).first()


@transaction.atomic
def release_project_debit(*, actor, project, reason, occurred_on):
    reason = required_text(reason, "reason", _("请填写返还原因。"), max_length=300)
    occurred_on = business_date(occurred_on, "occurred_on")
    project = KeyProject.objects.select_for_update().get(pk=project.pk)
    if project.status not in RELEASABLE_STATUSES:
        raise ConflictError(
            _("项目 %(number)s 当前为“%(status)s”，只有已退库或已撤回的项目才能返还占用。")
            % {"number": project.number, "status": project.get_status_display()},
            code="project_not_closed",
        )
    if project.status == ProjectStatus.EXITED and project.exit_reason == ExitReason.COMPLETED:
        raise ConflictError(
            _("项目 %(number)s 因建成达效退库，GEP 已实际占用，不予返还。") % {"number": project.number},
            code="consumption_realised",
        )
    if project.exited_on and occurred_on < project.exited_on:
        raise _invalid(
            "occurred_on", _("返还日期不能早于退库日期（%(date)s）。") % {"date": project.exited_on}
        )
    debits = unreleased_debits(project)
    if not debits:
        raise DomainError(
            _("项目 %(number)s 没有未冲正的占用记录，无可返还。") % {"number": project.number},
            code="nothing_to_release",
        )
    divisions = {entry.division_id for entry in debits}
    if len(divisions) > 1:  # only if rules were re-drawn between two debits; resolve by hand
        raise ConflictError(_("该项目的占用记在多个平衡区划，请逐笔冲正。"), code="several_divisions")
    division = debits[0].division
    require(actor, Capability.MANAGE_PROJECTS, division)
    _locked_balance(division)
    earlier = GepBalanceEntry.objects.filter(
        project=project, kind=GepEntryKind.RELEASE, reversed_by__isnull=True
    ).first()
    if earlier is not None:
        raise ConflictError(
            _("项目 %(number)s 的占用已于 %(date)s 返还（%(entry)s），不能重复返还。")
            % {"number": project.number, "date": earlier.occurred_on, "entry": earlier.number},
            code="already_released",
            fields={"entries": [earlier.number]},
        )
    late = [entry.number for entry in debits if entry.occurred_on > occurred_on]
    if late:
        raise _invalid("occurred_on", _("返还日期不能早于占用记账日期。"))
    amount = -sum((entry.amount for entry in debits), Decimal("0.00"))
    assets = sorted({pk for entry in debits for pk in entry.assets.values_list("pk", flat=True)})
    calculation = {
        "method": "release",
        "project": project.number,
        "project_status": project.status,
        "exit_reason": project.exit_reason,
        "debits": [
            {"entry": e.number, "occurred_on": e.occurred_on.isoformat(), "amount": str(e.amount)}
            for e in debits
        ],
        "amount": str(amount),
        "reason": reason,
    }
    with audit_context(user=actor, reason=f"gep balance: release {project.number}"):
        return post_entry(
            actor=actor,
            division=division,
            kind=GepEntryKind.RELEASE,
            amount=amount,
            rule=own_rule_on(division, occurred_on) or debits[-1].rule,
            memo=_("%(number)s %(name)s 返还占用：%(reason)s")
            % {"number": project.number, "name": project.name, "reason": reason},
            occurred_on=occurred_on,
            calculation=calculation,
            project=project,
            run=debits[-1].run,
            assets=assets,
        )


@transaction.atomic
def reverse_entry(*, actor, entry, reason):
    reason = required_text(reason, "reason", _("请填写冲正原因。"), max_length=300)
    entry = GepBalanceEntry.objects.select_related("division").get(pk=entry.pk)
    require(actor, Capability.MANAGE_PROJECTS, entry.division)
    if entry.kind == GepEntryKind.REVERSAL:
        raise ConflictError(
            _("%(number)s 本身是冲正记录，不能再冲正；如需更正，请重新登记。") % {"number": entry.number},
            code="cannot_reverse_reversal",
        )
    balance = _locked_balance(entry.division)
    earlier = GepBalanceEntry.objects.filter(reverses=entry).first()
    if earlier is not None:
        raise ConflictError(
            _("%(number)s 已被 %(by)s 冲正，不能重复冲正。") % {"number": entry.number, "by": earlier.number},
            code="already_reversed",
            fields={"entries": [earlier.number]},
        )
    amount = -entry.amount
    after = balance.balance + amount
    if after < 0:
        shortfall = -after
        raise ConflictError(
            _(
                "冲正 %(number)s 将使 %(division)s 的余额为负：现有 %(before)s 元，冲减 %(amount)s 元，缺口 %(shortfall)s 元。"
                "该补充已被占用，请先登记其他补充。"
            )
            % {
                "number": entry.number,
                "division": entry.division.name,
                "before": balance.balance,
                "amount": -amount,
                "shortfall": shortfall,
            },
            code="gep_shortfall",
            fields={"shortfall": str(shortfall), "balance": str(balance.balance), "debit": str(-amount)},
        )
    calculation = {
        "method": "reversal",
        "reverses": entry.number,
        "reversed_kind": entry.kind,
        "reversed_amount": str(entry.amount),
        "amount": str(amount),
        "reason": reason,
    }
    with audit_context(user=actor, reason=f"gep balance: reverse {entry.number}"):
        reversal = post_entry(
            actor=actor,
            division=entry.division,
            kind=GepEntryKind.REVERSAL,
            amount=amount,
            rule=entry.rule,
            memo=_("冲正 %(number)s：%(reason)s") % {"number": entry.number, "reason": reason},
            occurred_on=timezone.localdate(),
            calculation=calculation,
            project=entry.project,
            run=entry.run,
            baseline_run=entry.baseline_run,
            assets=list(entry.assets.values_list("pk", flat=True)),
            reverses=entry,
        )
    division, title = entry.division, _("GEP 占补平衡台账冲正：%(number)s") % {"number": entry.number}
    transaction.on_commit(
        lambda: notify(
            recipients=[u for u in users_with(Capability.VIEW_OVERSIGHT, division=division) if u != actor],
            title=title,
            body=reversal.memo,
            link=reversal.get_absolute_url(),
        )
    )
    return reversal
