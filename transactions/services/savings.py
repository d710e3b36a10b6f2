"""生态资源储蓄单 (resource savings slips): what a household receives when it deposits the use of a
resource with the cooperative under a savings-model (储蓄分红) collection contract.

One slip per beneficiary × asset of a signed SAVINGS contract on which the beneficiary holds the
contract's source right: its share is the holder's exact share of that right, its guaranteed
yearly amount the contract's annual amount × (item weight / Σ weights) × share, rounded to the
cent by largest remainder over the whole contract so that the slips add up to the annual amount
exactly. Issuing a slip grants the holder a certificated income right (收益权, certificate number =
slip number, `pledge_once`): that right is what a 生态资源储蓄贷 pledges, through the rights ledger
like any right, and the registry refuses a second active pledge on it.

Issuing is idempotent: a pair that has a live slip gets none; a pair whose slip was cancelled
(lost, misprinted) gets a replacement with a new number and code. Cancelling ends the income right
(refused while it is pledged); maturity (daily) ends it at the end of the term.

Locks: the contract first (it serializes issuing for one contract), then the assets in pk order,
then the rights (resources.services, same order); a slip's cancellation locks the slip, then its
asset and right, the order finance.services.pledges uses after its application row.
"""

import datetime
import secrets
from decimal import Decimal, localcontext
from fractions import Fraction

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from directory.models import Membership, Role
from directory.permissions import Capability
from directory.services import notify
from resources import services as registry
from resources.models import Asset, Restriction, RestrictionKind, Right, RightKind, RightStatus
from resources.registration import VERIFICATION_ALPHABET
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError

from .. import journaling
from ..models import (
    CollectionContract,
    ContractStatus,
    PaymentFrequency,
    RevenueModel,
    SavingsSlip,
    SlipStatus,
)
from .allocation import split_by_weights
from .common import check_transition, next_number, require, required_text

SLIP_PREFIX = "CX"  # 储蓄: CX2026000001
VERIFICATION_CODE_LENGTH = 12
SLIP_TRANSITIONS = {
    SlipStatus.ACTIVE: {SlipStatus.MATURED, SlipStatus.CANCELLED},
    SlipStatus.MATURED: set(),
    SlipStatus.CANCELLED: set(),
}
SECURITY_KINDS = (RestrictionKind.PLEDGE, RestrictionKind.MORTGAGE)


def _label(status):
    return SlipStatus(status).label


def _fraction_text(value):
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _decimal_text(value, places=10):
    """An exact fraction as a decimal string for the calculation record."""
    with localcontext() as ctx:
        ctx.prec = 40
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{exact.quantize(Decimal(1).scaleb(-places)):f}"


def new_verification_code():
    """12 characters without 0/O or 1/I; unique among slips (checked, and the column is unique)."""
    while True:
        code = "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_CODE_LENGTH))
        if not SavingsSlip.objects.filter(verification_code=code).exists():
            return code


# --- what the slips of a contract are -----------------------------------------------------------


def _holder_shares(asset_rights, kind, start, end):
    """{holder_id: Fraction} of the active `kind` rights on one asset in force during [start, end)."""
    shares = {}
    for right in asset_rights:
        if (
            right.kind == kind
            and right.status == RightStatus.ACTIVE
            and right.period.lower < end
            and (right.period.upper is None or right.period.upper > start)
        ):
            share = Fraction(right.share_numerator, right.share_denominator)
            shares[right.holder_id] = shares.get(right.holder_id, Fraction(0)) + share
    return shares


def planned_slips(contract, items):
    """[{beneficiary, asset, item, share, part, amount}] for every beneficiary × item asset on which
    the beneficiary holds the source right, in (asset pk, party pk) order. `part` is the slip's exact
    fraction of the contract (weight / Σ weights × share); amounts are the annual amount split by
    those parts, largest remainder, so that they add up to it (less any part no beneficiary holds
    any more, which keeps its own cents)."""
    beneficiaries = {b.party_id: b for b in contract.beneficiaries.select_related("party")}
    total_weight = sum((Fraction(str(item.weight)) for item in items), Fraction(0))
    plan = []
    for item in items:
        weight = Fraction(str(item.weight)) / total_weight
        shares = _holder_shares(
            item.asset.rights.all(), contract.source_right_kind, contract.start_date, contract.end_date
        )
        for party_id in sorted(shares):
            if party_id in beneficiaries:
                share = min(shares[party_id], Fraction(1))
                plan.append(
                    {
                        "beneficiary": beneficiaries[party_id],
                        "item": item,
                        "asset": item.asset,
                        "weight": weight,
                        "share": share,
                        "part": weight * share,
                    }
                )
    if not plan:
        return plan
    parts = [row["part"] for row in plan]
    uncovered = Fraction(1) - sum(parts, Fraction(0))
    weights = [*parts, uncovered] if uncovered > 0 else parts
    amounts = split_by_weights(contract.annual_amount, weights)
    for row, amount in zip(plan, amounts, strict=False):
        row["amount"] = amount
    return plan


