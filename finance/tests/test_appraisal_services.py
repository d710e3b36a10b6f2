# ruff: noqa: F811  (fixtures imported from test_applications_fixtures)
"""Collateral appraisal against independently computed Decimal references: income approach,
market approach, the lower of the two, the right's share, the remaining-term cut and partial
years; refusals; append-only storage; the current appraisal."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from finance.models import ApplicationStatus, CollateralAppraisal
from finance.services.appraisal import appraise, current_appraisal
from resources import services as registry
from resources.models import RightKind
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import ContractStatus, DocumentCounter
from transactions.tests.test_packages_services import make_valuation

from .test_applications_fixtures import (  # noqa: F401  (fixtures)
    PAST,
    cents,
    investor_org,
    make_trade_contract,
    market_yearly,
    other_county_staff,
    reference_pv,
)

pytestmark = pytest.mark.django_db


def _expected_tail(appraised, product):
    collateral = cents(appraised * (1 - product.haircut))
    return collateral, cents(collateral * product.max_ltv)


def test_income_approach_over_the_product_cap(valued_right, make_product, county_staff, county_cooperative):
    right = valued_right(gep=Decimal("100000"))  # perpetual right: 20 years (the product's cap)
    product = make_product()
    appraisal = appraise(actor=county_staff, right=right, product=product, appraised_on=PAST)
    expected = reference_pv(Decimal("100000") * Decimal("0.3"), "0.06", 20)
    assert appraisal.income_value == expected == Decimal("344097.64")
    assert appraisal.market_value is None
    assert appraisal.appraised_value == expected
    collateral, max_loan = _expected_tail(expected, product)
    assert (appraisal.collateral_value, appraisal.max_loan) == (collateral, max_loan)
    assert (appraisal.haircut, appraisal.ltv) == (product.haircut, product.max_ltv)
    assert appraisal.gep_annual_value == Decimal("100000.00")
    assert appraisal.valid_until == PAST + datetime.timedelta(days=365)
    assert appraisal.appraiser_org == county_cooperative
    assert appraisal.number.startswith("PG2026")
    assert "LY/T 2407-2015" in appraisal.method and "收益现值法" in appraisal.method
    calc = appraisal.calculation
    assert calc["chosen"] == "income" and calc["market"] is None
    assert calc["horizon"]["limited_by"] == "product_cap" and calc["horizon"]["years"] == "20"
    assert Decimal(calc["income"]["gep_total"]) == Decimal("100000") and calc["income"]["right_share"] == "1"
    assert isinstance(calc["annuity_factor"], str) and calc["appraised_value"] == str(expected)
    assert calc["max_loan"] == str(max_loan)


def test_the_rights_share_scales_the_income(registered_asset, households, make_product, county_staff):
    asset = registered_asset([(households[0], "1/3"), (households[1], "2/3")])
    make_valuation(asset, [Decimal("60000"), Decimal("30000")], user=county_staff)
    right = asset.rights.get(holder=households[0])
    product = make_product(income_share_of_gep=Decimal("0.25"), discount_rate=Decimal("0.05"))
    appraisal = appraise(actor=county_staff, right=right, product=product, appraised_on=PAST)
    yearly = Decimal("90000") * Decimal("0.25") / 3
    assert appraisal.income_value == reference_pv(yearly, "0.05", 20)
    assert appraisal.calculation["right"]["share"] == "1/3"


def test_the_remaining_term_cuts_the_horizon_with_partial_years(
    make_asset, households, make_product, county_staff
):
    asset = make_asset()
    right = registry.grant_right(
        actor=county_staff,
        asset=asset,
        holder=households[0],
        kind=RightKind.MANAGEMENT,
        start=datetime.date(2020, 1, 1),
        end=datetime.date(2031, 9, 15),
        source_document="经营权流转合同（测试）",
    )
    make_valuation(asset, [Decimal("80000")], user=county_staff)
    product = make_product()
    appraisal = appraise(actor=county_staff, right=right, product=product, appraised_on=PAST)
    days = (datetime.date(2031, 9, 15) - PAST).days
    years = Decimal(days) / 365
    assert days == 1903 and years != years.to_integral_value()
    expected = reference_pv(Decimal("80000") * Decimal("0.3"), "0.06", years)
    assert appraisal.income_value == expected
    horizon = appraisal.calculation["horizon"]
    assert horizon["limited_by"] == "right_end" and horizon["remaining_days"] == 1903
    # with a product capped below the remaining term, the cap wins (whole years)
    short = make_product(max_valuation_years=3)
    capped = appraise(actor=county_staff, right=right, product=short, appraised_on=PAST)
    assert capped.income_value == reference_pv(Decimal("24000"), "0.06", 3)
    assert capped.calculation["horizon"]["limited_by"] == "product_cap"


def test_market_evidence_lower_than_income_is_taken(
    registered_asset, households, make_product, county_staff, make_trade_contract
):
    asset = registered_asset([(households[0], 1)])
    neighbour = registered_asset([(households[1], 1)])
    make_valuation(asset, [Decimal("100000")], user=county_staff)
    contract = make_trade_contract(
        [asset, neighbour],
        "300000",
        datetime.date(2025, 3, 1),
        datetime.date(2030, 3, 1),
        datetime.date(2025, 2, 20),
    )
    product = make_product()
    right = asset.rights.get()
    appraisal = appraise(actor=county_staff, right=right, product=product, appraised_on=PAST)
    income = reference_pv(Decimal("30000"), "0.06", 20)
    market = reference_pv(market_yearly(contract, asset), "0.06", 20)
    assert market < income
    assert (appraisal.income_value, appraisal.market_value, appraisal.appraised_value) == (
        income,
        market,
        market,
    )
    assert appraisal.calculation["chosen"] == "market"
    assert "孰低" in appraisal.method and "市场比较法" in appraisal.method
    evidence = appraisal.calculation["market"]["contracts"]
    assert [e["contract"] for e in evidence] == [contract.number]
    assert evidence[0]["term_days"] == (contract.end_date - contract.start_date).days
    assert _expected_tail(market, product) == (appraisal.collateral_value, appraisal.max_loan)


def test_income_lower_than_market_is_taken_and_contracts_are_averaged(
    registered_asset, households, make_product, county_staff, make_trade_contract
):
    asset = registered_asset([(households[0], "1/2"), (households[1], "1/2")])
    make_valuation(asset, [Decimal("20000")], user=county_staff)
    first = make_trade_contract(
        [asset], "200000", datetime.date(2024, 1, 1), datetime.date(2026, 7, 1), datetime.date(2024, 1, 1)
    )
    second = make_trade_contract(
        [asset],
        "150000",
        datetime.date(2025, 1, 1),
        datetime.date(2027, 1, 1),
        datetime.date(2025, 1, 1),
        status=ContractStatus.EXPIRED,
    )
    right = asset.rights.get(holder=households[0])
    product = make_product()
    appraisal = appraise(actor=county_staff, right=right, product=product, appraised_on=PAST)
    half = Decimal("0.5")
    yearly = (market_yearly(first, asset, half) + market_yearly(second, asset, half)) / 2
    market = reference_pv(yearly, "0.06", 20)
    income = reference_pv(Decimal("20000") * Decimal("0.3") * half, "0.06", 20)
    assert income < market
    assert (appraisal.income_value, appraisal.market_value, appraisal.appraised_value) == (
        income,
        market,
        income,
    )
    assert appraisal.calculation["chosen"] == "income"
    assert len(appraisal.calculation["market"]["contracts"]) == 2


def test_market_evidence_alone_is_enough_and_stale_or_unsigned_contracts_are_ignored(
    registered_asset, households, make_product, county_staff, make_trade_contract
):
    asset = registered_asset([(households[0], 1)])
    right = asset.rights.get()
    product = make_product()
    # none of these is evidence: a draft, a terminated contract, one signed more than 3 years ago
    make_trade_contract(
        [asset],
        "90000",
        datetime.date(2026, 1, 1),
        datetime.date(2027, 1, 1),
        None,
        status=ContractStatus.DRAFT,
    )
    make_trade_contract(
        [asset],
        "90000",
        datetime.date(2025, 1, 1),
        datetime.date(2026, 1, 1),
        datetime.date(2025, 1, 1),
        status=ContractStatus.TERMINATED,
    )
    make_trade_contract(
        [asset], "90000", datetime.date(2023, 6, 1), datetime.date(2026, 6, 1), datetime.date(2023, 6, 29)
    )
    with pytest.raises(ConflictError) as refused:
        appraise(actor=county_staff, right=right, product=product, appraised_on=PAST)
    assert refused.value.code == "no_valuation" and asset.code in str(refused.value.detail)
    fresh = make_trade_contract(
        [asset], "50000", datetime.date(2026, 1, 1), datetime.date(2028, 1, 1), datetime.date(2025, 12, 20)
    )
    appraisal = appraise(actor=county_staff, right=right, product=product, appraised_on=PAST)
    assert appraisal.income_value is None and appraisal.valuation_run is None
    assert (
        appraisal.market_value
        == appraisal.appraised_value
        == reference_pv(market_yearly(fresh, asset), "0.06", 20)
    )
    assert appraisal.calculation["chosen"] == "market" and "市场比较法" in appraisal.method


def test_without_valuation_or_market_evidence_nothing_is_written(
    registered_asset, households, make_product, county_staff
):
    asset = registered_asset([(households[0], 1)])
    counters = list(DocumentCounter.objects.values_list("prefix", "last"))
    with pytest.raises(ConflictError) as refused:
        appraise(actor=county_staff, right=asset.rights.get(), product=make_product(), appraised_on=PAST)
    assert "GEP" in str(refused.value.detail)
    assert not CollateralAppraisal.objects.exists()
    assert list(DocumentCounter.objects.values_list("prefix", "last")) == counters


def test_appraisals_are_append_only(valued_right, make_product, county_staff):
    appraisal = appraise(actor=county_staff, right=valued_right(), product=make_product(), appraised_on=PAST)
    with pytest.raises(DatabaseError), transaction.atomic():
        CollateralAppraisal.objects.filter(pk=appraisal.pk).update(max_loan=Decimal("1"))
    with pytest.raises(DatabaseError), transaction.atomic():
        CollateralAppraisal.objects.filter(pk=appraisal.pk).delete()
    appraisal.refresh_from_db()
    assert appraisal.max_loan != Decimal("1")


def test_current_appraisal_is_the_latest_still_valid(valued_right, make_product, county_staff):
    right = valued_right()
    product, other = make_product(), make_product()
    product.appraisal_valid_days = 200
    product.save(update_fields=["appraisal_valid_days"])
    early = appraise(
        actor=county_staff, right=right, product=product, appraised_on=datetime.date(2026, 1, 10)
    )
    later = appraise(actor=county_staff, right=right, product=product, appraised_on=datetime.date(2026, 3, 1))
    assert current_appraisal(right, product, on=datetime.date(2026, 2, 1)) == early
    assert current_appraisal(right, product, on=datetime.date(2026, 4, 1)) == later
    assert current_appraisal(right, product, on=datetime.date(2026, 9, 16)) == later  # 2026-03-01 + 200 days
    assert current_appraisal(right, product, on=datetime.date(2026, 9, 18)) is None
    assert current_appraisal(right, other, on=datetime.date(2026, 4, 1)) is None
    assert current_appraisal(right, product) is None  # today (2026-11-23): both expired


def test_refusals(valued_right, make_product, county_staff, bank_officer, other_county_staff, farmland_type):
    right = valued_right()
    product = make_product()
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    with pytest.raises(DomainError) as exc:
        appraise(actor=county_staff, right=right, product=product, appraised_on=tomorrow)
    assert "appraised_on" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        appraise(actor=county_staff, right=right, product=make_product(eligible_right_kinds=["management"]))
    assert exc.value.code == "ineligible_right"
    typed = make_product()
    typed.eligible_resource_types.set([farmland_type])
    with pytest.raises(DomainError) as exc:
        appraise(actor=county_staff, right=right, product=typed)
    assert exc.value.code == "ineligible_resource_type"
    with pytest.raises(DomainError) as exc:
        appraise(actor=county_staff, right=right, product=product, appraiser_licence_no="x" * 51)
    assert "appraiser_licence_no" in exc.value.fields
    with pytest.raises(ConflictError) as exc:
        appraise(actor=county_staff, right=right, product=product, appraised_on=datetime.date(2019, 12, 31))
    assert exc.value.code == "right_not_in_force"
    for outsider in (bank_officer, other_county_staff):
        with pytest.raises(PermissionDeniedError):
            appraise(actor=outsider, right=right, product=product)
    registry.end_right(actor=county_staff, right=right, reason="转让")
    with pytest.raises(ConflictError) as exc:
        appraise(actor=county_staff, right=right, product=product)
    assert exc.value.code == "right_ended"
    assert not CollateralAppraisal.objects.exists()


def test_an_appraisal_for_an_application_is_linked_to_its_collateral(
    valued_right, make_application, make_product, county_staff
):
    right, stranger = valued_right(), valued_right()
    application = make_application(rights=[right], status=ApplicationStatus.DRAFT)
    appraisal = appraise(
        actor=county_staff, right=right, product=application.product, application=application
    )
    row = application.collateral.get()
    assert row.appraisal == appraisal and appraisal.application == application
    with pytest.raises(DomainError) as exc:
        appraise(actor=county_staff, right=right, product=make_product(), application=application)
    assert exc.value.code == "product_mismatch"
    with pytest.raises(DomainError) as exc:
        appraise(actor=county_staff, right=stranger, product=application.product, application=application)
    assert exc.value.code == "not_collateral"
    closed = make_application(rights=[right], status=ApplicationStatus.WITHDRAWN, product=application.product)
    with pytest.raises(ConflictError) as exc:
        appraise(actor=county_staff, right=right, product=application.product, application=closed)
    assert exc.value.code == "application_closed"
    assert CollateralAppraisal.objects.count() == 1
