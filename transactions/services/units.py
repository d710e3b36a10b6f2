"""Eco-indicator units: carbon-sink tCO₂e and water-right m³ issued from a registered right as one
block of integer serials per batch (registry-trading.md §6), then transferred or retired by
splitting blocks. A block row never changes owner or range: it is marked split and replaced by
child blocks, so the history of every serial stays readable. Units trade between third parties
outside the cooperative's books: a transfer records its price, but no money moves in the ledger."""

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.permissions import Capability
from resources.models import Asset, AssetStatus, Right, RightKind, RightStatus
from tmcs.audit import audit_context
from tmcs.errors import ConflictError, DomainError

from .._money import parse_money
from ..models import UnitBlock, UnitBlockStatus, UnitIssuance, UnitKind, UnitTransfer, UnitTransferKind
from .allocation import split_by_weights
from .common import next_number, require, required_text

MAX_QUANTITY = 10**12
UNIT_KIND_OF_RIGHT = {RightKind.CARBON_SINK: UnitKind.CARBON, RightKind.WATER: UnitKind.WATER}
SERIAL_CODE = {UnitKind.CARBON: "CS", UnitKind.WATER: "WR"}
# Issuance needs a registered asset; drafts, assets under review or in 公示, and retired ones are out.
ISSUABLE_ASSET_STATUSES = (
    AssetStatus.REGISTERED,
    AssetStatus.COLLECTED,
    AssetStatus.LISTED,
    AssetStatus.LEASED,
    AssetStatus.PLEDGED,
)
# Room for the "#n" suffix that numbers the ranges of one keyed transfer (the column holds 100).
MAX_KEY_LENGTH = 90


def _invalid(field, message):
    return DomainError(message, code="invalid", fields={field: [message]})


