"""Green insurance (绿色保险): policies linked to the assets they cover and, where they secure one,
to a loan application / loan or a key project; claims (报案 → 查勘定损 → 核赔 → 赔付, or 拒赔 /
撤案) and their payouts.

Rules kept here (the database keeps the rest, see greenfinance.models):
- a policy is recorded by the green-finance desk of its division; the insurer is an organization
  of kind INSURER; covered assets are registered and within the desk's reach; a policy tied to an
  application / loan insures its applicant / borrower;
- the subsidy is premium × subsidy rate, rounded half up to the cent;
- a claim's incident lies inside the policy's cover (before a cancellation takes effect) and not
  in the future; the approved amounts of a policy's claims never exceed its sum insured and a
  claim's payouts never exceed its approved amount: both are checked under the policy's row lock,
  taken before the claim's on every claim write (one fixed order, no deadlocks);
- when the approved total reaches the sum insured an in-force policy is EXHAUSTED; a claim is
  PAID once fully paid.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Organization, OrganizationKind, Party
from directory.permissions import Capability, can
from directory.selectors import users_with
from directory.services import notify
from finance.models import InsuranceKind, Loan, LoanApplication
from journal.models import EntryKind
from journal.publish import party_label
from journal.services import record as journal_record
from projects.models import KeyProject
from resources.models import Asset, AssetStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions._money import CENT, parse_money
from transactions.services.common import check_transition, next_number, required_text

from ..models import (
    CLAIM_TRANSITIONS,
    ClaimPayout,
    ClaimStatus,
    InsuranceClaim,
    InsurancePolicy,
    PolicyStatus,
)

CLAIM_PREFIX = "LP"  # 理赔: LP2026000001
RATE_PLACES = Decimal("0.000001")  # InsurancePolicy.subsidy_rate has 6 decimal places
MAX_TERM_DAYS = 366 * 30  # a guard against typos, far beyond any green policy's term
# Asset statuses that mean "registered" (确权登记 completed and the asset still live).
INSURABLE_ASSET_STATUSES = frozenset(
    {
        AssetStatus.REGISTERED,
        AssetStatus.COLLECTED,
        AssetStatus.LISTED,
        AssetStatus.LEASED,
        AssetStatus.PLEDGED,
    }
)
POLICY_TRANSITIONS = {
    PolicyStatus.ACTIVE: {PolicyStatus.EXPIRED, PolicyStatus.CANCELLED, PolicyStatus.EXHAUSTED},
    PolicyStatus.EXPIRED: set(),
    PolicyStatus.CANCELLED: set(),
    PolicyStatus.EXHAUSTED: set(),
}
# Claims whose approved amount uses up the sum insured (reported/assessing ones have none yet).
DECIDED_STATUSES = (ClaimStatus.APPROVED, ClaimStatus.PAID)
# A policy may still receive claims for incidents inside its cover after it ended.
CLAIMABLE_POLICY_STATUSES = (PolicyStatus.ACTIVE, PolicyStatus.EXPIRED, PolicyStatus.CANCELLED)


# --- small pieces -----------------------------------------------------------------------------


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def _require(actor, division):
    if not can(actor, Capability.MANAGE_GREEN_FINANCE, division=division):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


def _date(value, field, *, not_after_today=True):
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise _invalid(field, _("请填写有效的日期。"))
    if not_after_today and value > timezone.localdate():
        raise _invalid(field, _("日期不能晚于今天。"))
    return value


def _rate(value):
    try:
        rate = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite():
        raise _invalid("subsidy_rate", _("财政补贴比例须为 0 到 1 之间的小数。"))
    if not Decimal(0) <= rate <= Decimal(1):
        raise _invalid("subsidy_rate", _("财政补贴比例须在 0 到 1 之间（如 0.6 表示 60%）。"))
    if rate != rate.quantize(RATE_PLACES):
        raise _invalid("subsidy_rate", _("财政补贴比例最多保留六位小数。"))
    return rate


def subsidy_of(premium, rate):
    """The premium subsidy: premium × rate, rounded half up to the cent."""
    return (Decimal(premium) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def coverage_end(policy):
    """The first day no longer covered: the end date (exclusive), or a cancellation's effective day."""
    if policy.status == PolicyStatus.CANCELLED and policy.ended_at is not None:
        return min(policy.end_date, timezone.localtime(policy.ended_at).date())
    return policy.end_date


