"""流转收储: collection contracts between a village collective (or households) and the cooperative.

A draft names the assets and the terms; signing grants the cooperative a management/use right on
every asset for the term, marks the assets collected, fixes the beneficiaries' exact shares from
the holders' rights and writes the payment schedule. Termination and expiry undo the registry
effects; a renewal is a new draft that starts where the old term ends.

Locks: a new contract locks its assets (pk order); work on an existing contract locks the contract
first (it serializes everything done to that contract), then its assets in pk order; the registry
services lock the same asset rows again, which is a no-op within the transaction.
"""

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.types.range import DateRange

from directory.models import Membership, OrganizationKind, PartyKind, Role
from directory.permissions import Capability
from directory.services import ensure_party, notify
from resources import services as registry
from resources.models import (
    EXCLUSIVE_RIGHT_KINDS,
    Asset,
    AssetStatus,
    Restriction,
    RestrictionKind,
    Right,
    RightKind,
    RightStatus,
)
from resources.models import ListingStatus as IdleListingStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError

from .. import journaling
from .._money import CENT, parse_money
from ..models import (
    CONTRACT_TRANSITIONS,
    MONTHS_PER_PAYMENT,
    OPEN_LISTING_STATUSES,
    SCHEDULED_REVENUE_MODELS,
    CollectionBeneficiary,
    CollectionContract,
    CollectionItem,
    ContractStatus,
    Listing,
    PackageItem,
    PaymentFrequency,
    RevenueModel,
    ScheduledPayment,
    ScheduleKind,
    ScheduleStatus,
    TradeContractItem,
)
from . import ledger, savings
from .allocation import split_by_weights
from .common import check_transition, cooperative_for, next_number, require, required_text

