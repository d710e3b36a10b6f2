"""Performance evaluation of cooperatives (两山合作社建设绩效评价, guidance 四(四)).

The guidance names four factors — 生态资源盘活, 生态产业带动, 绿色金融撬动, 群众增收致富 — but no
official method or weights are published ("研究制定绩效评价办法"), so a method is data: an
EvaluationScheme with one EvaluationIndicator (weight, full-score target) per indicator used.

Every indicator is computed from platform records only, over the cooperative's division subtree
and the half-open period [period_start, period_end):

- RESOURCE_ACTIVATION = distinct registered assets that were under a collection contract or a
  trade contract in force during the period ÷ registered assets at the period end. "Registered at
  the period end": current status registered/collected/listed/leased/pledged, or retired only
  after the period end (the asset's own history says when it was retired); an asset whose first
  completed registration (确权登记) is dated after the period end does not count. "In force": not
  a draft, term overlapping the period, not signed after the period end and not ended before it.
- INVESTMENT_ATTRACTED = social capital of key projects admitted in the period + total price of
  trade contracts signed in the period (元).
- PROJECTS_ADMITTED = key projects admitted in the period.
- FINANCIAL_LEVERAGE = principal of loans disbursed in the period ÷ capital paid into the risk
  compensation funds covering the subtree (funds of the division, of a division above it or of
  one inside it) up to the period end, from the ledger: the fund's RISK_FUND debits of
  FUND_CONTRIBUTION movements, reversed ones excluded. No such capital → no value, score 0.
- FARMER_INCOME = money actually paid to natural persons in the period from collection contracts
  in the subtree: the PAYOUT movements (scheduled rent/guaranteed/savings payouts and dividend
  payouts; reversed ones excluded) debit each holder's PAYABLE account by what was paid, so the
  sum of those debits on persons' accounts is what reached households (declared, unpaid dividends
  are not income yet).

Score = min(value ÷ target, 1) × weight, computed exactly and rounded half-up to the cent; the
total is the sum of the rounded scores. Each indicator is a fixed number of aggregate queries,
whatever the number of contracts, loans or payments.

Ranking: the rank of an evaluation is among all stored evaluations of the same scheme and period
whose cooperatives are at the same level (city / county / township), by total score, with
standard competition ranking ("1224": ties share a rank and the next rank is skipped). Every
evaluation re-ranks its group under one advisory lock, so a rank is never stale.
"""

import datetime
import zlib
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import LEVEL_PREFIX_LENGTH, DivisionLevel, Organization, OrganizationKind, PartyKind
from directory.permissions import Capability, can
from directory.selectors import users_with, within_reach
from directory.services import notify
from finance.models import Loan, RiskCompensationFund
from resources.models import Asset, AssetEvent, AssetStatus, Registration, RegistrationStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import (
    AccountKind,
    CollectionItem,
    ContractStatus,
    MovementKind,
    Posting,
    TradeContract,
    TradeContractItem,
)

from ..models import (
    EvaluationIndicator,
    EvaluationScheme,
    IndicatorKey,
    KeyProject,
    PerformanceEvaluation,
    ProjectStatus,
)
from .common import check_transition, required_text

CENT = Decimal("0.01")
RATIO = Decimal("0.000001")
ZERO = Decimal("0.00")
WEIGHT_TOTAL = Decimal("100")
MAX_WEIGHT = Decimal("9999.99")  # EvaluationIndicator.weight: 6 digits, 2 places
MAX_TARGET = Decimal("999999999999.999999")  # EvaluationIndicator.target: 18 digits, 6 places
COOPERATIVE_LEVELS = (DivisionLevel.CITY, DivisionLevel.COUNTY, DivisionLevel.TOWNSHIP)

# An asset "registered" in the sense of the registry: it has left drafting and 公示.
REGISTERED_STATUSES = (
    AssetStatus.REGISTERED,
    AssetStatus.COLLECTED,
    AssetStatus.LISTED,
    AssetStatus.LEASED,
    AssetStatus.PLEDGED,
)

