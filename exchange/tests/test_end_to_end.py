# ruff: noqa: F811  (fixtures imported from other modules are parameters here)
"""Issue 10 end to end, through the services only: households deposit forest use rights under the
savings model → slips with certificated income rights → a 生态资源储蓄贷 that requires forest
insurance is refused until the policy exists → checked by a second person, approved by the bank,
pledged on the slip (a second pledge refused), disbursed → a risk pool backs the loan, its cash
always the ledger's → a claim is paid → the borrower's consent lets its record reach the guarantor,
and the household without consent is withheld from every rendered format."""

import datetime
from decimal import Decimal

import pghistory.models
import pytest
from django.db.models import Sum
from django.utils import timezone

from directory.services import ensure_party
from exchange.models import ConsentScope, ExchangeLog
from exchange.services import credit
from finance.models import InsuranceKind, LoanKind, PledgeStatus, RepaymentMethod
from finance.services import applications, loans, pledges
from finance.services.appraisal import appraise
from greenfinance.models import ClaimStatus, FundKind, FundMovement
from greenfinance.services import funds, insurance
from greenfinance.tests.fixtures_insurance import insurer  # noqa: F401
from resources.models import RightKind
from tmcs.errors import ConflictError
from transactions.services import ledger
from transactions.tests.fixtures_savings import (  # noqa: F401
    issued_slips,
    make_savings_contract,
    savings_contract,
    savings_parcels,
)

from .fixtures_credit import guarantor  # noqa: F401

pytestmark = pytest.mark.django_db