MAX_TERM_YEARS = 30
SCHEDULE_KIND = {
    RevenueModel.FIXED_RENT: ScheduleKind.RENT,
    RevenueModel.GUARANTEED_PLUS_DIVIDEND: ScheduleKind.GUARANTEED,
    RevenueModel.SAVINGS: ScheduleKind.SAVINGS,
}
GRANTOR_ORGANIZATION_KINDS = (OrganizationKind.VILLAGE_COLLECTIVE, OrganizationKind.STRONG_VILLAGE_COMPANY)


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def add_months(day, months):
    """`day` moved by whole months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _label(choices, value):
    return dict(choices.choices).get(value, value)


# --- terms --------------------------------------------------------------------------------------


def _parse_rate(value):
    try:
        rate = Decimal(str(value if value not in (None, "") else "0").strip())
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite():
        raise _invalid("dividend_rate", _("请输入有效的分红比例（0 至 1 之间的小数）。"))
    if not 0 <= rate <= 1:
        raise _invalid("dividend_rate", _("分红比例须在 0 至 1 之间。"))
    if rate != rate.quantize(Decimal("0.0001")):
        raise _invalid("dividend_rate", _("分红比例最多保留四位小数。"))
    return rate.quantize(Decimal("0.0001"))


def _clean_terms(data):
    """Validate the contract terms (not the assets); returns the cleaned field values."""
    grantor = data.get("grantor")
    if grantor is None:
        raise _invalid("grantor", _("请选择出让方。"))
    if grantor.kind == PartyKind.ORGANIZATION and grantor.organization.kind not in GRANTOR_ORGANIZATION_KINDS:
        raise _invalid("grantor", _("出让方须为村集体经济组织、生态强村公司或农户。"))
    source_kind = data.get("source_right_kind")
    if source_kind not in RightKind.values:
        raise _invalid("source_right_kind", _("请选择收益归属的权利。"))
    if source_kind in EXCLUSIVE_RIGHT_KINDS:
        raise _invalid(
            "source_right_kind",
            _("收益归属的权利不能是经营权或使用权：合作社收储取得的正是这类权利。"),
        )
    granted_kind = data.get("granted_right_kind") or RightKind.MANAGEMENT
    if granted_kind not in EXCLUSIVE_RIGHT_KINDS:
        raise _invalid("granted_right_kind", _("合作社取得的权利须为经营权或使用权。"))
    start, end = data.get("start_date"), data.get("end_date")
    if not isinstance(start, datetime.date):
        raise _invalid("start_date", _("请填写起始日。"))
    if not isinstance(end, datetime.date):
        raise _invalid("end_date", _("请填写截止日。"))
    if end <= start:
        raise _invalid("end_date", _("截止日须晚于起始日。"))
    if end > add_months(start, 12 * MAX_TERM_YEARS):
        raise _invalid("end_date", _("流转期限不得超过 %(n)s 年。") % {"n": MAX_TERM_YEARS})
    model = data.get("revenue_model")
    if model not in RevenueModel.values:
        raise _invalid("revenue_model", _("请选择收益模式。"))
    amount = parse_money(data.get("annual_amount", "0") or "0", "annual_amount", allow_zero=True)
    rate = _parse_rate(data.get("dividend_rate"))
    _check_revenue_model(RevenueModel(model), amount, rate)
    frequency = data.get("payment_frequency") or PaymentFrequency.ANNUAL
    if frequency not in PaymentFrequency.values:
        raise _invalid("payment_frequency", _("请选择支付周期。"))
    first = data.get("first_payment_date")
    if not isinstance(first, datetime.date):
        raise _invalid("first_payment_date", _("请填写首次支付日。"))
    if not start <= first < end:
        raise _invalid("first_payment_date", _("首次支付日须在流转期限内。"))
    obligations = (data.get("obligations") or "").strip()
    if len(obligations) > 5000:
        raise _invalid("obligations", _("不能超过 %(n)s 个字。") % {"n": 5000})
    return {
        "grantor": grantor,
        "source_right_kind": source_kind,
        "granted_right_kind": granted_kind,
        "start_date": start,
        "end_date": end,
        "revenue_model": model,
        "annual_amount": amount,
        "dividend_rate": rate,
        "payment_frequency": frequency,
        "first_payment_date": first,
        "obligations": obligations,
    }


def _check_revenue_model(model, amount, rate):
    if model == RevenueModel.FIXED_RENT:
        if amount <= 0:
            raise _invalid("annual_amount", _("固定租金模式须填写大于0的年租金。"))
        if rate != 0:
            raise _invalid("dividend_rate", _("固定租金模式的分红比例须为0。"))
    elif model == RevenueModel.SHARE_DIVIDEND:
        if rate <= 0:
            raise _invalid("dividend_rate", _("入股分红模式须填写大于0的分红比例。"))
        if amount != 0:
            raise _invalid("annual_amount", _("入股分红模式的年度金额须为0。"))
    elif model == RevenueModel.GUARANTEED_PLUS_DIVIDEND:
        if amount <= 0:
            raise _invalid("annual_amount", _("保底收益+二次分红模式须填写大于0的年度保底金额。"))
        if rate <= 0:
            raise _invalid("dividend_rate", _("保底收益+二次分红模式须填写大于0的分红比例。"))
    elif amount <= 0:  # savings: the guaranteed yearly yield; the dividend rate may be 0
        raise _invalid("annual_amount", _("储蓄分红模式须填写大于0的年度保底收益。"))


# --- assets -------------------------------------------------------------------------------------


def item_weight(asset):
    """Area in m², else the quantity in the type's unit, else 1: how the income is shared."""
    for value in (asset.area_m2, asset.quantity):
        if value is not None and value > 0:
            return value
    return Decimal(1)


def _lock_assets(pks):
    return list(
        Asset.objects.select_for_update(of=("self",))
        .select_related("division", "resource_type")
        .filter(pk__in=pks)
        .order_by("pk")
    )


def _who(party):
    return str(party) if party is not None else "?"


def _source_rights(asset, kind, start, end):
    return [
        r
        for r in asset.rights.all()
        if r.kind == kind
        and r.status == RightStatus.ACTIVE
        and r.period.lower < end
        and (r.period.upper is None or r.period.upper > start)
    ]


