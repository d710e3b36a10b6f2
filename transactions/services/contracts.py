"""Trade contracts (交易合同): the winner's lease or transfer of the assets, its installments, the
registry records signing creates (leases, the investor's management right), renewal, termination,
expiry, and abandoning a sale whose winner never signed (the deposit is forfeited).

Locks: contract (or listing) first, then its assets in pk order, then the winner's application
and the installments; the registry services lock asset → right → restriction under that."""

import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import Membership
from directory.permissions import Capability
from directory.services import ensure_party, notify
from resources import services as registry
from resources.models import EXCLUSIVE_RIGHT_KINDS, Asset, AssetStatus, RightStatus
from resources.models import Right as RegistryRight
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError

from .. import journaling
from .._money import parse_money
from ..models import (
    CONTRACT_TRANSITIONS,
    LISTING_TRANSITIONS,
    MONTHS_PER_PAYMENT,
    PACKAGE_TRANSITIONS,
    AccountKind,
    CollectionItem,
    ContractStatus,
    DepositStatus,
    InstallmentStatus,
    Listing,
    ListingApplication,
    ListingStatus,
    MovementKind,
    PackageItem,
    PackageStatus,
    PaymentFrequency,
    ResourcePackage,
    TradeContract,
    TradeContractItem,
    TradeInstallment,
    TradeKind,
)
from . import ledger
from .allocation import split_by_weights
from .common import check_transition, cooperative_for, cooperative_party, next_number, require, required_text


def signing_days():
    """Calendar days the winner has to sign (海南 rule: 3 working days; here configurable)."""
    return int(getattr(settings, "TMCS_CONTRACT_SIGNING_DAYS", 7))


# --- schedule -----------------------------------------------------------------------------------