def _whole_number(value, field, *, minimum, maximum, label):
    try:
        number = Decimal(str(value).strip())
    except (ArithmeticError, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise _invalid(field, _("%(label)s须为整数。") % {"label": label})
    number = int(number)
    if not minimum <= number <= maximum:
        raise _invalid(
            field,
            _("%(label)s须在 %(min)s 至 %(max)s 之间。") % {"label": label, "min": minimum, "max": maximum},
        )
    return number


def annual_cap(asset):
    """A year's issuable units from the asset's recorded quantity (None when unknown): the type's
    unit is tCO₂e or m³ per year, or 万m³ per year for water permits."""
    if asset.quantity is None:
        return None
    factor = 10_000 if asset.resource_type.unit.startswith("万") else 1
    return int(asset.quantity * factor)


def _period_years(period):
    first = period.lower.year if period.lower else 1
    last = (period.upper - datetime.timedelta(days=1)).year if period.upper else 9999
    return first, last


@transaction.atomic
def issue_units(*, actor, right, vintage_year, quantity, methodology):
    """Issue one year's units of a carbon-sink or water right to the right's holder."""
    asset = (
        Asset.objects.select_for_update(of=("self",))
        .select_related("division", "resource_type")
        .get(pk=right.asset_id)
    )
    right = Right.objects.select_for_update(of=("self",)).get(pk=right.pk)
    require(actor, Capability.MANAGE_TRADING, asset.division)
    kind = UNIT_KIND_OF_RIGHT.get(right.kind)
    if kind is None:
        raise DomainError(_("只有碳汇权或取水权可以签发指标。"), code="invalid_right")
    if right.status != RightStatus.ACTIVE:
        raise ConflictError(_("该权利已终止，不能签发指标。"), code="right_ended")
    if asset.status not in ISSUABLE_ASSET_STATUSES:
        raise ConflictError(
            _("资源状态为“%(status)s”，登记完成后才能签发指标。") % {"status": asset.get_status_display()},
            code="asset_not_registered",
        )
    this_year = timezone.localdate().year
    vintage_year = _whole_number(vintage_year, "vintage_year", minimum=1900, maximum=9999, label=_("年份"))
    if vintage_year > this_year:
        raise _invalid("vintage_year", _("年份不能晚于今年（%(year)s）。") % {"year": this_year})
    first_year, last_year = _period_years(right.period)
    if not first_year <= vintage_year <= last_year:
        raise _invalid("vintage_year", _("年份不在该权利的有效期内。"))
    quantity = _whole_number(quantity, "quantity", minimum=1, maximum=MAX_QUANTITY, label=_("数量"))
    methodology = required_text(methodology, "methodology", _("请填写核算方法学或依据。"), max_length=200)
    if UnitIssuance.objects.filter(right=right, vintage_year=vintage_year).exists():
        raise _duplicate(vintage_year)
    cap = annual_cap(asset)
    if cap is not None:
        issued = (
            UnitIssuance.objects.filter(right__asset=asset, vintage_year=vintage_year).aggregate(
                total=Sum("quantity")
            )["total"]
            or 0
        )
        if issued + quantity > cap:
            message = _("超过该资源 %(year)s 年的可签发量：年产量 %(cap)s，已签发 %(issued)s。") % {
                "year": vintage_year,
                "cap": cap,
                "issued": issued,
            }
            raise ConflictError(message, code="over_cap", fields={"quantity": [message]})
    code = SERIAL_CODE[kind]
    county = asset.division.code[:6]
    counter_prefix = f"{code}{county}"
    sequence = next_number(counter_prefix, year=vintage_year)[len(counter_prefix) + 4 :]
    try:
        with transaction.atomic(), audit_context(user=actor, reason="issue units"):
            issuance = UnitIssuance.objects.create(
                serial_prefix=f"TMCS-{county}-{code}-{vintage_year}-{sequence}",
                kind=kind,
                right=right,
                vintage_year=vintage_year,
                quantity=quantity,
                methodology=methodology,
                issued_by=actor,
            )
            UnitBlock.objects.create(
                issuance=issuance, owner_id=right.holder_id, first_serial=1, last_serial=quantity
            )
            UnitTransfer.objects.create(
                issuance=issuance,
                kind=UnitTransferKind.ISSUE,
                to_party_id=right.holder_id,
                first_serial=1,
                last_serial=quantity,
                note=methodology,
                recorded_by=actor,
            )
    except IntegrityError as exc:
        if "one_issuance_per_right_and_year" in str(exc):
            raise _duplicate(vintage_year) from None
        raise
    return issuance


def _duplicate(year):
    message = _("该权利 %(year)s 年的指标已签发过。") % {"year": year}
    return ConflictError(message, code="duplicate", fields={"vintage_year": [message]})


@transaction.atomic
def transfer_units(
    *, actor, issuance, from_party, to_party, quantity, price=None, note="", idempotency_key=None
):
    """Move the lowest `quantity` serials `from_party` holds to `to_party`; returns the transfer rows
    (one per contiguous range). The price is recorded, not posted: units change hands between
    third parties and no money passes through the cooperative."""
    if to_party is None:
        raise _invalid("to_party", _("请选择转入方。"))
    if from_party.pk == to_party.pk:
        raise _invalid("to_party", _("转入方不能与转出方相同。"))
    price = parse_money(price, "price") if price not in (None, "") else None
    note = (note or "").strip()
    if len(note) > 300:
        raise _invalid("note", _("不能超过 %(n)s 个字。") % {"n": 300})
    return _move(
        actor=actor,
        issuance=issuance,
        from_party=from_party,
        quantity=quantity,
        kind=UnitTransferKind.TRANSFER,
        to_party=to_party,
        price=price,
        note=note,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def retire_units(*, actor, issuance, party, quantity, reason, idempotency_key=None):
    """Retire (注销) the lowest `quantity` serials `party` holds, for good: retired units are never
    transferred or retired again."""
    reason = required_text(reason, "reason", _("请填写注销用途。"), max_length=300)
    return _move(
        actor=actor,
        issuance=issuance,
        from_party=party,
        quantity=quantity,
        kind=UnitTransferKind.RETIRE,
        to_party=None,
        price=None,
        note=reason,
        idempotency_key=idempotency_key,
    )


def _earlier(key, issuance, kind, from_party):
    rows = list(
        UnitTransfer.objects.filter(
            Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}#")
        ).order_by("first_serial")
    )
    if rows and any(
        (r.issuance_id, r.kind, r.from_party_id) != (issuance.pk, kind, from_party.pk) for r in rows
    ):
        raise ConflictError(_("该幂等键已用于另一笔指标业务。"), code="idempotency_key_reused")
    return rows


def _move(*, actor, issuance, from_party, quantity, kind, to_party, price, note, idempotency_key):
    key = (idempotency_key or "").strip() or None
    if key and (len(key) > MAX_KEY_LENGTH or "#" in key):
        raise _invalid("idempotency_key", _("幂等键须为不含“#”的 1 至 90 个字符。"))
    if key and (earlier := _earlier(key, issuance, kind, from_party)):
        return earlier
    # The issuance row serialises every movement of its units, so each one reads the blocks as the
    # previous one left them.
    issuance = (
        UnitIssuance.objects.select_for_update(of=("self",))
        .select_related("right__asset__division")
        .get(pk=issuance.pk)
    )
    require(actor, Capability.MANAGE_TRADING, issuance.right.asset.division)
    if key and (earlier := _earlier(key, issuance, kind, from_party)):
        return earlier
    quantity = _whole_number(quantity, "quantity", minimum=1, maximum=MAX_QUANTITY, label=_("数量"))
    blocks = list(
        UnitBlock.objects.select_for_update(of=("self",))
        .filter(issuance=issuance, owner=from_party, status=UnitBlockStatus.HELD)
        .order_by("first_serial")
    )
    held = sum(block.quantity for block in blocks)
    if held < quantity:
        message = _("可用数量不足，持有 %(n)s。") % {"n": held}
        raise ConflictError(message, code="insufficient_units", fields={"quantity": [message]})
    with audit_context(user=actor, reason=f"units {kind}"):
        ranges = _split(blocks, quantity, from_party=from_party, kind=kind, to_party=to_party, note=note)
    prices = split_by_weights(price, [last - first + 1 for first, last in ranges]) if price else None
    rows = [
        UnitTransfer(
            issuance=issuance,
            kind=kind,
            from_party=from_party,
            to_party=to_party,
            first_serial=first,
            last_serial=last,
            price=prices[i] if prices else None,
            note=note,
            idempotency_key=(key if i == 0 else f"{key}#{i + 1}") if key else None,
            recorded_by=actor,
        )
        for i, (first, last) in enumerate(ranges)
    ]
    try:
        with transaction.atomic(), audit_context(user=actor, reason=f"units {kind}"):
            return UnitTransfer.objects.bulk_create(rows)
    except IntegrityError as exc:
        if key and "idempotency_key" in str(exc):
            raise ConflictError(
                _("该幂等键的请求正在处理，请稍后重试。"), code="idempotency_in_progress"
            ) from None
        raise


def _split(blocks, quantity, *, from_party, kind, to_party, note):
    """Take the lowest serials: each touched block is marked split (first, so that the exclusion
    constraint on live blocks accepts its children), then replaced by the part that moves and the
    remainder. Returns the moved serial ranges, adjacent ones merged."""
    remaining, moved, children = quantity, [], []
    retiring = kind == UnitTransferKind.RETIRE
    for block in blocks:
        if remaining == 0:
            break
        cut = block.first_serial + min(remaining, block.quantity) - 1
        block.status = UnitBlockStatus.SPLIT
        block.save(update_fields=["status"])
        children.append(
            UnitBlock(
                issuance_id=block.issuance_id,
                owner=from_party if retiring else to_party,
                first_serial=block.first_serial,
                last_serial=cut,
                status=UnitBlockStatus.RETIRED if retiring else UnitBlockStatus.HELD,
                retirement_reason=note if retiring else "",
                parent=block,
            )
        )
        if cut < block.last_serial:
            children.append(
                UnitBlock(
                    issuance_id=block.issuance_id,
                    owner=from_party,
                    first_serial=cut + 1,
                    last_serial=block.last_serial,
                    parent=block,
                )
            )
        if moved and moved[-1][1] + 1 == block.first_serial:
            moved[-1] = (moved[-1][0], cut)
        else:
            moved.append((block.first_serial, cut))
        remaining -= cut - block.first_serial + 1
    UnitBlock.objects.bulk_create(children)
    return moved