# How each indicator's value is shown: "ratio" as a percentage, "times" with 4 places.
UNITS = {
    IndicatorKey.RESOURCE_ACTIVATION: "ratio",
    IndicatorKey.INVESTMENT_ATTRACTED: "yuan",
    IndicatorKey.PROJECTS_ADMITTED: "count",
    IndicatorKey.FINANCIAL_LEVERAGE: "times",
    IndicatorKey.FARMER_INCOME: "yuan",
}

# A scheme is switched off once (it stays readable, and so do its evaluations).
SCHEME_TRANSITIONS = {True: {False}, False: set()}


def _invalid(field, message, code="invalid"):
    return DomainError(message, code=code, fields={field: [message]})


# --- schemes ----------------------------------------------------------------------------------


def _decimal(value, field, label, *, places, maximum):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite():
        raise _invalid(field, _("“%(label)s”不是有效数字。") % {"label": label})
    if number <= 0:
        raise _invalid(field, _("“%(label)s”须大于0。") % {"label": label})
    if number != number.quantize(places):
        raise _invalid(
            field,
            _("“%(label)s”最多保留 %(n)s 位小数。") % {"label": label, "n": -places.as_tuple().exponent},
        )
    if number > maximum:
        raise _invalid(field, _("“%(label)s”超出范围。") % {"label": label})
    return number


def clean_indicators(indicators):
    """[(key, weight, target, note)] checked: known keys, each once, weight > 0 with at most two
    places, target > 0 with at most six, and the weights summing to exactly 100."""
    if not indicators:
        raise _invalid("indicators", _("请至少设置一个评价指标。"))
    cleaned, seen = [], set()
    for row in indicators:
        if not isinstance(row, dict):
            raise _invalid("indicators", _("评价指标格式有误。"))
        key = row.get("key")
        if key not in IndicatorKey.values:
            raise _invalid("indicators", _("评价指标“%(key)s”无效。") % {"key": key})
        key = IndicatorKey(key)
        if key in seen:
            raise _invalid("indicators", _("评价指标“%(label)s”重复。") % {"label": key.label})
        seen.add(key)
        weight = _decimal(
            row.get("weight"),
            "indicators",
            _("%(label)s的权重") % {"label": key.label},
            places=CENT,
            maximum=MAX_WEIGHT,
        )
        target = _decimal(
            row.get("target"),
            "indicators",
            _("%(label)s的满分目标值") % {"label": key.label},
            places=RATIO,
            maximum=MAX_TARGET,
        )
        note = str(row.get("note") or "").strip()
        if len(note) > 300:
            raise _invalid("indicators", _("指标说明不能超过 300 个字。"))
        cleaned.append((key, weight, target, note))
    total = sum((weight for _k, weight, _t, _n in cleaned), Decimal(0))
    if total != WEIGHT_TOTAL:
        raise _invalid(
            "indicators",
            _("各指标权重合计须恰好等于 100 分，现为 %(total)s 分。")
            % {"total": format(total.normalize(), "f")},
        )
    return cleaned


def _require_oversight(actor):
    if not can(actor, Capability.MANAGE_OVERSIGHT):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


@transaction.atomic
def create_scheme(*, actor, name, version, source, indicators):
    """A performance evaluation method: indicators with weights (summing to 100) and targets."""
    _require_oversight(actor)
    name = required_text(name, "name", _("请填写方案名称。"), max_length=100)
    version = required_text(version, "version", _("请填写版本号。"), max_length=20)
    source = required_text(
        source, "source", _("请填写依据（文件名称及文号，或内部决策记录）。"), max_length=300
    )
    cleaned = clean_indicators(indicators)
    # The unique index stays the last word (a concurrent create of the same version fails there
    # and rolls back the whole transaction); this check gives the usual case a clear message.
    if EvaluationScheme.objects.filter(version=version).exists():
        message = _("版本“%(version)s”已存在，请使用新的版本号。") % {"version": version}
        raise ConflictError(message, code="duplicate", fields={"version": [message]})
    with audit_context(user=actor, reason=f"create evaluation scheme {version}"):
        scheme = EvaluationScheme.objects.create(name=name, version=version, source=source, created_by=actor)
        EvaluationIndicator.objects.bulk_create(
            [
                EvaluationIndicator(scheme=scheme, key=key, weight=weight, target=target, note=note)
                for key, weight, target, note in cleaned
            ]
        )
    return scheme


