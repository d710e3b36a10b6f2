"""Loan applications with maker-checker (双人复核): a cooperative staff member prepares and submits
(the maker), a different staff member checks (approves or returns), then the product's bank
decides. Every step re-validates the application against the product, the collateral and the
applicant's eco-credit score; nothing half-written stays (one transaction per step).

Locks: the application row first; the registry rows are only read (pledging locks them later).
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from directory.models import PartyKind, PersonAccessGrant, Role, User
from directory.permissions import Capability
from directory.services import grant_person_access, notify
from resources.models import AssetStatus, Right, RightKind, RightStatus
from resources.services import active_freeze
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions._money import parse_money

from ..application_checks import unmet_requirements
from ..models import (
    APPLICATION_TRANSITIONS,
    ApplicationCollateral,
    ApplicationStatus,
    CreditScore,
    GuaranteeRequirement,
    LoanApplication,
    LoanProduct,
)
from .appraisal import current_appraisal
from .common import bank_of, check_transition, next_number, require, required_text

EDITABLE_FIELDS = frozenset(
    {
        "product",
        "amount",
        "term_months",
        "repayment_method",
        "payment_frequency",
        "annual_rate",
        "purpose",
        "rights",
        "consent_document",
    }
)
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3}


# --- helpers ----------------------------------------------------------------------------------


def applicant_division(party):
    """Where the applicant lives or is registered: the division whose staff handle the application."""
    if party.kind == PartyKind.PERSON:
        return party.person.division
    return party.organization.division


def _status_label(value):
    return ApplicationStatus(value).label


def _transition(application, target):
    check_transition(APPLICATION_TRANSITIONS, application.status, target, _status_label)
    application.status = target


def _lock(application):
    return (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related("product__bank", "division", "applicant__person", "applicant__organization")
        .get(pk=application.pk)
    )


def _bank_officers(bank):
    return list(
        User.objects.filter(
            memberships__organization=bank,
            memberships__role=Role.BANK_OFFICER,
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _notify_after_commit(recipients, title, application, body="", level="info"):
    recipients = [user for user in recipients if user is not None]
    if not recipients:
        return
    link = application.get_absolute_url()
    text = (
        body
        or f"{application.number}：{application.applicant}，{application.amount} 元，{application.product.name}"
    )
    transaction.on_commit(
        lambda: notify(recipients=recipients, title=title, body=text, link=link, level=level)
    )


def current_credit_score(party):
    """The party's current eco-credit score row (computed by finance.services.scoring)."""
    return CreditScore.objects.filter(party=party, is_current=True).order_by("-computed_at", "-pk").first()


# --- validation ---------------------------------------------------------------------------------


class _Errors:
    """Collects field errors so that the form shows every problem at once."""

    def __init__(self):
        self.fields = {}

    def add(self, field, message):
        self.fields.setdefault(field, []).append(str(message))

    def raise_if_any(self):
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            raise DomainError(first, code="invalid", fields=self.fields)


def _decimal(value):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _clean_terms(errors, product, values):
    """Amount, term, repayment method and frequency, rate, purpose checked against the product."""
    cleaned = {}
    try:
        amount = parse_money(values.get("amount"), "amount")
    except DomainError as exc:
        errors.add("amount", exc.detail)
    else:
        if not product.min_amount <= amount <= product.max_amount:
            errors.add(
                "amount",
                _("申请金额须在 %(min)s 元至 %(max)s 元之间。")
                % {"min": product.min_amount, "max": product.max_amount},
            )
        cleaned["amount"] = amount

    term = values.get("term_months")
    if isinstance(term, bool) or not isinstance(term, int):
        term = int(term) if isinstance(term, str) and term.strip().isdigit() else None
    if term is None:
        errors.add("term_months", _("请输入期限（整月数）。"))
    elif not product.term_min_months <= term <= product.term_max_months:
        errors.add(
            "term_months",
            _("期限须在 %(min)s 至 %(max)s 个月之间。")
            % {"min": product.term_min_months, "max": product.term_max_months},
        )
    cleaned["term_months"] = term

    method = values.get("repayment_method")
    if method not in product.repayment_methods:
        errors.add("repayment_method", _("该产品不提供所选还款方式。"))
    cleaned["repayment_method"] = method

    frequency = values.get("payment_frequency")
    if frequency not in product.payment_frequencies:
        errors.add("payment_frequency", _("该产品不提供所选还款频率。"))
    elif term is not None and term % FREQUENCY_MONTHS[frequency]:
        # A schedule has whole periods: a quarterly loan runs a whole number of quarters.
        errors.add("term_months", _("按季还款的期限须为 3 的整数倍。"))
    cleaned["payment_frequency"] = frequency

    rate = _decimal(values.get("annual_rate"))
    if rate is None:
        errors.add("annual_rate", _("请输入年利率（小数，如 0.036 表示 3.6%）。"))
    elif rate != rate.quantize(Decimal("0.000001")):
        errors.add("annual_rate", _("年利率最多保留六位小数。"))
    elif not product.rate_min <= rate <= product.rate_max:
        errors.add(
            "annual_rate",
            _("年利率须在 %(min)s 至 %(max)s 之间。")
            % {"min": f"{product.rate_min * 100:.4f}%", "max": f"{product.rate_max * 100:.4f}%"},
        )
    cleaned["annual_rate"] = rate

    purpose = (values.get("purpose") or "").strip()
    if not purpose:
        errors.add("purpose", _("请填写贷款用途。"))
    elif len(purpose) > 300:
        errors.add("purpose", _("贷款用途不能超过 300 个字。"))
    cleaned["purpose"] = purpose
    return cleaned


