"""Revenue distribution to the holders of a collection contract (入股分红, 二次分红, 储蓄分红).

Income attribution. The cooperative's income from a collection contract over a period
[period_start, period_end) is what investors actually paid for its assets:

1. take every payment of the price (PAYMENT_RECEIVED, and the winner's deposit applied to the
   price at signing, DEPOSIT_APPLIED; not reversed, occurred_on in the period) of each trade
   contract that contains at least one asset of this collection contract;
2. apportion each payment over all the assets of its trade contract by their CollectionItem
   weights (area or quantity; an asset's weight comes from this contract's item, otherwise from
   its most recent collection item), exactly, with allocation.split_by_weights;
3. the income is the sum of the parts that fall on this contract's assets.

The amount distributed is income × dividend rate, less (second dividend) the guaranteed minimum
or (savings) the savings yield already paid for schedule periods inside the distribution period,
never below zero, rounded down to the cent: the cooperative never pays a fraction it did not
earn. It is split among the beneficiaries by their exact shares (largest remainder), declared in
the ledger as the holders' payable and paid out once by pay_distribution.
"""

import datetime
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Membership, Role
from directory.permissions import Capability
from directory.services import ensure_party, notify
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError

from .. import journaling
from .._money import CENT
from ..models import (
    DIVIDEND_REVENUE_MODELS,
    AccountKind,
    CollectionContract,
    CollectionItem,
    ContractStatus,
    Distribution,
    DistributionKind,
    DistributionLine,
    Movement,
    MovementKind,
    RevenueModel,
    ScheduledPayment,
    ScheduleKind,
    ScheduleStatus,
    TradeContractItem,
)
from . import ledger
from .allocation import split_by_weights
from .common import require, required_text
from .settlement import business_date

ZERO = Decimal("0.00")
# The distribution kind each revenue model pays, and the schedule kind it deducts.
KIND_FOR_MODEL = {
    RevenueModel.SHARE_DIVIDEND: (DistributionKind.DIVIDEND, None),
    RevenueModel.GUARANTEED_PLUS_DIVIDEND: (DistributionKind.SECOND_DIVIDEND, ScheduleKind.GUARANTEED),
    RevenueModel.SAVINGS: (DistributionKind.SAVINGS_DIVIDEND, ScheduleKind.SAVINGS),
}
# Money the investor has actually paid towards the price: transfers, and the deposit applied.
PRICE_PAYMENT_KINDS = (MovementKind.PAYMENT_RECEIVED, MovementKind.DEPOSIT_APPLIED)
DISTRIBUTABLE_STATUSES = (ContractStatus.SIGNED, ContractStatus.EXPIRED, ContractStatus.TERMINATED)


def attributed_income(contract, period_start, period_end):
    """{"total": Decimal, "payments": [...]} — see the module docstring. Each payment lists its
    apportionment per asset, for the calculation record."""
    ours = dict(contract.items.values_list("asset_id", "weight"))
    trade_items = list(
        TradeContractItem.objects.filter(contract__items__asset__in=list(ours))
        .distinct()
        .select_related("asset")
        .order_by("contract_id", "pk")
    )
    weights = dict(ours)
    others = {item.asset_id for item in trade_items} - set(ours)
    for item in CollectionItem.objects.filter(asset__in=others).order_by("asset_id", "-pk"):
        weights.setdefault(item.asset_id, item.weight)
    missing = [item.asset.code for item in trade_items if item.asset_id not in weights]
    if missing:
        raise DomainError(
            _("资产 %(codes)s 没有收储权重，无法分摊交易收入。") % {"codes": "、".join(missing)},
            code="no_weight",
        )
    items_of = {}
    for item in trade_items:
        items_of.setdefault(item.contract_id, []).append(item)
    payments = (
        Movement.objects.filter(
            kind__in=PRICE_PAYMENT_KINDS,
            trade_contract__in=list(items_of),
            occurred_on__gte=period_start,
            occurred_on__lt=period_end,
            reversed_by__isnull=True,
        )
        .annotate(cash=Sum("postings__amount", filter=Q(postings__amount__gt=0)))
        .select_related("trade_contract")
        .order_by("occurred_on", "pk")
    )
    total, breakdown = ZERO, []
    for payment in payments:
        items = items_of[payment.trade_contract_id]
        parts = split_by_weights(payment.cash, [weights[i.asset_id] for i in items])
        share = sum((part for item, part in zip(items, parts, strict=True) if item.asset_id in ours), ZERO)
        total += share
        breakdown.append(
            {
                "movement": payment.pk,
                "trade_contract": payment.trade_contract.number,
                "occurred_on": payment.occurred_on.isoformat(),
                "amount": str(payment.cash),
                "attributed": str(share),
                "assets": [
                    {
                        "asset": item.asset.code,
                        "weight": str(weights[item.asset_id]),
                        "part": str(part),
                        "ours": item.asset_id in ours,
                    }
                    for item, part in zip(items, parts, strict=True)
                ],
            }
        )
    return {"total": total, "payments": breakdown}