@transaction.atomic
def deactivate_scheme(*, actor, scheme):
    """Stop using a scheme for new evaluations (its evaluations stay as they are)."""
    _require_oversight(actor)
    scheme = EvaluationScheme.objects.select_for_update().get(pk=scheme.pk)
    check_transition(
        SCHEME_TRANSITIONS,
        scheme.is_active,
        False,
        lambda active: _("启用") if active else _("停用"),
    )
    with audit_context(user=actor, reason=f"deactivate evaluation scheme {scheme.version}"):
        scheme.is_active = False
        scheme.save(update_fields=["is_active"])
    return scheme


# --- the period -------------------------------------------------------------------------------


def check_period(period_start, period_end):
    """Real dates, end after start, and a period that is over: its last day (period_end − 1, the
    end is exclusive) is not after today."""
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise _invalid(name, _("请输入有效的日期。"))
    if period_end <= period_start:
        raise _invalid("period_end", _("评价期止须晚于评价期起。"))
    if period_end - datetime.timedelta(days=1) > timezone.localdate():
        raise _invalid("period_end", _("评价期尚未结束：评价期的最后一天不能晚于今天。"))


def _moment(day):
    """Local midnight at the start of `day` (business dates are local, timestamps are UTC)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- indicators -------------------------------------------------------------------------------


class _Scope:
    """The cooperative's subtree and the period, with the pieces every query needs."""

    def __init__(self, cooperative, period_start, period_end):
        self.cooperative = cooperative
        self.division = cooperative.division
        self.prefix = self.division.prefix
        self.start, self.end = period_start, period_end
        self.start_at, self.end_at = _moment(period_start), _moment(period_end)
        self.last_day = period_end - datetime.timedelta(days=1)

    def under(self, field):
        return Q(**{f"{field}__code__startswith": self.prefix})

    def ancestor_codes(self):
        """Codes of the division and every division above it (no query: codes are prefixes)."""
        length = len(self.prefix)
        return {self.division.code[:n].ljust(12, "0") for n in LEVEL_PREFIX_LENGTH.values() if n <= length}


def _in_force(scope, prefix=""):
    """Q of contracts in force at some time in the period (see the module docstring)."""
    p = prefix
    return (
        ~Q(**{f"{p}status": ContractStatus.DRAFT})
        & Q(**{f"{p}start_date__lt": scope.end, f"{p}end_date__gt": scope.start})
        & (Q(**{f"{p}signed_at__isnull": True}) | Q(**{f"{p}signed_at__lt": scope.end_at}))
        & (Q(**{f"{p}ended_at__isnull": True}) | Q(**{f"{p}ended_at__gte": scope.start_at}))
    )


def registered_assets(scope):
    """Assets of the subtree registered at the period end (module docstring)."""
    retired_before = AssetEvent.objects.filter(
        pgh_obj=OuterRef("pk"), status=AssetStatus.RETIRED, pgh_created_at__lt=scope.end_at
    )
    completed = Registration.objects.filter(asset=OuterRef("pk"), status=RegistrationStatus.REGISTERED)
    registered_late = Exists(completed.filter(registered_at__gte=scope.end_at)) & ~Exists(
        completed.filter(registered_at__lt=scope.end_at)
    )
    return (
        Asset.objects.filter(scope.under("division"))
        .filter(Q(status__in=REGISTERED_STATUSES) | (Q(status=AssetStatus.RETIRED) & ~Exists(retired_before)))
        .exclude(registered_late)
    )


