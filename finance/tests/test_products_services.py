"""Loan products: every field's range, who may create and change a bank's products, and the
annualised rate disclosure."""

from decimal import Decimal

import pytest

from directory.models import Organization, OrganizationKind
from finance.models import GuaranteeRequirement, LoanProduct, RiskSharingScheme
from finance.services import products as services
from resources.models import ResourceType
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def fields(**changes):
    values = dict(
        code="GEP-01",
        name="GEP生态贷",
        kind="gep_loan",
        description="以 GEP 核算价值为依据的抵质押贷款",
        guarantee_requirement="pledge",
        eligible_right_kinds=["contract", "management"],
        max_ltv=Decimal("0.6"),
        haircut=Decimal("0.2"),
        min_amount=Decimal("10000"),
        max_amount=Decimal("1000000"),
        rate_min=Decimal("0.032"),
        rate_max=Decimal("0.048"),
        term_min_months=6,
        term_max_months=60,
        repayment_methods=["equal_installment", "equal_principal"],
        payment_frequencies=["monthly", "quarterly"],
        day_count="act_360",
    )
    values.update(changes)
    return values


def test_a_bank_officer_creates_a_product_of_the_own_bank(bank, bank_officer, catalog):
    forest = ResourceType.objects.get(code="forest")
    product = services.create_product(
        actor=bank_officer, bank=bank, **fields(eligible_resource_types=[forest], min_credit_score=650)
    )
    product.refresh_from_db()
    assert (product.bank, product.created_by, product.is_active) == (bank, bank_officer, True)
    assert product.eligible_right_kinds == ["contract", "management"]
    assert list(product.eligible_resource_types.all()) == [forest]
    assert product.max_ltv == Decimal("0.600000") and product.min_credit_score == 650
    # Left out: the model's defaults.
    assert product.penalty_markup == Decimal("0.5") and product.income_share_of_gep == Decimal("0.3")
    assert product.appraisal_valid_days == 365 and product.requires_insurance is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "GEP 01"}, "code"),
        ({"code": "贷款01"}, "code"),
        ({"code": "X" * 31}, "code"),
        ({"name": "  "}, "name"),
        ({"name": "名" * 101}, "name"),
        ({"kind": "mortgage"}, "kind"),
        ({"kind": None}, "kind"),
        ({"description": "说" * 5001}, "description"),
        ({"guarantee_requirement": "friend"}, "guarantee_requirement"),
        ({"eligible_right_kinds": ["ownership"]}, "eligible_right_kinds"),  # 民法典 Art. 399
        ({"eligible_right_kinds": ["contract", "qualification"]}, "eligible_right_kinds"),
        ({"eligible_right_kinds": ["nope"]}, "eligible_right_kinds"),
        ({"eligible_right_kinds": "contract"}, "eligible_right_kinds"),
        ({"eligible_right_kinds": []}, "eligible_right_kinds"),  # a pledge product needs one
        (
            {"guarantee_requirement": "pledge_and_guarantor", "eligible_right_kinds": []},
            "eligible_right_kinds",
        ),
        ({"guarantee_requirement": "none", "eligible_right_kinds": ["income"]}, "eligible_right_kinds"),
        ({"eligible_resource_types": [999_999_999]}, "eligible_resource_types"),
        ({"eligible_resource_types": "forest"}, "eligible_resource_types"),
        ({"max_ltv": Decimal("0")}, "max_ltv"),
        ({"max_ltv": Decimal("1.000001")}, "max_ltv"),
        ({"max_ltv": Decimal("-0.5")}, "max_ltv"),
        ({"max_ltv": Decimal("0.1234567")}, "max_ltv"),
        ({"max_ltv": "六成"}, "max_ltv"),
        ({"max_ltv": None}, "max_ltv"),
        ({"max_ltv": Decimal("NaN")}, "max_ltv"),
        ({"haircut": Decimal("1")}, "haircut"),
        ({"haircut": Decimal("-0.01")}, "haircut"),
        ({"income_share_of_gep": Decimal("0")}, "income_share_of_gep"),
        ({"income_share_of_gep": Decimal("1.5")}, "income_share_of_gep"),
        ({"discount_rate": Decimal("0")}, "discount_rate"),
        ({"discount_rate": Decimal("1")}, "discount_rate"),
        ({"max_valuation_years": 0}, "max_valuation_years"),
        ({"max_valuation_years": 71}, "max_valuation_years"),
        ({"max_valuation_years": "二十"}, "max_valuation_years"),
        ({"max_valuation_years": True}, "max_valuation_years"),
        ({"appraisal_valid_days": 0}, "appraisal_valid_days"),
        ({"appraisal_valid_days": 731}, "appraisal_valid_days"),
        ({"min_amount": Decimal("0")}, "min_amount"),
        ({"min_amount": Decimal("-1")}, "min_amount"),
        ({"min_amount": Decimal("100.001")}, "min_amount"),
        ({"max_amount": Decimal("9999.99")}, "max_amount"),  # below min_amount
        ({"max_amount": Decimal("10000000000.01")}, "max_amount"),
        ({"max_amount": None}, "max_amount"),
        ({"rate_min": Decimal("0")}, "rate_min"),
        ({"rate_min": Decimal("0.24"), "rate_max": Decimal("0.25")}, "rate_min"),
        ({"rate_max": Decimal("0.24")}, "rate_max"),
        ({"rate_max": Decimal("0.031999")}, "rate_max"),  # below rate_min
        ({"rate_min": None}, "rate_min"),
        ({"penalty_markup": Decimal("0.29")}, "penalty_markup"),
        ({"penalty_markup": Decimal("0.51")}, "penalty_markup"),
        ({"term_min_months": 0}, "term_min_months"),
        ({"term_min_months": 361}, "term_min_months"),
        ({"term_max_months": 5}, "term_max_months"),  # shorter than the minimum
        ({"term_max_months": 361}, "term_max_months"),
        ({"repayment_methods": []}, "repayment_methods"),
        ({"repayment_methods": None}, "repayment_methods"),
        ({"repayment_methods": ["balloon"]}, "repayment_methods"),
        ({"payment_frequencies": []}, "payment_frequencies"),
        ({"payment_frequencies": ["weekly"]}, "payment_frequencies"),
        ({"day_count": "act_365"}, "day_count"),
        ({"min_credit_score": 299}, "min_credit_score"),
        ({"min_credit_score": 1001}, "min_credit_score"),
        ({"min_credit_score": "高"}, "min_credit_score"),
        ({"risk_scheme": 999_999_999}, "risk_scheme"),
        ({"risk_scheme": "x"}, "risk_scheme"),
    ],
)
def test_every_field_is_checked_and_nothing_is_written(bank, bank_officer, changes, field):
    with pytest.raises(DomainError) as exc:
        services.create_product(actor=bank_officer, bank=bank, **fields(**changes))
    assert field in exc.value.fields, exc.value.fields
    assert exc.value.code == "invalid"
    assert LoanProduct.objects.count() == 0