def _clean_consent(errors, applicant, value):
    consent = (value or "").strip()
    if len(consent) > 100:
        errors.add("consent_document", _("授权书编号不能超过 100 个字符。"))
    elif applicant.kind == PartyKind.PERSON and not consent:
        # PIPL Art. 29: the borrower's separate consent before the bank sees their personal data.
        errors.add("consent_document", _("申请人为自然人，须填写其签署的个人信息查询使用授权书编号。"))
    return consent


def _right_problem(right, applicant, product, on, eligible_types):
    """Why `right` cannot secure a loan of `applicant` under `product`, or None."""
    label = right.certificate_number or right.asset.code
    if right.status != RightStatus.ACTIVE:
        return _("%(right)s：权利已终止。") % {"right": label}
    if right.holder_id != applicant.pk:
        return _("%(right)s：权利人不是申请人。") % {"right": label}
    if right.period.lower > on or (right.period.upper is not None and right.period.upper <= on):
        return _("%(right)s：权利不在有效期内。") % {"right": label}
    if right.kind not in product.eligible_right_kinds:
        return _("%(right)s：该产品不接受%(kind)s作抵质押。") % {
            "right": label,
            "kind": right.get_kind_display(),
        }
    if right.kind == RightKind.INCOME and not (right.pledge_once and right.certificate_number):
        # The registry pledges an income right only as a certificate (a savings slip's).
        return _("%(right)s：收益权须凭生态资源储蓄单方可作抵质押。") % {"right": label}
    if eligible_types and right.asset.resource_type_id not in eligible_types:
        return _("%(right)s：该产品不接受%(type)s类资源。") % {
            "right": label,
            "type": right.asset.resource_type.name,
        }
    if right.asset.status == AssetStatus.RETIRED:
        return _("%(right)s：资源已注销。") % {"right": label}
    freeze = active_freeze(right.asset)
    if freeze is not None:
        return _("%(right)s：资源处于%(freeze)s中（%(document)s）。") % {
            "right": label,
            "freeze": freeze.get_kind_display(),
            "document": freeze.source_document,
        }
    return None


def _clean_rights(errors, applicant, product, rights):
    ids = [getattr(r, "pk", r) for r in rights or ()]
    if len(set(ids)) != len(ids):
        errors.add("rights", _("同一权利不能重复列为抵质押物。"))
        return []
    found = {
        r.pk: r
        for r in Right.objects.filter(pk__in=ids).select_related("asset__resource_type", "asset__division")
    }
    if len(found) != len(ids):
        errors.add("rights", _("所选权利不存在。"))
        return []
    if product.requires_pledge and not ids:
        errors.add("rights", _("该产品须以资源权利抵质押，请选择抵质押物。"))
    eligible_types = set(product.eligible_resource_types.values_list("pk", flat=True))
    today = timezone.localdate()
    for pk in ids:
        problem = _right_problem(found[pk], applicant, product, today, eligible_types)
        if problem:
            errors.add("rights", problem)
    return [found[pk] for pk in ids]


