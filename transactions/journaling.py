"""What the trading desk appends to the public journal (journal/): contracts signed and ended,
every ledger movement, revenue distributions, savings slips. Called inside the services'
transactions; counterparties appear as organization names or masked person names."""

from journal.models import EntryKind
from journal.publish import party_label
from journal.services import record


def _contract_public(contract):
    public = {
        "contract": contract.number,
        "type": contract._meta.verbose_name,
        "status": contract.get_status_display(),
        "term": [contract.start_date, contract.end_date],
        "cooperative": contract.cooperative.name,
    }
    if hasattr(contract, "grantor"):
        public.update(grantor=party_label(contract.grantor), annual_amount=contract.annual_amount)
        public["revenue_model"] = contract.get_revenue_model_display()
    else:
        public.update(
            investor=contract.investor.name, price=contract.price, trade=contract.get_kind_display()
        )
    return public


def _asset_codes(contract):
    return list(contract.items.values_list("asset__code", flat=True))


def contract_signed(actor, contract):
    record(
        kind=EntryKind.CONTRACT_SIGNED,
        references=[contract.number, *_asset_codes(contract)],
        public={**_contract_public(contract), "assets": _asset_codes(contract)},
        detail={"model": contract._meta.label, "contract": contract.pk},
        actor=actor,
    )


def contract_ended(actor, contract):
    record(
        kind=EntryKind.CONTRACT_ENDED,
        references=[contract.number],
        public=_contract_public(contract),
        detail={"model": contract._meta.label, "contract": contract.pk, "reason": contract.end_reason},
        actor=actor,
    )


LINKS = ("listing", "trade_contract", "collection_contract")


def movement_posted(actor, movement, lines):
    """One entry per movement: its kind, date, total moved (sum of debits) and the public numbers
    of what it belongs to."""
    references = [
        getattr(getattr(movement, link), "number", None) for link in LINKS if getattr(movement, f"{link}_id")
    ]
    total = sum((line.amount for line in lines if line.amount > 0), start=0)
    record(
        kind=EntryKind.PAYMENT,
        references=[f"JZ{movement.pk}", *references],
        public={
            "voucher": f"JZ{movement.pk}",
            "movement": movement.get_kind_display(),
            "occurred_on": movement.occurred_on,
            "amount": total,
            "reverses": f"JZ{movement.reverses_id}" if movement.reverses_id else None,
            "distribution": movement.distribution_id,
        },
        detail={
            "movement": movement.pk,
            "postings": [[line.kind, line.party.pk, line.amount, line.sub_account] for line in lines],
        },
        actor=actor,
    )


def distribution_declared(actor, distribution, lines):
    contract = distribution.contract
    record(
        kind=EntryKind.DISTRIBUTION,
        references=[contract.number, f"FP{distribution.pk}"],
        public={
            "distribution": f"FP{distribution.pk}",
            "contract": contract.number,
            "kind": distribution.get_kind_display(),
            "period": [distribution.period_start, distribution.period_end],
            "income": distribution.income,
            "amount": distribution.amount,
            "recipients": [[party_label(line.beneficiary.party), line.amount] for line in lines],
        },
        detail={"distribution": distribution.pk},
        actor=actor,
    )


def slip_issued(actor, slip):
    record(
        kind=EntryKind.SLIP_ISSUED,
        references=[slip.number, slip.contract.number, slip.asset.code],
        public={
            "slip": slip.number,
            "contract": slip.contract.number,
            "asset": slip.asset.code,
            "holder": party_label(slip.holder),
            "term": [slip.start_date, slip.end_date],
            "guaranteed_annual_amount": slip.guaranteed_annual_amount,
        },
        detail={"slip": slip.pk, "holder": slip.holder_id, "right": slip.income_right_id},
        actor=actor,
    )


def slip_ended(actor, slip):
    record(
        kind=EntryKind.SLIP_ENDED,
        references=[slip.number],
        public={"slip": slip.number, "status": slip.get_status_display()},
        detail={"slip": slip.pk, "reason": slip.end_reason},
        actor=actor,
    )