def test_savings_slip_to_insured_loan_to_fund_to_consented_credit_report(
    issued_slips, make_product, county_staff, checker, bank_officer, insurer, guarantor, county_cooperative
):
    today = timezone.localdate()
    slip = issued_slips[2]  # the third household's whole parcel, 2,800 元 a year
    borrower = slip.holder
    other = issued_slips[0].holder  # a household with a slip but no consent
    assert slip.income_right.kind == RightKind.INCOME and slip.income_right.pledge_once
    assert slip.income_right.certificate_number == slip.number

    product = make_product(
        kind=LoanKind.SAVINGS_LOAN,
        name="生态资源储蓄贷（端到端）",
        eligible_right_kinds=[RightKind.INCOME],
        required_insurance_kinds=[InsuranceKind.FOREST],
        discount_rate=Decimal("0.05"),
        haircut=Decimal("0.1"),
        max_ltv=Decimal("0.7"),
        min_amount=Decimal("1000"),
    )
    application = applications.create_application(
        actor=county_staff,
        applicant=borrower,
        product=product,
        amount=Decimal("10000.00"),
        term_months=12,
        repayment_method=RepaymentMethod.EQUAL_INSTALLMENT,
        payment_frequency="monthly",
        annual_rate=Decimal("0.04"),
        purpose="林下中药材种植（端到端）",
        rights=[slip.income_right],
        consent_document="授权书-端到端-01",
    )
    valued = appraise(actor=county_staff, right=slip.income_right, product=product, application=application)
    assert valued.calculation["savings_slip"] == slip.number and valued.max_loan >= Decimal("10000.00")

    # the product requires forest insurance: refused, and nothing moves
    with pytest.raises(ConflictError) as refused:
        applications.submit_application(actor=county_staff, application=application)
    assert refused.value.code == "requirement_unmet" and "森林火灾及病虫害保险" in refused.value.detail
    application.refresh_from_db()
    assert application.status == "draft"

    policy = insurance.create_policy(
        actor=county_staff,
        number="SL-E2E-0001",
        kind=InsuranceKind.FOREST,
        insurer=insurer,
        insured=borrower,
        beneficiary=ensure_party(product.bank),
        division=slip.asset.division,
        sum_insured=Decimal("50000.00"),
        premium=Decimal("125.00"),
        subsidy_rate=Decimal("0.9"),
        start_date=today - datetime.timedelta(days=5),
        end_date=today + datetime.timedelta(days=360),
        assets=[slip.asset],
        application=application,
    )
    assert policy.subsidy_amount == Decimal("112.50")
    applications.submit_application(actor=county_staff, application=application)
    applications.check_application(actor=checker, application=application, approve=True, note="保单有效")
    applications.bank_decide(actor=bank_officer, application=application, approve=True, note="同意")
    pledge = pledges.register_pledge(
        actor=bank_officer,
        application=application,
        right=slip.income_right,
        secured_amount=Decimal("10000.00"),
        bank_reference="E2E-ZY-1",
    )
    assert pledge.rank == 1 and pledge.status == PledgeStatus.ACTIVE

    # the slip secures one loan at a time: the registry refuses a second pledge outright
    from resources import services as registry

    with pytest.raises(ConflictError) as twice:
        registry.add_pledge(
            actor=county_staff,
            right=slip.income_right,
            holder=ensure_party(product.bank),
            rank=2,
            secured_amount="1000",
            start=today,
            end=None,
            source_document="第二笔质押",
        )
    assert twice.value.code == "already_pledged"

    loan = loans.disburse(
        actor=bank_officer,
        application=application,
        principal=Decimal("10000.00"),
        disbursed_on=today - datetime.timedelta(days=2),
        bank_reference="E2E-FK-1",
    )

    # a risk pool managed by the county cooperative backs the loan; its cash is the ledger's
    pool = funds.create_fund(
        actor=county_staff,
        name="储蓄贷风险池（端到端）",
        kind=FundKind.RISK_COMPENSATION,
        manager=county_cooperative,
        division=county_cooperative.division,
        size=Decimal("1000000.00"),
        issue_date=today - datetime.timedelta(days=30),
        purpose="储蓄贷风险补偿",
        source="端到端测试",
    )
    commitment = funds.record_commitment(
        actor=county_staff,
        fund=pool,
        contributor=ensure_party(county_cooperative),
        amount=Decimal("500000.00"),
        committed_on=today - datetime.timedelta(days=30),
        document="出资承诺",
    )
    funds.record_contribution(
        actor=county_staff,
        commitment=commitment,
        amount=Decimal("200000.00"),
        occurred_on=today - datetime.timedelta(days=20),
        reference="E2E-DZ",
    )
    funds.draw_down(
        actor=county_staff,
        fund=pool,
        amount=Decimal("2000.00"),
        occurred_on=today - datetime.timedelta(days=1),
        recipient=borrower,
        loan=loan,
        reference="E2E-TF",
        memo="贴息",
    )
    cash = FundMovement.objects.filter(fund=pool).aggregate(s=Sum("cash_effect"))["s"]
    assert (
        cash
        == funds.fund_position(pool)["cash"]
        == ledger.balance("green_fund_cash", ensure_party(county_cooperative), pool.number)
        == Decimal("198000.00")
    )

    # a pest claim on the policy is assessed, approved and paid
    claim = insurance.report_claim(
        actor=county_staff,
        policy=policy,
        incident_date=today - datetime.timedelta(days=1),
        cause="病虫害",
        claimed_amount=Decimal("1500.00"),
        asset=slip.asset,
    )
    insurance.start_assessment(actor=county_staff, claim=claim)
    insurance.approve_claim(actor=county_staff, claim=claim, approved_amount=Decimal("1200.00"), note="定损")
    insurance.record_payout(
        actor=county_staff,
        claim=claim,
        amount=Decimal("1200.00"),
        paid_on=today,
        payee=borrower,
        reference="E2E-PF",
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID

    # the borrower consents to the guarantor; the other household does not
    consent = credit.record_consent(
        actor=county_staff,
        party=borrower,
        recipient=guarantor,
        purpose="担保申请",
        scopes=[ConsentScope.ECO_CREDIT, ConsentScope.LOAN_PERFORMANCE],
        document="授权书-端到端-02",
        signed_on=today,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
    )
    report = credit.create_credit_export(
        actor=county_staff,
        recipient=guarantor,
        division=slip.asset.division,
        as_of=today,
        parties=[borrower, other],
    )
    assert [(line.party_id, line.consent_id) for line in report.lines.all()] == [(borrower.pk, consent.pk)]
    assert report.parties_withheld == 1
    [line] = report.lines.all()
    assert [entry["principal"] for entry in line.payload["loan_performance"]["loans"]] == ["10000.00"]
    for fmt in ("json", "csv", "xlsx"):
        content, _type, _name = credit.render_credit_export(report, fmt)
        assert other.person.name.encode() not in content
    assert ExchangeLog.objects.filter(dataset="credit_report", direction="export").count() == 1

    # the history of the slip's right, the pledge and the policy was written by the database
    for obj in (slip, pledge, policy, consent):
        assert pghistory.models.Events.objects.references(obj).exists()
