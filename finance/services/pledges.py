"""Pledges (抵质押登记): a right given as security for a loan application, recorded in the rights
ledger as a `resources.Restriction` (made by `resources.services.add_pledge`) with the finance
side in `Pledge`: which application, appraisal and bank it serves, its number and the
verification code printed on its certificate.

Locks, in this order: the application (so that requests for one application queue up
predictably), then the right's asset and the right (the order of `resources.services`), then the
restriction and the pledge. Ranks and the total pledged on a right are decided under the right's
lock: `add_pledge` checks both there (and the database refuses two active securities at one rank),
so simultaneous requests on one right can never together exceed what it can bear."""

import contextlib
import secrets
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Membership, Role
from directory.services import ensure_party, notify
from resources import services as registry
from resources.models import Asset, Restriction, RestrictionKind, Right, RightStatus
from resources.registration import VERIFICATION_ALPHABET
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from transactions.services.common import cooperative_for
from transactions.services.contracts import add_months

from ..models import (
    ApplicationCollateral,
    ApplicationStatus,
    LoanApplication,
    Pledge,
    PledgeStatus,
)
from .appraisal import current_appraisal
from .common import check_transition, next_number, require_bank_or_staff, required_text

# A pledge is registered once the cooperative's checker has approved the application (the bank
# may want the security in place before it decides), and up to and after disbursement.
PLEDGEABLE_APPLICATION_STATUSES = (
    ApplicationStatus.APPROVED,
    ApplicationStatus.BANK_APPROVED,
    ApplicationStatus.DISBURSED,
)
PLEDGE_TRANSITIONS = {
    PledgeStatus.ACTIVE: {PledgeStatus.RELEASED, PledgeStatus.ENFORCED},
    PledgeStatus.RELEASED: set(),
    PledgeStatus.ENFORCED: set(),
}
SECURITY_KINDS = (RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE)
MAX_RANK = 99
VERIFICATION_CODE_LENGTH = 12
CENT = Decimal("0.01")


def _label(status):
    return PledgeStatus(status).label


def _verification_code():
    return "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH))


def _invalid(field, message, code="invalid"):
    return DomainError(message, code=code, fields={field: [message]})


def _parse_amount(value):
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise _invalid("secured_amount", _("担保金额须为正数，最多两位小数（元）。"))
    return amount


def _parse_rank(value):
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_RANK:
        raise _invalid("rank", _("顺位须为 1 至 %(n)s 的整数。") % {"n": MAX_RANK})
    return int(text)


def _taken_ranks(right):
    """Ranks held by active pledges and mortgages on the right (call with the right locked)."""
    return set(
        Restriction.objects.filter(
            right=right, kind__in=SECURITY_KINDS, status=RightStatus.ACTIVE
        ).values_list("rank", flat=True)
    )


def next_free_rank(taken):
    rank = 1
    while rank in taken:
        rank += 1
    return rank


def _recipients(bank, division, exclude):
    """The bank's officers and the responsible cooperative's staff (people, not API accounts)."""
    organizations = [bank.pk]
    with contextlib.suppress(DomainError):  # no cooperative covers the division: tell the bank only
        organizations.append(cooperative_for(division).pk)
    memberships = (
        Membership.objects.filter(
            organization_id__in=organizations,
            role__in=(Role.BANK_OFFICER, Role.COOP_STAFF),
            is_active=True,
            user__is_active=True,
            user__is_service_account=False,
        )
        .exclude(user=exclude)
        .select_related("user")
        .order_by("user_id")
    )
    return list({m.user_id: m.user for m in memberships}.values())


def _notify_later(pledge, actor, title, level="info"):
    recipients = _recipients(pledge.bank, pledge.application.division, actor)
    body = _("%(number)s：%(asset)s 第%(rank)s顺位，担保金额 %(amount)s 元（%(bank)s）") % {
        "number": pledge.number,
        "asset": pledge.right.asset.code,
        "rank": pledge.rank,
        "amount": pledge.secured_amount,
        "bank": pledge.bank.name,
    }
    link = pledge.get_absolute_url()
    transaction.on_commit(
        lambda: notify(recipients=recipients, title=title, body=body, link=link, level=level)
    )


