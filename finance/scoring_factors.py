"""What each eco-credit factor measures, from the platform's own records: one function per
`FactorKey`, returning the measured value, a Chinese sentence stating the numbers it came from,
and the canonical inputs (record ids and amounts) that the score's digest is taken over.

The scorecard turns a value into points (finance.services.scoring); these functions only measure.

- 生态行为 (eco_behaviour): sum of the positive, non-revoked eco-behaviour points of the last
  24 months (雾溪乡 list: +1 per garbage-sorting act, +6/8/10/30 for pilots), in 分.
- 违规记录 (violations): sum of the negative, non-revoked points of the same window (a negative
  number: −2 门前三包, −3 illegal discharge or chemicals), in 分.
- GEP 贡献 (gep_contribution): for each asset on which the party holds an active right today, the
  total of the asset's latest accepted GEP valuation × the party's share, in 万元. Several rights
  of one holder on one asset (e.g. 承包权 and 经营权) count the asset once, at the largest share.
- 流转收储记录 (collection_history): collection contracts that were signed (in force, expired or
  renewed) with the party as grantor or beneficiary, in 份.
- 交易履约记录 (contract_history): the party's organization's trade contracts completed (expired or
  renewed) minus those terminated and sales it won but abandoned (deposit forfeited), in 份.
- 还款记录 (repayment_record): installments of the party's loans settled on time minus
  LATE_WEIGHT × (those settled late + those overdue and unpaid), in 期: one missed payment weighs
  more than one kept, as in any credit history.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from resources.models import Right, RightStatus
from transactions.models import (
    CollectionContract,
    ContractStatus,
    DepositStatus,
    ListingApplication,
    TradeContract,
)
from transactions.services.contracts import add_months
from valuation.selectors import latest_asset_valuation

from .models import EcoBehaviourRecord, FactorKey, Installment

ECO_WINDOW_MONTHS = 24
LATE_WEIGHT = 3
TEN_THOUSAND = Decimal("10000")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Measure:
    value: Decimal
    unit: str
    summary: str
    inputs: dict = field(default_factory=dict)


def number(value):
    """A Decimal as written by hand: no exponent, no trailing zeros (2.5000 → 2.5, 10 → 10)."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def window_start(as_of):
    """Records on or after this day count (the last 24 months up to `as_of`)."""
    return add_months(as_of, -ECO_WINDOW_MONTHS)


def _eco_records(party, as_of, *, positive):
    sign = Q(points__gt=0) if positive else Q(points__lt=0)
    return list(
        EcoBehaviourRecord.objects.filter(
            sign,
            party=party,
            revoked_at__isnull=True,
            occurred_on__gte=window_start(as_of),
            occurred_on__lte=as_of,
        )
        .order_by("pk")
        .values_list("pk", "points")
    )


def eco_behaviour(party, *, as_of):
    records = _eco_records(party, as_of, positive=True)
    total = sum((points for _pk, points in records), Decimal("0"))
    return Measure(
        value=total,
        unit=_("分"),
        summary=_("近 %(months)s 个月有效生态加分记录 %(n)s 条，合计 %(total)s 分")
        % {"months": ECO_WINDOW_MONTHS, "n": len(records), "total": number(total)},
        inputs={"records": [[pk, str(points)] for pk, points in records]},
    )


def violations(party, *, as_of):
    records = _eco_records(party, as_of, positive=False)
    total = sum((points for _pk, points in records), Decimal("0"))
    return Measure(
        value=total,
        unit=_("分"),
        summary=_("近 %(months)s 个月有效违规扣分记录 %(n)s 条，合计 %(total)s 分")
        % {"months": ECO_WINDOW_MONTHS, "n": len(records), "total": number(total)},
        inputs={"records": [[pk, str(points)] for pk, points in records]},
    )


def gep_contribution(party, *, as_of):
    shares = {}  # asset → largest share the party holds in it today
    for right in Right.objects.filter(
        holder=party, status=RightStatus.ACTIVE, period__contains=as_of
    ).select_related("asset"):
        share = Decimal(right.share_numerator) / Decimal(right.share_denominator)
        if right.asset_id not in shares or share > shares[right.asset_id][1]:
            shares[right.asset_id] = (right.asset, share)
    total = Decimal("0")
    valued = []
    for asset_id in sorted(shares):
        asset, share = shares[asset_id]
        valuation = latest_asset_valuation(asset)
        if valuation is None:
            continue
        total += valuation.total * share
        valued.append([asset_id, valuation.run.pk, str(valuation.total), str(share)])
    total = total.quantize(CENT)
    in_wan = (total / TEN_THOUSAND).quantize(CENT)
    return Measure(
        value=in_wan,
        unit=_("万元"),
        summary=_(
            "持有有效权利的资源 %(held)s 宗，其中 %(valued)s 宗有已采纳的 GEP 核算结果，"
            "按权利份额计 GEP 合计 %(total)s 元（%(wan)s 万元）"
        )
        % {"held": len(shares), "valued": len(valued), "total": f"{total:,.2f}", "wan": number(in_wan)},
        inputs={"assets": valued},
    )