def _check_asset(asset, *, division, terms, contract=None, renewal_of=None, renewed_pks=frozenset()):
    """Every reason why `asset` cannot be collected for the term (raises the first)."""
    start, end, kind = terms["start_date"], terms["end_date"], terms["source_right_kind"]
    code = asset.code
    if not division.contains(asset.division):
        raise _invalid("assets", _("资源 %(code)s 不在合同所在区划内。") % {"code": code})
    # A renewal signed before the daily expiry finds its assets still collected by the old contract.
    renewing = asset.pk in renewed_pks
    allowed = (AssetStatus.REGISTERED, AssetStatus.COLLECTED) if renewing else (AssetStatus.REGISTERED,)
    if asset.status not in allowed:
        raise ConflictError(
            _("资源 %(code)s 当前状态为“%(status)s”，只有已登记的资源可以收储。")
            % {"code": code, "status": asset.get_status_display()},
            code="asset_status",
            fields={"assets": [code]},
        )
    freeze = registry.active_freeze(asset)
    if freeze is not None:
        raise ConflictError(
            _("资源 %(code)s 处于%(freeze)s中（%(document)s），不能收储。")
            % {"code": code, "freeze": freeze.get_kind_display(), "document": freeze.source_document},
            code="frozen",
            fields={"assets": [code]},
        )
    rights = _source_rights(asset, kind, start, end)
    kind_label = _label(RightKind, kind)
    if not rights:
        raise ConflictError(
            _("资源 %(code)s 在流转期限内没有有效的%(kind)s，无法确定收益归属。")
            % {"code": code, "kind": kind_label},
            code="no_source_right",
            fields={"assets": [code]},
        )
    for right in rights:
        if right.period.lower > start:
            raise ConflictError(
                _("资源 %(code)s 的%(kind)s（%(holder)s）自 %(day)s 起才有效，不能覆盖整个流转期限。")
                % {"code": code, "kind": kind_label, "holder": _who(right.holder), "day": right.period.lower},
                code="source_right_period",
                fields={"start_date": [code]},
            )
        if right.period.upper is not None and right.period.upper < end:
            raise ConflictError(
                _("资源 %(code)s 的%(kind)s（%(holder)s）于 %(day)s 到期，流转期限不得超过其剩余期限。")
                % {"code": code, "kind": kind_label, "holder": _who(right.holder), "day": right.period.upper},
                code="source_right_period",
                fields={"end_date": [code]},
            )
    total = sum((Fraction(r.share_numerator, r.share_denominator) for r in rights), Fraction(0))
    if total != 1:
        raise ConflictError(
            _(
                "资源 %(code)s 的%(kind)s份额合计为 %(total)s，不足 1：其余份额的收益无人承接，"
                "请先补登权利人。"
            )
            % {"code": code, "kind": kind_label, "total": total},
            code="shares_incomplete",
            fields={"assets": [code]},
        )
    other = (
        CollectionItem.objects.filter(asset=asset, is_open=True)
        .exclude(contract=contract)
        .exclude(contract=renewal_of)
        .select_related("contract")
        .first()
    )
    if other is not None:
        raise ConflictError(
            _("资源 %(code)s 已在收储合同 %(number)s 中。") % {"code": code, "number": other.contract.number},
            code="already_collected",
            fields={"assets": [code]},
        )
    _check_exclusive(asset, start, end)


def _check_exclusive(asset, start, end):
    """The grant at signing would clash with these: say which, before anyone signs."""
    for right in asset.rights.all():
        if (
            right.kind in EXCLUSIVE_RIGHT_KINDS
            and right.status == RightStatus.ACTIVE
            and right.period.lower < end
            and (right.period.upper is None or right.period.upper > start)
        ):
            raise ConflictError(
                _("资源 %(code)s 在流转期限内已有有效的%(kind)s（%(holder)s，%(day)s 起），不能重复设立。")
                % {
                    "code": asset.code,
                    "kind": right.get_kind_display(),
                    "holder": _who(right.holder),
                    "day": right.period.lower,
                },
                code="period_overlap",
                fields={"assets": [asset.code]},
            )
    lease = (
        Restriction.objects.filter(
            asset=asset,
            kind=RestrictionKind.LEASE,
            status=RightStatus.ACTIVE,
            period__overlap=DateRange(start, end, "[)"),
        )
        .select_related("holder__person", "holder__organization")
        .first()
    )
    if lease is not None:
        raise ConflictError(
            _("资源 %(code)s 在流转期限内有有效的租赁（%(holder)s，%(day)s 起），不能收储。")
            % {"code": asset.code, "holder": _who(lease.holder), "day": lease.period.lower},
            code="leased",
            fields={"assets": [asset.code]},
        )


def _check_assets(assets, *, division, terms, contract=None, renewal_of=None):
    if not assets:
        raise _invalid("assets", _("请至少选择一项资源。"))
    renewed_pks = set(renewal_of.items.values_list("asset_id", flat=True)) if renewal_of else set()
    prefetch_related_objects(assets, "rights__holder__person", "rights__holder__organization")
    for asset in assets:
        _check_asset(
            asset,
            division=division,
            terms=terms,
            contract=contract,
            renewal_of=renewal_of,
            renewed_pks=renewed_pks,
        )


def _asset_pks(assets):
    pks = [a.pk for a in assets]
    if len(set(pks)) != len(pks):
        raise _invalid("assets", _("同一资源不能重复列入合同。"))
    return pks