def _start_of(day):
    """The moment a day begins in Asia/Shanghai (an ending takes effect at 00:00 of that day)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _status_label(status):
    return ClaimStatus(status).label


def _policy_status_label(status):
    return PolicyStatus(status).label


def bank_of_policy(policy):
    """The bank whose application or loan the policy secures, or None."""
    if policy.loan_id:
        return policy.loan.bank
    if policy.application_id:
        return policy.application.product.bank
    return None


def _bank_officers(policy):
    bank = bank_of_policy(policy)
    return users_with(Capability.LEND, organization=bank) if bank is not None else []


def _notify_after_commit(recipients, title, obj, level="info"):
    recipients = list(recipients)
    if recipients:
        transaction.on_commit(
            partial(
                notify,
                recipients=recipients,
                title=title,
                body=str(obj),
                link=obj.get_absolute_url(),
                level=level,
            )
        )


def _lock_policy(policy_id):
    return (
        InsurancePolicy.objects.select_for_update(of=("self",))
        .select_related("division", "loan__bank", "application__product__bank")
        .get(pk=policy_id)
    )


def approved_total(policy, *, exclude=None):
    """The approved amounts of the policy's approved or paid claims (without `exclude`)."""
    claims = InsuranceClaim.objects.filter(policy=policy, status__in=DECIDED_STATUSES)
    if exclude is not None:
        claims = claims.exclude(pk=exclude.pk)
    return claims.aggregate(total=Sum("approved_amount"))["total"] or Decimal("0.00")


def remaining_sum_insured(policy, *, exclude=None):
    return policy.sum_insured - approved_total(policy, exclude=exclude)


# --- policies ---------------------------------------------------------------------------------


def _check_party(value, field, message):
    if not isinstance(value, Party) or value.pk is None:
        raise _invalid(field, message)
    return value


def _check_assets(actor, assets):
    cleaned = {}
    for asset in assets or ():
        if not isinstance(asset, Asset) or asset.pk is None:
            raise _invalid("assets", _("请选择有效的资源资产。"))
        cleaned[asset.pk] = asset
    fresh = list(Asset.objects.filter(pk__in=list(cleaned)).select_related("division").defer("geometry"))
    for asset in sorted(fresh, key=lambda a: a.code):
        if not can(actor, Capability.MANAGE_GREEN_FINANCE, division=asset.division):
            raise _invalid("assets", _("资源资产 %(code)s 不在您的管辖范围内。") % {"code": asset.code})
        if asset.status not in INSURABLE_ASSET_STATUSES:
            raise _invalid(
                "assets",
                _("资源资产 %(code)s 状态为“%(status)s”，只有已登记的资产可以投保。")
                % {"code": asset.code, "status": asset.get_status_display()},
            )
    return fresh


