"""The cooperative's risk red lines (风险红线, guidance 二(五): control liquidity and debt, strictly
control lending to firms it holds stakes in). Every number comes from the ledgers — the
transactions ledger read back by `projects.services.books` and the finance loan book — never from
typed figures; each reading keeps in `details` what went into it.

- debt ratio   = liabilities ÷ assets, where assets = CASH + RECEIVABLE + BUYBACK_ASSETS +
  EQUITY_INVESTMENTS (debit balances) and liabilities = BORROWINGS + DEPOSIT_HELD + PAYABLE (credit
  balances); no data when the books are empty, a breach when assets are not positive but debts are;
- liquidity    = (CASH + RECEIVABLE) ÷ (DEPOSIT_HELD + PAYABLE + BORROWINGS), borrowings counted as
  short-term (the conservative reading); no data without short-term liabilities;
- exposure of a loan = its outstanding principal × the cooperative's share in the loan product's
  risk-sharing scheme (role COOPERATIVE, party = the cooperative's), for loans open on the day
  whose division lies in the cooperative's subtree;
- borrower concentration = the largest exposure to one borrower ÷ net assets; project
  concentration = the largest (exposure of an admitted key project's linked loans + the
  cooperative's open stake in the project's owner) ÷ net assets; with net assets ≤ 0 any exposure
  is a breach;
- investee lending = the exposure on loans to organizations the cooperative holds an open stake in
  (limit 0: any exposure is a breach).

Thresholds: `RedLine` rows, the platform default (cooperative = None, seeded by migration 0003)
overridden by a cooperative's own row. A reading is upserted per cooperative, line and day, so
recomputing replaces the day's numbers. Alerts are the monitoring job's business, not this module's.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Organization, OrganizationKind
from directory.permissions import Capability
from finance.models import Installment, Loan, LoanStatus, RepaymentLine, RiskRole, RiskShare
from tmcs.audit import audit_context
from tmcs.errors import DomainError
from transactions.models import AccountKind

from ..models import (
    KeyProject,
    ProjectStatus,
    RedLine,
    RedLineDirection,
    RedLineKey,
    RedLineReading,
    RedLineStatus,
)
from . import books
from .common import require, required_text

ZERO = Decimal("0.00")
RATIO_PLACES = Decimal("0.000001")  # RedLine/RedLineReading decimals
MAX_THRESHOLD = Decimal("999999999999")  # max_digits=18, decimal_places=6
KEYS = [
    RedLineKey.DEBT_RATIO,
    RedLineKey.LIQUIDITY,
    RedLineKey.BORROWER_CONCENTRATION,
    RedLineKey.PROJECT_CONCENTRATION,
    RedLineKey.INVESTEE_LENDING,
]
# Each line's meaning fixes its direction: a debt ratio is never "at least", a liquidity ratio never
# "at most".
DIRECTIONS = {
    RedLineKey.DEBT_RATIO: RedLineDirection.MAX,
    RedLineKey.LIQUIDITY: RedLineDirection.MIN,
    RedLineKey.BORROWER_CONCENTRATION: RedLineDirection.MAX,
    RedLineKey.PROJECT_CONCENTRATION: RedLineDirection.MAX,
    RedLineKey.INVESTEE_LENDING: RedLineDirection.MAX,
}
# Lines measured in 元 rather than as a ratio.
AMOUNT_KEYS = frozenset({RedLineKey.INVESTEE_LENDING})
PERCENT_KEYS = frozenset(
    {RedLineKey.DEBT_RATIO, RedLineKey.BORROWER_CONCENTRATION, RedLineKey.PROJECT_CONCENTRATION}
)
OPEN_LOAN_STATUSES = (LoanStatus.ACTIVE, LoanStatus.DEFAULTED)
TOP = 5  # largest exposures kept in the details
MONEY = DecimalField(max_digits=16, decimal_places=2)
EXPOSURE = DecimalField(max_digits=24, decimal_places=8)


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def _ratio(numerator, denominator):
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def _money(value):
    return str(books.cents(value or ZERO))


def format_value(key, value):
    """How a value reads in explanations: a percentage, a plain ratio or 元."""
    if value is None:
        return "—"
    if key in AMOUNT_KEYS:
        return _("%(amount)s 元") % {"amount": books.cents(value)}
    if key in PERCENT_KEYS:
        return f"{(value * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def status_for(value, direction, limit, warning):
    """max: above the limit is a breach, above the warning line a warning; min: the mirror."""
    if direction == RedLineDirection.MAX:
        if value > limit:
            return RedLineStatus.BREACH
        return RedLineStatus.WARNING if value > warning else RedLineStatus.OK
    if value < limit:
        return RedLineStatus.BREACH
    return RedLineStatus.WARNING if value < warning else RedLineStatus.OK


# --- thresholds -------------------------------------------------------------------------------


def thresholds(cooperative):
    """{key: RedLine in force}: the cooperative's own row, else the platform default (one query)."""
    rows = RedLine.objects.filter(Q(cooperative__isnull=True) | Q(cooperative=cooperative))
    found = {}
    for row in sorted(rows, key=lambda r: r.cooperative_id is not None):  # overrides win
        found[row.key] = row
    return found