def _credit_check(errors, applicant, product, amount):
    """Eco-credit products lend on the score: a current score at least the product's minimum, and
    (for credit without security) an amount within the score's suggested line."""
    needs_line = product.guarantee_requirement == GuaranteeRequirement.NONE
    if product.min_credit_score is None and not needs_line:
        return None
    score = current_credit_score(applicant)
    if score is None:
        errors.add("applicant", _("申请人尚无生态信用评分，不能申请该信用类产品。"))
        return None
    if product.min_credit_score is not None and score.score < product.min_credit_score:
        errors.add(
            "applicant",
            _("申请人生态信用分 %(score)s 低于产品要求的 %(min)s 分。")
            % {"score": score.score, "min": product.min_credit_score},
        )
    if needs_line and amount is not None and amount > score.suggested_line:
        errors.add(
            "amount",
            _("申请金额 %(amount)s 元超过申请人生态信用建议授信额度 %(line)s 元。")
            % {"amount": amount, "line": score.suggested_line},
        )
    return score


def _check_applicant(actor, applicant):
    division = applicant_division(applicant)
    require(actor, Capability.MANAGE_LOANS, division)
    if applicant.kind == PartyKind.ORGANIZATION and not applicant.organization.is_active:
        raise DomainError(
            _("申请人机构已停用。"), code="invalid", fields={"applicant": [_("申请人机构已停用。")]}
        )
    return division


def _check_product(errors, product):
    if not product.is_active:
        errors.add("product", _("贷款产品“%(name)s”已停售。") % {"name": product.name})


def _validate(*, applicant, product, values, rights):
    """Everything an application must satisfy; returns (cleaned terms, rights, credit score)."""
    errors = _Errors()
    _check_product(errors, product)
    terms = _clean_terms(errors, product, values)
    terms["consent_document"] = _clean_consent(errors, applicant, values.get("consent_document"))
    rights = _clean_rights(errors, applicant, product, rights)
    score = _credit_check(errors, applicant, product, terms.get("amount"))
    errors.raise_if_any()
    return terms, rights, score


def _coverage(application):
    """Each collateral right has a current appraisal under the product and the amount is within
    their total maximum loan; links the appraisals to the collateral rows."""
    rows = list(application.collateral.select_related("right__asset").order_by("pk"))
    missing, total, parts = [], Decimal("0.00"), []
    for row in rows:
        appraisal = current_appraisal(row.right, application.product)
        label = row.right.certificate_number or row.right.asset.code
        if appraisal is None:
            missing.append(label)
            continue
        if row.appraisal_id != appraisal.pk:
            row.appraisal = appraisal
            row.save(update_fields=["appraisal"])
        total += appraisal.max_loan
        parts.append(f"{label} {appraisal.number} {appraisal.max_loan}")
    if missing:
        raise ConflictError(
            _("以下抵质押物没有有效的评估，请先评估：%(rights)s。") % {"rights": "、".join(missing)},
            code="appraisal_missing",
        )
    if application.amount > total:
        raise ConflictError(
            _("申请金额 %(amount)s 元超过抵质押物最高可贷额合计 %(total)s 元（%(parts)s）。")
            % {"amount": application.amount, "total": total, "parts": "；".join(parts)},
            code="over_collateral_value",
            fields={"amount": [_("最高可贷 %(total)s 元。") % {"total": total}]},
        )


def _revalidate(application):
    """Before submission and approval: the draft still meets the product and the collateral."""
    values = {
        "amount": application.amount,
        "term_months": application.term_months,
        "repayment_method": application.repayment_method,
        "payment_frequency": application.payment_frequency,
        "annual_rate": application.annual_rate,
        "purpose": application.purpose,
        "consent_document": application.consent_document,
    }
    rights = list(application.collateral.values_list("right_id", flat=True).order_by("pk"))
    _terms, _rights, score = _validate(
        applicant=application.applicant, product=application.product, values=values, rights=rights
    )
    if application.product.requires_pledge:
        _coverage(application)
    problems = unmet_requirements(application, timezone.localdate())
    if problems:
        raise ConflictError("；".join(problems), code="requirement_unmet", fields={"product": problems})
    return score


def _set_collateral(application, rights):
    wanted = {r.pk for r in rights}
    application.collateral.exclude(right_id__in=wanted).delete()
    have = set(application.collateral.values_list("right_id", flat=True))
    ApplicationCollateral.objects.bulk_create(
        [ApplicationCollateral(application=application, right=r) for r in rights if r.pk not in have]
    )


def _require_preparer(actor, application):
    if application.prepared_by_id != actor.pk:
        raise PermissionDeniedError(
            _("只有经办人 %(user)s 可以修改或提交此申请。") % {"user": application.prepared_by},
            code="not_preparer",
        )


# --- services ---------------------------------------------------------------------------------