def _resource_activation(scope):
    collected = Exists(
        CollectionItem.objects.filter(asset=OuterRef("pk")).filter(_in_force(scope, "contract__"))
    )
    traded = Exists(
        TradeContractItem.objects.filter(asset=OuterRef("pk")).filter(_in_force(scope, "contract__"))
    )
    counts = registered_assets(scope).aggregate(
        registered=Count("pk"),
        activated=Count("pk", filter=Q(collected) | Q(traded)),
        collected=Count("pk", filter=Q(collected)),
        traded=Count("pk", filter=Q(traded)),
    )
    registered, activated = counts["registered"], counts["activated"]
    details = {key: counts[key] for key in ("registered", "activated", "collected", "traded")}
    if not registered:
        return {
            "value": None,
            "numerator": Decimal(activated),
            "denominator": Decimal(0),
            "explanation": _("期末（%(day)s）辖区内没有已登记在册的资源资产，无法计算盘活率，本项得 0 分。")
            % {"day": scope.last_day},
            "details": details,
        }
    value = Fraction(activated, registered)
    return {
        "value": value,
        "numerator": Decimal(activated),
        "denominator": Decimal(registered),
        "explanation": _(
            "期末（%(day)s）辖区内已登记在册的资源资产 %(registered)s 项；其中评价期内处于生效的收储合同或交易"
            "合同中的 %(activated)s 项（在收储合同中 %(collected)s 项、在交易合同中 %(traded)s 项，同一资产只计一次）。"
            "盘活率 = %(activated)s ÷ %(registered)s = %(percent)s。"
        )
        % {**details, "day": scope.last_day, "percent": _percent(value)},
        "details": details,
    }


def _admitted_projects(scope):
    return list(
        KeyProject.objects.filter(
            scope.under("division"),
            status__in=[ProjectStatus.ADMITTED, ProjectStatus.EXITED],
            admitted_on__gte=scope.start,
            admitted_on__lt=scope.end,
        )
        .order_by("admitted_on", "number")
        .values_list("number", "social_capital")
    )


def _investment_attracted(scope, projects):
    social = sum((capital for _number, capital in projects), ZERO)
    trades = TradeContract.objects.filter(
        scope.under("division"),
        signed_at__isnull=False,
        signed_at__gte=scope.start_at,
        signed_at__lt=scope.end_at,
    ).aggregate(n=Count("pk"), total=Sum("price"))
    price = trades["total"] or ZERO
    total = social + price
    details = {
        "projects": len(projects),
        "social_capital": str(social),
        "trade_contracts": trades["n"],
        "trade_price": str(price),
    }
    return {
        "value": total,
        "numerator": total,
        "denominator": None,
        "explanation": _(
            "评价期内新入库重点项目 %(projects)s 个，其社会资本合计 %(social)s 元；评价期内签订的交易合同 "
            "%(contracts)s 份，合同总价合计 %(price)s 元。引入社会资本 = %(social)s + %(price)s = %(total)s 元。"
        )
        % {
            "projects": len(projects),
            "social": social,
            "contracts": trades["n"],
            "price": price,
            "total": total,
        },
        "details": details,
    }


def _projects_admitted(scope, projects):
    numbers = [number for number, _capital in projects]
    count = Decimal(len(numbers))
    return {
        "value": count,
        "numerator": count,
        "denominator": None,
        "explanation": (
            _("评价期内新入库重点项目 %(n)s 个：%(numbers)s。")
            % {"n": len(numbers), "numbers": "、".join(numbers)}
            if numbers
            else _("评价期内没有新入库的重点项目。")
        ),
        "details": {"projects": numbers},
    }


