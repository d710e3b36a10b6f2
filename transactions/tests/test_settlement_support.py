"""Builders for the settlement and distribution tests: signed collection and trade contracts made
directly with the ORM (their own services are tested in their areas), and ledger checks."""

import datetime
import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db.models import Sum

from directory.services import ensure_party
from resources.models import AssetStatus
from transactions.models import (
    AccountKind,
    CollectionBeneficiary,
    CollectionContract,
    CollectionItem,
    ContractStatus,
    MovementKind,
    Posting,
    RevenueModel,
    ScheduledPayment,
    ScheduleKind,
    TradeContract,
    TradeContractItem,
    TradeInstallment,
    TradeKind,
)
from transactions.services import ledger

START = datetime.date(2024, 1, 1)
END = datetime.date(2029, 1, 1)
_numbers = itertools.count(1)


def ledger_total():
    """Every posting ever made sums to zero."""
    return Posting.objects.aggregate(s=Sum("amount"))["s"] or Decimal("0")


class Builder:
    def __init__(self, staff, cooperative, investor_org, village, make_asset):
        self.staff, self.cooperative, self.investor_org = staff, cooperative, investor_org
        self.village, self.make_asset = village, make_asset
        self.coop_party = ensure_party(cooperative)
        self.investor_party = ensure_party(investor_org)

    def asset(self, status=AssetStatus.COLLECTED):
        n = next(_numbers)
        asset = self.make_asset(name=f"结算测试林地{n}")
        asset.status = status
        asset.save(update_fields=["status"])
        return asset

    def collection(
        self,
        holders,
        *,
        weights=(Decimal("1000"),),
        model=RevenueModel.SHARE_DIVIDEND,
        rate=Decimal("0.5"),
        annual=Decimal("0.00"),
        status=ContractStatus.SIGNED,
        division=None,
        cooperative=None,
    ):
        """holders: [(party, Fraction share)]; one item per weight."""
        contract = CollectionContract.objects.create(
            number=f"SC-T{next(_numbers):06d}",
            division=division or self.village,
            cooperative=cooperative or self.cooperative,
            grantor=holders[0][0],
            source_right_kind="contract",
            start_date=START,
            end_date=END,
            revenue_model=model,
            annual_amount=annual,
            dividend_rate=rate,
            first_payment_date=START,
            status=status,
            created_by=self.staff,
        )
        for weight in weights:
            CollectionItem.objects.create(contract=contract, asset=self.asset(), weight=weight)
        for party, share in holders:
            share = Fraction(share)
            CollectionBeneficiary.objects.create(
                contract=contract,
                party=party,
                share_numerator=share.numerator,
                share_denominator=share.denominator,
            )
        return contract

    def schedule(self, contract, *, kind, due, period_start, period_end, amount):
        """One line per beneficiary, `amount` each."""
        return [
            ScheduledPayment.objects.create(
                contract=contract,
                beneficiary=b,
                kind=kind,
                due_date=due,
                period_start=period_start,
                period_end=period_end,
                amount=Decimal(amount),
            )
            for b in contract.beneficiaries.order_by("pk")
        ]

    def trade(self, assets, *, installments=("1000.00",), status=ContractStatus.SIGNED, division=None):
        """A signed trade contract over `assets` with the price recognised in the ledger."""
        price = sum(Decimal(a) for a in installments)
        contract = TradeContract.objects.create(
            number=f"TC-T{next(_numbers):06d}",
            investor=self.investor_org,
            cooperative=self.cooperative,
            division=division or self.village,
            kind=TradeKind.LEASE,
            start_date=START,
            end_date=END,
            price=price,
            status=status,
            created_by=self.staff,
        )
        for asset in assets:
            TradeContractItem.objects.create(contract=contract, asset=asset)
        for sequence, amount in enumerate(installments, start=1):
            TradeInstallment.objects.create(
                contract=contract,
                sequence=sequence,
                due_date=START + datetime.timedelta(days=365 * (sequence - 1)),
                amount=Decimal(amount),
            )
        ledger.post(
            actor=self.staff,
            kind=MovementKind.PRICE_DUE,
            memo="确认应收",
            lines=[
                ledger.debit(AccountKind.RECEIVABLE, self.investor_party, price),
                ledger.credit(AccountKind.TRADE_INCOME, self.coop_party, price),
            ],
            occurred_on=START,
            trade_contract=contract,
        )
        return contract


@pytest.fixture
def build(county_staff, county_cooperative, investor_org, village, make_asset):
    return Builder(county_staff, county_cooperative, investor_org, village, make_asset)


def assets_of(collection):
    return [item.asset for item in collection.items.select_related("asset").order_by("pk")]


__all__ = ["Builder", "ScheduleKind", "assets_of", "build", "ledger_total"]
