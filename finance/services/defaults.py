"""Default and disposal (违约处置): the cooperative's loan desk declares a default on an overdue loan
(the bank's claim is frozen), buys back pledged rights (回购: the pledge is enforced, the right passes
to the cooperative, the price pays the bank's claim first and the rest goes to the borrower), and
splits what is left of the claim by the product's risk-sharing scheme (the fund pays its share out
of the ledger). Every step is audited and numbered CZ…; the loan book records the bank's recovery.

Locks, in the platform's order: asset → right → pledge → loan → default → fund.
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import Membership, Role
from directory.permissions import Capability
from directory.services import ensure_party, notify
from resources import services as registry
from resources.models import Asset, Right
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError
from transactions._money import parse_money
from transactions.models import AccountKind, MovementKind
from transactions.services import ledger
from transactions.services.common import cooperative_for
from transactions.services.investors import staff_covering

from ..models import (
    DefaultStatus,
    Disposal,
    DisposalMethod,
    Loan,
    LoanDefault,
    LoanStatus,
    LossAllocation,
    Pledge,
    PledgeStatus,
    Repayment,
    RepaymentKind,
    RiskCompensationFund,
    RiskRole,
)
from . import loans as loan_book
from . import pledges as pledge_services
from . import risk
from .common import check_transition, next_number, require, required_text

# Steps of this module (the loan book owns ACTIVE → PAID_OFF).
LOAN_STEPS = {
    LoanStatus.ACTIVE: {LoanStatus.DEFAULTED},
    LoanStatus.DEFAULTED: {LoanStatus.CLOSED},
    LoanStatus.PAID_OFF: set(),
    LoanStatus.CLOSED: set(),
}
DEFAULT_STEPS = {DefaultStatus.DECLARED: {DefaultStatus.SETTLED}, DefaultStatus.SETTLED: set()}
# The bank's claim is paid in this order (银发〔2003〕251号 leaves it to the contract; banks take
# penalty and interest before principal).
CLAIM_ORDER = ("penalty", "interest", "principal")
WHAT_LABELS = {
    "penalty": gettext_lazy("罚息"),
    "interest": gettext_lazy("利息"),
    "principal": gettext_lazy("本金"),
    "surplus": gettext_lazy("余款归借款人"),
    "loss_share": gettext_lazy("损失分担"),
}


@dataclass(frozen=True)
class ClaimPosition:
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    days_past_due: int


# --- the loan book ------------------------------------------------------------------------------


def claim_position(loan, as_of):
    """The bank's claim on `as_of` from the loan book: outstanding principal, interest of the
    installments already due, unpaid penalty to date, and the days past due."""
    pos = loan_book.position(loan, as_of=as_of)
    return ClaimPosition(
        principal=pos.outstanding_principal,
        interest=pos.overdue_interest,
        penalty=pos.penalty_accrued,
        days_past_due=pos.days_past_due,
    )


# --- helpers ----------------------------------------------------------------------------------


def _lock_loan(loan):
    return (
        Loan.objects.select_for_update(of=("self",))
        .select_related("bank", "borrower", "division", "product__risk_scheme__fund")
        .get(pk=loan.pk)
    )


def _lock_default(default):
    return LoanDefault.objects.select_for_update().get(pk=default.pk)


def _label(choices):
    return lambda value: choices(value).label


def _require_declared(default):
    if default.status != DefaultStatus.DECLARED:
        raise ConflictError(_("该违约已处置结案。"), code="settled")


def _executed_on(value, default):
    value = risk.business_date(value, "executed_on")
    if value < default.declared_on:
        raise DomainError(
            _("处置日期不能早于违约认定日期（%(day)s）。") % {"day": default.declared_on},
            code="invalid",
            fields={"executed_on": [_("不能早于违约认定日期。")]},
        )
    return value


def repaid_after_declaration(default):
    """What the borrower repaid on the loan after the default was declared (disposals excluded)."""
    total = (
        Repayment.objects.filter(loan_id=default.loan_id, recorded_at__gt=default.created_at)
        .exclude(kind=RepaymentKind.DISPOSAL)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal("0.00")


def remaining_claim(default):
    """{penalty, interest, principal} of the frozen claim not yet met: less the bank's part of each
    buy-back, and less what the borrower repaid after the declaration (taken in the claim order).
    Lists prefetch `disposals` and annotate `repaid_after` (finance.selectors_risk.defaults_for)."""
    left = {
        "penalty": default.penalty,
        "interest": default.outstanding_interest,
        "principal": default.outstanding_principal,
    }
    for disposal in default.disposals.all():
        if disposal.method != DisposalMethod.BUY_BACK:
            continue
        for line in disposal.waterfall:
            if line.get("to") == "bank":
                left[line["what"]] -= Decimal(line["amount"])
    later = getattr(default, "repaid_after", None)
    if later is None:
        later = repaid_after_declaration(default)
    for what in CLAIM_ORDER:
        take = min(later, left[what])
        left[what] -= take
        later -= take
    return left


def buyback_waterfall(remaining, price, *, bank_party, borrower_party):
    """Lines [{to, party, name, what, amount}]: the bank's remaining claim first (penalty, interest,
    principal) up to the price, the rest to the borrower. The amounts add up to the price."""
    lines, left = [], price
    for what in CLAIM_ORDER:
        take = min(left, remaining[what])
        if take > 0:
            lines.append(_line("bank", bank_party, what, take))
            left -= take
    if left > 0:
        lines.append(_line("borrower", borrower_party, "surplus", left))
    return lines


def _line(to, party, what, amount):
    # A person's name is not copied into the JSON (personal data stays where it can be masked).
    name = str(party) if party.organization_id else ""
    return {"to": to, "party": party.pk, "name": name, "what": what, "amount": str(amount)}


def _bank_users(bank):
    return [
        m.user
        for m in Membership.objects.filter(
            organization=bank, role=Role.BANK_OFFICER, is_active=True, user__is_active=True
        ).select_related("user")
    ]


def _notify(loan, title, body, link):
    recipients = {*_bank_users(loan.bank), *staff_covering(loan.division)}
    if recipients:
        transaction.on_commit(
            lambda: notify(recipients=list(recipients), title=title, body=body, link=link, level="warning")
        )


# --- declare ----------------------------------------------------------------------------------


@transaction.atomic
def declare_default(*, actor, loan, reason, declared_on=None):
    """Declare an ACTIVE loan at least one day past due in default: its claim is frozen
    (outstanding principal, interest due to date, penalty to date) and the loan becomes 已违约."""
    loan = _lock_loan(loan)
    require(actor, Capability.MANAGE_LOANS, loan.division)
    reason = required_text(reason, "reason", _("请填写违约事由。"), max_length=300)
    declared_on = risk.business_date(declared_on or timezone.localdate(), "declared_on")
    if declared_on < loan.disbursed_on:
        raise DomainError(
            _("认定日期不能早于放款日。"), code="invalid", fields={"declared_on": [_("不能早于放款日。")]}
        )
    if LoanDefault.objects.filter(loan=loan).exists():
        raise ConflictError(_("该贷款已认定违约。"), code="already_declared")
    check_transition(LOAN_STEPS, LoanStatus(loan.status), LoanStatus.DEFAULTED, _label(LoanStatus))
    position = claim_position(loan, declared_on)
    if position.days_past_due < 1:
        raise ConflictError(
            _("该贷款在 %(day)s 没有逾期，不能认定违约。") % {"day": declared_on}, code="not_overdue"
        )
    with audit_context(user=actor, reason=f"declare default {loan.number}: {reason}"):
        default = LoanDefault.objects.create(
            loan=loan,
            declared_on=declared_on,
            declared_by=actor,
            reason=reason,
            outstanding_principal=position.principal,
            outstanding_interest=position.interest,
            penalty=position.penalty,
        )
        loan.status = LoanStatus.DEFAULTED
        loan.save(update_fields=["status"])
    _notify(
        loan,
        _("贷款 %(number)s 已认定违约") % {"number": loan.number},
        _("逾期 %(days)s 天；债权合计 %(claim)s 元（本金 %(p)s，利息 %(i)s，罚息 %(f)s）。")
        % {
            "days": position.days_past_due,
            "claim": default.claim,
            "p": default.outstanding_principal,
            "i": default.outstanding_interest,
            "f": default.penalty,
        },
        default.get_absolute_url(),
    )
    return default


# --- buy-back ---------------------------------------------------------------------------------


@transaction.atomic
def buy_back(*, actor, default, pledge, price, executed_on, source_document):
    """The cooperative buys the pledged right at `price`: the pledge is enforced, the right passes to
    the cooperative (same kind and share), the cooperative pays in the ledger, and the price goes to
    the bank's claim (penalty, interest, principal) first and the rest to the borrower."""
    pledge = Pledge.objects.select_related("right").get(pk=pledge.pk)
    default = LoanDefault.objects.select_related("loan").get(pk=default.pk)
    # The loan book locks every pledged asset of the loan when it records the recovery: take them
    # all now, in pk order, so that the order stays asset → right → pledge → loan.
    secured = Pledge.objects.filter(application_id=default.loan.application_id, status=PledgeStatus.ACTIVE)
    asset_ids = sorted({pledge.right.asset_id, *secured.values_list("right__asset_id", flat=True)})
    list(Asset.objects.select_for_update(of=("self",)).filter(pk__in=asset_ids).order_by("pk").values("pk"))
    right = Right.objects.select_for_update().select_related("asset").get(pk=pledge.right_id)
    pledge = Pledge.objects.select_for_update(of=("self",)).select_related("restriction").get(pk=pledge.pk)
    loan = _lock_loan(default.loan)
    default = _lock_default(default)
    require(actor, Capability.MANAGE_LOANS, loan.division)
    _require_declared(default)
    if pledge.application_id != loan.application_id:
        raise DomainError(
            _("该抵质押不属于这笔贷款。"), code="invalid", fields={"pledge": [_("不属于这笔贷款。")]}
        )
    if pledge.status != PledgeStatus.ACTIVE:
        raise ConflictError(
            _("抵质押 %(number)s 状态为“%(status)s”，不能回购。")
            % {"number": pledge.number, "status": pledge.get_status_display()},
            code="pledge_not_active",
        )
    price = parse_money(price, "price")
    executed_on = _executed_on(executed_on, default)
    source_document = required_text(source_document, "source_document", _("请填写回购协议或处置依据。"), 200)
    cooperative = ensure_party(cooperative_for(loan.division))
    bank_party = ensure_party(loan.bank)
    lines = buyback_waterfall(
        remaining_claim(default), price, bank_party=bank_party, borrower_party=loan.borrower
    )
    number = next_number("CZ")
    reason = _("违约处置回购 %(number)s（贷款 %(loan)s）") % {"number": number, "loan": loan.number}
    pledge_services.enforce_pledge(actor=actor, pledge=pledge, reason=reason)
    registry.supersede_right(
        actor=actor,
        right=right,
        reason=reason,
        holder=cooperative,
        share=Fraction(right.share_numerator, right.share_denominator),
        start=executed_on,
        end=right.period.upper,
        source_document=source_document,
    )
    summary = "；".join(f"{WHAT_LABELS[line['what']]} {line['amount']}" for line in lines)
    ledger.post(
        actor=actor,
        kind=MovementKind.BUYBACK,
        memo=_("回购 %(asset)s（抵质押 %(pledge)s）价款 %(price)s 元：%(lines)s")
        % {"asset": right.asset.code, "pledge": pledge.number, "price": price, "lines": summary},
        lines=[
            ledger.debit(AccountKind.BUYBACK_ASSETS, cooperative, price),
            ledger.credit(AccountKind.CASH, cooperative, price),
        ],
        occurred_on=executed_on,
        reference=number,
    )
    parts = dict.fromkeys(CLAIM_ORDER, Decimal("0.00"))
    for line in lines:
        if line["to"] == "bank":
            parts[line["what"]] += Decimal(line["amount"])
    recovered = sum(parts.values(), Decimal("0.00"))
    if recovered > 0:
        # The loan book allocates the recovery by its own rules (oldest installment first); the
        # waterfall above states how the frozen claim was met. A recovery that pays the loan off
        # ends it there (PAID_OFF, remaining pledges released) and settles the default.
        loan_book.record_repayment(
            actor=actor,
            loan=loan,
            amount=recovered,
            paid_on=executed_on,
            bank_reference=number,
            kind="disposal",
        )
        loan.refresh_from_db(fields=["status", "closed_on"])
    with audit_context(user=actor, reason=f"buy back {pledge.number} for {loan.number}"):
        disposal = Disposal.objects.create(
            default=default,
            number=number,
            method=DisposalMethod.BUY_BACK,
            executed_on=executed_on,
            amount=price,
            waterfall=lines,
            source_document=source_document,
            executed_by=actor,
        )
        if loan.status == LoanStatus.PAID_OFF:  # the recovery paid the loan off in the loan book
            check_transition(
                DEFAULT_STEPS, DefaultStatus(default.status), DefaultStatus.SETTLED, _label(DefaultStatus)
            )
            default.status = DefaultStatus.SETTLED
            default.save(update_fields=["status"])
    _notify(
        loan,
        _("贷款 %(number)s 抵质押物已由合作社回购") % {"number": loan.number},
        _("回购价款 %(price)s 元，其中偿还银行 %(bank)s 元。")
        % {"price": price, "bank": sum(parts.values(), Decimal("0.00"))},
        default.get_absolute_url(),
    )
    return disposal