def _financial_leverage(scope):
    loans = Loan.objects.filter(
        scope.under("division"), disbursed_on__gte=scope.start, disbursed_on__lt=scope.end
    ).aggregate(n=Count("pk"), total=Sum("principal"))
    principal = loans["total"] or ZERO
    funds = list(
        RiskCompensationFund.objects.filter(
            Q(division__code__in=scope.ancestor_codes()) | scope.under("division")
        )
        .select_related("division")
        .defer("division__boundary")
        .order_by("division__code", "name")
    )
    contributed = {}
    if funds:
        contributions = (
            Posting.objects.filter(
                account__kind=AccountKind.RISK_FUND,
                account__party__organization__in=[fund.manager_id for fund in funds],
                amount__gt=0,
                movement__kind=MovementKind.FUND_CONTRIBUTION,
                movement__occurred_on__lt=scope.end,
                movement__reversed_by__isnull=True,
            )
            .values("account__party__organization")
            .annotate(total=Sum("amount"))
        )
        contributed = {row["account__party__organization"]: row["total"] for row in contributions}
    capital = sum(contributed.values(), ZERO)
    details = {
        "loans": loans["n"],
        "principal": str(principal),
        "funds": [
            {
                "name": fund.name,
                "division": fund.division.name,
                "contributed": str(contributed.get(fund.manager_id, ZERO)),
            }
            for fund in funds
        ],
        "capital": str(capital),
    }
    loans_text = _("评价期内辖区放款 %(n)s 笔，本金合计 %(principal)s 元") % {
        "n": loans["n"],
        "principal": principal,
    }
    if not capital:
        reason = (
            _("覆盖辖区的风险补偿基金截至期末（%(day)s）尚无出资到账") % {"day": scope.last_day}
            if funds
            else _("没有覆盖辖区的风险补偿基金")
        )
        return {
            "value": None,
            "numerator": principal,
            "denominator": ZERO,
            "explanation": _("%(loans)s；%(reason)s，无法计算撬动倍数，本项得 0 分。")
            % {"loans": loans_text, "reason": reason},
            "details": details,
        }
    value = Fraction(principal) / Fraction(capital)
    fund_text = "、".join(
        _("%(name)s %(amount)s 元") % {"name": f["name"], "amount": f["contributed"]}
        for f in details["funds"]
    )
    return {
        "value": value,
        "numerator": principal,
        "denominator": capital,
        "explanation": _(
            "%(loans)s；截至期末（%(day)s）覆盖辖区的风险补偿基金累计出资 %(capital)s 元（%(funds)s）。"
            "撬动倍数 = %(principal)s ÷ %(capital)s = %(times)s 倍。"
        )
        % {
            "loans": loans_text,
            "day": scope.last_day,
            "capital": capital,
            "funds": fund_text,
            "principal": principal,
            "times": _times(value),
        },
        "details": details,
    }


def _farmer_income(scope):
    paid = Posting.objects.filter(
        account__kind=AccountKind.PAYABLE,
        account__party__kind=PartyKind.PERSON,
        amount__gt=0,
        movement__kind=MovementKind.PAYOUT,
        movement__reversed_by__isnull=True,
        movement__occurred_on__gte=scope.start,
        movement__occurred_on__lt=scope.end,
        movement__collection_contract__division__code__startswith=scope.prefix,
    ).aggregate(
        total=Sum("amount"),
        dividends=Sum("amount", filter=Q(movement__distribution__isnull=False)),
        persons=Count("account__party", distinct=True),
        payouts=Count("movement", distinct=True),
        contracts=Count("movement__collection_contract", distinct=True),
    )
    total = paid["total"] or ZERO
    dividends = paid["dividends"] or ZERO
    scheduled = total - dividends
    details = {
        "persons": paid["persons"],
        "payouts": paid["payouts"],
        "contracts": paid["contracts"],
        "scheduled": str(scheduled),
        "dividends": str(dividends),
    }
    return {
        "value": total,
        "numerator": total,
        "denominator": None,
        "explanation": _(
            "评价期内辖区 %(contracts)s 份收储合同通过 %(payouts)s 笔支付凭证实际支付给 %(persons)s 位农户（自然人）"
            "共 %(total)s 元，其中租金/保底/储蓄收益 %(scheduled)s 元、分红 %(dividends)s 元；已冲正的支付不计，"
            "已确认未支付的分红不计。"
        )
        % {**details, "total": total},
        "details": details,
    }


def _percent(value):
    return f"{(Decimal(value.numerator) / Decimal(value.denominator) * 100).quantize(CENT, ROUND_HALF_UP)}%"


