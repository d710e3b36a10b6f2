"""Loan products: a partner bank's officers create, edit and take their own products off sale; the
city cooperative's administrators may do so for any bank. Every field is checked here (forms and
serializers check again at the edge); all problems are reported together, per field.

Ranges and why:
- max LTV in (0, 1], haircut in [0, 1): eco-finance.md §2 (caps of 30–80 % seen, lender-specific);
- 0 < rate_min ≤ rate_max < 24 %: 24 % is the judicial protection line for lending rates that
  the database constraint also holds (a partner bank's eco loan is far below it);
- penalty markup 30 %–50 % over the contract rate: 银发〔2003〕251号 for overdue loans (§3);
- eligible right kinds must be kinds the registry lets be pledged (民法典 Art. 399), and a
  product that requires a pledge must name at least one.

APR disclosure (§3, PBoC Announcement 〔2021〕No.3 [unverified]): with no fees the internal rate of
return of an amortising loan is the periodic rate r/m, so the simple annualised rate equals the
nominal rate and the compound one is (1 + r/m)^m − 1; both are shown per payment frequency.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from directory.models import Organization, OrganizationKind
from resources.models import ResourceType, RightKind
from resources.services import CERTIFICATED_PLEDGEABLE_KINDS, PLEDGEABLE_RIGHT_KINDS
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

from ..models import (
    FREQUENCY_MONTHS,
    DayCount,
    GuaranteeRequirement,
    InsuranceKind,
    LoanKind,
    LoanProduct,
    PaymentFrequency,
    RepaymentMethod,
    RiskSharingScheme,
)
from .common import acting_bank

RATE_CEILING = Decimal("0.24")
PENALTY_MARKUP_RANGE = (Decimal("0.3"), Decimal("0.5"))
MAX_AMOUNT = Decimal("10000000000")  # 100 亿元: far above any single eco loan, guards typos
MAX_TERM_MONTHS = 360
MAX_VALUATION_YEARS = 70  # forest-land contract terms run up to 70 years
MAX_APPRAISAL_VALID_DAYS = 730
CREDIT_SCORE_RANGE = (300, 1000)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

# Everything a product's owner may set; the bank and the creator are fixed at creation.
PRODUCT_FIELDS = (
    "code",
    "name",
    "kind",
    "description",
    "eligible_right_kinds",
    "eligible_resource_types",
    "guarantee_requirement",
    "max_ltv",
    "haircut",
    "income_share_of_gep",
    "discount_rate",
    "max_valuation_years",
    "appraisal_valid_days",
    "min_amount",
    "max_amount",
    "rate_min",
    "rate_max",
    "penalty_markup",
    "term_min_months",
    "term_max_months",
    "repayment_methods",
    "payment_frequencies",
    "day_count",
    "min_credit_score",
    "requires_insurance",
    "required_insurance_kinds",
    "risk_scheme",
)
PLEDGE_REQUIREMENTS = (GuaranteeRequirement.PLEDGE, GuaranteeRequirement.PLEDGE_AND_GUARANTOR)


# --- permissions ------------------------------------------------------------------------------


def may_manage_products_of(actor, bank):
    """Officers of the bank itself, or the platform's operators (city admins, superusers)."""
    if not actor.is_authenticated or not actor.is_active:
        return False
    if actor.can_operate_platform:
        return True
    own = acting_bank(actor)
    return own is not None and bank is not None and own.pk == bank.pk


def _require_manager(actor, bank):
    if not may_manage_products_of(actor, bank):
        raise PermissionDeniedError(_("只有该银行的工作人员或市级管理员可以维护该银行的贷款产品。"))


# --- validation -------------------------------------------------------------------------------


class _Errors:
    def __init__(self):
        self.fields = {}

    def add(self, field, message):
        self.fields.setdefault(field, []).append(str(message))

    def raise_if_any(self):
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            raise DomainError(first, code="invalid", fields=self.fields)


def _decimal(errors, values, field, *, places):
    raw = values.get(field)
    if raw is None or raw == "":
        errors.add(field, _("请填写此项。"))
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        errors.add(field, _("请输入数字。"))
        return None
    if not value.is_finite():
        errors.add(field, _("请输入数字。"))
        return None
    if value != value.quantize(Decimal(1).scaleb(-places)):
        errors.add(field, _("最多保留 %(n)s 位小数。") % {"n": places})
        return None
    return value