def dividend_rule(contract):
    """The slip's dividend rule as a stored Chinese sentence (the same in every UI language)."""
    with translation.override("zh-hans"):
        frequency = PaymentFrequency(contract.payment_frequency).label
        model = RevenueModel(contract.revenue_model).label
        if contract.dividend_rate > 0:
            percent = f"{(contract.dividend_rate * 100).normalize():f}"
            return _(
                "%(model)s：保底收益按%(frequency)s支付；合作社每年将所收储资源经营净收益的 %(percent)s%% "
                "作为储蓄分红，扣除当期已付保底收益后按收益份额分配，不足时不再分红。"
            ) % {"model": model, "frequency": frequency, "percent": percent}
        return _("%(model)s：保底收益按%(frequency)s支付；本储蓄单不参与经营收益分红。") % {
            "model": model,
            "frequency": frequency,
        }


def _calculation(contract, row, total_weight, count, replaces):
    exact = Fraction(str(contract.annual_amount)) * row["part"]
    return {
        "contract": contract.number,
        "revenue_model": contract.revenue_model,
        "annual_amount": f"{contract.annual_amount:f}",
        "dividend_rate": f"{contract.dividend_rate:f}",
        "source_right_kind": contract.source_right_kind,
        "asset": row["asset"].code,
        "item_weight": f"{row['item'].weight:f}",
        "total_weight": f"{total_weight:f}",
        "weight_fraction": _fraction_text(row["weight"]),
        "right_share": _fraction_text(row["share"]),
        "contract_part": _fraction_text(row["part"]),
        "exact_amount": _fraction_text(exact),
        "exact_amount_decimal": _decimal_text(exact),
        "rounding": "largest_remainder",
        "slips_in_contract": count,
        "guaranteed_annual_amount": f"{row['amount']:f}",
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat(),
        "replaces": replaces,
    }


# --- issuing ------------------------------------------------------------------------------------


def _locked_contract(contract):
    return (
        CollectionContract.objects.select_for_update(of=("self",))
        .select_related("division", "cooperative")
        .get(pk=contract.pk)
    )


def _check_issuable(contract):
    if contract.revenue_model != RevenueModel.SAVINGS:
        raise DomainError(
            _("合同 %(number)s 的收益模式为“%(model)s”，只有储蓄分红模式的合同可以签发储蓄单。")
            % {"number": contract.number, "model": contract.get_revenue_model_display()},
            code="not_savings",
        )
    if contract.status != ContractStatus.SIGNED:
        raise ConflictError(
            _("合同 %(number)s 状态为“%(status)s”，只有履行中的合同可以签发储蓄单。")
            % {"number": contract.number, "status": contract.get_status_display()},
            code="not_signed",
        )
    if contract.end_date <= timezone.localdate():
        raise ConflictError(
            _("合同 %(number)s 已于 %(day)s 到期，不能再签发储蓄单。")
            % {"number": contract.number, "day": contract.end_date},
            code="contract_ended",
        )


def _items_with_assets(contract):
    """The contract's items with their assets locked (pk order) and their rights loaded."""
    items = list(contract.items.order_by("asset_id"))
    assets = {
        a.pk: a
        for a in Asset.objects.select_for_update(of=("self",))
        .select_related("division", "resource_type")
        .prefetch_related("rights")
        .filter(pk__in=[item.asset_id for item in items])
        .order_by("pk")
    }
    for item in items:
        item.asset = assets[item.asset_id]
    return items