def _check_links(actor, insured, application, loan, project):
    if application is not None:
        if not isinstance(application, LoanApplication):
            raise _invalid("application", _("请选择有效的贷款申请。"))
        application = LoanApplication.objects.select_related("division", "product__bank").get(
            pk=application.pk
        )
        if not can(actor, Capability.MANAGE_GREEN_FINANCE, division=application.division):
            raise _invalid("application", _("该贷款申请不在您的管辖范围内。"))
        if application.applicant_id != insured.pk:
            raise _invalid(
                "application",
                _("保单关联贷款申请 %(number)s 时，被保险人须为该申请的申请人。")
                % {"number": application.number},
            )
    if loan is not None:
        if not isinstance(loan, Loan):
            raise _invalid("loan", _("请选择有效的贷款。"))
        loan = Loan.objects.select_related("division", "bank").get(pk=loan.pk)
        if not can(actor, Capability.MANAGE_GREEN_FINANCE, division=loan.division):
            raise _invalid("loan", _("该贷款不在您的管辖范围内。"))
        if loan.borrower_id != insured.pk:
            raise _invalid(
                "loan",
                _("保单关联贷款 %(number)s 时，被保险人须为该笔贷款的借款人。") % {"number": loan.number},
            )
        if application is not None and loan.application_id != application.pk:
            raise _invalid("loan", _("所选贷款不是所选贷款申请发放的贷款。"))
    if project is not None:
        if not isinstance(project, KeyProject):
            raise _invalid("project", _("请选择有效的重点项目。"))
        project = KeyProject.objects.select_related("division").get(pk=project.pk)
        if not can(actor, Capability.MANAGE_GREEN_FINANCE, division=project.division):
            raise _invalid("project", _("该重点项目不在您的管辖范围内。"))
    return application, loan, project


def _duplicate_number(number):
    message = _("保单号“%(number)s”已登记，不能重复登记。") % {"number": number}
    return ConflictError(message, code="duplicate", fields={"number": [message]})


@transaction.atomic
def create_policy(
    *,
    actor,
    number,
    kind,
    insurer,
    insured,
    division,
    sum_insured,
    premium,
    subsidy_rate,
    start_date,
    end_date,
    terms="",
    beneficiary=None,
    assets=(),
    application=None,
    loan=None,
    project=None,
):
    """Record a policy issued by `insurer` (its number is the insurer's own, unique here)."""
    if division is None:
        raise _invalid("division", _("请选择区划。"))
    _require(actor, division)
    number = required_text(number, "number", _("请填写保单号。"), max_length=40)
    if kind not in InsuranceKind.values:
        raise _invalid("kind", _("请选择有效的险种。"))
    if not isinstance(insurer, Organization) or insurer.kind != OrganizationKind.INSURER:
        raise _invalid("insurer", _("保险机构须为平台登记的保险机构。"))
    if not insurer.is_active:
        raise _invalid("insurer", _("该保险机构已停用。"))
    insured = _check_party(insured, "insured", _("请选择被保险人。"))
    if beneficiary is not None:
        beneficiary = _check_party(beneficiary, "beneficiary", _("请选择有效的第一受益人。"))
    sum_insured = parse_money(sum_insured, "sum_insured")
    premium = parse_money(premium, "premium", allow_zero=True)
    subsidy_rate = _rate(subsidy_rate)
    start_date = _date(start_date, "start_date", not_after_today=False)
    end_date = _date(end_date, "end_date", not_after_today=False)
    if end_date <= start_date:
        raise _invalid("end_date", _("保险止期须晚于保险起期。"))
    if (end_date - start_date).days > MAX_TERM_DAYS:
        raise _invalid("end_date", _("保险期限不能超过 30 年，请检查止期。"))
    terms = (terms or "").strip()
    if len(terms) > 5000:
        raise _invalid("terms", _("不能超过 %(n)s 个字。") % {"n": 5000})
    assets = _check_assets(actor, assets)
    application, loan, project = _check_links(actor, insured, application, loan, project)
    if InsurancePolicy.objects.filter(number=number).exists():
        raise _duplicate_number(number)
    with audit_context(user=actor, reason=f"record insurance policy {number}"):
        try:
            with transaction.atomic():
                policy = InsurancePolicy.objects.create(
                    number=number,
                    kind=kind,
                    insurer=insurer,
                    insured=insured,
                    beneficiary=beneficiary,
                    division=division,
                    application=application,
                    loan=loan,
                    project=project,
                    sum_insured=sum_insured,
                    premium=premium,
                    subsidy_rate=subsidy_rate,
                    subsidy_amount=subsidy_of(premium, subsidy_rate),
                    start_date=start_date,
                    end_date=end_date,
                    terms=terms,
                    created_by=actor,
                )
        except IntegrityError as exc:  # the same number recorded at the same moment
            if "number" in str(exc):
                raise _duplicate_number(number) from None
            raise
        policy.assets.set(assets)
    return policy