def _integer(errors, values, field, *, low, high, required=True):
    raw = values.get(field)
    if raw is None or raw == "":
        if required:
            errors.add(field, _("请填写此项。"))
        return None
    if isinstance(raw, bool):
        errors.add(field, _("请输入整数。"))
        return None
    try:
        value = int(raw) if isinstance(raw, int) else int(str(raw).strip())
    except ValueError:
        errors.add(field, _("请输入整数。"))
        return None
    if not low <= value <= high:
        errors.add(field, _("须在 %(low)s 至 %(high)s 之间。") % {"low": low, "high": high})
        return None
    return value


def _choice(errors, values, field, choices):
    value = values.get(field)
    if value not in choices.values:
        errors.add(field, _("请选择有效的选项。"))
        return None
    return value


def _choice_list(errors, values, field, choices, *, required):
    raw = values.get(field)
    if raw is None:
        raw = []
    if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
        errors.add(field, _("请选择有效的选项。"))
        return None
    chosen = []
    for item in raw:
        if item not in choices.values:
            errors.add(field, _("“%(value)s”不是有效的选项。") % {"value": item})
            return None
        if item not in chosen:
            chosen.append(str(item))
    if required and not chosen:
        errors.add(field, _("请至少选择一项。"))
        return None
    # Keep the declared order so that equal selections compare equal.
    return [value for value in choices.values if value in chosen]


def _text(errors, values, field, *, max_length, required=True):
    value = (values.get(field) or "").strip()
    if required and not value:
        errors.add(field, _("请填写此项。"))
        return None
    if len(value) > max_length:
        errors.add(field, _("不能超过 %(n)s 个字。") % {"n": max_length})
        return None
    return value


def _fraction(errors, values, field, *, low, high, low_open, high_open, message):
    value = _decimal(errors, values, field, places=6)
    if value is None:
        return None
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        errors.add(field, message)
        return None
    return value


def _resource_types(errors, values):
    raw = values.get("eligible_resource_types")
    raw = [] if raw is None else raw
    # A list of types or ids, or the queryset a form's multiple choice field gives.
    if isinstance(raw, str | bytes | dict) or not hasattr(raw, "__iter__"):
        errors.add("eligible_resource_types", _("请选择有效的资源类型。"))
        return None
    keys = [item.pk if isinstance(item, ResourceType) else item for item in raw]
    try:
        found = list(ResourceType.objects.filter(pk__in=keys))
    except (TypeError, ValueError):
        errors.add("eligible_resource_types", _("请选择有效的资源类型。"))
        return None
    if len(found) != len(set(keys)):
        errors.add("eligible_resource_types", _("请选择有效的资源类型。"))
        return None
    return found


def _risk_scheme(errors, values):
    raw = values.get("risk_scheme")
    if raw in (None, ""):
        return None
    pk = raw.pk if isinstance(raw, RiskSharingScheme) else raw
    scheme = RiskSharingScheme.objects.filter(pk=pk, is_active=True).first() if str(pk).isdigit() else None
    if scheme is None:
        errors.add("risk_scheme", _("请选择启用中的风险分担方案。"))
    return scheme


def _insurance_kinds(errors, values):
    """The insurance lines an application must hold a valid policy of (greenfinance.checks):
    known kinds, each once, kept in the declared order."""
    raw = values.get("required_insurance_kinds")
    raw = [] if raw is None else raw
    if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
        errors.add("required_insurance_kinds", _("请选择有效的险种。"))
        return None
    for item in raw:
        if item not in InsuranceKind.values:
            errors.add("required_insurance_kinds", _("“%(value)s”不是有效的险种。") % {"value": item})
            return None
    repeated = sorted({str(InsuranceKind(item).label) for item in raw if list(raw).count(item) > 1})
    if repeated:
        errors.add("required_insurance_kinds", _("险种重复：%(kinds)s。") % {"kinds": "、".join(repeated)})
        return None
    return [kind for kind in InsuranceKind.values if kind in raw]


