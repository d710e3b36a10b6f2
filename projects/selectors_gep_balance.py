"""Reads of the GEP balance (占补平衡) ledger, restricted to what the user may see: cooperative
staff, city administrators and auditors (VIEW_OVERSIGHT or MANAGE_PROJECTS) the balancing
divisions in their division subtree. Owners, banks and village clerks see none of it."""

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import Count, DecimalField, Exists, Max, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import AdministrativeDivision
from directory.permissions import Capability, can
from directory.selectors import within_reach
from resources.models import Asset, AssetStatus
from valuation.models import AccountingRun, AssetResult, PriceBasis

from .models import (
    GepBalance,
    GepBalanceEntry,
    GepBalanceRule,
    GepEntryKind,
    KeyProject,
    ProjectStatus,
)
from .services.gep_balance import RELEASABLE_STATUSES, status_of

MONEY = DecimalField(max_digits=16, decimal_places=2)


def may_view(user):
    return can(user, Capability.VIEW_OVERSIGHT) or can(user, Capability.MANAGE_PROJECTS)


def may_manage(user, division):
    return can(user, Capability.MANAGE_PROJECTS, division=division)


def may_set_rules(user, division=None):
    return can(user, Capability.MANAGE_OVERSIGHT, division=division)


def _reach(user, field):
    if not user.is_authenticated:
        return Q(pk__in=[])
    return within_reach(user, field, Capability.VIEW_OVERSIGHT) | within_reach(
        user, field, Capability.MANAGE_PROJECTS
    )