def _check_grantor_reach(actor, grantor):
    place = grantor.person.division if grantor.kind == PartyKind.PERSON else grantor.organization.division
    require(actor, Capability.MANAGE_TRADING, place)


def _check_source_listing(listing, assets):
    if listing is None:
        return
    if listing.status != IdleListingStatus.ACCEPTED:
        raise _invalid("source_listing", _("来源挂出信息尚未纳入资源池。"))
    if listing.asset_id is not None and listing.asset_id not in {a.pk for a in assets}:
        raise _invalid(
            "source_listing",
            _("来源挂出信息对应的资源 %(code)s 不在本合同中。") % {"code": listing.asset.code},
        )


def _open_conflict(exc, assets, contract):
    """The partial unique index refused a second open contract (a race lost): name the other one."""
    if "one_open_collection_per_asset" not in str(exc):
        return exc
    other = (
        CollectionItem.objects.filter(asset__in=assets, is_open=True)
        .exclude(contract=contract)
        .select_related("contract", "asset")
        .first()
    )
    if other is None:
        return ConflictError(_("资源已在其他收储合同中。"), code="already_collected")
    return ConflictError(
        _("资源 %(code)s 已在收储合同 %(number)s 中。")
        % {"code": other.asset.code, "number": other.contract.number},
        code="already_collected",
        fields={"assets": [other.asset.code]},
    )


def _write_items(contract, assets, *, is_open=True):
    try:
        with transaction.atomic():
            CollectionItem.objects.bulk_create(
                [
                    CollectionItem(contract=contract, asset=asset, weight=item_weight(asset), is_open=is_open)
                    for asset in assets
                ]
            )
    except IntegrityError as exc:
        raise _open_conflict(exc, assets, contract) from None


# --- drafts -------------------------------------------------------------------------------------


@transaction.atomic
def create_collection_contract(
    *,
    actor,
    division,
    grantor,
    source_right_kind,
    granted_right_kind,
    start_date,
    end_date,
    revenue_model,
    annual_amount,
    dividend_rate,
    payment_frequency,
    first_payment_date,
    obligations,
    assets,
    source_listing=None,
    renewal_of=None,
):
    """A DRAFT contract over `assets` (each weighted by area, else quantity, else 1)."""
    if division is None:
        raise _invalid("division", _("请选择所在区划。"))
    require(actor, Capability.MANAGE_TRADING, division)
    terms = _clean_terms(
        {
            "grantor": grantor,
            "source_right_kind": source_right_kind,
            "granted_right_kind": granted_right_kind,
            "start_date": start_date,
            "end_date": end_date,
            "revenue_model": revenue_model,
            "annual_amount": annual_amount,
            "dividend_rate": dividend_rate,
            "payment_frequency": payment_frequency,
            "first_payment_date": first_payment_date,
            "obligations": obligations,
        }
    )
    _check_grantor_reach(actor, terms["grantor"])
    assets = _lock_assets(_asset_pks(list(assets)))
    _check_assets(assets, division=division, terms=terms, renewal_of=renewal_of)
    _check_source_listing(source_listing, assets)
    cooperative = cooperative_for(division)
    with audit_context(user=actor, reason="create collection contract"):
        contract = CollectionContract.objects.create(
            number=next_number("SC"),
            division=division,
            cooperative=cooperative,
            source_listing=source_listing,
            renewal_of=renewal_of,
            created_by=actor,
            **terms,
        )
        # A renewal's assets stay held by the old contract until it ends (see renew_…).
        held = renewal_of is not None and renewal_of.status == ContractStatus.SIGNED
        _write_items(contract, assets, is_open=not held)
    return contract


def _locked_contract(contract):
    return (
        CollectionContract.objects.select_for_update(of=("self",))
        .select_related("division", "cooperative", "grantor__person", "grantor__organization")
        .get(pk=contract.pk)
    )


def _require_draft(contract):
    if contract.status != ContractStatus.DRAFT:
        raise ConflictError(_("只有草稿状态的合同可以修改或删除。"), code="not_draft")


