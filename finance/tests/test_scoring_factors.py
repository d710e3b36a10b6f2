# ruff: noqa: F811  (fixtures imported from other test modules)
"""Each factor measured from real records of the other desks: GEP shares, collection and trade
contracts, loan installments."""

import datetime
from decimal import Decimal

import pytest

from directory.services import ensure_party
from finance import scoring_factors as factors
from finance.models import ScoreSubject
from finance.services import scoring
from resources import services as registry
from resources.models import RightKind
from transactions.models import (
    CollectionBeneficiary,
    CollectionContract,
    ContractStatus,
    DepositStatus,
    ListingApplication,
    RevenueModel,
    TradeContract,
    TradeKind,
)
from transactions.tests.conftest import investor, investor_org  # noqa: F401  (fixtures)
from transactions.tests.test_contracts_fixtures import collected_assets, sold_listing  # noqa: F401
from transactions.tests.test_packages_services import make_valuation

from .test_scoring_fixtures import days_ago

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 20)


def test_gep_contribution_counts_active_rights_by_share(registered_asset, households, county_staff):
    holder, other = households[0], households[1]
    shared = registered_asset([(holder, "1/2"), (other, "1/2")])
    make_valuation(shared, ["60000", "20000"], user=county_staff)  # 80,000 元 → 40,000 for the holder
    # A management right of the same holder on the same asset counts the asset once, at share 1.
    both = registered_asset([(holder, "1/3"), (other, "2/3")])
    registry.grant_right(
        actor=county_staff,
        asset=both,
        holder=holder,
        kind=RightKind.MANAGEMENT,
        start=datetime.date(2021, 1, 1),
        source_document="经营权流转合同（测试）",
    )
    make_valuation(both, ["12345.67"], user=county_staff)
    make_valuation(both, ["99999"], year=2024, user=county_staff)  # an older year: not the latest
    unvalued = registered_asset([(holder, 1)])
    ended = registered_asset([(holder, 1)], kind=RightKind.USE)
    ended.rights.update(period=(datetime.date(2020, 1, 1), datetime.date(2024, 1, 1)))
    make_valuation(ended, ["500000"], user=county_staff)

    measured = factors.gep_contribution(holder, as_of=TODAY)

    assert measured.value == Decimal("5.23")  # (40,000 + 12,345.67) / 10,000
    assert measured.summary == (
        "持有有效权利的资源 3 宗，其中 2 宗有已采纳的 GEP 核算结果，按权利份额计 GEP 合计 52,345.67 元（5.23 万元）"
    )
    assert [row[0] for row in measured.inputs["assets"]] == [shared.pk, both.pk]
    assert unvalued.pk not in [row[0] for row in measured.inputs["assets"]]


def test_collection_history_counts_signed_contracts_once(
    households, village, county_cooperative, county_staff
):
    party = households[0]
    counter = iter(range(1, 100))

    def contract(status, grantor=None, beneficiary=None):
        made = CollectionContract.objects.create(
            number=f"SC-F{next(counter):04d}",
            division=village,
            cooperative=county_cooperative,
            grantor=grantor or households[2],
            source_right_kind=RightKind.CONTRACT,
            start_date=datetime.date(2024, 1, 1),
            end_date=datetime.date(2034, 1, 1),
            revenue_model=RevenueModel.FIXED_RENT,
            annual_amount=Decimal("1000.00"),
            first_payment_date=datetime.date(2024, 1, 1),
            status=status,
            created_by=county_staff,
        )
        if beneficiary:
            CollectionBeneficiary.objects.create(
                contract=made, party=beneficiary, share_numerator=1, share_denominator=2
            )
        return made

    contract(ContractStatus.SIGNED, grantor=party, beneficiary=party)  # grantor and beneficiary: once
    contract(ContractStatus.EXPIRED, beneficiary=party)
    contract(ContractStatus.RENEWED, grantor=party)
    contract(ContractStatus.TERMINATED, grantor=party)
    contract(ContractStatus.DRAFT, grantor=party)
    contract(ContractStatus.SIGNED, beneficiary=households[1])

    measured = factors.collection_history(party, as_of=TODAY)
    assert measured.value == 3
    assert (
        measured.summary
        == "作为出让方或收益人签订的流转收储合同 3 份（履行中 1 份、已到期 1 份、已续签 1 份）"
    )