def _check_period(contract, kind, period_start, period_end):
    if period_start >= period_end:
        message = _("期间止须晚于期间起。")
        raise DomainError(message, code="invalid", fields={"period_end": [message]})
    if period_start < contract.start_date or period_end > contract.end_date:
        message = _("分配期间须在合同期限（%(start)s 至 %(end)s）之内。") % {
            "start": contract.start_date,
            "end": contract.end_date,
        }
        raise DomainError(message, code="invalid", fields={"period_start": [message]})
    # The period must be over so that its income is final (period_end is exclusive).
    if period_end > timezone.localdate() + datetime.timedelta(days=1):
        message = _("分配期间尚未结束。")
        raise DomainError(message, code="invalid", fields={"period_end": [message]})
    overlapping = Distribution.objects.filter(
        contract=contract, kind=kind, period_start__lt=period_end, period_end__gt=period_start
    ).first()
    if overlapping is not None:
        raise ConflictError(
            _("该期间与已有的%(kind)s（%(start)s 至 %(end)s）重叠。")
            % {
                "kind": overlapping.get_kind_display(),
                "start": overlapping.period_start,
                "end": overlapping.period_end,
            },
            code="period_overlap",
            fields={"period_start": [_("期间重叠。")]},
        )


@transaction.atomic
def declare_distribution(*, actor, contract, kind, period_start, period_end):
    """Declare the holders' dividend for a period (see the module docstring): Distribution, one
    line per beneficiary (zero lines too), and DIVIDEND_DECLARED in the ledger when positive."""
    require(actor, Capability.MANAGE_TRADING, contract.division)
    contract = CollectionContract.objects.select_for_update(of=("self",)).get(pk=contract.pk)
    if contract.status not in DISTRIBUTABLE_STATUSES:
        raise ConflictError(
            _("合同“%(number)s”当前状态为“%(status)s”，不能分配收益。")
            % {"number": contract.number, "status": contract.get_status_display()},
            code="contract_not_distributable",
        )
    if contract.revenue_model not in DIVIDEND_REVENUE_MODELS:
        raise DomainError(
            _("收益模式为“%(model)s”的合同不分红。") % {"model": contract.get_revenue_model_display()},
            code="no_dividend",
        )
    expected, deducted_kind = KIND_FOR_MODEL[contract.revenue_model]
    if kind != expected:
        message = _("收益模式“%(model)s”的分配类型应为“%(kind)s”。") % {
            "model": contract.get_revenue_model_display(),
            "kind": expected.label,
        }
        raise DomainError(message, code="invalid", fields={"kind": [message]})
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if not isinstance(value, datetime.date):
            message = _("请输入有效的日期。")
            raise DomainError(message, code="invalid", fields={name: [message]})
    _check_period(contract, kind, period_start, period_end)
    income = attributed_income(contract, period_start, period_end)
    gross = income["total"] * contract.dividend_rate
    already_paid = ZERO
    if deducted_kind:
        already_paid = (
            ScheduledPayment.objects.filter(
                contract=contract,
                kind=deducted_kind,
                status=ScheduleStatus.PAID,
                period_start__gte=period_start,
                period_end__lte=period_end,
            ).aggregate(s=Sum("amount"))["s"]
            or ZERO
        )
    amount = max(ZERO, (gross - already_paid).quantize(CENT, rounding=ROUND_DOWN))
    beneficiaries = list(contract.beneficiaries.select_related("party").order_by("pk"))
    if not beneficiaries:
        raise DomainError(_("该合同没有收益人，不能分配。"), code="no_beneficiaries")
    shares = [Fraction(b.share_numerator, b.share_denominator) for b in beneficiaries]
    parts = split_by_weights(amount, shares)
    calculation = {
        "income": str(income["total"]),
        "payments": income["payments"],
        "dividend_rate": str(contract.dividend_rate),
        "gross": str(gross),
        "deducted_kind": deducted_kind or "",
        "already_paid": str(already_paid),
        "amount": str(amount),
        "rounding": "ROUND_DOWN",
        "lines": [
            {
                "beneficiary": b.pk,
                "party": str(b.party),
                "share": b.share_display,
                "exact": str(Fraction(int(amount * 100)) * share / 100),
                "amount": str(part),
            }
            for b, share, part in zip(beneficiaries, shares, parts, strict=True)
        ],
    }
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"declare {kind}: {contract.number}"):
            distribution = Distribution.objects.create(
                contract=contract,
                kind=kind,
                period_start=period_start,
                period_end=period_end,
                income=income["total"],
                guaranteed_paid=already_paid,
                amount=amount,
                calculation=calculation,
                created_by=actor,
            )
    except IntegrityError:
        raise ConflictError(_("该期间已有同类收益分配。"), code="period_overlap") from None
    with audit_context(user=actor, reason=f"declare {kind}: {contract.number}"):
        DistributionLine.objects.bulk_create(
            [
                DistributionLine(distribution=distribution, beneficiary=b, amount=part)
                for b, part in zip(beneficiaries, parts, strict=True)
            ]
        )
    journaling.distribution_declared(
        actor,
        distribution,
        distribution.lines.select_related("beneficiary__party__person", "beneficiary__party__organization"),
    )
    if amount:
        coop = ensure_party(contract.cooperative)
        ledger.post(
            actor=actor,
            kind=MovementKind.DIVIDEND_DECLARED,
            memo=_("确认%(kind)s：收储合同 %(number)s，%(start)s 至 %(end)s")
            % {
                "kind": distribution.get_kind_display(),
                "number": contract.number,
                "start": period_start,
                "end": period_end,
            },
            lines=[ledger.debit(AccountKind.DIVIDEND_COST, coop, amount)]
            + [
                ledger.credit(AccountKind.PAYABLE, b.party, part)
                for b, part in zip(beneficiaries, parts, strict=True)
            ],
            occurred_on=min(period_end, timezone.localdate()),
            distribution=distribution,
            collection_contract=contract,
        )
    _notify_villages(distribution)
    return distribution