def _translate_registry_error(exc, *, appraisal, amount, rank, taken):
    """Say in loan terms what the registry refused (it speaks of rights and restrictions)."""
    if exc.code == "over_capacity":
        pledged = Restriction.objects.filter(
            right_id=appraisal.right_id, kind__in=SECURITY_KINDS, status=RightStatus.ACTIVE
        ).values_list("secured_amount", flat=True)
        already = sum(pledged, Decimal(0))
        left = max(appraisal.appraised_value - already, Decimal(0))
        message = _(
            "担保金额超出该权利可承担的价值：评估价值 %(value)s 元（评估编号 %(appraisal)s），"
            "各顺位已设抵质押合计 %(pledged)s 元，本次 %(amount)s 元，可担保余额 %(left)s 元。"
        ) % {
            "value": appraisal.appraised_value,
            "appraisal": appraisal.number,
            "pledged": already,
            "amount": amount,
            "left": left,
        }
        return ConflictError(
            message,
            code="over_capacity",
            fields={"secured_amount": [_("超出可担保余额 %(left)s 元。") % {"left": left}]},
        )
    if exc.code == "rank_taken":
        message = _("该权利第%(rank)s顺位已设有抵质押，可用的最小顺位为 %(free)s。") % {
            "rank": rank,
            "free": next_free_rank(taken | {rank}),
        }
        return ConflictError(message, code="rank_taken", fields={"rank": [_("顺位已被占用。")]})
    if "period" in (exc.fields or {}):
        return DomainError(exc.detail, code=exc.code, fields={"right": exc.fields["period"]})
    return exc


@transaction.atomic
def register_pledge(*, actor, application, right, secured_amount, rank=None, bank_reference=""):
    """Pledge `right` (one of the application's collateral) to the application's bank for
    `secured_amount`, at `rank` or the lowest free rank. Returns the Pledge."""
    application = (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related("product__bank", "division")
        .get(pk=application.pk)
    )
    product, bank = application.product, application.product.bank
    require_bank_or_staff(actor, bank=bank, division=application.division)
    if application.status not in PLEDGEABLE_APPLICATION_STATUSES:
        raise ConflictError(
            _("申请状态为“%(status)s”，只有已复核、银行已批准或已放款的申请可以办理抵质押登记。")
            % {"status": application.get_status_display()},
            code="application_status",
        )
    if (
        right is None
        or not ApplicationCollateral.objects.filter(application=application, right_id=right.pk).exists()
    ):
        raise _invalid("right", _("该权利不在本申请的抵质押物清单中。"), code="not_collateral")
    amount = _parse_amount(secured_amount)
    rank = _parse_rank(rank)
    bank_reference = (bank_reference or "").strip()
    if len(bank_reference) > 60:
        raise _invalid("bank_reference", _("银行业务编号不能超过 60 个字。"))

    Asset.objects.select_for_update().get(pk=right.asset_id)
    right = Right.objects.select_for_update(of=("self",)).select_related("asset").get(pk=right.pk)
    today = timezone.localdate()
    appraisal = current_appraisal(right, product, on=today)
    if appraisal is None:
        raise ConflictError(
            _("该权利在本产品下没有有效的评估（无评估或已过有效期），请先评估。"),
            code="no_appraisal",
            fields={"right": [_("没有有效的评估。")]},
        )
    if amount > appraisal.max_loan:
        raise _invalid(
            "secured_amount",
            _("担保金额 %(amount)s 元超出评估 %(appraisal)s 的最高可贷额 %(max)s 元。")
            % {"amount": amount, "appraisal": appraisal.number, "max": appraisal.max_loan},
            code="over_max_loan",
        )
    duplicate = Pledge.objects.filter(
        application=application, right=right, status=PledgeStatus.ACTIVE
    ).first()
    if duplicate is not None:
        raise ConflictError(
            _("本申请已在该权利上设有有效的抵质押（%(number)s）。") % {"number": duplicate.number},
            code="duplicate",
        )
    taken = _taken_ranks(right)
    if rank is None:
        rank = next_free_rank(taken)
        if rank > MAX_RANK:
            raise ConflictError(_("该权利已没有可用的顺位。"), code="rank_taken")

    end = add_months(today, application.term_months)
    if right.period.upper is not None:
        end = min(end, right.period.upper)
    number = next_number("ZY")
    holder = ensure_party(bank)
    source_document = _("抵质押登记 %(number)s（贷款申请 %(application)s%(reference)s）") % {
        "number": number,
        "application": application.number,
        "reference": f"，{bank_reference}" if bank_reference else "",
    }
    with audit_context(user=actor, reason=f"register pledge {number}"):
        try:
            restriction = registry.add_pledge(
                actor=actor,
                right=right,
                holder=holder,
                rank=rank,
                secured_amount=amount,
                start=today,
                end=end,
                source_document=source_document,
                capacity=appraisal.appraised_value,
                authorised_by_caller=True,
                journal_references=[number, application.number],
            )
        except DomainError as exc:
            raise _translate_registry_error(
                exc, appraisal=appraisal, amount=amount, rank=rank, taken=taken
            ) from None
    # pghistory keeps one context per transaction and a nested one (the registry's) overwrites its
    # reason: state ours again, so that both history rows name this registration.
    with audit_context(user=actor, reason=f"register pledge {number}"):
        pledge = Pledge.objects.create(
            number=number,
            restriction=restriction,
            bank=bank,
            application=application,
            appraisal=appraisal,
            right=right,
            rank=rank,
            secured_amount=amount,
            bank_reference=bank_reference,
            verification_code=_verification_code(),
            registered_by=actor,
        )
    _notify_later(pledge, actor, _("抵质押已登记：%(number)s") % {"number": number}, level="success")
    return pledge


