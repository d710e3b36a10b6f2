"""Collateral appraisal (抵质押物评估): what a right can bear under a loan product.

Two approaches of LY/T 2407-2015 (森林资源资产评估技术规范), both over the same horizon:
- income approach (收益现值法): the holder's yearly income = the asset's latest accepted GEP ×
  the product's share of GEP counted as income × the right's share, discounted as an annuity;
- market approach (市场比较法): the yearly price of the asset's own trade contracts signed in the
  last three years, apportioned to the asset by its collection weight, × the right's share,
  capitalised the same way.
When both exist the lower is taken (prudence); when neither exists no appraisal is made.
A savings slip's income right (生态资源储蓄单) is appraised on the slip alone: the present value of
its remaining guaranteed yearly amounts (remaining whole years, capped by the product's maximum,
discounted at the product's rate); the asset's GEP and trades are the cooperative's income, not
the household's, so neither approach applies and there is no market value.
Horizon: the right's remaining term (days/365, so partial years count), capped by the product's
maximum number of years. Arithmetic in Decimal at 40 significant digits, rounded to the cent
only at the end. Every input and step is stored in `calculation` (decimals as strings) so a bank
can re-do the computation from the record it cites.

Appraisals are append-only (a database trigger refuses UPDATE and DELETE): a new appraisal
supersedes an old one, and `current_appraisal` returns the latest one still valid.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from directory.permissions import Capability
from resources.models import RightStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from transactions.models import ContractStatus, SavingsSlip, SlipStatus, TradeContract
from transactions.services.collection import add_months, item_weight
from transactions.services.common import cooperative_for
from valuation.selectors import latest_asset_valuation

from ..models import ApplicationCollateral, ApplicationStatus, CollateralAppraisal, LoanApplication
from .common import next_number, require

CENT = Decimal("0.01")
PRECISION = 40
DAYS_PER_YEAR = Decimal(365)
MARKET_LOOKBACK_YEARS = 3
STANDARD = "LY/T 2407-2015"
MARKET_STATUSES = (ContractStatus.SIGNED, ContractStatus.EXPIRED)
# An application whose collateral may still be (re-)appraised: before the loan is paid out.
APPRAISABLE_APPLICATION_STATUSES = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.RETURNED,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.APPROVED,
    ApplicationStatus.BANK_APPROVED,
)


def _cents(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _s(value):
    """A decimal as a plain string for the JSON record (no exponent notation)."""
    return None if value is None else f"{value:f}"


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def annuity_factor(rate, years):
    """Present value of 1 元 a year for `years` (may be fractional) at `rate`:
    (1 − (1 + r)^−n) / r, or n when r = 0. Call inside a high-precision context."""
    if years <= 0:
        return Decimal(0)
    if rate == 0:
        return years
    return (1 - (1 + rate) ** (-years)) / rate


def right_share(right):
    return Decimal(right.share_numerator) / Decimal(right.share_denominator)


def _horizon(right, product, on):
    """Years of income counted: the right's remaining term (None end → the product's cap), capped
    by the product's maximum; partial years by days/365."""
    cap = Decimal(product.max_valuation_years)
    end = right.period.upper
    remaining_days = None if end is None else (end - on).days
    remaining = None if end is None else Decimal(remaining_days) / DAYS_PER_YEAR
    limited_by = "right_end" if remaining is not None and remaining < cap else "product_cap"
    return {
        "remaining_days": remaining_days,
        "remaining_years": remaining,
        "cap_years": cap,
        "years": cap if limited_by == "product_cap" else remaining,
        "limited_by": limited_by,
    }


def _income_approach(right, product, share, factor):
    valuation = latest_asset_valuation(right.asset)
    if valuation is None:
        return None, None
    yearly = valuation.total * product.income_share_of_gep * share
    value = _cents(yearly * factor)
    step = {
        "run_id": valuation.run.pk,
        "run_year": valuation.run.year,
        "gep_total": _s(valuation.total),
        "income_share_of_gep": _s(product.income_share_of_gep),
        "right_share": _s(share),
        "yearly_income": _s(yearly),
        "annuity_factor": _s(factor),
        "value": _s(value),
    }
    return step, valuation