@transaction.atomic
def cancel_policy(*, actor, policy, reason, on):
    """退保: cover ends at the start of `on` (not in the future, before the policy's end). Claims
    for incidents before then go on; a live claim for an incident on or after `on` prevents it."""
    policy = _lock_policy(policy.pk)
    _require(actor, policy.division)
    reason = required_text(reason, "reason", _("请填写退保原因。"), max_length=300)
    on = _date(on, "on")
    check_transition(POLICY_TRANSITIONS, policy.status, PolicyStatus.CANCELLED, _policy_status_label)
    if on >= policy.end_date:
        raise _invalid(
            "on", _("退保日期须早于保险止期 %(day)s（保单届时自然到期）。") % {"day": policy.end_date}
        )
    later = (
        policy.claims.exclude(status__in=(ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN))
        .filter(incident_date__gte=on)
        .order_by("incident_date")
        .first()
    )
    if later is not None:
        raise ConflictError(
            _("理赔 %(claim)s 的出险日期 %(day)s 不早于退保日期，不能退保。")
            % {"claim": later.number, "day": later.incident_date},
            code="claims_after_cancellation",
            fields={"on": [_("退保日期须晚于已报案理赔的出险日期。")]},
        )
    with audit_context(user=actor, reason=f"cancel insurance policy {policy.number}: {reason}"):
        policy.status = PolicyStatus.CANCELLED
        policy.ended_at = _start_of(on)
        policy.end_reason = reason
        policy.save(update_fields=["status", "ended_at", "end_reason"])
    _notify_after_commit(
        _bank_officers(policy),
        _("贷款关联保单已退保：%(number)s") % {"number": policy.number},
        policy,
        level="warning",
    )
    return policy


@transaction.atomic
def expire_policies(on):
    """Mark in-force policies whose term ended by `on` as EXPIRED; returns how many (a second call
    finds none). The expiring-policies monitoring job calls it before it looks ahead."""
    on = _date(on, "on")
    due = InsurancePolicy.objects.select_for_update().filter(status=PolicyStatus.ACTIVE, end_date__lte=on)
    count = 0
    with audit_context(reason=f"expire insurance policies on {on.isoformat()}"):
        for policy in due.order_by("pk"):
            policy.status = PolicyStatus.EXPIRED
            policy.ended_at = _start_of(policy.end_date)
            policy.end_reason = _("保险期满")
            policy.save(update_fields=["status", "ended_at", "end_reason"])
            count += 1
    return count


# --- claims -----------------------------------------------------------------------------------


def _locked_claim(claim):
    """The claim's policy, then the claim itself, both locked (the one order every writer uses)."""
    policy_id = InsuranceClaim.objects.values_list("policy_id", flat=True).get(pk=claim.pk)
    policy = _lock_policy(policy_id)
    claim = InsuranceClaim.objects.select_for_update().get(pk=claim.pk)
    claim.policy = policy
    return policy, claim