def red_line_for(cooperative, key):
    line = thresholds(cooperative).get(key)
    if line is None:
        raise DomainError(_("尚未设定“%(key)s”的红线。") % {"key": RedLineKey(key).label}, code="no_red_line")
    return line


def _threshold(value, field):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise _invalid(field, _("请输入有效的数字。"))
    if number < 0:
        raise _invalid(field, _("不能为负数。"))
    if number > MAX_THRESHOLD:
        raise _invalid(field, _("数值超出范围。"))
    if number != number.quantize(RATIO_PLACES):
        raise _invalid(field, _("最多保留六位小数。"))
    return number


def _check_cooperative(cooperative):
    if cooperative is None:
        return None
    if not isinstance(cooperative, Organization) or cooperative.kind != OrganizationKind.COOPERATIVE:
        raise _invalid("cooperative", _("请选择两山合作社（留空为平台默认值）。"))
    return cooperative


@transaction.atomic
def set_red_line(*, actor, cooperative, key, direction, limit, warning, source):
    """Set a threshold: the platform default (cooperative None) or a cooperative's override. The
    warning line comes before the limit (max: warning ≤ limit; min: warning ≥ limit)."""
    cooperative = _check_cooperative(cooperative)
    require(actor, Capability.MANAGE_OVERSIGHT, division=cooperative.division if cooperative else None)
    if key not in RedLineKey.values:
        raise _invalid("key", _("红线指标无效。"))
    key = RedLineKey(key)
    if direction not in RedLineDirection.values:
        raise _invalid("direction", _("方向无效。"))
    if direction != DIRECTIONS[key]:
        message = _("“%(key)s”只能设为“%(direction)s”某值。") % {
            "key": key.label,
            "direction": DIRECTIONS[key].label,
        }
        raise _invalid("direction", message)
    limit = _threshold(limit, "limit")
    warning = _threshold(warning, "warning")
    if direction == RedLineDirection.MAX and warning > limit:
        message = _("“不高于”类红线的预警线（%(warning)s）不能高于红线（%(limit)s）。") % {
            "warning": warning.normalize(),
            "limit": limit.normalize(),
        }
        raise _invalid("warning", message)
    if direction == RedLineDirection.MIN and warning < limit:
        message = _("“不低于”类红线的预警线（%(warning)s）不能低于红线（%(limit)s）。") % {
            "warning": warning.normalize(),
            "limit": limit.normalize(),
        }
        raise _invalid("warning", message)
    source = required_text(source, "source", _("请填写依据（政策文件或内部制度）。"), max_length=300)
    line = RedLine.objects.select_for_update().filter(cooperative=cooperative, key=key).first()
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"red line {key} for {cooperative}"):
            if line is None:
                return RedLine.objects.create(
                    cooperative=cooperative,
                    key=key,
                    direction=direction,
                    limit=limit,
                    warning=warning,
                    source=source,
                    updated_by=actor,
                )
            line.direction, line.limit, line.warning = direction, limit, warning
            line.source, line.updated_by = source, actor
            line.save()
            return line
    except IntegrityError as exc:  # the database check and uniqueness back the rules above
        raise DomainError(_("红线设置不合理，请检查红线与预警线。"), code="invalid") from exc


@transaction.atomic
def clear_red_line(*, actor, cooperative, key):
    """Remove a cooperative's override: the platform default applies again."""
    cooperative = _check_cooperative(cooperative)
    if cooperative is None:
        raise _invalid("cooperative", _("平台默认值不能删除，只能修改。"))
    require(actor, Capability.MANAGE_OVERSIGHT, division=cooperative.division)
    with audit_context(user=actor, reason=f"clear red line {key} for {cooperative.pk}"):
        deleted, _rows = RedLine.objects.filter(cooperative=cooperative, key=key).delete()
    return deleted > 0