def test_all_problems_are_reported_together(bank, bank_officer):
    with pytest.raises(DomainError) as exc:
        services.create_product(
            actor=bank_officer,
            bank=bank,
            code="",
            name="",
            kind="x",
            guarantee_requirement="pledge",
            max_ltv=Decimal("2"),
            max_amount=Decimal("1"),
            rate_min=Decimal("0.3"),
            rate_max=Decimal("0.1"),
            repayment_methods=[],
            payment_frequencies=[],
        )
    assert {"code", "name", "kind", "max_ltv", "max_amount", "rate_min", "rate_max"} <= set(exc.value.fields)
    assert {"repayment_methods", "payment_frequencies", "eligible_right_kinds"} <= set(exc.value.fields)


def test_sound_edge_values_are_accepted(bank, bank_officer, county_staff, demo_region):
    scheme = RiskSharingScheme.objects.create(
        name="测试风险分担", division=bank.division, source="测试", created_by=county_staff
    )
    product = services.create_product(
        actor=bank_officer,
        bank=bank,
        **fields(
            guarantee_requirement=GuaranteeRequirement.NONE,
            kind="eco_credit_loan",
            eligible_right_kinds=[],
            max_ltv=Decimal("1"),
            haircut=Decimal("0"),
            rate_min=Decimal("0.239999"),
            rate_max=Decimal("0.239999"),
            penalty_markup=Decimal("0.3"),
            min_amount=Decimal("0.01"),
            max_amount=Decimal("0.01"),
            term_min_months=360,
            term_max_months=360,
            repayment_methods=["equal_principal", "equal_principal"],
            risk_scheme=scheme.pk,
        ),
    )
    assert product.repayment_methods == ["equal_principal"] and product.risk_scheme == scheme


def test_unknown_fields_are_a_programming_error(bank, bank_officer):
    with pytest.raises(TypeError):
        services.create_product(actor=bank_officer, bank=bank, **fields(bank_id=1))