def add_months(day, months):
    """`day` plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def installment_plan(price, start, end, frequency):
    """[(due_date, amount)]: one per period of the frequency (the last one shorter), amounts split
    by period length in days so that they add up to the price to the cent."""
    months = MONTHS_PER_PAYMENT[PaymentFrequency(frequency)]
    if months is None:
        return [(start, price)]
    periods = []
    while True:
        period_start = add_months(start, months * len(periods))
        if period_start >= end:
            break
        periods.append((period_start, min(add_months(start, months * (len(periods) + 1)), end)))
    amounts = split_by_weights(price, [(e - s).days for s, e in periods])
    return [(s, amount) for (s, _e), amount in zip(periods, amounts, strict=True)]


def _frequency(value):
    if value not in PaymentFrequency.values:
        message = _("请选择付款周期。")
        raise DomainError(message, code="invalid", fields={"payment_frequency": [message]})
    return PaymentFrequency(value)


def _create_installments(contract):
    plan = installment_plan(
        contract.price, contract.start_date, contract.end_date, contract.payment_frequency
    )
    TradeInstallment.objects.bulk_create(
        [
            TradeInstallment(contract=contract, sequence=n, due_date=due, amount=amount)
            for n, (due, amount) in enumerate(plan, start=1)
            if amount > 0
        ]
    )


# --- helpers ----------------------------------------------------------------------------------


def listing_assets(listing):
    if listing.package_id:
        ids = PackageItem.objects.filter(package_id=listing.package_id, is_open=True).values("asset")
        return list(Asset.objects.filter(pk__in=ids).order_by("pk"))
    return [listing.asset]


def _lock_assets(ids):
    return list(Asset.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))


def _lock_contract(contract):
    return (
        TradeContract.objects.select_for_update(of=("self",))
        .select_related("investor", "cooperative", "division", "listing", "renewal_of")
        .get(pk=contract.pk)
    )


def _winning_application(listing):
    if listing.winning_bid_id is None:
        raise ConflictError(_("该挂牌项目没有成交出价，不能签订合同。"), code="no_winner")
    return ListingApplication.objects.select_for_update(of=("self",)).get(
        pk=listing.winning_bid.application_id
    )


def collection_end(asset):
    """End of the open collection contract holding `asset` (None when it is not collected)."""
    item = (
        CollectionItem.objects.filter(asset=asset, is_open=True, contract__status=ContractStatus.SIGNED)
        .select_related("contract")
        .first()
    )
    return item.contract.end_date if item else None


def _investor_users(organization):
    return [
        m.user
        for m in Membership.objects.filter(organization=organization, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    ]


def _notify_investor(contract, title, level="info"):
    notify(
        recipients=_investor_users(contract.investor),
        title=title,
        body=f"{contract.number}：{contract.start_date} 至 {contract.end_date}，{contract.price} 元",
        link=contract.get_absolute_url(),
        level=level,
    )


def _asset_back(actor, asset, reason):
    """A leased asset goes back to the pool (COLLECTED) or, when no longer collected, to REGISTERED."""
    asset.refresh_from_db(fields=["status"])
    if asset.status != AssetStatus.LEASED:
        return
    target = AssetStatus.COLLECTED if collection_end(asset) else AssetStatus.REGISTERED
    registry.transition_asset(actor=actor, asset=asset, to_status=target, reason=reason)


# --- create ---------------------------------------------------------------------------------


@transaction.atomic
def create_trade_contract(*, actor, listing, payment_frequency, obligations=None):
    """The draft contract for a SOLD listing: the winner, the final price, the listing's term and
    assets, and an installment schedule adding up exactly to the price."""
    listing = (
        Listing.objects.select_for_update(of=("self",))
        .select_related("division", "winning_bid")
        .get(pk=listing.pk)
    )
    require(actor, Capability.MANAGE_TRADING, listing.division)
    frequency = _frequency(payment_frequency)
    if listing.status != ListingStatus.SOLD:
        raise ConflictError(
            _("挂牌项目状态为“%(status)s”，只有已成交的项目可以签订交易合同。")
            % {"status": listing.get_status_display()},
            code="not_sold",
        )
    if TradeContract.objects.filter(listing=listing).exists():
        raise ConflictError(_("该挂牌项目已有交易合同。"), code="duplicate")
    if not listing.final_price:
        raise ConflictError(_("该挂牌项目没有成交价，不能签订合同。"), code="no_price")
    application = _winning_application(listing)
    number = next_number("JY")
    with audit_context(user=actor, reason=f"create trade contract {number}"):
        contract = TradeContract.objects.create(
            number=number,
            listing=listing,
            investor=application.investor,
            cooperative=cooperative_for(listing.division),
            division=listing.division,
            kind=listing.trade_kind,
            start_date=listing.term_start,
            end_date=listing.term_end,
            price=listing.final_price,
            payment_frequency=frequency,
            obligations=(listing.obligations if obligations is None else obligations).strip(),
            created_by=actor,
        )
        TradeContractItem.objects.bulk_create(
            [TradeContractItem(contract=contract, asset=asset) for asset in listing_assets(listing)]
        )
        _create_installments(contract)
    return contract


# --- sign -----------------------------------------------------------------------------------


def _register_lease(actor, contract, item, investor_party, document):
    item.lease = registry.add_lease(
        actor=actor,
        asset=item.asset,
        holder=investor_party,
        start=contract.start_date,
        end=contract.end_date,
        source_document=document,
    )


def _register_transfer(actor, contract, item, investor_party, coop_party, document):
    """Supersede the cooperative's management/use right for the term; the parts of it outside the
    term are re-recorded for the cooperative (it keeps what it collected)."""
    start, end = contract.start_date, contract.end_date
    right = (
        RegistryRight.objects.select_for_update(of=("self",))
        .filter(
            asset=item.asset,
            holder=coop_party,
            kind__in=EXCLUSIVE_RIGHT_KINDS,
            status=RightStatus.ACTIVE,
            period__contains=start,
        )
        .first()
    )
    if right is None or (right.period.upper is not None and end > right.period.upper):
        raise ConflictError(
            _("资源 %(code)s：合同期限不在合作社有效的经营权/使用权期限之内，不能转让。")
            % {"code": item.asset.code},
            code="outside_right",
        )
    lower, upper = right.period.lower, right.period.upper
    item.right = registry.supersede_right(
        actor=actor,
        right=right,
        reason=_("交易合同 %(number)s 转让") % {"number": contract.number},
        holder=investor_party,
        kind=right.kind,
        start=start,
        end=end,
        source_document=document,
    )
    for piece_start, piece_end in ((lower, start), (end, upper)):
        if piece_end is None or piece_start < piece_end:
            registry.grant_right(
                actor=actor,
                asset=item.asset,
                holder=coop_party,
                kind=right.kind,
                start=piece_start,
                end=piece_end,
                source_document=f"{right.source_document}（{document} 期外部分）"[:200],
            )


def _apply_deposit(actor, contract, listing, investor_party):
    application = _winning_application(listing)
    if application.deposit_status != DepositStatus.PAID or listing.deposit <= 0:
        return
    applied = min(listing.deposit, contract.price)
    ledger.post(
        actor=actor,
        kind=MovementKind.DEPOSIT_APPLIED,
        memo=_("%(number)s 保证金转价款") % {"number": contract.number},
        lines=[
            ledger.debit(AccountKind.DEPOSIT_HELD, investor_party, applied),
            ledger.credit(AccountKind.RECEIVABLE, investor_party, applied),
        ],
        trade_contract=contract,
        listing=listing,
        application=application,
    )
    with audit_context(user=actor, reason=f"deposit applied to {contract.number}"):
        application.deposit_status = DepositStatus.APPLIED
        application.save(update_fields=["deposit_status"])
    left = applied
    for installment in contract.installments.select_for_update(of=("self",)).order_by("sequence"):
        if left <= 0:
            break
        paid = min(left, installment.outstanding)
        installment.paid_amount += paid
        installment.status = (
            InstallmentStatus.PAID
            if installment.paid_amount == installment.amount
            else InstallmentStatus.PARTLY_PAID
        )
        installment.save(update_fields=["paid_amount", "status"])
        left -= paid


@transaction.atomic
def sign_trade_contract(*, actor, contract):
    """Register the leases (or transfer the management right), move the assets to LEASED, book the
    price as receivable and apply the winner's deposit; a renewal replaces its predecessor."""
    contract = _lock_contract(contract)
    require(actor, Capability.MANAGE_TRADING, contract.division)
    check_transition(CONTRACT_TRANSITIONS, contract.status, ContractStatus.SIGNED, _label)
    items = list(contract.items.select_related("asset").order_by("asset_id"))
    _lock_assets([item.asset_id for item in items])
    listing, previous = contract.listing, contract.renewal_of
    if listing is not None:
        listing = (
            Listing.objects.select_for_update(of=("self",)).select_related("winning_bid").get(pk=listing.pk)
        )
        check_transition(LISTING_TRANSITIONS, listing.status, ListingStatus.CONTRACTED, _listing_label)
    if previous is not None:
        previous = _lock_contract(previous)
        check_transition(CONTRACT_TRANSITIONS, previous.status, ContractStatus.RENEWED, _label)
    investor_party, coop_party = ensure_party(contract.investor), ensure_party(contract.cooperative)
    document = _("交易合同 %(number)s") % {"number": contract.number}
    for item in items:
        if contract.kind == TradeKind.LEASE:
            _register_lease(actor, contract, item, investor_party, document)
        else:
            _register_transfer(actor, contract, item, investor_party, coop_party, document)
        item.save(update_fields=["lease", "right"])
        if item.asset.status != AssetStatus.LEASED:
            registry.transition_asset(
                actor=actor, asset=item.asset, to_status=AssetStatus.LEASED, reason=document
            )
    ledger.post(
        actor=actor,
        kind=MovementKind.PRICE_DUE,
        memo=_("%(number)s 合同价款") % {"number": contract.number},
        lines=[
            ledger.debit(AccountKind.RECEIVABLE, investor_party, contract.price),
            ledger.credit(AccountKind.TRADE_INCOME, coop_party, contract.price),
        ],
        trade_contract=contract,
        listing=listing,
    )
    with audit_context(user=actor, reason=f"sign trade contract {contract.number}"):
        if listing is not None:
            _apply_deposit(actor, contract, listing, investor_party)
            listing.status = ListingStatus.CONTRACTED
            listing.save(update_fields=["status"])
            if listing.package_id:
                _move_package(listing.package_id, PackageStatus.CONTRACTED)
        if previous is not None:
            previous.status, previous.ended_at = ContractStatus.RENEWED, timezone.now()
            previous.end_reason = _("已续签为 %(number)s") % {"number": contract.number}
            previous.save(update_fields=["status", "ended_at", "end_reason"])
            journaling.contract_ended(actor, previous)
        contract.status, contract.signed_at, contract.signed_by = ContractStatus.SIGNED, timezone.now(), actor
        contract.save(update_fields=["status", "signed_at", "signed_by"])
        journaling.contract_signed(actor, contract)
    _notify_investor(contract, _("交易合同已签订"), level="success")
    return contract


