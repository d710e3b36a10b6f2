"""Settlement: investors' payments on trade contracts, payouts of the collection schedules and
reversals of those movements. Every yuan goes through ledger.post; installments and schedule
lines are changed under row locks in the same transaction as the movement that explains them."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.permissions import Capability
from directory.selectors import within_reach
from directory.services import ensure_party
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError

from .._money import parse_money
from ..models import (
    AccountKind,
    CollectionContract,
    ContractStatus,
    InstallmentStatus,
    Movement,
    MovementKind,
    ScheduledPayment,
    ScheduleStatus,
    TradeContract,
    TradeInstallment,
)
from . import ledger
from .common import require, required_text

PAYABLE_CONTRACT_STATUSES = (ContractStatus.SIGNED, ContractStatus.TERMINATED, ContractStatus.EXPIRED)


def business_date(value, field):
    """A business date from the caller: a real date, not in the future."""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime.date):
        message = _("请输入有效的日期。")
        raise DomainError(message, code="invalid", fields={field: [message]})
    if value > timezone.localdate():
        message = _("业务日期不能晚于今天。")
        raise DomainError(message, code="invalid", fields={field: [message]})
    return value


def _reference(value):
    return required_text(value, "reference", _("请填写银行流水号。"), max_length=60)


# --- investor payments -----------------------------------------------------------------------


@transaction.atomic
def record_investor_payment(*, actor, contract, amount, occurred_on, reference, idempotency_key=None):
    """收到交易价款: cash in, the investor's receivable down, installments settled oldest first.

    A retry with the same idempotency key returns the movement recorded the first time."""
    require(actor, Capability.MANAGE_TRADING, contract.division)
    contract = TradeContract.objects.select_for_update(of=("self",)).get(pk=contract.pk)
    if idempotency_key:
        earlier = Movement.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replayed(earlier, contract, amount)
    amount = parse_money(amount, "amount")
    occurred_on = business_date(occurred_on, "occurred_on")
    reference = _reference(reference)
    installments = list(
        TradeInstallment.objects.select_for_update(of=("self",))
        .filter(contract=contract, status__in=[InstallmentStatus.DUE, InstallmentStatus.PARTLY_PAID])
        .order_by("due_date", "sequence")
    )
    outstanding = sum((i.outstanding for i in installments), start=Decimal("0.00"))
    if contract.status not in PAYABLE_CONTRACT_STATUSES or (
        contract.status != ContractStatus.SIGNED and not outstanding
    ):
        raise ConflictError(
            _("合同“%(number)s”当前状态为“%(status)s”，不能收款。")
            % {"number": contract.number, "status": contract.get_status_display()},
            code="contract_not_payable",
        )
    if amount > outstanding:
        message = _("付款金额超过未收金额：该合同尚欠 %(outstanding)s 元。") % {"outstanding": outstanding}
        raise DomainError(message, code="overpayment", fields={"amount": [message]})
    try:
        movement = ledger.post(
            actor=actor,
            kind=MovementKind.PAYMENT_RECEIVED,
            memo=_("收到 %(investor)s 交易价款（合同 %(number)s）")
            % {"investor": contract.investor, "number": contract.number},
            lines=[
                ledger.debit(AccountKind.CASH, ensure_party(contract.cooperative), amount),
                ledger.credit(AccountKind.RECEIVABLE, ensure_party(contract.investor), amount),
            ],
            occurred_on=occurred_on,
            reference=reference,
            idempotency_key=idempotency_key,
            trade_contract=contract,
        )
    except ledger.AlreadyPosted as exc:  # a concurrent retry committed first
        return _replayed(exc.movement, contract, amount)
    with audit_context(user=actor, reason=f"payment received: {contract.number}"):
        _apply(installments, amount)
    return movement


def _replayed(movement, contract, amount):
    if movement.kind != MovementKind.PAYMENT_RECEIVED or movement.trade_contract_id != contract.pk:
        raise ConflictError(_("该幂等键已用于另一笔业务，请使用新的键。"), code="idempotency_key_reused")
    return movement


def _apply(installments, amount):
    """Settle installments oldest first with `amount`."""
    for installment in installments:
        if not amount:
            break
        part = min(amount, installment.outstanding)
        installment.paid_amount += part
        amount -= part
        installment.status = (
            InstallmentStatus.PAID
            if installment.paid_amount == installment.amount
            else InstallmentStatus.PARTLY_PAID
        )
        installment.save(update_fields=["paid_amount", "status"])


def _unapply(contract, amount):
    """Undo `amount` of payments, newest installment first (a reversed payment)."""
    installments = (
        TradeInstallment.objects.select_for_update(of=("self",))
        .filter(contract=contract, paid_amount__gt=0)
        .order_by("-due_date", "-sequence")
    )
    for installment in installments:
        if not amount:
            break
        part = min(amount, installment.paid_amount)
        installment.paid_amount -= part
        amount -= part
        installment.status = (
            InstallmentStatus.PARTLY_PAID if installment.paid_amount else InstallmentStatus.DUE
        )
        installment.save(update_fields=["paid_amount", "status"])


# --- scheduled payments (rent, guaranteed minimum, savings yield) ----------------------------


@transaction.atomic
def pay_scheduled_payments(*, actor, contract=None, due_on_or_before, reference, occurred_on):
    """Pay every due schedule line up to a date: per contract one movement that recognises what
    is owed (collection cost → holders' payable) and pays it out (payable → cash). Lines already
    paid are skipped, so running it again pays nothing twice. Returns the lines paid."""
    require(actor, Capability.MANAGE_TRADING, contract.division if contract else None)
    if not isinstance(due_on_or_before, datetime.date):
        message = _("请输入有效的日期。")
        raise DomainError(message, code="invalid", fields={"due_on_or_before": [message]})
    occurred_on = business_date(occurred_on, "occurred_on")
    reference = _reference(reference)
    contracts = CollectionContract.objects.filter(status__in=PAYABLE_CONTRACT_STATUSES)
    contracts = (
        contracts.filter(pk=contract.pk)
        if contract
        else contracts.filter(within_reach(actor, "division__code", Capability.MANAGE_TRADING))
    )
    due = ScheduledPayment.objects.filter(status=ScheduleStatus.DUE, due_date__lte=due_on_or_before)
    contracts = {
        c.pk: c
        for c in contracts.filter(pk__in=due.values("contract"))
        .select_related("cooperative")
        .select_for_update(of=("self",))
        .order_by("pk")
    }
    lines = list(
        ScheduledPayment.objects.select_for_update(of=("self",), skip_locked=False)
        .filter(contract__in=contracts, status=ScheduleStatus.DUE, due_date__lte=due_on_or_before)
        .select_related("beneficiary__party")
        .order_by("contract_id", "due_date", "pk")
    )
    by_contract = {}
    for line in lines:
        by_contract.setdefault(line.contract_id, []).append(line)
    with audit_context(user=actor, reason="pay scheduled payments"):
        for contract_id, contract_lines in by_contract.items():
            collection = contracts[contract_id]
            coop = ensure_party(collection.cooperative)
            postings = []
            for line in contract_lines:
                holder = line.beneficiary.party
                postings += [
                    ledger.debit(AccountKind.COLLECTION_COST, coop, line.amount),
                    ledger.credit(AccountKind.PAYABLE, holder, line.amount),
                    ledger.debit(AccountKind.PAYABLE, holder, line.amount),
                    ledger.credit(AccountKind.CASH, coop, line.amount),
                ]
            movement = ledger.post(
                actor=actor,
                kind=MovementKind.PAYOUT,
                memo=_("支付收储合同 %(number)s 到期租金/保底收益 %(n)s 笔")
                % {"number": collection.number, "n": len(contract_lines)},
                lines=postings,
                occurred_on=occurred_on,
                reference=reference,
                collection_contract=collection,
            )
            ScheduledPayment.objects.filter(pk__in=[line.pk for line in contract_lines]).update(
                status=ScheduleStatus.PAID, movement=movement
            )
            for line in contract_lines:
                line.status, line.movement = ScheduleStatus.PAID, movement
    return lines


# --- reversals -------------------------------------------------------------------------------


def division_of(movement):
    """The division a movement belongs to, through what it is linked to."""
    for link in ("trade_contract", "collection_contract", "listing"):
        linked = getattr(movement, link)
        if linked is not None:
            return linked.division
    if movement.distribution_id:
        return movement.distribution.contract.division
    if movement.application_id:
        return movement.application.listing.division
    return None


@transaction.atomic
def reverse_movement(*, actor, movement, reason):
    """冲正 a settlement movement and undo what it settled: a payment's installments, the
    schedule lines a payout paid, or a distribution's payout (which may then be paid again).
    Deposits and price recognition are corrected in their own areas; declared dividends stay."""
    division = division_of(movement)
    require(actor, Capability.MANAGE_TRADING, division)
    if division is None:
        raise DomainError(_("该凭证未关联业务，不能冲正。"), code="not_reversible")
    reason = required_text(reason, "reason", _("请填写冲正原因。"), max_length=200)
    if movement.trade_contract_id:
        TradeContract.objects.select_for_update(of=("self",)).get(pk=movement.trade_contract_id)
    if movement.collection_contract_id:
        CollectionContract.objects.select_for_update(of=("self",)).get(pk=movement.collection_contract_id)
    movement = Movement.objects.select_for_update(of=("self",)).get(pk=movement.pk)
    schedule_lines = ScheduledPayment.objects.select_for_update(of=("self",)).filter(movement=movement)
    reversible = movement.kind == MovementKind.PAYMENT_RECEIVED or (
        movement.kind == MovementKind.PAYOUT and (movement.distribution_id or schedule_lines.exists())
    )
    if not reversible:
        raise ConflictError(
            _("“%(kind)s”凭证不能在结算中冲正。") % {"kind": movement.get_kind_display()},
            code="not_reversible",
        )
    reversal = ledger.reverse(actor=actor, movement=movement, reason=reason)
    with audit_context(user=actor, reason=f"reverse movement {movement.pk}: {reason}"):
        if movement.kind == MovementKind.PAYMENT_RECEIVED:
            cash = sum(p.amount for p in movement.postings.all() if p.amount > 0)
            _unapply(movement.trade_contract, cash)
        schedule_lines.update(status=ScheduleStatus.DUE, movement=None)
    return reversal
