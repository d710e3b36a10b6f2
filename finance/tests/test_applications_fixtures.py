"""Fixtures and reference arithmetic shared by the application and appraisal tests: trade contracts
(market evidence) built directly, eco-credit scores, a staff member of another county, a draft
application ready to submit, and an independent present-value reference."""

import datetime
from decimal import Decimal, localcontext

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Role
from finance.models import CreditScore, GuaranteeRequirement, LoanKind, Scorecard, ScoreSubject
from finance.services import applications as services
from finance.services.appraisal import appraise
from transactions.models import ContractStatus, TradeContract, TradeContractItem, TradeKind
from transactions.services.collection import item_weight

PAST = datetime.date(2026, 6, 30)
CENT = Decimal("0.01")


def reference_pv(yearly, rate, years):
    """Present value of `yearly` a year for `years` at `rate`, computed differently from the
    service: whole years as an explicit sum of discounted payments, fractional horizons through
    exp/ln. 60 significant digits, rounded to the cent at the end."""
    with localcontext() as ctx:
        ctx.prec = 60
        yearly, rate, years = Decimal(yearly), Decimal(rate), Decimal(years)
        if years == years.to_integral_value():
            factor = sum((1 / (1 + rate) ** k for k in range(1, int(years) + 1)), Decimal(0))
        else:
            factor = (1 - (-years * (1 + rate).ln()).exp()) / rate
        return (yearly * factor).quantize(CENT)


def cents(value):
    return Decimal(value).quantize(CENT)


def staff_terms(**overrides):
    values = dict(
        amount=Decimal("150000.00"),
        term_months=36,
        repayment_method="equal_installment",
        payment_frequency="monthly",
        annual_rate=Decimal("0.036"),
        purpose="林下经济种植",
        consent_document="SQ-AUTH-2026-001",
    )
    values.update(overrides)
    return values


@pytest.fixture
def investor_org(demo_region):
    return Organization.objects.get(kind=OrganizationKind.ENTERPRISE, name__contains="生态旅游")


@pytest.fixture
def make_trade_contract(investor_org, county_cooperative, county_staff):
    """make_trade_contract(assets, price, start, end, signed_on, status=SIGNED) → a trade contract
    with the assets as items, built directly (the trading desk is tested in transactions)."""
    counter = iter(range(1, 1000))

    def make(assets, price, start, end, signed_on, status=ContractStatus.SIGNED):
        contract = TradeContract.objects.create(
            number=f"JY2026T{next(counter):05d}",
            investor=investor_org,
            cooperative=county_cooperative,
            division=assets[0].division,
            kind=TradeKind.LEASE,
            start_date=start,
            end_date=end,
            price=Decimal(price),
            status=status,
            signed_at=timezone.make_aware(datetime.datetime.combine(signed_on, datetime.time(10)))
            if signed_on
            else None,
            created_by=county_staff,
        )
        for asset in assets:
            TradeContractItem.objects.create(contract=contract, asset=asset)
        return contract

    return make


def market_yearly(contract, asset, share=Decimal(1)):
    """Reference: the contract's yearly price × this asset's weight ÷ all weights × share."""
    with localcontext() as ctx:
        ctx.prec = 60
        weights = [item_weight(item.asset) for item in contract.items.select_related("asset")]
        years = Decimal((contract.end_date - contract.start_date).days) / 365
        return contract.price / years * item_weight(asset) / sum(weights) * share


@pytest.fixture
def make_score(county_staff):
    """make_score(party, score, line) → the party's current eco-credit score (ORM)."""

    def make(party, score, line):
        card, _created = Scorecard.objects.get_or_create(
            subject=ScoreSubject.HOUSEHOLD,
            version=1,
            defaults={"name": "测试评分卡", "created_by": county_staff},
        )
        CreditScore.objects.filter(party=party, is_current=True).update(is_current=False)
        return CreditScore.objects.create(
            party=party,
            scorecard=card,
            score=Decimal(score),
            grade="A",
            suggested_line=Decimal(line),
            factors=[],
            inputs_digest="0" * 64,
        )

    return make


@pytest.fixture
def credit_product(make_product):
    """An eco-credit product (两山信用贷): no collateral, a minimum score of 650."""
    return make_product(
        kind=LoanKind.ECO_CREDIT_LOAN,
        guarantee_requirement=GuaranteeRequirement.NONE,
        eligible_right_kinds=[],
        min_credit_score=650,
        max_amount=Decimal("300000"),
    )


@pytest.fixture
def other_county_staff(demo_region, make_member):
    division = AdministrativeDivision.objects.filter(code__startswith="3311", level="county").exclude(
        code="331102000000"
    )[0]
    org = Organization.objects.create(
        name="云和县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=division
    )
    return make_member(Role.COOP_STAFF, org, username="other_staff")


@pytest.fixture
def draft(valued_right, make_product, county_staff):
    """draft(**terms) → (application, right): a DRAFT prepared by county_staff for households[0]
    on a right valued at 100,000 元 GEP a year (max loan about 165,166 元 under the product)."""

    def make(product=None, right=None, **terms):
        right = right or valued_right()
        product = product or make_product()
        application = services.create_application(
            actor=county_staff,
            applicant=right.holder,
            product=product,
            rights=[right],
            **staff_terms(**terms),
        )
        return application, right

    return make


@pytest.fixture
def submitted(draft, county_staff):
    """submitted() → (application, right): appraised and submitted, awaiting the checker."""

    def make(**terms):
        application, right = draft(**terms)
        appraise(
            actor=county_staff,
            right=right,
            product=application.product,
            application=application,
            appraised_on=PAST,
        )
        return services.submit_application(actor=county_staff, application=application), right

    return make


@pytest.fixture
def approved(submitted, checker):
    """approved() → (application, right): checked and approved for the bank."""

    def make(**terms):
        application, right = submitted(**terms)
        return services.check_application(
            actor=checker, application=application, approve=True, note=""
        ), right

    return make


def test_reference_pv_agrees_with_the_textbook_annuity():
    # 1 元 a year for 20 years at 6 %: 11.469921... (standard annuity table value 11.4699)
    assert reference_pv(1, "0.06", 20) == Decimal("11.47")
    assert reference_pv(10000, "0.06", 20) == Decimal("114699.21")
    # a fractional horizon lies between its neighbours
    assert (
        reference_pv(10000, "0.06", 2) < reference_pv(10000, "0.06", "2.5") < reference_pv(10000, "0.06", 3)
    )
