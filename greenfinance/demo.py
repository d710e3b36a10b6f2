"""Demo green finance desk, through the services only:

- a household deposits its idle farmhouse with the cooperative under the savings model (储蓄分红,
  10 years at 5,600 元 a year like 衢江's first slip) and receives a savings slip;
- the demo bank's 生态资源储蓄贷 requires homestay insurance: the application is refused until the
  household's 民宿保险 policy is recorded, then checked, approved, pledged on the slip and disbursed;
- the demo forest's GEP loan gets a forest fire and pest policy with a paid claim;
- an eco-industry fund raises money and backs the admitted showcase project, and a green bond is
  being subscribed.

Idempotent: returns None when the demo slip exists or its upstream demo data is missing."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from directory.models import Organization, OrganizationKind, Person, User
from directory.services import ensure_party, ensure_party_for_person
from finance.models import (
    GuaranteeRequirement,
    InsuranceKind,
    Loan,
    LoanKind,
    LoanProduct,
    PaymentFrequency,
    RepaymentMethod,
)
from finance.services import applications, appraisal, loans, pledges, products
from projects.models import KeyProject, MonitorJob, ProjectStatus
from projects.services import monitoring
from resources.models import Asset, AssetStatus, Registration, ResourceType, RightKind
from resources.registration import close_due_notices, review_registration, submit_registration
from resources.services import grant_right
from transactions.models import PaymentFrequency as TradePaymentFrequency
from transactions.models import RevenueModel, SavingsSlip
from transactions.services import collection, savings

from .models import FundKind
from .services import funds, insurance

FARMHOUSE = "示范村闲置农房（演示）"
FOREST = "示范村后山杉木林（演示）"
SHOWCASE_PROJECT = "示范村森林康养步道（演示）"


def _register(asset, staff):
    """The demo farmhouse is a draft: register it with a notice that ended just now."""
    if asset.status == AssetStatus.DRAFT:
        registration = submit_registration(actor=staff, asset=asset)
        review_registration(actor=staff, registration=registration, approve=True, note="演示数据")
        now = timezone.now()
        Registration.objects.filter(pk=registration.pk).update(
            notice_starts_at=now - datetime.timedelta(days=settings.TMCS_PUBLIC_NOTICE_DAYS),
            notice_ends_at=now,
        )
        close_due_notices(now=now)
        asset.refresh_from_db()
    return asset.status == AssetStatus.REGISTERED


def _deposit(staff, farmhouse, household, collective, today):
    """三权分置: the collective owns, the household keeps the qualification right and deposits the
    use right with the cooperative for ten years (储蓄分红)."""
    grant_right(
        actor=staff,
        asset=farmhouse,
        holder=collective,
        kind=RightKind.OWNERSHIP,
        start=datetime.date(2020, 1, 1),
        source_document="宅基地所有权确权登记（演示）",
    )
    grant_right(
        actor=staff,
        asset=farmhouse,
        holder=household,
        kind=RightKind.QUALIFICATION,
        start=datetime.date(2020, 1, 1),
        source_document="宅基地资格权登记（演示）",
    )
    start = today - datetime.timedelta(days=60)
    contract = collection.create_collection_contract(
        actor=staff,
        division=farmhouse.division,
        grantor=household,
        source_right_kind=RightKind.QUALIFICATION,
        granted_right_kind=RightKind.USE,
        start_date=start,
        end_date=start.replace(year=start.year + 10),
        revenue_model=RevenueModel.SAVINGS,
        annual_amount=Decimal("5600.00"),  # 衢江's first slip (peer-platforms.md)
        dividend_rate=Decimal("0.2000"),
        payment_frequency=TradePaymentFrequency.ANNUAL,
        first_payment_date=start,
        obligations="农户将闲置农房使用权存入合作社十年，合作社统一改造运营为民宿；每年支付保底收益 5600 元，"
        "年终按运营净收入的 20% 分红。",
        assets=[farmhouse],
    )
    contract = collection.sign_collection_contract(actor=staff, contract=contract)
    [slip] = savings.issue_slips(actor=staff, contract=contract)
    return slip


def _savings_product(bank, officer):
    product = LoanProduct.objects.filter(code="SAV-01").first()
    if product:
        return product
    return products.create_product(
        actor=officer,
        bank=bank,
        code="SAV-01",
        name="生态资源储蓄贷（演示）",
        kind=LoanKind.SAVINGS_LOAN,
        description="以生态资源储蓄单对应的收益权质押，按储蓄单剩余年限保底收益的现值评估；须投保民宿保险。",
        guarantee_requirement=GuaranteeRequirement.PLEDGE,
        eligible_right_kinds=[RightKind.INCOME],
        eligible_resource_types=list(ResourceType.objects.filter(code="farmhouse")),
        required_insurance_kinds=[InsuranceKind.HOMESTAY],
        max_ltv=Decimal("0.7"),
        haircut=Decimal("0.1"),
        discount_rate=Decimal("0.05"),
        max_valuation_years=10,
        min_amount=Decimal("5000"),
        max_amount=Decimal("300000"),
        rate_min=Decimal("0.0320"),
        rate_max=Decimal("0.0550"),
        term_min_months=6,
        term_max_months=36,
        repayment_methods=[RepaymentMethod.EQUAL_INSTALLMENT],
        payment_frequencies=[PaymentFrequency.MONTHLY],
    )


def _savings_loan(staff, checker, officer, insurer, slip, product, today):
    household = slip.holder
    application = applications.create_application(
        actor=staff,
        applicant=household,
        product=product,
        amount=Decimal("20000.00"),
        term_months=24,
        repayment_method=RepaymentMethod.EQUAL_INSTALLMENT,
        payment_frequency=PaymentFrequency.MONTHLY,
        annual_rate=Decimal("0.0380"),
        purpose="农房民宿改造的装修与家具（演示）",
        rights=[slip.income_right],
        consent_document="个人信息授权书（演示）-002",
    )
    appraisal.appraise(actor=staff, right=slip.income_right, product=product, application=application)
    # The product requires homestay insurance: submission is refused until this policy exists.
    insurance.create_policy(
        actor=staff,
        number="MSBX-演示-2026-0001",
        kind=InsuranceKind.HOMESTAY,
        insurer=insurer,
        insured=household,
        beneficiary=ensure_party(product.bank),
        division=slip.asset.division,
        sum_insured=Decimal("300000.00"),
        premium=Decimal("900.00"),
        subsidy_rate=Decimal("0.5"),
        start_date=today - datetime.timedelta(days=10),
        end_date=today + datetime.timedelta(days=20),  # ends soon: the monitoring job warns
        terms="房屋及装修财产损失、民宿公众责任；第一受益人为贷款银行（演示）。",
        assets=[slip.asset],
        application=application,
    )
    applications.submit_application(actor=staff, application=application)
    applications.check_application(
        actor=checker, application=application, approve=True, note="保单有效（演示）"
    )
    applications.bank_decide(actor=officer, application=application, approve=True, note="同意（演示）")
    pledges.register_pledge(
        actor=officer,
        application=application,
        right=slip.income_right,
        secured_amount=application.amount,
        bank_reference="CXD-演示-001",
    )
    return loans.disburse(
        actor=officer,
        application=application,
        principal=application.amount,
        disbursed_on=today - datetime.timedelta(days=3),
        bank_reference="CXD-FK-演示-001",
    )


def _forest_policy(staff, insurer, today):
    loan = Loan.objects.filter(application__product__code="GEP-01").select_related("application").first()
    forest = Asset.objects.filter(name=FOREST).first()
    if loan is None or forest is None:
        return None
    policy = insurance.create_policy(
        actor=staff,
        number="SLBX-演示-2026-0001",
        kind=InsuranceKind.FOREST,
        insurer=insurer,
        insured=loan.application.applicant,
        beneficiary=ensure_party(loan.application.product.bank),
        division=forest.division,
        # 1,000 元 a 亩 on 260 亩, premium 2.5 元 a 亩 with 90 % government subsidy (demo figures)
        sum_insured=Decimal("260000.00"),
        premium=Decimal("650.00"),
        subsidy_rate=Decimal("0.9"),
        start_date=today - datetime.timedelta(days=120),
        end_date=today + datetime.timedelta(days=245),
        terms="火灾、病虫害、暴雨、冰冻造成的林木损失（演示）。",
        assets=[forest],
        loan=loan,
    )
    claim = insurance.report_claim(
        actor=staff,
        policy=policy,
        incident_date=today - datetime.timedelta(days=40),
        cause="松材线虫病零星发生，清理病死木约 3 亩（演示）",
        claimed_amount=Decimal("3000.00"),
        asset=forest,
    )
    insurance.start_assessment(actor=staff, claim=claim)
    insurance.approve_claim(
        actor=staff, claim=claim, approved_amount=Decimal("2800.00"), note="按受损面积定损（演示）"
    )
    insurance.record_payout(
        actor=staff,
        claim=claim,
        amount=Decimal("2800.00"),
        paid_on=today - datetime.timedelta(days=20),
        payee=policy.insured,
        reference="LP-PAY-演示-001",
    )
    return policy


def _funds(admin, staff, county_coop, city_coop, bank, today):
    project = KeyProject.objects.filter(name=SHOWCASE_PROJECT, status=ProjectStatus.ADMITTED).first()
    coop_party, bank_party = ensure_party(county_coop), ensure_party(bank)
    fund = funds.create_fund(
        actor=staff,
        name="莲都区生态产品价值实现产业基金（演示）",
        kind=FundKind.ECO_FUND,
        manager=county_coop,
        division=county_coop.division,
        size=Decimal("50000000.00"),
        issue_date=today - datetime.timedelta(days=300),
        purpose="投资重点项目清单内的生态旅游、林下经济和农房民宿项目。",
        source="演示：参照《关于两山合作社建设运营的指导意见》“探索设立生态产品价值实现基金”",
    )
    own = funds.record_commitment(
        actor=staff,
        fund=fund,
        contributor=coop_party,
        amount=Decimal("20000000.00"),
        committed_on=today - datetime.timedelta(days=300),
        document="出资承诺书（演示）-01",
    )
    banks = funds.record_commitment(
        actor=staff,
        fund=fund,
        contributor=bank_party,
        amount=Decimal("10000000.00"),
        committed_on=today - datetime.timedelta(days=290),
        document="出资承诺书（演示）-02",
    )
    funds.record_contribution(
        actor=staff,
        commitment=own,
        amount=Decimal("8000000.00"),
        occurred_on=today - datetime.timedelta(days=280),
        reference="JJ-DZ-演示-001",
    )
    funds.record_contribution(
        actor=staff,
        commitment=banks,
        amount=Decimal("4000000.00"),
        occurred_on=today - datetime.timedelta(days=270),
        reference="JJ-DZ-演示-002",
    )
    if project is not None:
        drawdown = funds.draw_down(
            actor=staff,
            fund=fund,
            amount=Decimal("3000000.00"),
            occurred_on=today - datetime.timedelta(days=60),
            recipient=ensure_party(project.owner),
            project=project,
            reference="JJ-TF-演示-001",
            memo="森林康养步道一期建设（演示）",
        )
        funds.record_return(
            actor=staff,
            drawdown=drawdown,
            amount=Decimal("200000.00"),
            occurred_on=today - datetime.timedelta(days=5),
            reference="JJ-SH-演示-001",
            memo="首期回款（演示）",
        )
    funds.record_income(
        actor=staff,
        fund=fund,
        amount=Decimal("45600.00"),
        occurred_on=today - datetime.timedelta(days=30),
        reference="JJ-SY-演示-001",
        memo="闲置资金存款利息（演示）",
    )
    bond = funds.create_fund(
        actor=admin,
        name="丽水市生态产品价值实现绿色债券（演示）",
        kind=FundKind.GREEN_BOND,
        manager=city_coop,
        division=city_coop.division,
        size=Decimal("100000000.00"),
        coupon_rate=Decimal("0.0285"),
        issue_date=today - datetime.timedelta(days=10),
        maturity_date=(today - datetime.timedelta(days=10)).replace(year=today.year + 5),
        purpose="生态修复与生态产品价值实现项目（演示，募集中）。",
        source="演示：参照《绿色债券支持项目目录（2021年版）》",
    )
    funds.record_commitment(
        actor=admin,
        fund=bond,
        contributor=bank_party,
        amount=Decimal("30000000.00"),
        committed_on=today - datetime.timedelta(days=8),
        document="认购确认书（演示）-01",
    )
    return fund


def load_demo_greenfinance():
    """Returns the demo savings slip, or None when it exists or its upstream demo data is missing."""
    farmhouse = Asset.objects.filter(name=FARMHOUSE).first()
    bank = Organization.objects.filter(kind=OrganizationKind.BANK, name__contains="演示").first()
    insurer = Organization.objects.filter(kind=OrganizationKind.INSURER, name__contains="演示").first()
    if farmhouse is None or bank is None or insurer is None:
        return None
    if SavingsSlip.objects.filter(asset=farmhouse).exists():
        return None
    today = timezone.localdate()
    admin = User.objects.get(username="city_admin")
    staff = User.objects.get(username="coop_staff")
    officer = User.objects.get(username="bank_officer")
    county_coop = staff.active_memberships[0].organization
    city_coop = admin.active_memberships[0].organization
    villagers = Person.objects.filter(division=farmhouse.division).order_by("pk")
    if villagers.count() < 2:
        return None
    household = ensure_party_for_person(villagers[1])
    collective = ensure_party(
        Organization.objects.get(kind=OrganizationKind.VILLAGE_COLLECTIVE, division=farmhouse.division)
    )
    with transaction.atomic():
        if not _register(farmhouse, staff):
            return None
        slip = _deposit(staff, farmhouse, household, collective, today)
        product = _savings_product(bank, officer)
        # The checker is a second person (maker-checker): the city administrator.
        _savings_loan(staff, admin, officer, insurer, slip, product, today)
        _forest_policy(staff, insurer, today)
        _funds(admin, staff, county_coop, city_coop, bank, today)
    # After commit, like every monitoring run: the homestay policy ends within 30 days.
    monitoring.run_monitor(MonitorJob.POLICIES_EXPIRING)
    return slip