@transaction.atomic
def create_application(
    *,
    actor,
    applicant,
    product,
    amount,
    term_months,
    repayment_method,
    payment_frequency,
    annual_rate,
    purpose,
    rights=(),
    consent_document="",
):
    """A DRAFT application prepared by `actor` (the maker) for `applicant` under `product`."""
    division = _check_applicant(actor, applicant)
    product = LoanProduct.objects.select_related("bank").get(pk=product.pk)
    terms, rights, score = _validate(
        applicant=applicant,
        product=product,
        values={
            "amount": amount,
            "term_months": term_months,
            "repayment_method": repayment_method,
            "payment_frequency": payment_frequency,
            "annual_rate": annual_rate,
            "purpose": purpose,
            "consent_document": consent_document,
        },
        rights=rights,
    )
    number = next_number("SQ")
    with audit_context(user=actor, reason=f"prepare loan application {number}"):
        application = LoanApplication.objects.create(
            number=number,
            applicant=applicant,
            division=division,
            product=product,
            credit_score=score,
            prepared_by=actor,
            **terms,
        )
        _set_collateral(application, rights)
    return application


@transaction.atomic
def update_application(*, actor, application, **changes):
    """Change a DRAFT or RETURNED application (its maker only); `rights` replaces the collateral."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise DomainError(
            _("不能修改这些字段：%(fields)s。") % {"fields": "、".join(sorted(unknown))}, code="invalid"
        )
    application = _lock(application)
    require(actor, Capability.MANAGE_LOANS, application.division)
    _require_preparer(actor, application)
    if application.status not in (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED):
        raise ConflictError(
            _("申请状态为“%(status)s”，只有草稿或已退回的申请可以修改。")
            % {"status": application.get_status_display()},
            code="not_editable",
        )
    product = changes.get("product", application.product)
    product = LoanProduct.objects.select_related("bank").get(pk=product.pk)
    values = {
        name: changes.get(name, getattr(application, name))
        for name in (
            "amount",
            "term_months",
            "repayment_method",
            "payment_frequency",
            "annual_rate",
            "purpose",
            "consent_document",
        )
    }
    rights = changes.get("rights")
    if rights is None:
        rights = list(application.collateral.values_list("right_id", flat=True).order_by("pk"))
    terms, rights, score = _validate(
        applicant=application.applicant, product=product, values=values, rights=rights
    )
    with audit_context(user=actor, reason=f"edit loan application {application.number}"):
        for name, value in terms.items():
            setattr(application, name, value)
        application.product = product
        application.credit_score = score
        application.save()
        _set_collateral(application, rights)
        if "product" in changes:  # appraisals are per product: the old links no longer apply
            application.collateral.exclude(appraisal__product=product).update(appraisal=None)
    return application


@transaction.atomic
def submit_application(*, actor, application):
    """The maker submits for checking: everything is validated again and each collateral right
    needs a current appraisal whose maximum loans cover the amount."""
    application = _lock(application)
    require(actor, Capability.MANAGE_LOANS, application.division)
    _require_preparer(actor, application)
    check_transition(APPLICATION_TRANSITIONS, application.status, ApplicationStatus.SUBMITTED, _status_label)
    score = _revalidate(application)
    with audit_context(user=actor, reason=f"submit loan application {application.number}"):
        _transition(application, ApplicationStatus.SUBMITTED)
        application.credit_score = score
        application.prepared_at = timezone.now()
        # A fresh check: the previous return (kept in the history) no longer applies.
        application.checked_by = None
        application.checked_at = None
        application.check_note = ""
        application.save()
    return application


def _grant_bank_access(actor, application):
    """With the borrower's recorded consent, the bank may see the person (PIPL Art. 29)."""
    applicant = application.applicant
    if applicant.kind != PartyKind.PERSON or not application.consent_document:
        return
    bank = application.product.bank
    if PersonAccessGrant.objects.filter(
        person=applicant.person, organization=bank, revoked_at__isnull=True
    ).exists():
        return
    with translation.override("zh-hans"):  # a stored record, not a page
        reason = _("借款人授权书 %(doc)s（贷款申请 %(number)s）") % {
            "doc": application.consent_document,
            "number": application.number,
        }
    grant_person_access(actor=actor, person=applicant.person, organization=bank, reason=reason[:200])