def balancing_divisions_for(user):
    """Divisions with a rule in the user's reach, annotated with `balance`, `warning` (the own
    rule in force today, 0 before any), `entry_count` and `last_entry_on`; rows carry `status`."""
    today = timezone.localdate()
    rule_now = GepBalanceRule.objects.filter(division=OuterRef("pk"), effective_from__lte=today).order_by(
        "-effective_from", "-pk"
    )
    return (
        AdministrativeDivision.objects.filter(_reach(user, "code"))
        .filter(Exists(GepBalanceRule.objects.filter(division=OuterRef("pk"))))
        .defer("boundary")
        .annotate(
            balance=Coalesce(
                Subquery(GepBalance.objects.filter(division=OuterRef("pk")).values("balance")[:1]),
                Value(Decimal("0.00")),
                output_field=MONEY,
            ),
            warning=Coalesce(
                Subquery(rule_now.values("warning_balance")[:1]), Value(Decimal("0.00")), output_field=MONEY
            ),
            offset_ratio=Subquery(rule_now.values("offset_ratio")[:1]),
            entry_count=Subquery(
                GepBalanceEntry.objects.filter(division=OuterRef("pk"))
                .order_by()
                .values("division")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            last_entry_on=Subquery(
                GepBalanceEntry.objects.filter(division=OuterRef("pk"))
                .order_by()
                .values("division")
                .annotate(last=Max("occurred_on"))
                .values("last")[:1]
            ),
        )
        .order_by("code")
    )


def with_status(divisions):
    rows = list(divisions)
    for division in rows:
        division.status = status_of(division.balance, division.warning)
    return rows


def entries_for(user):
    return (
        GepBalanceEntry.objects.filter(_reach(user, "division__code"))
        .select_related(
            "division",
            "project",
            "run__division",
            "baseline_run__division",
            "rule",
            "recorded_by",
            "reverses",
            "reversed_by",
        )
        .defer("division__boundary", "run__division__boundary", "baseline_run__division__boundary")
        .prefetch_related(Prefetch("assets", Asset.objects.defer("geometry").order_by("code")))
    )


def ledger(user, division):
    """The division's entries in posting order (balance_after follows that order)."""
    return entries_for(user).filter(division=division).order_by("pk")


def rules_of(division):
    return (
        GepBalanceRule.objects.filter(division=division)
        .select_related("created_by")
        .order_by("-effective_from", "-pk")
    )


def chart_series(entries):
    """[[label, balance_after]] in posting order, starting from zero, for the balance-over-time line."""
    points = [["", "0.00"]] if entries else []
    for entry in entries:
        points.append([f"{entry.occurred_on:%Y-%m-%d} {entry.number}", str(entry.balance_after)])
    return points


def accepted_runs_in(division):
    """Accepted runs with results for assets inside `division`, newest year first."""
    inside = AssetResult.objects.filter(run=OuterRef("pk"), division_code__startswith=division.prefix)
    return (
        AccountingRun.objects.filter(accepted_at__isnull=False)
        .filter(Exists(inside))
        .select_related("division", "parameter_set")
        .defer("division__boundary")
        .order_by("-year", "-accepted_at", "-pk")
    )


def creditable_assets(division, runs=()):
    """Assets inside `division` with an accepted valuation (or results in each of `runs`)."""
    assets = Asset.objects.filter(division__code__startswith=division.prefix).exclude(
        status=AssetStatus.RETIRED
    )
    if runs:
        for run in runs:
            assets = assets.filter(Exists(AssetResult.objects.filter(run=run, asset=OuterRef("pk"))))
    else:
        assets = assets.filter(
            Exists(AssetResult.objects.filter(asset=OuterRef("pk"), run__accepted_at__isnull=False))
        )
    return assets.select_related("division").defer("geometry", "division__boundary").order_by("code")


def creditable_projects(division):
    """Projects a restoration may be attributed to: admitted or exited, inside the division."""
    return (
        KeyProject.objects.filter(
            division__code__startswith=division.prefix,
            status__in=[ProjectStatus.ADMITTED, ProjectStatus.EXITED],
        )
        .only("pk", "number", "name")
        .order_by("number")
    )


def releasable_projects(division):
    """Exited or withdrawn projects with an unreversed debit in `division` and no unreversed release."""
    debit = GepBalanceEntry.objects.filter(
        project=OuterRef("pk"),
        division=division,
        kind=GepEntryKind.PROJECT_DEBIT,
        reversed_by__isnull=True,
    )
    release = GepBalanceEntry.objects.filter(
        project=OuterRef("pk"), kind=GepEntryKind.RELEASE, reversed_by__isnull=True
    )
    return (
        KeyProject.objects.filter(status__in=RELEASABLE_STATUSES)
        .filter(Exists(debit))
        .exclude(Exists(release))
        .only("pk", "number", "name", "status", "exit_reason")
        .order_by("number")
    )


# --- the calculation, laid out for people -------------------------------------------------------

CATEGORY_LABELS = {
    "material": gettext_lazy("物质产品"),
    "regulating": gettext_lazy("调节服务"),
    "cultural": gettext_lazy("文化服务"),
}


def _money(value):
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    except (InvalidOperation, ValueError):
        return str(value)


def _cell(text, *, url="", num=False, negative=False):
    return {"text": text, "url": url, "num": num, "negative": negative}


def _parts(parts):
    return " / ".join(f"{CATEGORY_LABELS.get(c, c)} {_money(v)}" for c, v in (parts or {}).items())


def _run_url(run_id):
    return reverse("valuation:run-detail", args=[run_id]) if run_id else ""


def _categories(calc):
    return "、".join(str(CATEGORY_LABELS.get(c, c)) for c in calc.get("categories", []))


def explain(entry):
    """{headers, rows, notes, links}: every number behind an entry's amount, from its stored
    calculation (no queries), for the expandable rows of the ledger and the entry page."""
    return explain_calculation(entry.calculation or {}, entry.kind)


def explain_calculation(calc, kind):
    method = calc.get("method") or ("debit" if kind == GepEntryKind.PROJECT_DEBIT else "")
    if method == "restoration":
        base, run = calc["baseline_run"], calc["run"]
        headers = [
            _("资源"),
            _("基期 %(year)s 年（#%(id)s）") % base,
            _("基期计入值"),
            _("本期 %(year)s 年（#%(id)s）") % run,
            _("本期计入值"),
            _("增量"),
        ]
        rows = [
            [
                _cell(f"{line['asset']} {line.get('name', '')}"),
                _cell(_parts(line["baseline"])),
                _cell(_money(line["baseline_value"]), num=True),
                _cell(_parts(line["current"])),
                _cell(_money(line["current_value"]), num=True),
                _cell(_money(line["gain"]), num=True, negative=Decimal(line["gain"]) < 0),
            ]
            for line in calc["lines"]
        ]
        notes = [
            _("增量 = 本期计入值 − 基期计入值，计入类别：%(c)s；价格基准：%(b)s。")
            % {"c": _categories(calc), "b": PriceBasis(base["price_basis"]).label},
            _(
                "增加合计 %(g)s 元，下降合计 %(d)s 元（下降的资源冲减合计：%(a)s），入账 %(t)s 元（合计后一次四舍五入到分）。"
            )
            % {
                "g": _money(calc["gains"]),
                "d": _money(calc["declines"]),
                "a": "、".join(calc["declined_assets"]) or _("无"),
                "t": _money(calc["amount"]),
            },
            _("占补比例 %(r)s 只作用于占用一侧，补充按原值计入。") % {"r": calc["offset_ratio"]},
        ]
        links = [
            (_("基期核算批次 #%(id)s") % base, _run_url(base["id"])),
            (_("核算批次 #%(id)s") % run, _run_url(run["id"])),
        ]
    elif method == "protection":
        run = calc["run"]
        headers = [_("资源"), _("%(year)s 年（#%(id)s）各类别") % run, _("计入值"), _("计入比例"), _("计入")]
        rows = [
            [
                _cell(f"{line['asset']} {line.get('name', '')}"),
                _cell(_parts(line["current"])),
                _cell(_money(line["current_value"]), num=True),
                _cell(calc["share"], num=True),
                _cell(_money(line["credit"]), num=True),
            ]
            for line in calc["lines"]
        ]
        notes = [
            _("新增保护只计调节服务价值（规则计入类别与调节服务的交集：%(c)s），计入比例 %(s)s。")
            % {"c": _categories(calc), "s": calc["share"]},
            _("保护依据：%(d)s；入账 %(t)s 元。")
            % {"d": calc.get("protection_document", "—"), "t": _money(calc["amount"])},
        ]
        links = [(_("核算批次 #%(id)s") % run, _run_url(run["id"]))]
    elif method == "debit":
        headers = [_("资源"), _("核算批次"), _("GEP（元）"), _("占用比例"), _("占用（元）")]
        rows = [
            [
                _cell(line["asset"]),
                _cell(f"#{line['run']} {line['run_year']}", url=_run_url(line["run"])),
                _cell(_money(line["gep"]), num=True),
                _cell(line["fraction"], num=True),
                _cell(_money(line["consumed"]), num=True),
            ]
            for line in calc.get("lines", [])
        ]
        notes = [
            _("占用金额 = Σ 资源 GEP × 占用比例 × 占补比例 %(r)s，计入类别：%(c)s；入账 −%(t)s 元。")
            % {"r": calc.get("offset_ratio", ""), "c": _categories(calc), "t": _money(calc.get("amount", 0))}
        ]
        links = []
    elif method == "release":
        headers = [_("返还的占用记录"), _("业务日期"), _("金额（元）")]
        rows = [
            [_cell(d["entry"]), _cell(d["occurred_on"]), _cell(_money(d["amount"]), num=True, negative=True)]
            for d in calc["debits"]
        ]
        notes = [_("返还原因：%(r)s；返还 %(t)s 元。") % {"r": calc["reason"], "t": _money(calc["amount"])}]
        links = []
    elif method == "reversal":
        headers, rows = [], []
        notes = [
            _("冲正 %(n)s（原金额 %(a)s 元），本笔 %(t)s 元。原因：%(r)s")
            % {
                "n": calc["reverses"],
                "a": _money(calc["reversed_amount"]),
                "t": _money(calc["amount"]),
                "r": calc["reason"],
            }
        ]
        links = []
    else:
        return {"headers": [], "rows": [], "notes": [json.dumps(calc, ensure_ascii=False)], "links": []}
    return {"headers": headers, "rows": rows, "notes": notes, "links": links}