def _lock_for_ending(pledge):
    """Lock asset → right → restriction → pledge, and return the locked pledge."""
    Asset.objects.select_for_update().get(pk=pledge.restriction.asset_id)
    Right.objects.select_for_update().get(pk=pledge.right_id)
    Restriction.objects.select_for_update().get(pk=pledge.restriction_id)
    return (
        Pledge.objects.select_for_update(of=("self",))
        .select_related("restriction", "bank", "application__division", "right__asset")
        .get(pk=pledge.pk)
    )


def _end(*, actor, pledge, reason, status, restriction_reason):
    pledge = Pledge.objects.select_related("restriction", "bank", "application__division").get(pk=pledge.pk)
    require_bank_or_staff(actor, bank=pledge.bank, division=pledge.application.division)
    reason = required_text(reason, "reason", _("请填写原因。"), max_length=200)
    pledge = _lock_for_ending(pledge)
    check_transition(PLEDGE_TRANSITIONS, pledge.status, status, _label)
    with audit_context(user=actor, reason=f"{status} pledge {pledge.number}: {reason}"):
        # The registry may have ended the restriction itself (e.g. a court order recorded by the
        # registry desk); the pledge then only follows.
        if pledge.restriction.status == RightStatus.ACTIVE:
            registry.release_restriction(
                actor=actor,
                restriction=pledge.restriction,
                reason=restriction_reason[:200],
                authorised_by_caller=True,
                journal_references=[pledge.number, pledge.application.number],
            )
    with audit_context(
        user=actor, reason=f"{status} pledge {pledge.number}: {reason}"
    ):  # see register_pledge
        pledge.status, pledge.released_at, pledge.release_reason = status, timezone.now(), reason
        pledge.save(update_fields=["status", "released_at", "release_reason"])
    return pledge


@transaction.atomic
def release_pledge(*, actor, pledge, reason):
    """解除抵质押: the bank (or the cooperative's staff) ends the pledge, e.g. on payoff."""
    pledge = _end(
        actor=actor,
        pledge=pledge,
        reason=reason,
        status=PledgeStatus.RELEASED,
        restriction_reason=_("解除抵质押：%(reason)s") % {"reason": (reason or "").strip()},
    )
    _notify_later(pledge, actor, _("抵质押已解除：%(number)s") % {"number": pledge.number})
    return pledge


@transaction.atomic
def enforce_pledge(*, actor, pledge, reason):
    """实现质权: the pledged right is disposed of (e.g. bought back by the cooperative); the pledge
    ends as ENFORCED and its restriction is ended with the reason."""
    pledge = _end(
        actor=actor,
        pledge=pledge,
        reason=reason,
        status=PledgeStatus.ENFORCED,
        restriction_reason=_("处置质押物：%(reason)s") % {"reason": (reason or "").strip()},
    )
    _notify_later(pledge, actor, _("质押物已处置：%(number)s") % {"number": pledge.number}, level="warning")
    return pledge


def pledges_of_loan(loan):
    """The active pledges securing `loan` (those of its application), by rank."""
    return (
        Pledge.objects.filter(application_id=loan.application_id, status=PledgeStatus.ACTIVE)
        .select_related("restriction", "right__asset", "bank", "appraisal")
        .order_by("right_id", "rank", "pk")
    )