def market_contracts(asset, on):
    """Signed or expired trade contracts that include `asset`, signed in the three years up to
    `on`, with all their items (the apportioning weights need every asset of the contract)."""
    since = _years_before(on, MARKET_LOOKBACK_YEARS)
    return list(
        TradeContract.objects.filter(
            items__asset=asset,
            status__in=MARKET_STATUSES,
            signed_at__date__gte=since,
            signed_at__date__lte=on,
        )
        .prefetch_related("items__asset")
        .order_by("signed_at", "pk")
        .distinct()
    )


def _market_approach(right, share, factor, on):
    contracts = market_contracts(right.asset, on)
    if not contracts:
        return None
    evidence = []
    for contract in contracts:
        weights = {item.asset_id: item_weight(item.asset) for item in contract.items.all()}
        total_weight = sum(weights.values(), Decimal(0))
        term_days = (contract.end_date - contract.start_date).days
        term_years = Decimal(term_days) / DAYS_PER_YEAR
        yearly_price = contract.price / term_years
        for_asset = yearly_price * weights[right.asset_id] / total_weight
        evidence.append(
            {
                "contract": contract.number,
                "status": contract.status,
                "signed_on": timezone.localtime(contract.signed_at).date().isoformat(),
                "start_date": contract.start_date.isoformat(),
                "end_date": contract.end_date.isoformat(),
                "price": _s(contract.price),
                "term_days": term_days,
                "yearly_price": _s(yearly_price),
                "asset_weight": _s(weights[right.asset_id]),
                "total_weight": _s(total_weight),
                "yearly_for_asset": _s(for_asset),
                "yearly_for_right": _s(for_asset * share),
            }
        )
    # Several contracts are comparables of one asset: their mean, as the market approach does.
    yearly = sum((Decimal(e["yearly_for_right"]) for e in evidence), Decimal(0)) / len(evidence)
    value = _cents(yearly * factor)
    return {
        "lookback_years": MARKET_LOOKBACK_YEARS,
        "contracts": evidence,
        "right_share": _s(share),
        "yearly_income": _s(yearly),
        "annuity_factor": _s(factor),
        "value": _s(value),
    }


def savings_slip_of(right):
    """The savings slip that certificates `right` (its income right), or None."""
    try:
        return right.savings_slip
    except SavingsSlip.DoesNotExist:
        return None


def _slip_horizon(slip, product, on):
    """Whole years of guaranteed amounts left on `on`, capped by the product's maximum."""
    whole = 0
    while add_months(on, 12 * (whole + 1)) <= slip.end_date:
        whole += 1
    cap = product.max_valuation_years
    return {
        "remaining_days": (slip.end_date - on).days,
        "remaining_whole_years": whole,
        "cap_years": cap,
        "years": min(whole, cap),
        "limited_by": "right_end" if whole < cap else "product_cap",
    }


def _slip_approach(slip, product, on):
    """(horizon, annuity factor, step) of a savings slip: its guaranteed yearly amount as an
    annuity over the remaining whole years. Call inside a high-precision context."""
    if slip.status != SlipStatus.ACTIVE:
        raise ConflictError(
            _("储蓄单 %(number)s 状态为“%(status)s”，不能评估。")
            % {"number": slip.number, "status": slip.get_status_display()},
            code="slip_not_active",
        )
    horizon = _slip_horizon(slip, product, on)
    if horizon["years"] < 1:
        raise ConflictError(
            _("储蓄单 %(number)s 剩余期限不足一年（%(day)s 到期），没有可折现的保底收益。")
            % {"number": slip.number, "day": slip.end_date},
            code="slip_too_short",
        )
    factor = annuity_factor(product.discount_rate, Decimal(horizon["years"]))
    yearly = slip.guaranteed_annual_amount
    value = _cents(yearly * factor)
    step = {
        "method": "savings_slip",
        "slip": slip.number,
        "slip_end_date": slip.end_date.isoformat(),
        "guaranteed_annual_amount": _s(yearly),
        "years": horizon["years"],
        "discount_rate": _s(product.discount_rate),
        "annuity_factor": _s(factor),
        "yearly_income": _s(yearly),
        "value": _s(value),
    }
    return horizon, factor, step