# --- loss compensation --------------------------------------------------------------------------


def _fund_for(scheme):
    if scheme.fund_id is None:
        raise ConflictError(_("风险分担方案未指定风险补偿基金。"), code="no_fund")
    return RiskCompensationFund.objects.select_for_update().select_related("manager").get(pk=scheme.fund_id)


@transaction.atomic
def compensate_loss(*, actor, default, executed_on, source_document):
    """After the buy-backs, what is left of the claim is the loss: split by the product's scheme,
    the fund's part paid out of the fund, the cooperative's part booked as its loss; the guarantor's
    and the bank's parts are recorded (their money moves outside the platform). The default is
    settled and the loan closed."""
    default = LoanDefault.objects.select_related("loan").get(pk=default.pk)
    loan = _lock_loan(default.loan)
    default = _lock_default(default)
    require(actor, Capability.MANAGE_LOANS, loan.division)
    _require_declared(default)
    executed_on = _executed_on(executed_on, default)
    source_document = required_text(source_document, "source_document", _("请填写代偿依据文件。"), 200)
    open_pledges = list(
        Pledge.objects.filter(application_id=loan.application_id, status=PledgeStatus.ACTIVE).values_list(
            "number", flat=True
        )
    )
    if open_pledges:
        raise ConflictError(
            _("该贷款仍有有效的抵质押（%(numbers)s），请先回购处置或解除后再代偿。")
            % {"numbers": "、".join(open_pledges)},
            code="pledges_open",
        )
    loss = sum(remaining_claim(default).values(), Decimal("0.00"))
    scheme = loan.product.risk_scheme
    if loss > 0 and scheme is None:
        raise ConflictError(
            _("贷款产品“%(product)s”未设风险分担方案，不能分担损失。") % {"product": loan.product.name},
            code="no_risk_scheme",
        )
    parts = risk.split_loss(scheme, loss) if loss > 0 else []
    fund_part = sum((amount for share, amount in parts if share.role == RiskRole.GOVERNMENT_FUND), Decimal(0))
    fund = _fund_for(scheme) if fund_part > 0 else None
    if fund is not None:
        balance = risk.fund_balance(fund)
        if balance < fund_part:
            shortfall = fund_part - balance
            raise ConflictError(
                _(
                    "风险补偿基金“%(fund)s”余额 %(balance)s 元，不足以支付应分担的 %(part)s 元，缺口 %(gap)s 元。"
                )
                % {"fund": fund.name, "balance": balance, "part": fund_part, "gap": shortfall},
                code="fund_insufficient",
                fields={"fund": [_("余额不足，缺口 %(gap)s 元。") % {"gap": shortfall}]},
            )
    number = next_number("CZ")
    bank_party = ensure_party(loan.bank)
    allocations, lines = [], []
    for share, amount in parts:
        # The scheme's BANK party is a reference bank: the loss falls on this loan's own bank.
        party = bank_party if share.role == RiskRole.BANK else share.party
        allocations.append((share, party, amount))
        line = _line(share.role, party, "loss_share", amount)
        line["share"] = str(share.share)
        lines.append(line)
    memo = _("贷款 %(loan)s 损失分担（%(number)s）") % {"loan": loan.number, "number": number}
    for share, party, amount in allocations:
        if amount <= 0:
            continue
        if share.role == RiskRole.GOVERNMENT_FUND:
            manager = ensure_party(fund.manager)
            pay = [
                ledger.debit(AccountKind.FUND_COMPENSATION, manager, amount),
                ledger.credit(AccountKind.RISK_FUND, manager, amount),
            ]
        elif share.role == RiskRole.COOPERATIVE:
            pay = [
                ledger.debit(AccountKind.LOSS_COST, party, amount),
                ledger.credit(AccountKind.CASH, party, amount),
            ]
        else:
            continue
        ledger.post(
            actor=actor,
            kind=MovementKind.LOSS_COMPENSATION,
            memo=f"{memo}：{share.get_role_display()} {amount}",
            lines=pay,
            occurred_on=executed_on,
            reference=number,
        )
    with audit_context(user=actor, reason=f"compensate loss {loan.number}"):
        disposal = Disposal.objects.create(
            default=default,
            number=number,
            method=DisposalMethod.RISK_COMPENSATION,
            executed_on=executed_on,
            amount=loss,
            waterfall=lines,
            source_document=source_document,
            executed_by=actor,
        )
        LossAllocation.objects.bulk_create(
            [
                LossAllocation(
                    disposal=disposal, role=share.role, party=party, share=share.share, amount=amount
                )
                for share, party, amount in allocations
            ]
        )
        check_transition(
            DEFAULT_STEPS, DefaultStatus(default.status), DefaultStatus.SETTLED, _label(DefaultStatus)
        )
        default.status = DefaultStatus.SETTLED
        default.save(update_fields=["status"])
        check_transition(LOAN_STEPS, LoanStatus(loan.status), LoanStatus.CLOSED, _label(LoanStatus))
        loan.status, loan.closed_on = LoanStatus.CLOSED, executed_on
        loan.save(update_fields=["status", "closed_on"])
    _notify(
        loan,
        _("贷款 %(number)s 违约处置结案") % {"number": loan.number},
        _("剩余损失 %(loss)s 元已按风险分担方案分担。") % {"loss": loss},
        default.get_absolute_url(),
    )
    return disposal