# --- exposures --------------------------------------------------------------------------------


def loan_exposures(cooperative, party, as_of):
    """Loans the cooperative shares the risk of, open at the end of `as_of`, in its subtree,
    annotated with `coop_share`, `outstanding` (principal due − principal repaid by then) and
    `exposure` (unrounded). Subqueries only: one query whatever the number of loans."""
    share = RiskShare.objects.filter(
        scheme=OuterRef("product__risk_scheme"), role=RiskRole.COOPERATIVE, party=party
    ).values("share")[:1]
    due = (
        Installment.objects.filter(loan=OuterRef("pk"))
        .order_by()
        .values("loan")
        .annotate(s=Sum("principal_due"))
        .values("s")
    )
    paid = (
        RepaymentLine.objects.filter(installment__loan=OuterRef("pk"), repayment__paid_on__lte=as_of)
        .order_by()
        .values("installment__loan")
        .annotate(s=Sum("principal"))
        .values("s")
    )
    outstanding = Coalesce(Subquery(due, output_field=MONEY), Value(ZERO), output_field=MONEY) - Coalesce(
        Subquery(paid, output_field=MONEY), Value(ZERO), output_field=MONEY
    )
    return (
        Loan.objects.filter(
            division__code__startswith=cooperative.division.prefix,
            disbursed_on__lte=as_of,
            product__risk_scheme__isnull=False,
        )
        # open on the day: still open now, or closed after it
        .filter(Q(status__in=OPEN_LOAN_STATUSES) | Q(closed_on__gt=as_of))
        .filter(
            Exists(
                RiskShare.objects.filter(
                    scheme=OuterRef("product__risk_scheme"), role=RiskRole.COOPERATIVE, party=party
                )
            )
        )
        .annotate(coop_share=Subquery(share), outstanding=outstanding)
        .annotate(exposure=ExpressionWrapper(F("outstanding") * F("coop_share"), output_field=EXPOSURE))
    )


def _borrower_name(row):
    return row["borrower__organization__name"] or row["borrower__person__name"] or str(row["borrower"])


