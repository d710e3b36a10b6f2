# ruff: noqa: F811  (fixtures imported from fixtures_performance)
"""Each indicator from records built through the ORM or the upstream services, with exact numbers,
and the records outside the period or the subtree left out; the query count of a computation does
not grow with the number of contracts, loans or payments."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.models import AdministrativeDivision
from projects.models import ProjectStatus
from projects.services import performance
from resources.models import Asset, AssetEvent, AssetStatus, Registration, RegistrationStatus
from transactions.models import (
    CollectionContract,
    ContractStatus,
    DistributionKind,
    RevenueModel,
    ScheduleKind,
    TradeContract,
)
from transactions.services import distribution, ledger, settlement
from transactions.tests.test_settlement_support import assets_of

from .fixtures_performance import (  # noqa: F401  (fixtures)
    P_END,
    P_START,
    admitted_project,
    build,
    contribute,
    make_county_coop,
    make_fund,
    make_scheme,
    moment,
    qingtian,
    scheme,
)

pytestmark = pytest.mark.django_db
PAID_ON = datetime.date(2026, 2, 1)


def by_key(rows):
    return {row["key"]: row for row in rows}


def compute(scheme, cooperative, start=P_START, end=P_END):
    return by_key(performance.compute_indicators(scheme, cooperative, start, end))


def qingtian_division():
    return AdministrativeDivision.objects.get(code="331121000000")


# --- resource activation ----------------------------------------------------------------------


def test_resource_activation_counts_distinct_registered_assets_in_force(
    build, scheme, county_cooperative, county_staff, make_asset, households
):
    c1 = build.collection([(households[0], 1)], weights=(Decimal("1000"), Decimal("500")))
    _a1, a2 = assets_of(c1)  # collected, in force 2024–2029
    a3 = build.asset(status=AssetStatus.LEASED)
    build.trade([a2, a3])  # a2 is collected and traded: counted once
    expired = build.collection([(households[0], 1)])
    CollectionContract.objects.filter(pk=expired.pk).update(end_date=P_START, status=ContractStatus.EXPIRED)
    build.collection([(households[0], 1)], status=ContractStatus.DRAFT)
    ended = build.collection([(households[0], 1)])
    CollectionContract.objects.filter(pk=ended.pk).update(
        status=ContractStatus.TERMINATED, ended_at=moment(datetime.date(2025, 12, 15))
    )
    a7 = build.asset(status=AssetStatus.REGISTERED)
    late = build.trade([a7])
    TradeContract.objects.filter(pk=late.pk).update(signed_at=moment(datetime.date(2026, 8, 1)))
    a8 = build.asset(status=AssetStatus.REGISTERED)  # retired after the period: still counted
    a8.status = AssetStatus.RETIRED
    a8.save(update_fields=["status"])
    # not registered at the period end: retired before it, registered after it, draft, in 公示
    gone = build.asset(status=AssetStatus.REGISTERED)
    gone.status = AssetStatus.RETIRED
    gone.save(update_fields=["status"])
    AssetEvent.objects.filter(pgh_obj=gone, status=AssetStatus.RETIRED).update(
        pgh_created_at=moment(datetime.date(2025, 12, 1))
    )
    newcomer = build.asset(status=AssetStatus.REGISTERED)
    Registration.objects.create(
        asset=newcomer,
        applicant=county_staff,
        status=RegistrationStatus.REGISTERED,
        registered_at=moment(datetime.date(2026, 8, 1)),
    )
    make_asset(name="草稿资源")
    build.asset(status=AssetStatus.IN_PUBLIC_NOTICE)
    # another county's asset under a contract in force
    elsewhere = build.asset(status=AssetStatus.LEASED)
    Asset.objects.filter(pk=elsewhere.pk).update(division=qingtian_division())
    build.trade([elsewhere], division=qingtian_division())

    row = compute(scheme, county_cooperative)["resource_activation"]
    assert row["details"] == {"registered": 8, "activated": 3, "collected": 2, "traded": 2}
    assert (row["numerator"], row["denominator"]) == ("3", "8")
    assert row["value"] == "0.375000" and row["display"] == "37.50%"
    assert row["score"] == "15.63"  # 0.375 ÷ 0.6 × 25 = 15.625, half-up
    assert "8 项" in row["explanation"] and "3 ÷ 8" in row["explanation"]


def test_resource_activation_without_registered_assets_scores_zero(scheme, county_cooperative):
    row = compute(scheme, county_cooperative)["resource_activation"]
    assert row["value"] is None and row["score"] == "0.00" and row["display"] == "无法计算"
    assert "没有已登记在册" in row["explanation"]


# --- investment attracted and projects admitted ------------------------------------------------


def test_investment_and_projects_admitted_in_the_period(build, scheme, county_cooperative, admitted_project):
    p1 = admitted_project(datetime.date(2026, 2, 1), social_capital="2000000.00")
    p2 = admitted_project(
        datetime.date(2026, 6, 30), social_capital="1500000.00", status=ProjectStatus.EXITED
    )
    admitted_project(datetime.date(2025, 12, 31))  # before the period
    admitted_project(P_END)  # the end is exclusive
    admitted_project(datetime.date(2026, 3, 1), division=qingtian_division())  # another county
    admitted_project(None, status=ProjectStatus.SUBMITTED)
    signed = build.trade([build.asset()], installments=("1000.00", "2000.00"))
    before = build.trade([build.asset()], installments=("500.00",))
    at_end = build.trade([build.asset()], installments=("700.00",))
    elsewhere = build.trade([build.asset()], installments=("900.00",), division=qingtian_division())
    build.trade([build.asset()], installments=("800.00",), status=ContractStatus.DRAFT)  # never signed
    for contract, at in (
        (signed, moment(datetime.date(2026, 3, 1))),
        (before, moment(datetime.date(2025, 12, 31), hour=23)),  # local time: still 2025
        (at_end, moment(P_END, hour=0)),
        (elsewhere, moment(datetime.date(2026, 3, 1))),
    ):
        TradeContract.objects.filter(pk=contract.pk).update(signed_at=at)

    rows = compute(scheme, county_cooperative)
    investment = rows["investment_attracted"]
    assert investment["value"] == "3503000.00" and investment["display"] == "3503000.00 元"
    assert investment["details"] == {
        "projects": 2,
        "social_capital": "3500000.00",
        "trade_contracts": 1,
        "trade_price": "3000.00",
    }
    assert investment["score"] == "7.01"  # 3,503,000 ÷ 10,000,000 × 20 = 7.006
    projects = rows["projects_admitted"]
    assert projects["value"] == "2" and projects["score"] == "5.00"  # 2 ÷ 4 × 10
    assert projects["details"] == {"projects": [p1.number, p2.number]}
    assert p1.number in projects["explanation"]


# --- financial leverage -----------------------------------------------------------------------


def test_financial_leverage_loans_over_fund_capital(
    scheme, county_cooperative, county_staff, city_admin, make_application, make_loan, make_fund, lishui
):
    def loan(principal, on, **fields):
        application = make_application(amount=Decimal(principal), **fields)
        return make_loan(application, principal=Decimal(principal), disbursed_on=on)

    loan("300000.00", datetime.date(2026, 1, 15))
    loan("200000.00", datetime.date(2026, 6, 28))  # day ≤ 28: the fixture schedules monthly
    loan("100000.00", datetime.date(2025, 12, 28))
    loan("100000.00", P_END)
    loan("400000.00", datetime.date(2026, 3, 1), division=qingtian_division())
    county_fund, bureau = make_fund(county_cooperative.division, name="莲都区风险补偿基金")
    contribute(county_staff, county_fund, bureau, "100000.00", datetime.date(2026, 2, 1), "F-1")
    contribute(
        county_staff, county_fund, bureau, "50000.00", datetime.date(2026, 9, 1), "F-2"
    )  # after the end
    mistaken = contribute(county_staff, county_fund, bureau, "30000.00", datetime.date(2026, 3, 1), "F-3")
    ledger.reverse(actor=county_staff, movement=mistaken, reason="重复入账")
    city_fund, city_bureau = make_fund(lishui, actor=city_admin, name="丽水市风险补偿基金")
    contribute(city_admin, city_fund, city_bureau, "50000.00", datetime.date(2025, 6, 1), "F-4")
    qt_fund, qt_bureau = make_fund(qingtian_division(), actor=city_admin, name="青田县风险补偿基金")
    contribute(city_admin, qt_fund, qt_bureau, "1000000.00", datetime.date(2026, 2, 1), "F-5")

    row = compute(scheme, county_cooperative)["financial_leverage"]
    assert (row["numerator"], row["denominator"]) == ("500000.00", "150000.00")
    assert row["value"] == "3.333333" and row["display"] == "3.3333 倍"
    assert row["score"] == "13.33"  # (10/3) ÷ 5 × 20
    assert row["details"]["loans"] == 2
    assert {f["name"]: f["contributed"] for f in row["details"]["funds"]} == {
        "丽水市风险补偿基金": "50000.00",
        "莲都区风险补偿基金": "100000.00",
    }
    assert "500000.00 ÷ 150000.00" in row["explanation"]


def test_financial_leverage_without_fund_is_none(scheme, county_cooperative, make_application, make_loan):
    make_loan(make_application(amount=Decimal("300000")), disbursed_on=datetime.date(2026, 2, 1))
    row = compute(scheme, county_cooperative)["financial_leverage"]
    assert row["value"] is None and row["score"] == "0.00" and row["numerator"] == "300000.00"
    assert "没有覆盖辖区的风险补偿基金" in row["explanation"]


def test_financial_leverage_with_unfunded_fund_is_none(scheme, county_cooperative, make_fund):
    make_fund(county_cooperative.division)
    row = compute(scheme, county_cooperative)["financial_leverage"]
    assert row["value"] is None and row["score"] == "0.00"
    assert "尚无出资到账" in row["explanation"]


# --- farmer income ----------------------------------------------------------------------------


def _rent(build, holders, amount, **fields):
    contract = build.collection(holders, model=RevenueModel.FIXED_RENT, annual=Decimal("1000"), **fields)
    build.schedule(
        contract,
        kind=ScheduleKind.RENT,
        due=datetime.date(2026, 1, 1),
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2026, 1, 1),
        amount=amount,
    )
    return contract


def _pay(actor, contract, on=PAID_ON, reference="PAY"):
    return settlement.pay_scheduled_payments(
        actor=actor,
        contract=contract,
        due_on_or_before=datetime.date(2026, 1, 1),
        reference=reference,
        occurred_on=on,
    )


def _dividend(actor, build, holder, price):
    contract = build.collection([(holder, 1)], model=RevenueModel.SHARE_DIVIDEND, rate=Decimal("0.5"))
    trade = build.trade(assets_of(contract), installments=(price,))
    settlement.record_investor_payment(
        actor=actor, contract=trade, amount=price, occurred_on=PAID_ON, reference=f"T-{trade.pk}"
    )
    return distribution.declare_distribution(
        actor=actor,
        contract=contract,
        kind=DistributionKind.DIVIDEND,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 6, 1),
    )


def test_farmer_income_is_what_reached_persons_in_the_period(
    build, scheme, county_cooperative, county_staff, city_admin, households, collective
):
    _pay(county_staff, _rent(build, [(households[0], "1/3"), (households[1], "2/3")], "100.00"))
    _pay(county_staff, _rent(build, [(collective, 1)], "80.00"))  # a village collective, not a person
    _pay(county_staff, _rent(build, [(households[0], 1)], "40.00"), on=datetime.date(2026, 7, 10))
    (reversed_line,) = _pay(county_staff, _rent(build, [(households[1], 1)], "60.00"))
    settlement.reverse_movement(actor=county_staff, movement=reversed_line.movement, reason="支付有误")
    _pay(city_admin, _rent(build, [(households[0], 1)], "70.00", division=qingtian_division()))
    paid = _dividend(county_staff, build, households[2], "1000.00")
    distribution.pay_distribution(
        actor=county_staff, distribution=paid, reference="D-1", occurred_on=datetime.date(2026, 6, 15)
    )
    unpaid = _dividend(county_staff, build, households[0], "600.00")
    assert (paid.amount, unpaid.amount) == (Decimal("500.00"), Decimal("300.00"))

    row = compute(scheme, county_cooperative)["farmer_income"]
    assert row["value"] == "700.00" and row["display"] == "700.00 元"
    assert row["details"] == {
        "persons": 3,
        "payouts": 2,
        "contracts": 2,
        "scheduled": "200.00",
        "dividends": "500.00",
    }
    assert row["score"] == "17.50"  # 700 ÷ 1000 × 25
    assert "700.00" in row["explanation"] and "3 位农户" in row["explanation"]


# --- scores, totals, queries ------------------------------------------------------------------


def test_score_caps_at_weight_and_total_is_sum(make_scheme, county_cooperative, admitted_project):
    scheme = make_scheme(
        [
            {"key": "projects_admitted", "weight": "60", "target": "1"},
            {"key": "investment_attracted", "weight": "40", "target": "3"},
        ]
    )
    for day in (1, 2, 3):
        admitted_project(datetime.date(2026, 2, day), social_capital="1.00")
    rows = performance.compute_indicators(scheme, county_cooperative, P_START, P_END)
    assert [row["key"] for row in rows] == ["projects_admitted", "investment_attracted"]
    assert [row["score"] for row in rows] == ["60.00", "40.00"]  # 3 ≥ 1 and 3.00 ≥ 3: capped
    assert performance.total_score(rows) == Decimal("100.00")


def _scene(build, households, county_staff, admitted_project, make_application, make_loan, n):
    for k in range(n):
        build.trade([build.asset()], installments=("100.00",))
        _pay(county_staff, _rent(build, [(households[k % 3], 1)], "10.00"), reference=f"P{k}")
        admitted_project(datetime.date(2026, 2, 1 + k))
        make_loan(make_application(amount=Decimal("50000")), disbursed_on=datetime.date(2026, 2, 1 + k))


def test_query_count_does_not_grow_with_records(
    build,
    scheme,
    county_cooperative,
    households,
    county_staff,
    admitted_project,
    make_application,
    make_loan,
    make_fund,
):
    fund, bureau = make_fund(county_cooperative.division)
    contribute(county_staff, fund, bureau, "10000.00", datetime.date(2026, 1, 2), "F")
    _scene(build, households, county_staff, admitted_project, make_application, make_loan, 1)
    with CaptureQueriesContext(connection) as few:
        performance.compute_indicators(scheme, county_cooperative, P_START, P_END)
    _scene(build, households, county_staff, admitted_project, make_application, make_loan, 4)
    with CaptureQueriesContext(connection) as many:
        rows = by_key(performance.compute_indicators(scheme, county_cooperative, P_START, P_END))
    assert len(few) == len(many) <= 9
    assert rows["projects_admitted"]["value"] == "5" and rows["financial_leverage"]["details"]["loans"] == 5
    assert rows["farmer_income"]["value"] == "50.00"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (P_END, P_START, "period_end"),
        (P_START, P_START, "period_end"),
        ("2026-01-01", P_END, "period_start"),
        (P_START, datetime.date(2099, 1, 1), "period_end"),
    ],
)
def test_bad_periods_are_refused(scheme, county_cooperative, start, end, field):
    from tmcs.errors import DomainError

    with pytest.raises(DomainError) as info:
        performance.compute_indicators(scheme, county_cooperative, start, end)
    assert field in info.value.fields
