# ruff: noqa: F811  (fixtures imported from other modules are parameters here)
"""生态资源储蓄贷: a product lends on a savings slip's income right; the slip is appraised on its
guaranteed yearly amounts (not the asset's GEP); only the slip's holder may pledge it; and it can
be pledged once at a time — refused for a second application (same or another bank), also when
two requests race, and pledgeable again once released."""

import datetime
import threading
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection

from finance.models import ApplicationStatus, LoanKind, Pledge, PledgeStatus
from finance.services import applications, pledges, products
from finance.services.appraisal import appraise
from resources import services as registry
from resources.models import Restriction, RestrictionKind, RightKind, RightStatus
from tmcs.errors import ConflictError, DomainError
from transactions.models import SlipStatus
from transactions.services import savings
from transactions.tests.fixtures_savings import (  # noqa: F401  (fixtures)
    issued_slips,
    make_savings_contract,
    savings_contract,
    savings_parcels,
)
from transactions.tests.test_packages_services import make_valuation

ON = datetime.date(2026, 11, 23)


@pytest.fixture
def savings_product(make_product):
    def make(**fields):
        values = dict(
            kind=LoanKind.SAVINGS_LOAN,
            name="生态资源储蓄贷（测试）",
            eligible_right_kinds=[RightKind.INCOME],
            discount_rate=Decimal("0.05"),
            max_valuation_years=20,
            haircut=Decimal("0.1"),
            max_ltv=Decimal("0.7"),
            min_amount=Decimal("1000"),
        )
        values.update(fields)
        return make_product(**values)

    return make


def present_value(amount, rate, years):
    """Σ amount / (1 + r)^k for k = 1 … years, to the cent (the definition, not the formula)."""
    total = sum(Decimal(amount) / (1 + rate) ** k for k in range(1, years + 1))
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def securities(right):
    return Restriction.objects.filter(right=right, kind=RestrictionKind.PLEDGE)


# --- product ------------------------------------------------------------------------------------


def test_only_a_savings_loan_product_accepts_income_rights(bank, bank_officer):
    common = dict(
        code="CXD-01",
        name="生态资源储蓄贷",
        description="以生态资源储蓄单的收益权质押",
        guarantee_requirement="pledge",
        eligible_right_kinds=["income"],
        max_ltv=Decimal("0.7"),
        min_amount=Decimal("10000"),
        max_amount=Decimal("300000"),
        rate_min=Decimal("0.032"),
        rate_max=Decimal("0.048"),
        term_min_months=6,
        term_max_months=60,
        repayment_methods=["equal_installment"],
        payment_frequencies=["monthly"],
        day_count="act_360",
    )
    product = products.create_product(actor=bank_officer, bank=bank, kind=LoanKind.SAVINGS_LOAN, **common)
    assert product.eligible_right_kinds == ["income"]
    with pytest.raises(DomainError) as refused:
        products.create_product(
            actor=bank_officer, bank=bank, kind=LoanKind.GEP_LOAN, **{**common, "code": "GEP-09"}
        )
    assert "仅可作为生态资源储蓄贷" in refused.value.fields["eligible_right_kinds"][0]


# --- appraisal ----------------------------------------------------------------------------------


def test_a_slip_is_appraised_on_its_remaining_guaranteed_amounts(issued_slips, savings_product, county_staff):
    slip = issued_slips[2]  # 2,800 元 a year until 2036-01-01
    make_valuation(slip.asset, [Decimal("900000")], user=county_staff)  # the GEP must not count
    product = savings_product()
    appraisal = appraise(actor=county_staff, right=slip.income_right, product=product, appraised_on=ON)
    expected = present_value(
        slip.guaranteed_annual_amount, Decimal("0.05"), 9
    )  # 2026-11-23 + 9 y ≤ 2036-01-01
    assert appraisal.income_value == appraisal.appraised_value == expected
    assert appraisal.market_value is None and appraisal.gep_annual_value is None
    assert appraisal.valuation_run is None
    assert appraisal.collateral_value == (expected * Decimal("0.9")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert appraisal.max_loan == (appraisal.collateral_value * Decimal("0.7")).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    assert "储蓄单收益现值法" in appraisal.method and slip.number in appraisal.method
    calc = appraisal.calculation
    assert calc["savings_slip"] == slip.number and calc["chosen"] == "income" and calc["market"] is None
    assert calc["horizon"]["remaining_whole_years"] == 9 and calc["horizon"]["limited_by"] == "right_end"
    assert calc["income"]["guaranteed_annual_amount"] == f"{slip.guaranteed_annual_amount:f}"
    assert calc["income"]["value"] == f"{expected:f}"

    capped = appraise(
        actor=county_staff,
        right=slip.income_right,
        product=savings_product(max_valuation_years=5),
        appraised_on=ON,
    )
    assert capped.appraised_value == present_value(slip.guaranteed_annual_amount, Decimal("0.05"), 5)
    assert capped.calculation["horizon"]["limited_by"] == "product_cap"


def test_appraisal_refuses_ended_and_nearly_expired_slips(
    issued_slips, savings_product, county_staff, make_savings_contract, registered_asset, households
):
    product = savings_product()
    cancelled = issued_slips[0]
    savings.cancel_slip(actor=county_staff, slip=cancelled, reason="签发错误")
    cancelled.refresh_from_db()
    with pytest.raises(ConflictError) as refused:
        appraise(actor=county_staff, right=cancelled.income_right, product=product, appraised_on=ON)
    assert refused.value.code == "right_ended"

    asset = registered_asset([(households[0], 1)], name="短期林地", dx=0.07)
    short = make_savings_contract([asset], start=datetime.date(2026, 6, 1), end=datetime.date(2027, 6, 1))
    (slip,) = savings.issue_slips(actor=county_staff, contract=short)
    with pytest.raises(ConflictError) as refused:
        appraise(actor=county_staff, right=slip.income_right, product=product, appraised_on=ON)
    assert refused.value.code == "slip_too_short"


# --- application --------------------------------------------------------------------------------


def apply(staff, applicant, product, rights):
    return applications.create_application(
        actor=staff,
        applicant=applicant,
        product=product,
        amount="20000",
        term_months=24,
        repayment_method="equal_installment",
        payment_frequency="monthly",
        annual_rate="0.04",
        purpose="民宿改造（测试）",
        rights=rights,
        consent_document="SQ-AUTH-001",
    )


def test_only_the_slip_holder_may_offer_it_and_only_a_certificated_income_right(
    issued_slips, savings_product, county_staff, households, registered_asset, make_product
):
    slip = issued_slips[0]
    product = savings_product()
    application = apply(county_staff, slip.holder, product, [slip.income_right])
    assert list(application.collateral.values_list("right_id", flat=True)) == [slip.income_right_id]

    stranger = next(h for h in households if h.pk != slip.holder_id)
    with pytest.raises(DomainError) as refused:
        apply(county_staff, stranger, product, [slip.income_right])
    assert "权利人不是申请人" in refused.value.fields["rights"][0]

    plain = registry.grant_right(
        actor=county_staff,
        asset=registered_asset([(households[2], 1)], name="收益权林地", dx=0.074),
        holder=households[2],
        kind=RightKind.INCOME,
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2030, 1, 1),
        source_document="分红协议（测试）",
    )
    with pytest.raises(DomainError) as refused:
        apply(county_staff, households[2], product, [plain])
    assert "须凭生态资源储蓄单" in refused.value.fields["rights"][0]

    with pytest.raises(DomainError) as refused:
        apply(county_staff, slip.holder, make_product(), [slip.income_right])  # a GEP loan product
    assert "不接受收益权" in refused.value.fields["rights"][0]