@transaction.atomic
def issue_slips(*, actor, contract):
    """Issue the slips of a signed SAVINGS contract (see the module docstring); returns the
    contract's live slips (active or matured), new and old, in (asset, holder) order."""
    contract = _locked_contract(contract)
    require(actor, Capability.MANAGE_TRADING, contract.division)
    _check_issuable(contract)
    items = _items_with_assets(contract)
    plan = planned_slips(contract, items)
    if not plan:
        raise ConflictError(
            _("合同 %(number)s 的收益人在收储资源上已没有有效的%(kind)s，无法签发储蓄单。")
            % {"number": contract.number, "kind": RightKind(contract.source_right_kind).label},
            code="no_beneficiary_rights",
        )
    slips = SavingsSlip.objects.filter(contract=contract)
    live = {(s.holder_id, s.asset_id) for s in slips if s.status != SlipStatus.CANCELLED}
    cancelled = {}
    for slip in slips.order_by("pk"):
        if slip.status == SlipStatus.CANCELLED:
            cancelled[(slip.holder_id, slip.asset_id)] = slip.number
    total_weight = sum((item.weight for item in items), Decimal(0))
    created = []
    for row in plan:
        key = (row["beneficiary"].party_id, row["asset"].pk)
        if key in live:
            continue
        created.append(_issue_one(actor, contract, row, total_weight, len(plan), cancelled.get(key)))
    if created:
        _notify(contract, created, _("生态资源储蓄单已签发"))
    return list(
        SavingsSlip.objects.filter(contract=contract)
        .exclude(status=SlipStatus.CANCELLED)
        .select_related("holder__person", "holder__organization", "asset", "income_right")
        .order_by("asset_id", "holder_id")
    )


def _issue_one(actor, contract, row, total_weight, count, replaces):
    number = next_number(SLIP_PREFIX)
    holder = row["beneficiary"].party
    with translation.override("zh-hans"):  # stored on the right: the registry's language
        document = _("流转收储合同 %(number)s（储蓄分红）") % {"number": contract.number}
    right = registry.grant_right(
        actor=actor,
        asset=row["asset"],
        holder=holder,
        kind=RightKind.INCOME,
        share=row["share"],
        start=contract.start_date,
        end=contract.end_date,
        source_document=document,
        certificate_number=number,
        pledge_once=True,
    )
    # pghistory keeps one context per transaction and the registry's nested one overwrote the
    # reason: state ours again, so that the slip's history row says what happened.
    with audit_context(user=actor, reason=f"issue savings slip {number} ({contract.number})"):
        return _create_slip(actor, contract, row, total_weight, count, replaces, number, holder, right)


def _create_slip(actor, contract, row, total_weight, count, replaces, number, holder, right):
    slip = SavingsSlip.objects.create(
        number=number,
        verification_code=new_verification_code(),
        contract=contract,
        beneficiary=row["beneficiary"],
        holder=holder,
        asset=row["asset"],
        income_right=right,
        share_numerator=row["share"].numerator,
        share_denominator=row["share"].denominator,
        start_date=contract.start_date,
        end_date=contract.end_date,
        guaranteed_annual_amount=row["amount"],
        dividend_rate=contract.dividend_rate,
        dividend_rule=dividend_rule(contract),
        calculation=_calculation(contract, row, total_weight, count, replaces),
        issued_by=actor,
    )
    journaling.slip_issued(actor, slip)
    return slip


def _notify(contract, slips, title):
    """The village clerks of the slips' villages hand the slips to the households."""
    divisions = {slip.asset.division_id: slip.asset.division for slip in slips}
    clerks = {
        m.user_id: m.user
        for m in Membership.objects.filter(
            is_active=True, user__is_active=True, role=Role.VILLAGE_CLERK
        ).select_related("user", "organization__division")
        if any(m.organization.division.contains(d) for d in divisions.values())
    }
    if not clerks:
        return
    numbers = "、".join(slip.number for slip in slips[:10]) + ("…" if len(slips) > 10 else "")
    body = f"{contract.number}：{numbers}"
    link = contract.get_absolute_url()
    recipients = list(clerks.values())
    transaction.on_commit(lambda: notify(recipients=recipients, title=title, body=body, link=link))


# --- cancelling and maturity ----------------------------------------------------------------------


def _locked_slip(slip):
    return (
        SavingsSlip.objects.select_for_update(of=("self",))
        .select_related("contract__division", "asset__division", "income_right")
        .get(pk=slip.pk)
    )


def active_security(right):
    """The active pledge or mortgage on `right`, if any (with its holder, for the message)."""
    return (
        Restriction.objects.filter(right=right, kind__in=SECURITY_KINDS, status=RightStatus.ACTIVE)
        .select_related("holder__person", "holder__organization")
        .order_by("rank", "pk")
        .first()
    )