def _move_package(package_id, status):
    package = ResourcePackage.objects.select_for_update(of=("self",)).get(pk=package_id)
    check_transition(PACKAGE_TRANSITIONS, package.status, status, lambda s: PackageStatus(s).label)
    package.status = status
    package.save(update_fields=["status"])


def _label(status):
    return ContractStatus(status).label


def _listing_label(status):
    return ListingStatus(status).label


# --- abandon --------------------------------------------------------------------------------


def signing_deadline(listing):
    return listing.closed_at + datetime.timedelta(days=signing_days()) if listing.closed_at else None


@transaction.atomic
def abandon_sale(*, actor, listing, reason):
    """The winner did not sign in time: the listing fails, the deposit is forfeited to the
    cooperative, the assets go back to the pool and the package can be listed again."""
    listing = (
        Listing.objects.select_for_update(of=("self",))
        .select_related("division", "winning_bid")
        .get(pk=listing.pk)
    )
    require(actor, Capability.MANAGE_TRADING, listing.division)
    reason = required_text(reason, "reason", _("请填写原因。"))
    check_transition(LISTING_TRANSITIONS, listing.status, ListingStatus.FAILED, _listing_label)
    contract = TradeContract.objects.filter(listing=listing).first()
    if contract is not None and contract.status != ContractStatus.DRAFT:
        raise ConflictError(_("该项目的交易合同已签订，不能放弃成交。"), code="contracted")
    deadline = signing_deadline(listing)
    if deadline is None or timezone.now() < deadline:
        raise ConflictError(
            _("签约期限（成交后 %(days)s 天）未满，不能放弃成交。") % {"days": signing_days()},
            code="signing_period_open",
        )
    assets = _lock_assets([asset.pk for asset in listing_assets(listing)])
    application = _winning_application(listing)
    if application.deposit_status == DepositStatus.PAID and listing.deposit > 0:
        ledger.post(
            actor=actor,
            kind=MovementKind.DEPOSIT_FORFEITED,
            memo=_("%(code)s 竞得人未签约，罚没保证金：%(reason)s")
            % {"code": listing.code, "reason": reason},
            lines=[
                ledger.debit(AccountKind.DEPOSIT_HELD, ensure_party(application.investor), listing.deposit),
                ledger.credit(
                    AccountKind.FORFEIT_INCOME,
                    cooperative_party(listing.division),
                    listing.deposit,
                ),
            ],
            listing=listing,
            application=application,
        )
    with audit_context(user=actor, reason=f"abandon sale {listing.code}: {reason}"):
        if application.deposit_status == DepositStatus.PAID:
            application.deposit_status = DepositStatus.FORFEITED
            application.save(update_fields=["deposit_status"])
        for asset in assets:
            if asset.status == AssetStatus.LISTED:
                registry.transition_asset(
                    actor=actor, asset=asset, to_status=AssetStatus.COLLECTED, reason=reason
                )
        if listing.package_id:
            _move_package(listing.package_id, PackageStatus.READY)
        if contract is not None:
            # The unsigned draft goes with the sale; its number stays used (the counter never rewinds).
            contract.items.all().delete()
            contract.installments.all().delete()
            contract.delete()
        listing.status, listing.close_note = ListingStatus.FAILED, reason
        listing.save(update_fields=["status", "close_note"])
    notify(
        recipients=_investor_users(application.investor),
        title=_("竞得人未按期签约，保证金已罚没"),
        body=f"{listing.code}：{reason}",
        level="warning",
    )
    return listing