def test_who_may_create(bank, bank_officer, second_bank, second_bank_officer, county_staff, city_admin):
    with pytest.raises(PermissionDeniedError):
        services.create_product(actor=county_staff, bank=bank, **fields())
    with pytest.raises(PermissionDeniedError):
        services.create_product(actor=second_bank_officer, bank=bank, **fields())
    cooperative = Organization.objects.filter(kind=OrganizationKind.COOPERATIVE).first()
    with pytest.raises(DomainError) as exc:
        services.create_product(actor=city_admin, bank=cooperative, **fields())
    assert "bank" in exc.value.fields
    assert LoanProduct.objects.count() == 0
    made = services.create_product(actor=city_admin, bank=second_bank, **fields())
    assert made.bank == second_bank and made.created_by == city_admin
    second_bank.is_active = False
    second_bank.save(update_fields=["is_active"])
    with pytest.raises(DomainError):
        services.create_product(actor=city_admin, bank=second_bank, **fields(code="GEP-02"))


def test_codes_are_unique_per_bank(bank, bank_officer, second_bank, second_bank_officer):
    services.create_product(actor=bank_officer, bank=bank, **fields())
    with pytest.raises(ConflictError) as exc:
        services.create_product(actor=bank_officer, bank=bank, **fields(name="另一个"))
    assert exc.value.code == "duplicate" and "code" in exc.value.fields
    services.create_product(actor=second_bank_officer, bank=second_bank, **fields())  # another bank may
    assert LoanProduct.objects.count() == 2


def test_update_checks_the_whole_product_and_keeps_the_rest(
    bank, bank_officer, second_bank_officer, city_admin, catalog
):
    product = services.create_product(actor=bank_officer, bank=bank, **fields())
    other = services.create_product(actor=bank_officer, bank=bank, **fields(code="GEP-02"))
    with pytest.raises(PermissionDeniedError):
        services.update_product(actor=second_bank_officer, product=product, name="改名")
    with pytest.raises(DomainError) as exc:
        services.update_product(actor=bank_officer, product=product, rate_max=Decimal("0.03"))
    assert "rate_max" in exc.value.fields
    with pytest.raises(ConflictError):
        services.update_product(actor=bank_officer, product=other, code="GEP-01")
    with pytest.raises(TypeError):
        services.update_product(actor=bank_officer, product=product, bank=bank)
    product.refresh_from_db()
    assert (product.name, product.rate_max) == ("GEP生态贷", Decimal("0.048"))
    forest = ResourceType.objects.get(code="forest")
    updated = services.update_product(
        actor=bank_officer, product=product, rate_max=Decimal("0.05"), eligible_resource_types=[forest]
    )
    updated.refresh_from_db()
    assert updated.rate_max == Decimal("0.05") and updated.rate_min == Decimal("0.032")
    assert list(updated.eligible_resource_types.all()) == [forest]
    services.update_product(actor=city_admin, product=product, name="GEP生态贷（新版）")
    product.refresh_from_db()
    assert product.name == "GEP生态贷（新版）" and list(product.eligible_resource_types.all()) == [forest]


def test_taking_a_product_off_sale(bank, bank_officer, second_bank_officer):
    product = services.create_product(actor=bank_officer, bank=bank, **fields())
    with pytest.raises(PermissionDeniedError):
        services.set_product_active(actor=second_bank_officer, product=product, active=False)
    assert services.set_product_active(actor=bank_officer, product=product, active=False).is_active is False
    assert services.set_product_active(actor=bank_officer, product=product, active=False).is_active is False
    product.refresh_from_db()
    assert not product.is_active
    assert services.set_product_active(actor=bank_officer, product=product, active=True).is_active


def test_annualised_rates():
    # (1 + 0.036/12)^12 − 1 = 0.0365999803 and (1 + 0.036/4)^4 − 1 = 0.0364889226
    assert services.compound_annual_rate(Decimal("0.036"), "monthly") == Decimal("0.036600")
    assert services.compound_annual_rate(Decimal("0.036"), "quarterly") == Decimal("0.036489")
    product = LoanProduct(
        rate_min=Decimal("0.036"), rate_max=Decimal("0.06"), payment_frequencies=["monthly", "quarterly"]
    )
    monthly, quarterly = services.apr_ranges(product)
    assert (monthly.simple_min, monthly.simple_max) == (Decimal("0.036"), Decimal("0.06"))
    assert (monthly.compound_min, monthly.compound_max) == (Decimal("0.036600"), Decimal("0.061678"))
    assert quarterly.label == "按季" and quarterly.compound_min == Decimal("0.036489")