def test_contract_history_nets_completed_against_terminated_and_abandoned(
    investor_org, sold_listing, county_cooperative, village, county_staff, households, city_admin
):
    for status in (
        ContractStatus.EXPIRED,
        ContractStatus.EXPIRED,
        ContractStatus.RENEWED,
        ContractStatus.TERMINATED,
        ContractStatus.SIGNED,
        ContractStatus.DRAFT,
    ):
        TradeContract.objects.create(
            number=f"JY-F{TradeContract.objects.count() + 1:04d}",
            investor=investor_org,
            cooperative=county_cooperative,
            division=village,
            kind=TradeKind.LEASE,
            start_date=datetime.date(2020, 1, 1),
            end_date=datetime.date(2025, 1, 1),
            price=Decimal("10000.00"),
            status=status,
            created_by=county_staff,
        )
    listing = sold_listing()
    ListingApplication.objects.filter(listing=listing).update(deposit_status=DepositStatus.FORFEITED)
    party = ensure_party(investor_org)

    measured = factors.contract_history(party, as_of=TODAY)

    assert measured.value == Decimal("1")  # 3 completed − 1 terminated − 1 abandoned
    assert measured.summary == (
        "作为受让方的交易合同履约完成 3 份、履行中 1 份、已解除 1 份，竞得后未签约 1 次；净履约记录 = 3 − 1 − 1 = 1"
    )
    person = factors.contract_history(households[0], as_of=TODAY)
    assert person.value == 0 and person.summary == "自然人没有作为受让方的交易合同记录"

    # Through the default enterprise scorecard: 20 points per net completed contract.
    scoring.default_scorecards(city_admin)
    score = scoring.recompute_credit_score(party.pk)
    assert score.scorecard.subject == ScoreSubject.ENTERPRISE
    contract_factor = next(f for f in score.factors if f["key"] == "contract_history")
    assert contract_factor["points"] == "20.00"


def test_repayment_record_edges(valued_right, make_application, make_loan, households):
    loan = make_loan(
        make_application(rights=[valued_right()]),
        principal=Decimal("3000.00"),
        installments=[
            (days_ago(40), Decimal("1000.00"), Decimal("9.00")),  # settled on time
            (days_ago(10), Decimal("1000.00"), Decimal("6.00")),  # overdue, unpaid
            (days_ago(0), Decimal("1000.00"), Decimal("3.00")),  # due today: not yet overdue
            (days_ago(-30), Decimal("0.00"), Decimal("0.00")),  # recast to nothing: skipped
        ],
        disbursed_on=days_ago(70),
    )
    first, *_rest = loan.installments.order_by("seq")
    first.settled_on = first.due_date
    first.save(update_fields=["settled_on"])
    measured = factors.repayment_record(households[0], as_of=days_ago(0))
    assert measured.value == Decimal("-2")  # 1 − 3 × 1
    assert measured.inputs == {"on_time": [first.pk], "late": [], "overdue": [first.pk + 1]}
    assert factors.repayment_record(households[1], as_of=days_ago(0)).value == 0


def test_eco_window_is_24_months():
    assert factors.window_start(datetime.date(2026, 11, 23)) == datetime.date(2024, 11, 23)
    assert factors.window_start(datetime.date(2026, 2, 28)) == datetime.date(2024, 2, 28)
    assert factors.number(Decimal("2.5000")) == "2.5" and factors.number(Decimal("10.00")) == "10"
    assert factors.number(Decimal("-0.00")) == "0"