@transaction.atomic
def update_collection_contract(*, actor, contract, assets=None, **changes):
    """Change a draft's terms and/or its assets (everything is checked again)."""
    contract = _locked_contract(contract)
    require(actor, Capability.MANAGE_TRADING, contract.division)
    _require_draft(contract)
    unknown = set(changes) - {
        "grantor",
        "source_right_kind",
        "granted_right_kind",
        "start_date",
        "end_date",
        "revenue_model",
        "annual_amount",
        "dividend_rate",
        "payment_frequency",
        "first_payment_date",
        "obligations",
        "source_listing",
    }
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    current = {f: getattr(contract, f) for f in ("grantor", "source_listing", *_TERM_FIELDS)}
    data = {**current, **changes}
    terms = _clean_terms(data)
    _check_grantor_reach(actor, terms["grantor"])
    old_pks = list(contract.items.values_list("asset_id", flat=True))
    new_pks = _asset_pks(list(assets)) if assets is not None else old_pks
    locked = _lock_assets(sorted(set(old_pks) | set(new_pks)))
    chosen = [a for a in locked if a.pk in set(new_pks)]
    renewal_of = contract.renewal_of
    _check_assets(chosen, division=contract.division, terms=terms, contract=contract, renewal_of=renewal_of)
    _check_source_listing(data["source_listing"], chosen)
    with audit_context(user=actor, reason="update collection contract"):
        for field, value in terms.items():
            setattr(contract, field, value)
        contract.source_listing = data["source_listing"]
        contract.save()
        if set(new_pks) != set(old_pks):
            held = renewal_of is not None and renewal_of.status == ContractStatus.SIGNED
            contract.items.all().delete()
            _write_items(contract, chosen, is_open=not held)
    return contract


_TERM_FIELDS = (
    "source_right_kind",
    "granted_right_kind",
    "start_date",
    "end_date",
    "revenue_model",
    "annual_amount",
    "dividend_rate",
    "payment_frequency",
    "first_payment_date",
    "obligations",
)


@transaction.atomic
def delete_draft_collection_contract(*, actor, contract):
    contract = _locked_contract(contract)
    require(actor, Capability.MANAGE_TRADING, contract.division)
    _require_draft(contract)
    number = contract.number
    with audit_context(user=actor, reason=f"delete draft collection contract {number}"):
        contract.delete()  # items cascade; a draft has no beneficiaries, schedule or movements
    return number


# --- signing ------------------------------------------------------------------------------------


def beneficiary_shares(items, source_kind):
    """{party: Fraction} — Σ over items of w_i/Σw × the holder's share of the asset's source right.
    `items` carry `.weight` and `.asset` with its rights prefetched."""
    total_weight = sum(Fraction(str(item.weight)) for item in items)
    shares, parties = {}, {}
    for item in items:
        part = Fraction(str(item.weight)) / total_weight
        for right in item.source_rights:
            share = part * Fraction(right.share_numerator, right.share_denominator)
            shares[right.holder_id] = shares.get(right.holder_id, Fraction(0)) + share
            parties[right.holder_id] = right.holder
    return [(parties[pk], share) for pk, share in shares.items()]


def _period_amount(annual, start, end, months, full_end):
    """Exact amount of [start, end): annual × months/12 for a full period; a shorter last period
    is prorated by days/365; a one-off payment counts whole years from the start, then days/365."""
    annual = Fraction(str(annual))
    if months:
        return annual * months / 12 if end == full_end else annual * (end - start).days / 365
    years = 0
    while add_months(start, 12 * (years + 1)) <= end:
        years += 1
    return annual * years + annual * (end - add_months(start, 12 * years)).days / 365


def schedule_periods(contract):
    """[(period_start, period_end, due_date, amount)]: whole periods from the start date, the last
    one cut at the end date, due `k` periods after the first payment date (at the latest on the
    term's last day). Each amount is the rounded cumulative exact amount less what the earlier
    periods got, so the periods add up to the whole term's exact amount rounded to the cent."""
    months = MONTHS_PER_PAYMENT[PaymentFrequency(contract.payment_frequency)]
    start, end = contract.start_date, contract.end_date
    last_day = end - datetime.timedelta(days=1)
    out, paid, cumulative, k = [], Decimal("0.00"), Fraction(0), 0
    while True:
        a = add_months(start, months * k) if months else start
        if a >= end:
            break
        full_end = add_months(start, months * (k + 1)) if months else end
        b = min(full_end, end)
        due = add_months(contract.first_payment_date, months * k) if months else contract.first_payment_date
        cumulative += _period_amount(contract.annual_amount, a, b, months, full_end)
        rounded = _to_cent(cumulative)
        out.append((a, b, min(due, last_day), rounded - paid))
        paid, k = rounded, k + 1
        if not months:
            break
    return out