@transaction.atomic
def check_application(*, actor, application, approve, note=""):
    """The checker (not the maker) approves a SUBMITTED application for the bank or returns it."""
    application = _lock(application)
    require(actor, Capability.MANAGE_LOANS, application.division)
    if application.prepared_by_id == actor.pk:
        raise PermissionDeniedError(
            _("双人复核：经办人不能复核自己经办的申请，请由另一位工作人员复核。"), code="maker_checker"
        )
    note = (note or "").strip()
    if not approve:
        note = required_text(note, "note", _("退回时请填写复核意见。"), max_length=300)
    elif len(note) > 300:
        raise DomainError(
            _("复核意见不能超过 300 个字。"), code="invalid", fields={"note": [_("不能超过 300 个字。")]}
        )
    target = ApplicationStatus.APPROVED if approve else ApplicationStatus.RETURNED
    check_transition(APPLICATION_TRANSITIONS, application.status, target, _status_label)
    if approve:
        application.credit_score = _revalidate(application)
    with audit_context(user=actor, reason=f"check loan application {application.number}: {target}"):
        _transition(application, target)
        application.checked_by = actor
        application.checked_at = timezone.now()
        application.check_note = note
        application.save()
        if approve:
            _grant_bank_access(actor, application)
    if approve:
        _notify_after_commit(_bank_officers(application.product.bank), _("新的贷款申请待审批"), application)
        _notify_after_commit([application.prepared_by], _("贷款申请已复核通过"), application, level="success")
    else:
        _notify_after_commit(
            [application.prepared_by],
            _("贷款申请被退回"),
            application,
            body=f"{application.number}：{note}",
            level="warning",
        )
    return application


@transaction.atomic
def bank_decide(*, actor, application, approve, note="", approved_amount=None):
    """The product's bank approves (optionally a lower amount) or declines an APPROVED application."""
    bank = bank_of(actor)
    application = _lock(application)
    if application.product.bank_id != bank.pk:
        raise PermissionDeniedError(_("您没有权限执行此操作。"))
    note = (note or "").strip()
    if not approve:
        note = required_text(note, "note", _("拒绝时请填写银行意见。"), max_length=300)
    elif len(note) > 300:
        raise DomainError(
            _("银行意见不能超过 300 个字。"), code="invalid", fields={"note": [_("不能超过 300 个字。")]}
        )
    amount = None
    if approve:
        amount = application.amount
        if approved_amount not in (None, ""):
            amount = parse_money(approved_amount, "approved_amount")
            if amount > application.amount:
                message = _("批准金额不能超过申请金额 %(amount)s 元。") % {"amount": application.amount}
                raise DomainError(message, code="invalid", fields={"approved_amount": [message]})
    target = ApplicationStatus.BANK_APPROVED if approve else ApplicationStatus.BANK_DECLINED
    check_transition(APPLICATION_TRANSITIONS, application.status, target, _status_label)
    with audit_context(user=actor, reason=f"bank decision on {application.number}: {target}"):
        _transition(application, target)
        application.bank_decided_by = actor
        application.bank_decided_at = timezone.now()
        application.bank_note = note
        application.approved_amount = amount
        application.save()
    title = _("银行已批准贷款申请") if approve else _("银行已拒绝贷款申请")
    body = f"{application.number}：{bank.name}" + (f"，批准 {amount} 元" if approve else f"，{note}")
    _notify_after_commit(
        [application.prepared_by], title, application, body=body, level="success" if approve else "warning"
    )
    return application


@transaction.atomic
def withdraw_application(*, actor, application, reason):
    """Staff withdraw an application before disbursement (the borrower gave up, or it was wrong)."""
    application = _lock(application)
    require(actor, Capability.MANAGE_LOANS, application.division)
    reason = required_text(reason, "reason", _("请填写撤回原因。"), max_length=300)
    seen_by_bank = application.status in (ApplicationStatus.APPROVED, ApplicationStatus.BANK_APPROVED)
    check_transition(APPLICATION_TRANSITIONS, application.status, ApplicationStatus.WITHDRAWN, _status_label)
    with audit_context(user=actor, reason=f"withdraw loan application {application.number}", note=reason):
        _transition(application, ApplicationStatus.WITHDRAWN)
        application.save(update_fields=["status"])
    body = f"{application.number}：{reason}"
    recipients = [application.prepared_by] if application.prepared_by_id != actor.pk else []
    if seen_by_bank:
        recipients += _bank_officers(application.product.bank)
    _notify_after_commit(recipients, _("贷款申请已撤回"), application, body=body, level="warning")
    return application


def mark_disbursed(application):
    """Called by finance.services.loans.disburse inside its transaction, with the application
    locked: BANK_APPROVED → DISBURSED."""
    locked = LoanApplication.objects.select_for_update(of=("self",)).get(pk=application.pk)
    check_transition(APPLICATION_TRANSITIONS, locked.status, ApplicationStatus.DISBURSED, _status_label)
    locked.status = ApplicationStatus.DISBURSED
    locked.save(update_fields=["status"])
    application.status = locked.status
    return locked