@transaction.atomic
def cancel_slip(*, actor, slip, reason):
    """注销: the slip is void (lost, issued in error, the deposit withdrawn): its income right ends.
    Refused while that right secures a pledge (the bank must release it first)."""
    slip = _locked_slip(slip)
    require(actor, Capability.MANAGE_TRADING, slip.contract.division)
    reason = required_text(reason, "reason", _("请填写注销原因。"), max_length=300)
    check_transition(SLIP_TRANSITIONS, slip.status, SlipStatus.CANCELLED, _label)
    Asset.objects.select_for_update().get(pk=slip.asset_id)
    right = Right.objects.select_for_update().get(pk=slip.income_right_id)
    pledge = active_security(right)
    if pledge is not None:
        raise ConflictError(
            _(
                "储蓄单 %(number)s 的收益权设有有效的%(kind)s（%(document)s，质权人 %(holder)s），须先解除后才能注销。"
            )
            % {
                "number": slip.number,
                "kind": pledge.get_kind_display(),
                "document": pledge.source_document,
                "holder": pledge.holder,
            },
            code="pledged",
            fields={"reason": [_("储蓄单已质押。")]},
        )
    note = f"{slip.number} 注销：{reason}"
    if right.status == RightStatus.ACTIVE:
        registry.end_right(actor=actor, right=right, reason=note[:200])
    with audit_context(user=actor, reason=note):  # after the registry's context (see _issue_one)
        slip.status, slip.ended_at, slip.end_reason = SlipStatus.CANCELLED, timezone.now(), reason
        slip.save(update_fields=["status", "ended_at", "end_reason"])
    journaling.slip_ended(actor, slip)
    _notify(slip.contract, [slip], _("生态资源储蓄单已注销"))
    return slip


@transaction.atomic
def cancel_slips_of_contract(*, actor, contract, reason):
    """For the termination of a savings contract (collection.terminate_collection_contract): every
    active slip of `contract` is cancelled with `reason`, or — when one of them is pledged — none
    is and the termination is refused (the bank must release the pledge first). Returns the count."""
    slips = list(
        SavingsSlip.objects.filter(contract=contract, status=SlipStatus.ACTIVE)
        .select_related("income_right")
        .order_by("pk")
    )
    for slip in slips:
        cancel_slip(actor=actor, slip=slip, reason=reason)
    return len(slips)


def mature_slips(on=None):
    """Active slips whose term has ended by `on` (default today) → MATURED, their income rights
    ended. Each slip in its own transaction, skipping rows another worker holds; idempotent. A slip
    whose right is still pledged stays active and is retried the next day (the bank releases the
    pledge when the loan is repaid)."""
    today = timezone.localdate()
    on = on or today
    if not isinstance(on, datetime.date) or on > today:
        message = _("到期处理日期须为今天或之前的有效日期。")
        raise DomainError(message, code="invalid", fields={"on": [message]})
    matured = 0
    due = SavingsSlip.objects.filter(status=SlipStatus.ACTIVE, end_date__lte=on)
    for pk in due.order_by("pk").values_list("pk", flat=True):
        try:
            with transaction.atomic():
                slip = (
                    SavingsSlip.objects.select_for_update(of=("self",), skip_locked=True)
                    .filter(pk=pk, status=SlipStatus.ACTIVE, end_date__lte=on)
                    .select_related("issued_by")
                    .first()
                )
                if slip is None:
                    continue
                _mature(slip)
        except DomainError:
            continue
        matured += 1
    return matured


def _mature(slip):
    actor = slip.issued_by
    Asset.objects.select_for_update().get(pk=slip.asset_id)
    right = Right.objects.select_for_update().get(pk=slip.income_right_id)
    note = f"{slip.number} 储蓄期满"
    if right.status == RightStatus.ACTIVE:
        registry.end_right(actor=actor, right=right, reason=note)
    with audit_context(user=actor, reason=note):  # after the registry's context (see _issue_one)
        check_transition(SLIP_TRANSITIONS, slip.status, SlipStatus.MATURED, _label)
        slip.status, slip.ended_at = SlipStatus.MATURED, timezone.now()
        slip.save(update_fields=["status", "ended_at"])
    journaling.slip_ended(actor, slip)


# --- verification -------------------------------------------------------------------------------


def normalize_code(code):
    return "".join(str(code or "").split()).upper()


def verify_slip(code):
    """The slip a verification code names (any status: the check page says which), or None."""
    code = normalize_code(code)
    if not code or len(code) > 16:
        return None
    return (
        SavingsSlip.objects.filter(verification_code=code)
        .select_related(
            "contract__cooperative",
            "asset__resource_type",
            "asset__division",
            "holder__person",
            "holder__organization",
        )
        .defer("asset__geometry", "asset__division__boundary")
        .first()
    )