COLLECTION_COUNTED = (ContractStatus.SIGNED, ContractStatus.EXPIRED, ContractStatus.RENEWED)


def collection_history(party, *, as_of):
    contracts = list(
        CollectionContract.objects.filter(
            Q(grantor=party) | Q(beneficiaries__party=party), status__in=COLLECTION_COUNTED
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", "status")
    )
    by_status = Counter(status for _pk, status in contracts)
    return Measure(
        value=Decimal(len(contracts)),
        unit=_("份"),
        summary=_(
            "作为出让方或收益人签订的流转收储合同 %(n)s 份（履行中 %(signed)s 份、已到期 %(expired)s 份、"
            "已续签 %(renewed)s 份）"
        )
        % {
            "n": len(contracts),
            "signed": by_status[ContractStatus.SIGNED],
            "expired": by_status[ContractStatus.EXPIRED],
            "renewed": by_status[ContractStatus.RENEWED],
        },
        inputs={"contracts": [[pk, status] for pk, status in contracts]},
    )


def contract_history(party, *, as_of):
    if party.organization_id is None:
        return Measure(value=Decimal("0"), unit=_("份"), summary=_("自然人没有作为受让方的交易合同记录"))
    contracts = list(
        TradeContract.objects.filter(investor_id=party.organization_id)
        .exclude(status=ContractStatus.DRAFT)
        .order_by("pk")
        .values_list("pk", "status")
    )
    abandoned = list(
        ListingApplication.objects.filter(
            investor_id=party.organization_id, deposit_status=DepositStatus.FORFEITED
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    by_status = Counter(status for _pk, status in contracts)
    completed = by_status[ContractStatus.EXPIRED] + by_status[ContractStatus.RENEWED]
    terminated = by_status[ContractStatus.TERMINATED]
    value = Decimal(completed - terminated - len(abandoned))
    return Measure(
        value=value,
        unit=_("份"),
        summary=_(
            "作为受让方的交易合同履约完成 %(completed)s 份、履行中 %(signed)s 份、已解除 %(terminated)s 份，"
            "竞得后未签约 %(abandoned)s 次；净履约记录 = %(completed)s − %(terminated)s − %(abandoned)s = %(value)s"
        )
        % {
            "completed": completed,
            "signed": by_status[ContractStatus.SIGNED],
            "terminated": terminated,
            "abandoned": len(abandoned),
            "value": number(value),
        },
        inputs={"contracts": [[pk, status] for pk, status in contracts], "abandoned": abandoned},
    )


def repayment_record(party, *, as_of):
    on_time, late, overdue = [], [], []
    rows = (
        Installment.objects.filter(loan__borrower=party)
        .order_by("pk")
        .values_list("pk", "due_date", "settled_on", "principal_due", "interest_due")
    )
    for pk, due_date, settled_on, principal_due, interest_due in rows:
        if principal_due + interest_due == 0:
            continue  # recast to nothing by an early repayment: nothing was owed
        if settled_on is not None and settled_on <= due_date:
            on_time.append(pk)
        elif settled_on is not None:
            late.append(pk)
        elif due_date < as_of:
            overdue.append(pk)
    value = Decimal(len(on_time) - LATE_WEIGHT * (len(late) + len(overdue)))
    return Measure(
        value=value,
        unit=_("期"),
        summary=_(
            "贷款还款计划中按期结清 %(on_time)s 期、逾期后结清 %(late)s 期、当前逾期未还 %(overdue)s 期；"
            "净值 = %(on_time)s − %(weight)s × (%(late)s + %(overdue)s) = %(value)s"
        )
        % {
            "on_time": len(on_time),
            "late": len(late),
            "overdue": len(overdue),
            "weight": LATE_WEIGHT,
            "value": number(value),
        },
        inputs={"on_time": on_time, "late": late, "overdue": overdue},
    )


MEASURES = {
    FactorKey.ECO_BEHAVIOUR: eco_behaviour,
    FactorKey.VIOLATIONS: violations,
    FactorKey.GEP_CONTRIBUTION: gep_contribution,
    FactorKey.COLLECTION_HISTORY: collection_history,
    FactorKey.CONTRACT_HISTORY: contract_history,
    FactorKey.REPAYMENT_RECORD: repayment_record,
}


def measure(key, party, *, as_of):
    return MEASURES[FactorKey(key)](party, as_of=as_of)