def clean_product_fields(values):
    """Check a complete set of product fields; returns the cleaned values or raises DomainError
    with every problem, per field."""
    errors = _Errors()
    cleaned = {
        "code": _text(errors, values, "code", max_length=30),
        "name": _text(errors, values, "name", max_length=100),
        "kind": _choice(errors, values, "kind", LoanKind),
        "description": _text(errors, values, "description", max_length=5000, required=False) or "",
        "guarantee_requirement": _choice(errors, values, "guarantee_requirement", GuaranteeRequirement),
        "max_ltv": _fraction(
            errors,
            values,
            "max_ltv",
            low=0,
            high=1,
            low_open=True,
            high_open=False,
            message=_("最高抵押率须大于 0% 且不超过 100%。"),
        ),
        "haircut": _fraction(
            errors,
            values,
            "haircut",
            low=0,
            high=1,
            low_open=False,
            high_open=True,
            message=_("估值折扣率须不小于 0% 且小于 100%。"),
        ),
        "income_share_of_gep": _fraction(
            errors,
            values,
            "income_share_of_gep",
            low=0,
            high=1,
            low_open=True,
            high_open=False,
            message=_("GEP 计入收益比例须大于 0% 且不超过 100%。"),
        ),
        "discount_rate": _fraction(
            errors,
            values,
            "discount_rate",
            low=0,
            high=1,
            low_open=True,
            high_open=True,
            message=_("折现率须大于 0% 且小于 100%。"),
        ),
        "max_valuation_years": _integer(
            errors, values, "max_valuation_years", low=1, high=MAX_VALUATION_YEARS
        ),
        "appraisal_valid_days": _integer(
            errors, values, "appraisal_valid_days", low=1, high=MAX_APPRAISAL_VALID_DAYS
        ),
        "min_amount": _decimal(errors, values, "min_amount", places=2),
        "max_amount": _decimal(errors, values, "max_amount", places=2),
        "rate_min": _decimal(errors, values, "rate_min", places=6),
        "rate_max": _decimal(errors, values, "rate_max", places=6),
        "penalty_markup": _decimal(errors, values, "penalty_markup", places=6),
        "term_min_months": _integer(errors, values, "term_min_months", low=1, high=MAX_TERM_MONTHS),
        "term_max_months": _integer(errors, values, "term_max_months", low=1, high=MAX_TERM_MONTHS),
        "repayment_methods": _choice_list(
            errors, values, "repayment_methods", RepaymentMethod, required=True
        ),
        "payment_frequencies": _choice_list(
            errors, values, "payment_frequencies", PaymentFrequency, required=True
        ),
        "day_count": _choice(errors, values, "day_count", DayCount),
        "min_credit_score": _integer(
            errors,
            values,
            "min_credit_score",
            low=CREDIT_SCORE_RANGE[0],
            high=CREDIT_SCORE_RANGE[1],
            required=False,
        ),
        "requires_insurance": bool(values.get("requires_insurance")),
        "required_insurance_kinds": _insurance_kinds(errors, values),
        "eligible_right_kinds": _choice_list(
            errors, values, "eligible_right_kinds", RightKind, required=False
        ),
        "eligible_resource_types": _resource_types(errors, values),
        "risk_scheme": _risk_scheme(errors, values),
    }
    code = cleaned["code"]
    if code and not CODE_PATTERN.match(code):
        errors.add("code", _("产品代码只能由字母、数字、“-”和“_”组成。"))
    low, high = cleaned["min_amount"], cleaned["max_amount"]
    if low is not None and low <= 0:
        errors.add("min_amount", _("最低金额须大于 0。"))
    if high is not None and high > MAX_AMOUNT:
        errors.add("max_amount", _("最高金额不能超过 100 亿元。"))
    if low is not None and high is not None and low > 0 and high < low:
        errors.add("max_amount", _("最高金额不能低于最低金额。"))
    rate_min, rate_max = cleaned["rate_min"], cleaned["rate_max"]
    if rate_min is not None and not 0 < rate_min < RATE_CEILING:
        errors.add("rate_min", _("最低年利率须大于 0 且低于 24%。"))
    if rate_max is not None and not 0 < rate_max < RATE_CEILING:
        errors.add("rate_max", _("最高年利率须大于 0 且低于 24%。"))
    if rate_min is not None and rate_max is not None and rate_max < rate_min:
        errors.add("rate_max", _("最高年利率不能低于最低年利率。"))
    markup = cleaned["penalty_markup"]
    if markup is not None and not PENALTY_MARKUP_RANGE[0] <= markup <= PENALTY_MARKUP_RANGE[1]:
        errors.add("penalty_markup", _("逾期罚息须在合同利率基础上上浮 30% 至 50%（银发〔2003〕251号）。"))
    term_min, term_max = cleaned["term_min_months"], cleaned["term_max_months"]
    if term_min is not None and term_max is not None and term_max < term_min:
        errors.add("term_max_months", _("最长期限不能短于最短期限。"))
    if cleaned["required_insurance_kinds"]:
        cleaned["requires_insurance"] = True  # a product requiring a line of insurance requires insurance
    kinds = cleaned["eligible_right_kinds"]
    if kinds is not None:
        # An income right is pledgeable only as a certificate (a savings slip): a 生态资源储蓄贷 only.
        allowed = PLEDGEABLE_RIGHT_KINDS | (
            CERTIFICATED_PLEDGEABLE_KINDS if cleaned["kind"] == LoanKind.SAVINGS_LOAN else set()
        )
        not_pledgeable = [RightKind(k).label for k in kinds if k not in allowed]
        if not_pledgeable:
            message = _("以下权利不能抵质押：%(kinds)s。") % {
                "kinds": "、".join(str(k) for k in not_pledgeable)
            }
            if RightKind.INCOME in kinds and RightKind.INCOME not in allowed:
                message += _("收益权仅可作为生态资源储蓄贷的质押物（凭生态资源储蓄单）。")
            errors.add("eligible_right_kinds", message)
        elif cleaned["guarantee_requirement"] in PLEDGE_REQUIREMENTS and not kinds:
            errors.add("eligible_right_kinds", _("需要抵质押的产品须至少选择一种可抵质押的权利类型。"))
    errors.raise_if_any()
    return cleaned