# --- terminate ------------------------------------------------------------------------------


@transaction.atomic
def terminate_trade_contract(*, actor, contract, reason, effective_date):
    """Early end (解除): leases released or the investor's right ended (the cooperative gets its
    right back from the effective date), assets back to the pool, and the installments not yet due
    cancelled with their receivable reversed."""
    contract = _lock_contract(contract)
    require(actor, Capability.MANAGE_TRADING, contract.division)
    reason = required_text(reason, "reason", _("请填写解除原因。"))
    check_transition(CONTRACT_TRANSITIONS, contract.status, ContractStatus.TERMINATED, _label)
    if not isinstance(effective_date, datetime.date) or not (
        contract.start_date <= effective_date < contract.end_date
    ):
        message = _("解除生效日须在合同期限内（%(start)s 至 %(end)s）。") % {
            "start": contract.start_date,
            "end": contract.end_date,
        }
        raise DomainError(message, code="invalid", fields={"effective_date": [message]})
    items = list(contract.items.select_related("asset", "lease", "right").order_by("asset_id"))
    _lock_assets([item.asset_id for item in items])
    coop_party = ensure_party(contract.cooperative)
    for item in items:
        if item.lease_id and item.lease.status == RightStatus.ACTIVE:
            registry.release_restriction(actor=actor, restriction=item.lease, reason=reason[:200])
        if item.right_id and item.right.status == RightStatus.ACTIVE:
            _return_right(actor, contract, item, coop_party, effective_date, reason)
        _asset_back(actor, item.asset, reason)
    cancelled = list(
        contract.installments.select_for_update(of=("self",)).filter(
            status=InstallmentStatus.DUE, paid_amount=0, due_date__gt=effective_date
        )
    )
    reversed_amount = sum((i.amount for i in cancelled), Decimal("0.00"))
    if reversed_amount:
        TradeInstallment.objects.filter(pk__in=[i.pk for i in cancelled]).update(
            status=InstallmentStatus.CANCELLED
        )
        ledger.post(
            actor=actor,
            kind=MovementKind.REVERSAL,
            memo=_("%(number)s 解除（%(date)s 起），冲减未到期应收价款 %(n)s 期：%(reason)s")
            % {"number": contract.number, "date": effective_date, "n": len(cancelled), "reason": reason},
            lines=[
                ledger.debit(AccountKind.TRADE_INCOME, coop_party, reversed_amount),
                ledger.credit(AccountKind.RECEIVABLE, ensure_party(contract.investor), reversed_amount),
            ],
            occurred_on=effective_date,
            trade_contract=contract,
            listing=contract.listing,
        )
    with audit_context(user=actor, reason=f"terminate {contract.number}: {reason}"):
        contract.status, contract.ended_at, contract.end_reason = (
            ContractStatus.TERMINATED,
            timezone.now(),
            reason,
        )
        contract.save(update_fields=["status", "ended_at", "end_reason"])
        journaling.contract_ended(actor, contract)
    _notify_investor(contract, _("交易合同已解除"), level="warning")
    return contract