@transaction.atomic
def report_claim(*, actor, policy, incident_date, cause, claimed_amount, asset=None):
    """报案: a loss inside the policy's cover. The division's green-finance desk is told."""
    policy = _lock_policy(policy.pk)
    _require(actor, policy.division)
    incident_date = _date(incident_date, "incident_date")
    cause = required_text(cause, "cause", _("请填写出险原因。"), max_length=300)
    claimed_amount = parse_money(claimed_amount, "claimed_amount")
    if policy.status not in CLAIMABLE_POLICY_STATUSES:
        raise ConflictError(
            _("保单 %(number)s 状态为“%(status)s”，不能再报案。")
            % {"number": policy.number, "status": policy.get_status_display()},
            code="policy_not_claimable",
        )
    end = coverage_end(policy)
    if not policy.start_date <= incident_date < end:
        last_day = end - datetime.timedelta(days=1)
        raise _invalid(
            "incident_date",
            _("出险日期须在保险期间内（%(start)s 至 %(end)s）。")
            % {"start": policy.start_date, "end": last_day},
        )
    if asset is not None and (not isinstance(asset, Asset) or not policy.assets.filter(pk=asset.pk).exists()):
        raise _invalid("asset", _("出险标的须为该保单承保的资源资产。"))
    with audit_context(user=actor, reason=f"report claim on policy {policy.number}"):
        claim = InsuranceClaim.objects.create(
            number=next_number(CLAIM_PREFIX),
            policy=policy,
            asset=asset,
            incident_date=incident_date,
            cause=cause,
            claimed_amount=claimed_amount,
            reported_by=actor,
        )
    _notify_after_commit(
        users_with(Capability.MANAGE_GREEN_FINANCE, division=policy.division),
        _("保险报案：%(claim)s（保单 %(policy)s）") % {"claim": claim.number, "policy": policy.number},
        claim,
        level="warning",
    )
    return claim


def _decide(actor, claim, target):
    policy, claim = _locked_claim(claim)
    _require(actor, policy.division)
    check_transition(CLAIM_TRANSITIONS, claim.status, target, _status_label)
    return policy, claim


@transaction.atomic
def start_assessment(*, actor, claim):
    """查勘定损: the insurer's loss adjustment begins."""
    _policy, claim = _decide(actor, claim, ClaimStatus.ASSESSING)
    with audit_context(user=actor, reason=f"start assessment of claim {claim.number}"):
        claim.status = ClaimStatus.ASSESSING
        claim.save(update_fields=["status"])
    return claim


@transaction.atomic
def approve_claim(*, actor, claim, approved_amount, note):
    """核赔: the approved amount is at most the claimed amount and at most what is left of the sum
    insured after the policy's other approved claims (under the policy's lock)."""
    policy, claim = _decide(actor, claim, ClaimStatus.APPROVED)
    amount = parse_money(approved_amount, "approved_amount")
    note = (note or "").strip()
    if len(note) > 500:
        raise _invalid("note", _("不能超过 %(n)s 个字。") % {"n": 500})
    if amount > claim.claimed_amount:
        raise _invalid(
            "approved_amount",
            _("核定赔款不能超过报损金额 %(claimed)s 元。") % {"claimed": claim.claimed_amount},
        )
    others = approved_total(policy, exclude=claim)
    left = policy.sum_insured - others
    if amount > left:
        message = _(
            "核定赔款超过保单剩余保险金额 %(left)s 元（保险金额 %(sum)s 元，已核赔 %(used)s 元）。"
        ) % {
            "left": left,
            "sum": policy.sum_insured,
            "used": others,
        }
        raise ConflictError(message, code="over_sum_insured", fields={"approved_amount": [message]})
    with audit_context(user=actor, reason=f"approve claim {claim.number}"):
        claim.status = ClaimStatus.APPROVED
        claim.approved_amount = amount
        claim.decision_note = note
        claim.decided_by = actor
        claim.decided_at = timezone.now()
        claim.save(update_fields=["status", "approved_amount", "decision_note", "decided_by", "decided_at"])
        if others + amount >= policy.sum_insured and policy.status == PolicyStatus.ACTIVE:
            check_transition(POLICY_TRANSITIONS, policy.status, PolicyStatus.EXHAUSTED, _policy_status_label)
            policy.status = PolicyStatus.EXHAUSTED
            policy.ended_at = timezone.now()
            policy.end_reason = _("累计核赔达到保险金额")
            policy.save(update_fields=["status", "ended_at", "end_reason"])
    _notify_after_commit(
        _bank_officers(policy),
        _("贷款关联保单理赔已核赔：%(claim)s，核定赔款 %(amount)s 元")
        % {"claim": claim.number, "amount": amount},
        claim,
    )
    return claim