def _check_bank(bank):
    if not isinstance(bank, Organization) or bank.kind != OrganizationKind.BANK or not bank.is_active:
        message = _("请选择启用中的合作银行。")
        raise DomainError(message, code="invalid", fields={"bank": [message]})


def _unknown(fields):
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")


def _defaults():
    """The model's defaults for the optional fields (one place: the model)."""
    blank = LoanProduct()
    return {name: getattr(blank, name) for name in PRODUCT_FIELDS if name not in ("eligible_resource_types",)}


def _save(product, cleaned):
    resource_types = cleaned.pop("eligible_resource_types")
    for name, value in cleaned.items():
        setattr(product, name, value)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        if "loan_product_code_per_bank" in str(exc):
            message = _("该银行已有代码为“%(code)s”的产品。") % {"code": product.code}
            raise ConflictError(message, code="duplicate", fields={"code": [message]}) from None
        raise
    product.eligible_resource_types.set(resource_types)
    return product


# --- writes -----------------------------------------------------------------------------------


@transaction.atomic
def create_product(*, actor, bank, **fields):
    """A new product of `bank`, on sale at once."""
    _unknown(fields)
    _check_bank(bank)
    _require_manager(actor, bank)
    # Fields left out take the model's defaults; the required ones have none and are reported.
    cleaned = clean_product_fields({**_defaults(), "eligible_resource_types": [], **fields})
    with audit_context(user=actor, reason=f"create loan product {cleaned['code']} of {bank.pk}"):
        product = _save(LoanProduct(bank=bank, created_by=actor, is_active=True), cleaned)
    return product


def _lock(product):
    return LoanProduct.objects.select_for_update(of=("self",)).select_related("bank").get(pk=product.pk)


@transaction.atomic
def update_product(*, actor, product, **fields):
    """Change some of a product's fields; the whole product is checked again. Loans and
    appraisals already made keep the terms they copied."""
    _unknown(fields)
    product = _lock(product)
    _require_manager(actor, product.bank)
    values = {name: getattr(product, name) for name in PRODUCT_FIELDS if name != "eligible_resource_types"}
    values["eligible_resource_types"] = list(product.eligible_resource_types.all())
    values.update(fields)
    cleaned = clean_product_fields(values)
    with audit_context(user=actor, reason=f"update loan product {product.code}"):
        return _save(product, cleaned)


@transaction.atomic
def set_product_active(*, actor, product, active):
    """Put a product on sale or take it off (applications already made go on)."""
    product = _lock(product)
    _require_manager(actor, product.bank)
    active = bool(active)
    if product.is_active == active:
        return product
    with audit_context(
        user=actor, reason=f"{'activate' if active else 'deactivate'} loan product {product.code}"
    ):
        product.is_active = active
        product.save(update_fields=["is_active"])
    return product


# --- APR disclosure ---------------------------------------------------------------------------


def compound_annual_rate(nominal, frequency):
    """(1 + r/m)^m − 1 for m payments a year, to 6 places (ROUND_HALF_UP by Decimal quantize)."""
    per_year = 12 // FREQUENCY_MONTHS[PaymentFrequency(frequency)]
    periodic = Decimal(nominal) / per_year
    return ((1 + periodic) ** per_year - 1).quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class AprRange:
    frequency: str
    label: str
    simple_min: Decimal  # = the nominal annual rate (single-interest annualisation)
    simple_max: Decimal
    compound_min: Decimal  # IRR compounded over a year
    compound_max: Decimal


def apr_ranges(product):
    """The annualised rate range of a product for each of its payment frequencies."""
    return [
        AprRange(
            frequency=frequency,
            label=str(PaymentFrequency(frequency).label),
            simple_min=product.rate_min,
            simple_max=product.rate_max,
            compound_min=compound_annual_rate(product.rate_min, frequency),
            compound_max=compound_annual_rate(product.rate_max, frequency),
        )
        for frequency in product.payment_frequencies
        if frequency in PaymentFrequency.values
    ]