def _check_right(right, product, on):
    if right.status != RightStatus.ACTIVE:
        raise ConflictError(_("该权利已终止，不能评估。"), code="right_ended")
    if right.period.lower > on or (right.period.upper is not None and right.period.upper <= on):
        raise ConflictError(
            _("评估基准日 %(on)s 不在权利有效期（%(start)s 至 %(end)s）内。")
            % {"on": on, "start": right.period.lower, "end": right.period.upper or _("长期")},
            code="right_not_in_force",
        )
    if right.kind not in product.eligible_right_kinds:
        raise DomainError(
            _("产品“%(product)s”不接受%(kind)s作抵质押。")
            % {"product": product.name, "kind": right.get_kind_display()},
            code="ineligible_right",
            fields={"right": [_("该产品不接受此类权利。")]},
        )
    types = list(product.eligible_resource_types.values_list("pk", flat=True))
    if types and right.asset.resource_type_id not in types:
        raise DomainError(
            _("产品“%(product)s”不接受%(type)s类资源作抵质押。")
            % {"product": product.name, "type": right.asset.resource_type.name},
            code="ineligible_resource_type",
            fields={"right": [_("该产品不接受此类资源。")]},
        )


def _method_text(income, market, chosen):
    """Stored on the record a bank cites: always in Chinese, whatever the page's language."""
    with translation.override("zh-hans"):
        if income and income.get("method") == "savings_slip":
            return _(
                "储蓄单收益现值法：储蓄单 %(slip)s 剩余 %(years)s 个完整年度的保底收益按产品折现率折现"
            ) % {
                "slip": income["slip"],
                "years": income["years"],
            }
        return _method_text_in_language(income, market, chosen)


def _method_text_in_language(income, market, chosen):
    if income and market:
        name = _("收益现值法") if chosen == "income" else _("市场比较法")
        return _("收益现值法与市场比较法（%(std)s），取孰低值（%(name)s）") % {"std": STANDARD, "name": name}
    if income:
        return _("收益现值法（%(std)s 森林资源资产评估技术规范）") % {"std": STANDARD}
    return _("市场比较法（%(std)s），近三年交易合同价格资本化") % {"std": STANDARD}


def _application_for(actor, application, right, product):
    application = (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related("division")
        .get(pk=application.pk)
    )
    require(actor, Capability.MANAGE_LOANS, application.division)
    if application.product_id != product.pk:
        raise DomainError(
            _("评估所用产品与贷款申请的产品不一致。"),
            code="product_mismatch",
            fields={"product": [_("产品不一致。")]},
        )
    if application.status not in APPRAISABLE_APPLICATION_STATUSES:
        raise ConflictError(
            _("贷款申请状态为“%(status)s”，不能再评估其抵质押物。")
            % {"status": application.get_status_display()},
            code="application_closed",
        )
    if not ApplicationCollateral.objects.filter(application=application, right=right).exists():
        raise DomainError(
            _("该权利不在此贷款申请的抵质押物中。"),
            code="not_collateral",
            fields={"right": [_("不是本申请的抵质押物。")]},
        )
    return application