def _times(value):
    return str(
        (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    )


def _as_decimal(value):
    """The stored value: ratios to 6 places, money to the cent, counts whole."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(RATIO, ROUND_HALF_UP)
    return value


def _display(unit, value):
    if value is None:
        return _("无法计算")
    if unit == "ratio":
        return _percent(Fraction(value))
    if unit == "times":
        return _("%(n)s 倍") % {"n": _times(Fraction(value))}
    if unit == "count":
        return _("%(n)s 个") % {"n": int(value)}
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return _("%(n)s 元") % {"n": value.quantize(CENT)}


def _score(value, indicator):
    """min(value ÷ target, 1) × weight, exactly, then half-up to the cent."""
    if value is None:
        return ZERO
    attainment = min(Fraction(value) / Fraction(indicator.target), Fraction(1))
    exact = attainment * Fraction(indicator.weight)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(CENT, ROUND_HALF_UP)


def _text(number):
    return None if number is None else str(number)


def compute_indicators(scheme, cooperative, period_start, period_end):
    """[{key, label, unit, value, display, target, target_display, weight, score, numerator,
    denominator, explanation, details}] for the scheme's indicators (numbers as strings, JSON-ready)."""
    check_period(period_start, period_end)
    scope = _Scope(cooperative, period_start, period_end)
    indicators = list(scheme.indicators.order_by("pk"))
    keys = {indicator.key for indicator in indicators}
    projects = (
        _admitted_projects(scope)
        if keys & {IndicatorKey.INVESTMENT_ATTRACTED, IndicatorKey.PROJECTS_ADMITTED}
        else []
    )
    compute = {
        IndicatorKey.RESOURCE_ACTIVATION: lambda: _resource_activation(scope),
        IndicatorKey.INVESTMENT_ATTRACTED: lambda: _investment_attracted(scope, projects),
        IndicatorKey.PROJECTS_ADMITTED: lambda: _projects_admitted(scope, projects),
        IndicatorKey.FINANCIAL_LEVERAGE: lambda: _financial_leverage(scope),
        IndicatorKey.FARMER_INCOME: lambda: _farmer_income(scope),
    }
    rows = []
    for indicator in indicators:
        key = IndicatorKey(indicator.key)
        result = compute[key]()
        unit = UNITS[key]
        rows.append(
            {
                "key": key.value,
                "label": str(key.label),
                "unit": unit,
                "value": _text(_as_decimal(result["value"])),
                "display": _display(unit, result["value"]),
                "target": format(indicator.target.normalize(), "f"),
                "target_display": _display(unit, Fraction(indicator.target)),
                "weight": str(indicator.weight),
                "score": str(_score(result["value"], indicator)),
                "numerator": _text(result["numerator"]),
                "denominator": _text(result["denominator"]),
                "explanation": result["explanation"],
                "details": result["details"],
            }
        )
    return rows


def total_score(rows):
    return sum((Decimal(row["score"]) for row in rows), ZERO)


# --- evaluations ------------------------------------------------------------------------------


def _check_cooperative(cooperative):
    if not isinstance(cooperative, Organization) or cooperative.kind != OrganizationKind.COOPERATIVE:
        raise _invalid("cooperative", _("请选择一个两山合作社。"))
    if cooperative.division.level not in COOPERATIVE_LEVELS:
        raise _invalid("cooperative", _("合作社所在区划的级别不在评价范围内。"))


def may_evaluate(actor, cooperative):
    division = cooperative.division
    return can(actor, Capability.MANAGE_PROJECTS, division=division) or can(
        actor, Capability.MANAGE_OVERSIGHT, division=division
    )


def _require_evaluate(actor, cooperative):
    if not may_evaluate(actor, cooperative):
        raise PermissionDeniedError(_("您没有权限评价该合作社。"))


def _check_scheme(scheme):
    if not isinstance(scheme, EvaluationScheme):
        raise _invalid("scheme", _("请选择评价方案。"))
    scheme = EvaluationScheme.objects.get(pk=scheme.pk)
    if not scheme.is_active:
        raise ConflictError(
            _("评价方案“%(scheme)s”已停用，不能用于新的评价。") % {"scheme": scheme},
            code="scheme_inactive",
            fields={"scheme": [_("该方案已停用。")]},
        )
    return scheme


def _lock_group(scheme, period_start, period_end, level):
    """Serialize evaluations of one ranking group (scheme, period, level) until commit."""
    key = zlib.crc32(f"performance:{scheme.pk}:{period_start}:{period_end}:{level}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x7064, key - 2**31])


def _upsert(actor, scheme, cooperative, period_start, period_end):
    rows = compute_indicators(scheme, cooperative, period_start, period_end)
    evaluation, _created = PerformanceEvaluation.objects.update_or_create(
        scheme=scheme,
        cooperative=cooperative,
        period_start=period_start,
        period_end=period_end,
        defaults={"indicators": rows, "total_score": total_score(rows), "computed_by": actor},
    )
    return evaluation


def rerank(scheme, period_start, period_end, level):
    """Standard competition ranking of the group's stored evaluations; returns them by rank."""
    group = list(
        PerformanceEvaluation.objects.filter(
            scheme=scheme,
            period_start=period_start,
            period_end=period_end,
            cooperative__division__level=level,
        )
        .select_related("cooperative__division")
        .order_by("-total_score", "cooperative__division__code", "pk")
    )
    changed = []
    for position, evaluation in enumerate(group):
        ahead = position
        if position and group[position - 1].total_score == evaluation.total_score:
            ahead = group[position - 1].rank - 1
        rank = ahead + 1
        if (evaluation.rank, evaluation.peer_count) != (rank, len(group)):
            evaluation.rank, evaluation.peer_count = rank, len(group)
            changed.append(evaluation)
        else:
            evaluation.rank = rank
    PerformanceEvaluation.objects.bulk_update(changed, ["rank", "peer_count"])
    return group


@transaction.atomic
def evaluate_cooperative(*, actor, scheme, cooperative, period_start, period_end):
    """Compute (or recompute) one cooperative's evaluation for a period and re-rank its peers."""
    _check_cooperative(cooperative)
    _require_evaluate(actor, cooperative)
    scheme = _check_scheme(scheme)
    check_period(period_start, period_end)
    level = cooperative.division.level
    _lock_group(scheme, period_start, period_end, level)
    with audit_context(user=actor, reason=f"performance evaluation {scheme.version}: {cooperative.pk}"):
        evaluation = _upsert(actor, scheme, cooperative, period_start, period_end)
        rerank(scheme, period_start, period_end, level)
    evaluation.refresh_from_db()
    return evaluation


@transaction.atomic
def evaluate_peers(*, actor, scheme, level, period_start, period_end):
    """Evaluate every active cooperative of `level` the actor may evaluate, and rank the group."""
    if level not in COOPERATIVE_LEVELS:
        raise _invalid("level", _("请选择市、县（市、区）或乡镇（街道）级。"))
    if not (can(actor, Capability.MANAGE_PROJECTS) or can(actor, Capability.MANAGE_OVERSIGHT)):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))
    scheme = _check_scheme(scheme)
    check_period(period_start, period_end)
    reach = within_reach(actor, "division__code", Capability.MANAGE_PROJECTS) | within_reach(
        actor, "division__code", Capability.MANAGE_OVERSIGHT
    )
    cooperatives = list(
        Organization.objects.filter(
            reach, kind=OrganizationKind.COOPERATIVE, is_active=True, division__level=level
        )
        .select_related("division")
        .order_by("division__code", "pk")
    )
    if not cooperatives:
        raise _invalid("level", _("您的辖区内没有该级别的两山合作社。"), code="no_peers")
    _lock_group(scheme, period_start, period_end, level)
    with audit_context(user=actor, reason=f"performance evaluation of peers {scheme.version}: {level}"):
        for cooperative in cooperatives:
            _require_evaluate(actor, cooperative)
            _upsert(actor, scheme, cooperative, period_start, period_end)
        group = rerank(scheme, period_start, period_end, level)
    ours = {cooperative.pk for cooperative in cooperatives}
    evaluated = [evaluation for evaluation in group if evaluation.cooperative_id in ours]
    transaction.on_commit(lambda: _notify_peers(actor, scheme, evaluated))
    return evaluated


def _notify_peers(actor, scheme, evaluations):
    """Tell each cooperative's desk its score and rank (not the actor, who is looking at them)."""
    for evaluation in evaluations:
        recipients = [
            user
            for user in users_with(Capability.MANAGE_PROJECTS, organization=evaluation.cooperative)
            if user.pk != actor.pk and not user.is_superuser
        ]
        if recipients:
            notify(
                recipients=recipients,
                title=_("绩效评价结果：%(cooperative)s") % {"cooperative": evaluation.cooperative.name},
                body=_(
                    "%(scheme)s，评价期 %(start)s 至 %(end)s：总分 %(score)s，同级排名 %(rank)s/%(count)s。"
                )
                % {
                    "scheme": scheme,
                    "start": evaluation.period_start,
                    "end": evaluation.period_end - datetime.timedelta(days=1),
                    "score": evaluation.total_score,
                    "rank": evaluation.rank,
                    "count": evaluation.peer_count,
                },
                link=evaluation.get_absolute_url(),
            )