def _close(actor, claim, target, note, *, message, verb):
    _policy, claim = _decide(actor, claim, target)
    note = required_text(note, "note", message, max_length=500)
    with audit_context(user=actor, reason=f"{verb} claim {claim.number}"):
        claim.status = target
        claim.decision_note = note
        claim.decided_by = actor
        claim.decided_at = timezone.now()
        claim.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    return claim


@transaction.atomic
def reject_claim(*, actor, claim, note):
    """拒赔, with the reason."""
    return _close(actor, claim, ClaimStatus.REJECTED, note, message=_("请填写拒赔理由。"), verb="reject")


@transaction.atomic
def withdraw_claim(*, actor, claim, note):
    """撤案 at the insured's request, with the reason."""
    return _close(actor, claim, ClaimStatus.WITHDRAWN, note, message=_("请填写撤案原因。"), verb="withdraw")


@transaction.atomic
def record_payout(*, actor, claim, amount, paid_on, payee, reference):
    """One payment of an approved claim to the insured or the first beneficiary; payouts never
    exceed the approved amount (under the policy's lock) and the claim is PAID once fully paid."""
    policy, claim = _locked_claim(claim)
    _require(actor, policy.division)
    amount = parse_money(amount, "amount")
    paid_on = _date(paid_on, "paid_on")
    reference = required_text(reference, "reference", _("请填写赔付凭证号。"), max_length=60)
    payee = _check_party(payee, "payee", _("请选择领款人。"))
    if claim.status != ClaimStatus.APPROVED:
        raise ConflictError(
            _("理赔 %(claim)s 状态为“%(status)s”，只有已核赔的理赔可以登记赔付。")
            % {"claim": claim.number, "status": claim.get_status_display()},
            code="claim_not_approved",
        )
    if payee.pk not in {policy.insured_id, policy.beneficiary_id}:
        raise _invalid("payee", _("领款人须为被保险人或第一受益人。"))
    if paid_on < claim.incident_date:
        raise _invalid("paid_on", _("赔付日期不能早于出险日期 %(day)s。") % {"day": claim.incident_date})
    # A retried payout (same voucher) is told so first, rather than that it would overpay.
    if claim.payouts.filter(reference=reference).exists():
        message = _("赔付凭证号“%(reference)s”已登记。") % {"reference": reference}
        raise ConflictError(message, code="duplicate", fields={"reference": [message]})
    left = claim.approved_amount - claim.paid_amount
    if amount > left:
        message = _("赔付金额超过尚未赔付的核定赔款 %(left)s 元。") % {"left": left}
        raise ConflictError(message, code="over_approved", fields={"amount": [message]})
    with audit_context(user=actor, reason=f"record payout of claim {claim.number}"):
        payout = ClaimPayout.objects.create(
            claim=claim, paid_on=paid_on, amount=amount, payee=payee, reference=reference, recorded_by=actor
        )
        claim.paid_amount += amount
        fields = ["paid_amount"]
        if claim.paid_amount == claim.approved_amount:
            check_transition(CLAIM_TRANSITIONS, claim.status, ClaimStatus.PAID, _status_label)
            claim.status = ClaimStatus.PAID
            fields.append("status")
        claim.save(update_fields=fields)
        journal_record(
            kind=EntryKind.PAYMENT,
            references=[claim.number, claim.policy.number],
            public={
                "claim_payout": claim.number,
                "policy": claim.policy.number,
                "insurer": claim.policy.insurer.name,
                "payee": party_label(payee),
                "paid_on": paid_on,
                "amount": amount,
            },
            detail={"payout": payout.pk, "payee": payee.pk},
            actor=actor,
        )
    return payout