# --- pledged once -------------------------------------------------------------------------------


@pytest.fixture
def two_bank_applications(issued_slips, savings_product, second_bank, make_application, make_appraisal):
    """Two approved applications of the slip's holder, at two banks, both offering the slip."""
    slip = issued_slips[2]
    first_product, second_product = savings_product(), savings_product(bank_org=second_bank)
    first = make_application(rights=[slip.income_right], product=first_product, amount=Decimal("10000"))
    second = make_application(rights=[slip.income_right], product=second_product, amount=Decimal("10000"))
    for product in (first_product, second_product):
        make_appraisal(
            slip.income_right, product, appraised_value=Decimal("20000"), max_loan=Decimal("12600")
        )
    return slip, first, second


def test_a_slip_is_pledged_once_and_again_after_release(
    two_bank_applications, make_application, county_staff, bank_officer
):
    slip, first, second = two_bank_applications
    made = pledges.register_pledge(
        actor=county_staff, application=first, right=slip.income_right, secured_amount="10000"
    )
    assert made.rank == 1 and made.right_id == slip.income_right_id

    same_bank = make_application(rights=[slip.income_right], product=first.product, amount=Decimal("5000"))
    for application, rank in ((second, None), (same_bank, None), (second, 2)):
        with pytest.raises(ConflictError) as refused:
            pledges.register_pledge(
                actor=county_staff,
                application=application,
                right=slip.income_right,
                secured_amount="5000",
                rank=rank,
            )
        assert refused.value.code == "already_pledged" and slip.number in str(refused.value.detail)
    assert Pledge.objects.count() == 1 and securities(slip.income_right).count() == 1

    with pytest.raises(ConflictError) as refused:
        savings.cancel_slip(actor=county_staff, slip=slip, reason="储户退出")
    assert refused.value.code == "pledged" and made.number in str(refused.value.detail)

    pledges.release_pledge(actor=bank_officer, pledge=made, reason="贷款已结清")
    again = pledges.register_pledge(
        actor=county_staff, application=second, right=slip.income_right, secured_amount="10000"
    )
    assert again.rank == 1 and again.bank == second.product.bank
    assert [p.status for p in Pledge.objects.order_by("pk")] == [PledgeStatus.RELEASED, PledgeStatus.ACTIVE]
    slip.refresh_from_db()
    assert slip.status == SlipStatus.ACTIVE


def run_together(*calls):
    """Start every call at the same moment; return their results (or raised DomainError codes)."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except DomainError as exc:
            results[index] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_pledges_at_once_on_one_slip_one_succeeds(two_bank_applications, county_staff, bank_officer):
    slip, first, second = two_bank_applications
    assert first.status == second.status == ApplicationStatus.APPROVED
    results = run_together(
        lambda: pledges.register_pledge(
            actor=county_staff, application=first, right=slip.income_right, secured_amount="10000"
        ),
        lambda: pledges.register_pledge(
            actor=county_staff, application=second, right=slip.income_right, secured_amount="10000"
        ),
    )
    made = [r for r in results if isinstance(r, Pledge)]
    assert len(made) == 1 and [r for r in results if not isinstance(r, Pledge)] == ["already_pledged"]
    assert made[0].rank == 1
    assert Pledge.objects.count() == 1
    active = Restriction.objects.filter(right_id=slip.income_right_id, status=RightStatus.ACTIVE)
    assert active.count() == 1 and active.get().pk == made[0].restriction_id