def _return_right(actor, contract, item, coop_party, effective_date, reason):
    """End the investor's right; the cooperative holds the asset again from the effective date to
    the end of its collection term (replacing the part it kept after the contract term)."""
    registry.end_right(actor=actor, right=item.right, reason=reason[:200])
    tail = RegistryRight.objects.filter(
        asset=item.asset,
        holder=coop_party,
        kind__in=EXCLUSIVE_RIGHT_KINDS,
        status=RightStatus.ACTIVE,
        period__startswith=contract.end_date,
    ).first()
    document = _("交易合同 %(number)s 解除") % {"number": contract.number}
    if tail is not None:
        registry.supersede_right(
            actor=actor,
            right=tail,
            reason=document,
            start=effective_date,
            end=tail.period.upper,
            source_document=tail.source_document,
        )
    else:
        end = collection_end(item.asset) or contract.end_date
        registry.grant_right(
            actor=actor,
            asset=item.asset,
            holder=coop_party,
            kind=item.right.kind,
            start=effective_date,
            end=max(end, effective_date + datetime.timedelta(days=1)),
            source_document=document,
        )


# --- expire ---------------------------------------------------------------------------------


def expire_trade_contracts(today=None):
    """Signed contracts whose term has ended become EXPIRED (leases end by their period); their
    assets go back to the pool. One transaction per contract, SKIP LOCKED: safe to run twice."""
    today = today or timezone.localdate()
    expired = 0
    due = TradeContract.objects.filter(status=ContractStatus.SIGNED, end_date__lte=today)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            contract = (
                TradeContract.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("signed_by")
                .filter(pk=pk, status=ContractStatus.SIGNED, end_date__lte=today)
                .first()
            )
            if contract is None:
                continue
            actor = contract.signed_by
            reason = _("交易合同 %(number)s 到期") % {"number": contract.number}
            items = list(contract.items.select_related("asset").order_by("asset_id"))
            _lock_assets([item.asset_id for item in items])
            with audit_context(user=actor, reason=reason):
                for item in items:
                    # A later signed contract on the asset (a renewal) keeps it leased.
                    if not TradeContractItem.objects.filter(
                        asset=item.asset, contract__status=ContractStatus.SIGNED, contract__end_date__gt=today
                    ).exists():
                        _asset_back(actor, item.asset, reason)
                contract.status, contract.ended_at = ContractStatus.EXPIRED, timezone.now()
                contract.end_reason = reason
                contract.save(update_fields=["status", "ended_at", "end_reason"])
                journaling.contract_ended(actor, contract)
            expired += 1
    return expired