def _notify_villages(distribution):
    divisions = {
        item.asset.division for item in distribution.contract.items.select_related("asset__division")
    }
    clerks = {
        m.user
        for m in Membership.objects.filter(is_active=True, role=Role.VILLAGE_CLERK).select_related(
            "user", "organization__division"
        )
        if any(m.organization.division.contains(d) for d in divisions)
    }
    if clerks:
        notify(
            recipients=sorted(clerks, key=lambda u: u.pk),
            title=_("收益分配已确认：%(number)s") % {"number": distribution.contract.number},
            body=_("%(kind)s %(start)s 至 %(end)s，分配总额 %(amount)s 元。")
            % {
                "kind": distribution.get_kind_display(),
                "start": distribution.period_start,
                "end": distribution.period_end,
                "amount": distribution.amount,
            },
            link=distribution.get_absolute_url(),
        )


def is_paid(distribution):
    return distribution.movements.filter(kind=MovementKind.PAYOUT, reversed_by__isnull=True).exists()


@transaction.atomic
def pay_distribution(*, actor, distribution, reference, occurred_on):
    """Pay each holder what the distribution put on their payable account (once)."""
    contract = distribution.contract
    require(actor, Capability.MANAGE_TRADING, contract.division)
    occurred_on = business_date(occurred_on, "occurred_on")
    reference = required_text(reference, "reference", _("请填写银行流水号。"), max_length=60)
    contract = CollectionContract.objects.select_for_update(of=("self",)).get(pk=contract.pk)
    distribution = Distribution.objects.select_for_update(of=("self",)).get(pk=distribution.pk)
    if is_paid(distribution):
        raise ConflictError(_("该收益分配已支付，不能重复支付。"), code="already_paid")
    if not distribution.amount:
        raise ConflictError(_("该收益分配金额为0，无需支付。"), code="nothing_to_pay")
    lines = list(distribution.lines.filter(amount__gt=0).select_related("beneficiary__party"))
    coop = ensure_party(contract.cooperative)
    return ledger.post(
        actor=actor,
        kind=MovementKind.PAYOUT,
        memo=_("支付%(kind)s：收储合同 %(number)s，%(start)s 至 %(end)s")
        % {
            "kind": distribution.get_kind_display(),
            "number": contract.number,
            "start": distribution.period_start,
            "end": distribution.period_end,
        },
        lines=[ledger.debit(AccountKind.PAYABLE, line.beneficiary.party, line.amount) for line in lines]
        + [ledger.credit(AccountKind.CASH, coop, distribution.amount)],
        occurred_on=occurred_on,
        reference=reference,
        distribution=distribution,
        collection_contract=contract,
    )