@transaction.atomic
def appraise(*, actor, right, product, application=None, appraised_on=None, appraiser_licence_no=""):
    """Appraise `right` as collateral under `product` on `appraised_on` (default today) and, when
    made for an application, link it to the application's collateral row."""
    right = (
        type(right)
        .objects.select_related("asset__division", "asset__resource_type", "holder")
        .get(pk=right.pk)
    )
    require(actor, Capability.MANAGE_LOANS, right.asset.division)
    today = timezone.localdate()
    on = appraised_on or today
    if not isinstance(on, datetime.date):
        raise DomainError(
            _("请输入有效的评估基准日。"), code="invalid", fields={"appraised_on": [_("日期无效。")]}
        )
    if on > today:
        message = _("评估基准日不能晚于今天。")
        raise DomainError(message, code="invalid", fields={"appraised_on": [message]})
    licence = (appraiser_licence_no or "").strip()
    if len(licence) > 50:
        message = _("评估资质编号不能超过 50 个字符。")
        raise DomainError(message, code="invalid", fields={"appraiser_licence_no": [message]})
    _check_right(right, product, on)
    if application is not None:
        application = _application_for(actor, application, right, product)
    appraiser = cooperative_for(right.asset.division)
    slip = savings_slip_of(right)

    with localcontext() as ctx:
        ctx.prec = PRECISION
        share = right_share(right)
        if slip is not None:
            horizon, factor, income = _slip_approach(slip, product, on)
            valuation = market = None
        else:
            horizon = _horizon(right, product, on)
            factor = annuity_factor(product.discount_rate, horizon["years"])
            income, valuation = _income_approach(right, product, share, factor)
            market = _market_approach(right, share, factor, on)
        if income is None and market is None:
            raise ConflictError(
                _(
                    "资产 %(asset)s 没有经采纳的 GEP 核算结果，近三年也没有交易合同，无法评估。请先完成 GEP 核算。"
                )
                % {"asset": right.asset.code},
                code="no_valuation",
            )
        candidates = {k: Decimal(v["value"]) for k, v in (("income", income), ("market", market)) if v}
        chosen = min(candidates, key=lambda k: (candidates[k], k != "income"))
        appraised = candidates[chosen]
        collateral_value = _cents(appraised * (1 - product.haircut))
        max_loan = _cents(collateral_value * product.max_ltv)
    valid_until = on + datetime.timedelta(days=product.appraisal_valid_days)
    calculation = {
        "standard": STANDARD,
        "appraised_on": on.isoformat(),
        "precision_digits": PRECISION,
        "right": {
            "id": right.pk,
            "kind": right.kind,
            "certificate_number": right.certificate_number or "",
            "share": f"{right.share_numerator}/{right.share_denominator}",
            "period_start": right.period.lower.isoformat(),
            "period_end": right.period.upper.isoformat() if right.period.upper else None,
        },
        "product": {
            "id": product.pk,
            "code": product.code,
            "income_share_of_gep": _s(product.income_share_of_gep),
            "discount_rate": _s(product.discount_rate),
            "max_valuation_years": product.max_valuation_years,
            "haircut": _s(product.haircut),
            "max_ltv": _s(product.max_ltv),
            "appraisal_valid_days": product.appraisal_valid_days,
        },
        "horizon": {k: _s(v) if isinstance(v, Decimal) else v for k, v in horizon.items()},
        "annuity_factor": _s(factor),
        "income": income,
        "market": market,
        "savings_slip": slip.number if slip is not None else None,
        "chosen": chosen,
        "appraised_value": _s(appraised),
        "collateral_value": _s(collateral_value),
        "max_loan": _s(max_loan),
        "valid_until": valid_until.isoformat(),
    }
    number = next_number("PG")
    with audit_context(user=actor, reason=f"appraise collateral {number}"):
        appraisal = CollateralAppraisal.objects.create(
            number=number,
            right=right,
            asset=right.asset,
            product=product,
            application=application,
            valuation_run=valuation.run if valuation else None,
            gep_annual_value=_cents(valuation.total) if valuation else None,
            income_value=Decimal(income["value"]) if income else None,
            market_value=Decimal(market["value"]) if market else None,
            appraised_value=appraised,
            haircut=product.haircut,
            collateral_value=collateral_value,
            ltv=product.max_ltv,
            max_loan=max_loan,
            method=_method_text(income, market, chosen),
            appraiser_org=appraiser,
            appraiser_licence_no=licence,
            appraised_on=on,
            valid_until=valid_until,
            calculation=calculation,
            created_by=actor,
        )
        if application is not None:
            ApplicationCollateral.objects.filter(application=application, right=right).update(
                appraisal=appraisal
            )
    return appraisal


def current_appraisal(right, product, on=None):
    """The latest appraisal of `right` under `product` still valid on `on` (default today)."""
    on = on or timezone.localdate()
    right_id = getattr(right, "pk", right)
    product_id = getattr(product, "pk", product)
    return (
        CollateralAppraisal.objects.filter(
            right_id=right_id, product_id=product_id, appraised_on__lte=on, valid_until__gte=on
        )
        .order_by("-appraised_on", "-pk")
        .first()
    )
