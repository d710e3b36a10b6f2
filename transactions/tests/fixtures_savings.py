"""Fixtures for savings slips: signed savings-model (储蓄分红) collection contracts over registered
forest parcels held by the demo households. Import them into a test module (or conftest)."""

import datetime
from decimal import Decimal

import pytest

from directory.models import AdministrativeDivision
from resources.models import RightKind
from transactions.models import PaymentFrequency, RevenueModel
from transactions.services import collection, savings

START = datetime.date(2026, 1, 1)
END = datetime.date(2036, 1, 1)  # ten years, like 衢江's first slip (5,600 元 a year)
ANNUAL = Decimal("5600.00")


@pytest.fixture
def savings_parcels(registered_asset, households):
    """Two parcels: one held 1/3 : 2/3 by the first two households, one by the third."""
    h1, h2, h3 = households
    return [
        registered_asset([(h1, "1/3"), (h2, "2/3")], name="储蓄林地甲", dx=0.05),
        registered_asset([(h3, 1)], name="储蓄林地乙", dx=0.054),
    ]


@pytest.fixture
def make_savings_contract(county_staff, collective):
    """make_savings_contract(assets, …) → a savings contract over `assets`, signed unless sign=False."""

    def make(
        assets,
        *,
        start=START,
        end=END,
        annual=ANNUAL,
        rate="0.3",
        model=RevenueModel.SAVINGS,
        sign=True,
        actor=None,
    ):
        actor = actor or county_staff
        contract = collection.create_collection_contract(
            actor=actor,
            division=AdministrativeDivision.objects.get(code="331102199201"),
            grantor=collective,
            source_right_kind=RightKind.CONTRACT,
            granted_right_kind=RightKind.MANAGEMENT,
            start_date=start,
            end_date=end,
            revenue_model=model,
            annual_amount=str(annual),
            dividend_rate=rate,
            payment_frequency=PaymentFrequency.ANNUAL,
            first_payment_date=start,
            obligations="乙方统一经营，保底收益按年支付。",
            assets=assets,
        )
        if sign:
            contract = collection.sign_collection_contract(actor=actor, contract=contract)
        return contract

    return make


@pytest.fixture
def savings_contract(make_savings_contract, savings_parcels):
    return make_savings_contract(savings_parcels)


@pytest.fixture
def issued_slips(savings_contract, county_staff):
    """The three slips of `savings_contract`, in (asset, holder) order."""
    return savings.issue_slips(actor=county_staff, contract=savings_contract)