# --- renew ----------------------------------------------------------------------------------


@transaction.atomic
def renew_trade_contract(*, actor, contract, end_date, price, payment_frequency):
    """A draft renewal from the old end date; signing it registers the new period and marks the old
    contract RENEWED. The new term may not outrun any asset's collection term."""
    contract = _lock_contract(contract)
    require(actor, Capability.MANAGE_TRADING, contract.division)
    check_transition(CONTRACT_TRANSITIONS, contract.status, ContractStatus.RENEWED, _label)
    if TradeContract.objects.filter(renewal_of=contract).exists():
        raise ConflictError(_("该合同已有续签合同。"), code="duplicate")
    price = parse_money(price, "price")
    frequency = _frequency(payment_frequency)
    start = contract.end_date
    if not isinstance(end_date, datetime.date) or end_date <= start:
        message = _("续签截止日须晚于原合同截止日 %(date)s。") % {"date": start}
        raise DomainError(message, code="invalid", fields={"end_date": [message]})
    items = list(contract.items.select_related("asset").order_by("asset_id"))
    for item in items:
        limit = collection_end(item.asset)
        if limit is None or end_date > limit:
            message = _("续签期限超出资源 %(code)s 的收储期限（%(limit)s）。") % {
                "code": item.asset.code,
                "limit": limit or _("未收储"),
            }
            raise DomainError(message, code="beyond_collection", fields={"end_date": [message]})
    number = next_number("JY")
    with audit_context(user=actor, reason=f"renew {contract.number} as {number}"):
        renewal = TradeContract.objects.create(
            number=number,
            investor=contract.investor,
            cooperative=contract.cooperative,
            division=contract.division,
            kind=contract.kind,
            start_date=start,
            end_date=end_date,
            price=price,
            payment_frequency=frequency,
            obligations=contract.obligations,
            renewal_of=contract,
            created_by=actor,
        )
        TradeContractItem.objects.bulk_create(
            [TradeContractItem(contract=renewal, asset=item.asset) for item in items]
        )
        _create_installments(renewal)
    return renewal