def _to_cent(fraction):
    return (Decimal(fraction.numerator) / Decimal(fraction.denominator)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def _write_schedule(contract, beneficiaries):
    if contract.revenue_model not in SCHEDULED_REVENUE_MODELS:
        return []
    kind = SCHEDULE_KIND[RevenueModel(contract.revenue_model)]
    weights = [Fraction(b.share_numerator, b.share_denominator) for b in beneficiaries]
    lines = []
    for a, b, due, total in schedule_periods(contract):
        if total <= 0:
            continue
        for beneficiary, amount in zip(beneficiaries, split_by_weights(total, weights), strict=True):
            if amount > 0:
                lines.append(
                    ScheduledPayment(
                        contract=contract,
                        beneficiary=beneficiary,
                        kind=kind,
                        due_date=due,
                        period_start=a,
                        period_end=b,
                        amount=amount,
                    )
                )
    return ScheduledPayment.objects.bulk_create(lines)


def _items_with_assets(contract):
    items = list(contract.items.order_by("asset_id"))
    assets = {a.pk: a for a in _lock_assets([item.asset_id for item in items])}
    for item in items:
        item.asset = assets[item.asset_id]
    return items


def _terms_of(contract):
    return {f: getattr(contract, f) for f in _TERM_FIELDS}


@transaction.atomic
def sign_collection_contract(*, actor, contract):
    """DRAFT → SIGNED: rights granted to the cooperative, assets collected, shares and schedule
    fixed. A renewal is signed from the old contract's end date on and closes the old one."""
    contract = _locked_contract(contract)
    require(actor, Capability.MANAGE_TRADING, contract.division)
    check_transition(CONTRACT_TRANSITIONS, contract.status, ContractStatus.SIGNED, ContractStatus)
    old = _lock_renewed(contract)
    items = _items_with_assets(contract)
    assets = [item.asset for item in items]
    terms = {**_terms_of(contract), "grantor": contract.grantor}
    _check_grantor_reach(actor, contract.grantor)
    if old is not None and old.status == ContractStatus.SIGNED:
        reason = _("已续签为 %(number)s") % {"number": contract.number}
        _close(actor, old, ContractStatus.RENEWED, reason, back_to_registered=False)
    _check_assets(assets, division=contract.division, terms=terms, contract=contract, renewal_of=old)
    cooperative_party = ensure_party(contract.cooperative)
    document = _("流转收储合同 %(number)s") % {"number": contract.number}
    with audit_context(user=actor, reason=f"sign collection contract {contract.number}"):
        if old is not None and old.status == ContractStatus.EXPIRED:
            _mark(old, ContractStatus.RENEWED, _("已续签为 %(number)s") % {"number": contract.number})
            journaling.contract_ended(actor, old)
        for item in items:
            item.source_rights = _source_rights(
                item.asset, contract.source_right_kind, contract.start_date, contract.end_date
            )
            item.granted_right = registry.grant_right(
                actor=actor,
                asset=item.asset,
                holder=cooperative_party,
                kind=contract.granted_right_kind,
                share=1,
                start=contract.start_date,
                end=contract.end_date,
                source_document=document,
            )
            if item.asset.status != AssetStatus.COLLECTED:
                registry.transition_asset(
                    actor=actor, asset=item.asset, to_status=AssetStatus.COLLECTED, reason=document
                )
            item.is_open = True
        try:
            with transaction.atomic():
                CollectionItem.objects.bulk_update(items, ["granted_right", "is_open"])
        except IntegrityError as exc:
            raise _open_conflict(exc, assets, contract) from None
        beneficiaries = CollectionBeneficiary.objects.bulk_create(
            [
                CollectionBeneficiary(
                    contract=contract,
                    party=party,
                    share_numerator=s.numerator,
                    share_denominator=s.denominator,
                )
                for party, s in beneficiary_shares(items, contract.source_right_kind)
            ]
        )
        _write_schedule(contract, beneficiaries)
        contract.status, contract.signed_at, contract.signed_by = ContractStatus.SIGNED, timezone.now(), actor
        contract.save(update_fields=["status", "signed_at", "signed_by"])
        journaling.contract_signed(actor, contract)
    _notify(contract, assets, _("流转收储合同已签订"))
    return contract


def _lock_renewed(contract):
    """The contract this one renews, locked, when it may be renewed now (else refuse)."""
    if contract.renewal_of_id is None:
        return None
    old = _locked_contract(contract.renewal_of)
    check_transition(CONTRACT_TRANSITIONS, old.status, ContractStatus.RENEWED, ContractStatus)
    if timezone.localdate() < old.end_date:
        raise ConflictError(
            _("续签合同须在原合同 %(number)s 到期（%(day)s）后签订。")
            % {"number": old.number, "day": old.end_date},
            code="renewal_too_early",
        )
    return old


def _notify(contract, assets, title):
    """The village clerks of the assets' villages and the grantor organization's members."""
    members = Membership.objects.filter(is_active=True).select_related("user", "organization__division")
    query = Q(role=Role.VILLAGE_CLERK)
    if contract.grantor.organization_id:
        query |= Q(organization_id=contract.grantor.organization_id)
    recipients = {
        m.user_id: m.user
        for m in members.filter(query)
        if m.organization_id == contract.grantor.organization_id
        or any(m.organization.division.contains(asset.division) for asset in assets)
    }
    if recipients:
        notify(
            recipients=list(recipients.values()),
            title=title,
            body=f"{contract.number}：{contract.grantor} → {contract.cooperative}",
            link=contract.get_absolute_url(),
        )


# --- termination, expiry, renewal ---------------------------------------------------------------


def _mark(contract, status, reason=""):
    check_transition(CONTRACT_TRANSITIONS, contract.status, status, ContractStatus)
    contract.status, contract.ended_at = status, contract.ended_at or timezone.now()
    contract.end_reason = reason[:500]
    contract.save(update_fields=["status", "ended_at", "end_reason"])


def _close(actor, contract, status, reason, *, back_to_registered=True):
    """End the cooperative's rights, return the assets, close the items, set `status`."""
    note = f"{contract.number} {ContractStatus(status).label}：{reason}"
    with audit_context(user=actor, reason=note):
        for item in _items_with_assets(contract):
            if item.granted_right_id:
                right = Right.objects.get(pk=item.granted_right_id)
                if right.status == RightStatus.ACTIVE:
                    registry.end_right(actor=actor, right=right, reason=note[:200])
            if back_to_registered and item.asset.status != AssetStatus.REGISTERED:
                registry.transition_asset(
                    actor=actor, asset=item.asset, to_status=AssetStatus.REGISTERED, reason=note
                )
        contract.items.update(is_open=False)
        _mark(contract, status, reason)
        journaling.contract_ended(actor, contract)
        # A waiting renewal now holds the assets, so that no other contract takes them meanwhile.
        renewal = CollectionContract.objects.filter(renewal_of=contract, status=ContractStatus.DRAFT).first()
        if renewal is not None and status != ContractStatus.TERMINATED:
            _write_open(renewal, actor)


def _write_open(renewal, actor):
    try:
        with transaction.atomic():
            renewal.items.update(is_open=True)
    except IntegrityError:
        pass  # another contract took an asset meanwhile; signing the renewal will say which


def _refuse_if_in_trade(items):
    asset_ids = [item.asset_id for item in items]
    codes = {item.asset_id: item.asset.code for item in items}
    package_item = (
        PackageItem.objects.filter(asset_id__in=asset_ids, is_open=True).select_related("package").first()
    )
    if package_item is not None:
        raise ConflictError(
            _("资源 %(code)s 在资源包 %(package)s 中，须先将其移出或解散资源包。")
            % {"code": codes[package_item.asset_id], "package": package_item.package.code},
            code="in_package",
        )
    packages = PackageItem.objects.filter(asset_id__in=asset_ids).values("package_id")
    listing = (
        Listing.objects.filter(status__in=OPEN_LISTING_STATUSES)
        .filter(Q(asset_id__in=asset_ids) | Q(package_id__in=packages))
        .first()
    )
    if listing is not None:
        raise ConflictError(
            _("资源在挂牌项目 %(code)s（%(status)s）中，须先撤牌或完成交易。")
            % {"code": listing.code, "status": listing.get_status_display()},
            code="in_listing",
        )
    trade_item = (
        TradeContractItem.objects.filter(asset_id__in=asset_ids, contract__status=ContractStatus.SIGNED)
        .select_related("contract")
        .first()
    )
    if trade_item is not None:
        raise ConflictError(
            _("资源 %(code)s 在履行中的交易合同 %(number)s 中，不能解除收储。")
            % {"code": codes[trade_item.asset_id], "number": trade_item.contract.number},
            code="in_trade_contract",
        )


@transaction.atomic
def terminate_collection_contract(*, actor, contract, reason, effective_date):
    """SIGNED → TERMINATED: rights ended, assets registered again, later payments cancelled, and
    a savings contract's slips cancelled (refused while one of them secures a loan)."""
    contract = _locked_contract(contract)
    require(actor, Capability.MANAGE_TRADING, contract.division)
    check_transition(CONTRACT_TRANSITIONS, contract.status, ContractStatus.TERMINATED, ContractStatus)
    reason = required_text(reason, "reason", _("请填写解除原因。"))
    if not isinstance(effective_date, datetime.date):
        raise _invalid("effective_date", _("请填写解除生效日。"))
    if effective_date >= contract.end_date:
        raise _invalid(
            "effective_date", _("解除生效日须早于合同截止日 %(day)s。") % {"day": contract.end_date}
        )
    items = _items_with_assets(contract)
    _refuse_if_in_trade(items)
    savings.cancel_slips_of_contract(actor=actor, contract=contract, reason=reason)
    _close(actor, contract, ContractStatus.TERMINATED, reason)
    cancelled = list(
        ScheduledPayment.objects.select_for_update(of=("self",))
        .select_related("movement")
        .filter(contract=contract, status=ScheduleStatus.DUE, due_date__gt=effective_date)
        .order_by("pk")
    )
    _cancel_lines(actor, cancelled, reason)
    _notify(contract, [item.asset for item in items], _("流转收储合同已解除"))
    return contract


def _cancel_lines(actor, lines, reason):
    """Cancel due lines; a payable already recognised for them is reversed in the ledger."""
    movements = {line.movement_id: line.movement for line in lines if line.movement_id}
    for movement in movements.values():
        if not hasattr(movement, "reversed_by"):
            ledger.reverse(actor=actor, movement=movement, reason=reason)
    ScheduledPayment.objects.filter(pk__in=[line.pk for line in lines]).update(
        status=ScheduleStatus.CANCELLED
    )


def expire_collection_contracts(today=None):
    """SIGNED contracts whose term has ended → EXPIRED (rights ended, assets registered again; the
    schedule stays). Each in its own transaction, skipping rows another worker holds; idempotent.
    A contract whose effects are refused (e.g. the cooperative's right is still pledged) stays
    signed and is retried the next day."""
    today = today or timezone.localdate()
    expired = 0
    due = CollectionContract.objects.filter(status=ContractStatus.SIGNED, end_date__lte=today)
    for pk in due.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                contract = (
                    CollectionContract.objects.select_for_update(of=("self",), skip_locked=True)
                    .filter(pk=pk, status=ContractStatus.SIGNED, end_date__lte=today)
                    .first()
                )
                if contract is None:
                    continue
                _close(contract.signed_by, contract, ContractStatus.EXPIRED, _("收储合同到期"))
        except DomainError:
            continue
        expired += 1
    return expired


@transaction.atomic
def renew_collection_contract(*, actor, contract, end_date, annual_amount=None, dividend_rate=None):
    """A DRAFT renewal from the old end date to `end_date`, same parties, assets and model.

    The old contract keeps its assets until its term ends: the renewal's items stay closed while
    the old one is signed and open once it expires; the renewal is signed from the old end date
    on, which moves the old contract to RENEWED (and ends its rights if the daily expiry has not)."""
    old = _locked_contract(contract)
    require(actor, Capability.MANAGE_TRADING, old.division)
    check_transition(CONTRACT_TRANSITIONS, old.status, ContractStatus.RENEWED, ContractStatus)
    if CollectionContract.objects.filter(renewal_of=old).exists():
        raise ConflictError(_("该合同已有续签合同。"), code="already_renewed")
    start = old.end_date
    # Keep the payment day: shift by the old term in whole months when it is one, else in days.
    months = (start.year - old.start_date.year) * 12 + start.month - old.start_date.month
    if add_months(old.start_date, months) == start:
        first = add_months(old.first_payment_date, months)
    else:
        first = start + (old.first_payment_date - old.start_date)
    if isinstance(end_date, datetime.date) and first >= end_date:
        first = start
    assets = list(Asset.objects.filter(pk__in=old.items.values("asset_id")))
    return create_collection_contract(
        actor=actor,
        division=old.division,
        grantor=old.grantor,
        source_right_kind=old.source_right_kind,
        granted_right_kind=old.granted_right_kind,
        start_date=start,
        end_date=end_date,
        revenue_model=old.revenue_model,
        annual_amount=old.annual_amount if annual_amount in (None, "") else annual_amount,
        dividend_rate=old.dividend_rate if dividend_rate in (None, "") else dividend_rate,
        payment_frequency=old.payment_frequency,
        first_payment_date=first,
        obligations=old.obligations,
        assets=assets,
        renewal_of=old,
    )