def _exposure_figures(cooperative, party, as_of, stakes):
    """Totals, the largest borrowers, the loans to investees and the largest projects (four
    queries)."""
    if party is None:
        return {"loans": 0, "total": ZERO, "borrowers": [], "investee_loans": [], "projects": []}
    loans = loan_exposures(cooperative, party, as_of)
    totals = loans.aggregate(n=Count("pk"), total=Sum("exposure"))
    borrowers = list(
        loans.values("borrower", "borrower__organization__name", "borrower__person__name")
        .annotate(total=Sum("exposure"), n=Count("pk"))
        .filter(total__gt=0)
        .order_by("-total", "borrower")[:TOP]
    )
    investee_ids = [stake.investee_id for stake in stakes]
    investee_loans = list(
        loans.filter(borrower__organization__in=investee_ids, outstanding__gt=0)
        .values(
            "pk",
            "number",
            "status",
            "borrower__organization",
            "borrower__organization__name",
            "outstanding",
            "coop_share",
            "exposure",
        )
        .order_by("-exposure", "pk")
        if investee_ids
        else []
    )
    project_loans = (
        loans.filter(key_projects=OuterRef("pk"))
        .order_by()
        .values("key_projects")
        .annotate(s=Sum("exposure"))
        .values("s")
    )
    stake_amount = (
        books.open_stakes(cooperative, as_of)
        .filter(investee=OuterRef("owner"))
        .order_by()
        .values("investee")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    admitted = Q(status=ProjectStatus.ADMITTED, admitted_on__lte=as_of) | Q(
        status=ProjectStatus.EXITED, admitted_on__lte=as_of, exited_on__gt=as_of
    )
    projects = list(
        KeyProject.objects.filter(admitted)
        .annotate(
            loan_exposure=Coalesce(
                Subquery(project_loans, output_field=EXPOSURE), Value(ZERO), output_field=EXPOSURE
            ),
            stake_amount=Coalesce(
                Subquery(stake_amount, output_field=MONEY), Value(ZERO), output_field=MONEY
            ),
        )
        .annotate(total=ExpressionWrapper(F("loan_exposure") + F("stake_amount"), output_field=EXPOSURE))
        .filter(total__gt=0)
        .values("pk", "number", "name", "owner__name", "loan_exposure", "stake_amount", "total")
        .order_by("-total", "pk")[:TOP]
    )
    return {
        "loans": totals["n"],
        "total": books.cents(totals["total"] or ZERO),
        "borrowers": borrowers,
        "investee_loans": investee_loans,
        "projects": projects,
    }


# --- computing --------------------------------------------------------------------------------


def _accounts(amounts):
    return [
        {"account": kind, "label": str(AccountKind(kind).label), "amount": _money(amount)}
        for kind, amount in amounts.items()
    ]


def _sum_text(amounts):
    return " + ".join(f"{AccountKind(kind).label} {books.cents(amount)}" for kind, amount in amounts.items())


def _debt_ratio(sheet):
    assets, liabilities = sheet["total_assets"], sheet["total_liabilities"]
    details = {
        "formula": _("负债 ÷ 资产"),
        "assets": _accounts(sheet["assets"]),
        "total_assets": _money(assets),
        "liabilities": _accounts(sheet["liabilities"]),
        "total_liabilities": _money(liabilities),
        "net_assets": _money(sheet["net_assets"]),
        "counterparties": sheet["counterparties"],
    }
    parts = _("资产 %(assets)s 元（%(asset_parts)s）；负债 %(liabilities)s 元（%(liability_parts)s）。") % {
        "assets": assets,
        "asset_parts": _sum_text(sheet["assets"]),
        "liabilities": liabilities,
        "liability_parts": _sum_text(sheet["liabilities"]),
    }
    if assets > 0:
        value = _ratio(liabilities, assets)
        details["explanation"] = (
            _("资产负债率 = 负债 ÷ 资产 = %(l)s ÷ %(a)s = %(v)s。")
            % {
                "l": liabilities,
                "a": assets,
                "v": format_value(RedLineKey.DEBT_RATIO, value),
            }
            + parts
        )
        return value, liabilities, assets, details, None
    if liabilities > 0:
        details["explanation"] = (
            _("资产合计 %(a)s 元不为正而负债 %(l)s 元，资不抵债，视为突破红线。")
            % {
                "a": assets,
                "l": liabilities,
            }
            + parts
        )
        return None, liabilities, assets, details, RedLineStatus.BREACH
    details["explanation"] = _("台账尚无资产和负债，无法计算资产负债率。") + parts
    return None, liabilities, assets, details, RedLineStatus.NO_DATA


def _liquidity(sheet):
    current = {kind: sheet["assets"][kind] for kind in (AccountKind.CASH, AccountKind.RECEIVABLE)}
    short = {
        kind: sheet["liabilities"][kind]
        for kind in (AccountKind.DEPOSIT_HELD, AccountKind.PAYABLE, AccountKind.BORROWINGS)
    }
    numerator, denominator = sum(current.values(), ZERO), sum(short.values(), ZERO)
    details = {
        "formula": _("（银行存款 + 应收交易价款）÷（代收保证金 + 应付收益 + 借款）"),
        "current_assets": _accounts(current),
        "total_current_assets": _money(numerator),
        "current_liabilities": _accounts(short),
        "total_current_liabilities": _money(denominator),
        "note": _("借款按短期负债计（审慎口径）。"),
    }
    parts = _(
        "流动资产 %(n)s 元（%(n_parts)s）；短期负债 %(d)s 元（%(d_parts)s）。借款按短期负债计（审慎口径）。"
    ) % {
        "n": numerator,
        "n_parts": _sum_text(current),
        "d": denominator,
        "d_parts": _sum_text(short),
    }
    if denominator <= 0:
        details["explanation"] = (
            _("无短期负债（代收保证金、应付收益、借款合计为 0），不计算流动比率。") + parts
        )
        return None, numerator, denominator, details, RedLineStatus.NO_DATA
    value = _ratio(numerator, denominator)
    details["explanation"] = (
        _("流动比率 = %(n)s ÷ %(d)s = %(v)s。")
        % {
            "n": numerator,
            "d": denominator,
            "v": format_value(RedLineKey.LIQUIDITY, value),
        }
        + parts
    )
    return value, numerator, denominator, details, None


def _concentration(key, largest, net_assets, who, exposure_note):
    """largest ÷ net assets; no exposure reads 0, a positive exposure with net assets ≤ 0 a breach."""
    largest = books.cents(largest)
    if largest <= 0:
        text = _("没有由本社分担风险的在贷敞口，集中度为 0。") + exposure_note
        return Decimal(0), largest, net_assets, text, None
    if net_assets <= 0:
        text = _("净资产 %(net)s 元不为正，任何风险敞口均突破红线；最大敞口为%(who)s %(largest)s 元。") % {
            "net": net_assets,
            "who": who,
            "largest": largest,
        }
        return None, largest, net_assets, text + exposure_note, RedLineStatus.BREACH
    value = _ratio(largest, net_assets)
    text = _("集中度 = 最大敞口 ÷ 净资产 = %(largest)s ÷ %(net)s = %(v)s；最大敞口为%(who)s。") % {
        "largest": largest,
        "net": net_assets,
        "v": format_value(key, value),
        "who": who,
    }
    return value, largest, net_assets, text + exposure_note, None


def _borrower_concentration(sheet, figures):
    top = [
        {
            "party": row["borrower"],
            "name": _borrower_name(row),
            "loans": row["n"],
            "exposure": _money(row["total"]),
        }
        for row in figures["borrowers"]
    ]
    largest = books.cents(figures["borrowers"][0]["total"]) if top else ZERO
    note = _(
        "风险敞口 = 贷款未还本金 × 本社在贷款产品风险分担方案中的分担比例；计入本社辖区内正常还款和已违约的贷款 "
        "%(n)s 笔，敞口合计 %(total)s 元。"
    ) % {"n": figures["loans"], "total": figures["total"]}
    who = _("借款人“%(name)s”") % {"name": top[0]["name"]} if top else ""
    value, numerator, denominator, text, status = _concentration(
        RedLineKey.BORROWER_CONCENTRATION, largest, sheet["net_assets"], who, note
    )
    details = {
        "formula": _("最大单一借款人风险敞口 ÷ 净资产"),
        "net_assets": _money(sheet["net_assets"]),
        "loans_counted": figures["loans"],
        "total_exposure": _money(figures["total"]),
        "largest_borrowers": top,
        "explanation": text,
    }
    return value, numerator, denominator, details, status


def _project_concentration(sheet, figures):
    top = [
        {
            "project": row["pk"],
            "number": row["number"],
            "name": row["name"],
            "owner": row["owner__name"],
            "loan_exposure": _money(row["loan_exposure"]),
            "stake": _money(row["stake_amount"]),
            "exposure": _money(row["total"]),
        }
        for row in figures["projects"]
    ]
    largest = books.cents(figures["projects"][0]["total"]) if top else ZERO
    note = _("项目敞口 = 已入库重点项目关联贷款的风险敞口 + 本社对项目业主的在持股权投资。")
    who = (
        _("项目“%(number)s %(name)s”（贷款敞口 %(loans)s 元 + 股权投资 %(stake)s 元）")
        % {
            "number": top[0]["number"],
            "name": top[0]["name"],
            "loans": top[0]["loan_exposure"],
            "stake": top[0]["stake"],
        }
        if top
        else ""
    )
    value, numerator, denominator, text, status = _concentration(
        RedLineKey.PROJECT_CONCENTRATION, largest, sheet["net_assets"], who, note
    )
    details = {
        "formula": _("最大单一项目风险敞口 ÷ 净资产"),
        "net_assets": _money(sheet["net_assets"]),
        "largest_projects": top,
        "explanation": text,
    }
    return value, numerator, denominator, details, status


def _investee_lending(stakes, figures):
    loans = [
        {
            "loan": row["pk"],
            "number": row["number"],
            "status": row["status"],
            "investee": row["borrower__organization"],
            "borrower": row["borrower__organization__name"],
            "outstanding": _money(row["outstanding"]),
            "share": str(row["coop_share"]),
            "exposure": _money(row["exposure"]),
        }
        for row in figures["investee_loans"]
    ]
    total = books.cents(sum((Decimal(row["exposure"]) for row in loans), ZERO))
    held = [
        {
            "stake": stake.pk,
            "investee": stake.investee_id,
            "name": stake.investee.name,
            "share": str(stake.share),
            "amount": _money(stake.amount),
            "acquired_on": stake.acquired_on.isoformat(),
        }
        for stake in stakes
    ]
    if not stakes:
        text = _("本社未持有其他企业的股权，无参股企业。")
    elif not loans:
        text = _("本社参股 %(n)s 家企业，均无由本社分担风险的在贷贷款。") % {"n": len(stakes)}
    else:
        text = _(
            "本社为参股企业分担风险的贷款 %(n)s 笔（%(numbers)s），敞口合计 %(total)s 元；红线为 0。"
        ) % {
            "n": len(loans),
            "numbers": "、".join(f"{row['number']}（{row['borrower']}）" for row in loans),
            "total": total,
        }
    details = {
        "formula": _("对参股企业贷款的风险敞口合计（元）"),
        "stakes": held,
        "loans": loans,
        "explanation": text,
    }
    return total, total, None, details, None


def _reading(cooperative, as_of, line, computed):
    value, numerator, denominator, details, status = computed
    if status is None:
        status = status_for(value, line.direction, line.limit, line.warning)
    details["threshold"] = {
        "direction": line.direction,
        "limit": str(line.limit),
        "warning": str(line.warning),
        "source": line.source,
        "own": line.cooperative_id is not None,
    }
    return RedLineReading(
        cooperative=cooperative,
        key=line.key,
        as_of=as_of,
        value=value,
        numerator=None if numerator is None else books.cents(numerator),
        denominator=None if denominator is None else books.cents(denominator),
        limit=line.limit,
        warning=line.warning,
        direction=line.direction,
        status=status,
        details=details,
    )


@transaction.atomic
def compute_red_lines(cooperative, as_of=None):
    """One reading per line for `cooperative` at the end of `as_of` (default today), upserted:
    computing the same day again replaces that day's readings. The number of queries does not
    depend on the number of loans or movements."""
    today = timezone.localdate()
    as_of = as_of or today
    if as_of > today:
        raise _invalid("as_of", _("日期不能晚于今天。"))
    if not isinstance(cooperative, Organization) or cooperative.kind != OrganizationKind.COOPERATIVE:
        raise _invalid("cooperative", _("请选择两山合作社。"))
    lines = thresholds(cooperative)
    missing = [key for key in KEYS if key not in lines]
    if missing:
        raise DomainError(
            _("尚未设定红线：%(keys)s。") % {"keys": "、".join(str(RedLineKey(k).label) for k in missing)},
            code="no_red_line",
        )
    sheet = books.balance_sheet(cooperative, as_of)
    party = books.cooperative_party(cooperative)
    stakes = list(
        books.open_stakes(cooperative, as_of).select_related("investee").order_by("acquired_on", "pk")
    )
    figures = _exposure_figures(cooperative, party, as_of, stakes)
    computed = {
        RedLineKey.DEBT_RATIO: _debt_ratio(sheet),
        RedLineKey.LIQUIDITY: _liquidity(sheet),
        RedLineKey.BORROWER_CONCENTRATION: _borrower_concentration(sheet, figures),
        RedLineKey.PROJECT_CONCENTRATION: _project_concentration(sheet, figures),
        RedLineKey.INVESTEE_LENDING: _investee_lending(stakes, figures),
    }
    readings = [_reading(cooperative, as_of, lines[key], computed[key]) for key in KEYS]
    return RedLineReading.objects.bulk_create(
        readings,
        update_conflicts=True,
        unique_fields=["cooperative", "key", "as_of"],
        update_fields=[
            "value",
            "numerator",
            "denominator",
            "limit",
            "warning",
            "direction",
            "status",
            "details",
            "computed_at",
        ],
    )


def active_cooperatives():
    return Organization.objects.filter(kind=OrganizationKind.COOPERATIVE, is_active=True).select_related(
        "division"
    )


def compute_all(as_of=None):
    """Readings of every active cooperative (each in its own transaction)."""
    readings = []
    for cooperative in active_cooperatives().order_by("division__code", "pk"):
        readings += compute_red_lines(cooperative, as_of)
    return readings


def recompute(*, actor, cooperative):
    """ "Recompute now" from the dashboard: today's readings of one cooperative."""
    if not isinstance(cooperative, Organization) or cooperative.kind != OrganizationKind.COOPERATIVE:
        raise _invalid("cooperative", _("请选择两山合作社。"))
    require(actor, Capability.MANAGE_PROJECTS, division=cooperative.division)
    with audit_context(user=actor, reason=f"recompute red lines of {cooperative.pk}"):
        return compute_red_lines(cooperative)
