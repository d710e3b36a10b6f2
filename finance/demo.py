"""Demo finance desk, through the services only: default scorecards, two products of the demo
bank (a pledged GEP loan and an eco-credit loan), a risk compensation fund with the 4:3:2:1
scheme, and one GEP loan on the demo forest household's contract right — appraised, checked by a
second person, approved by the bank, pledged, disbursed, with its first repayments."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from directory.models import Organization, OrganizationKind, User
from directory.services import ensure_party
from resources.models import Asset, RightKind, RightStatus

from .models import (
    GuaranteeRequirement,
    LoanKind,
    LoanProduct,
    PaymentFrequency,
    RepaymentMethod,
    Scorecard,
)
from .services import applications, appraisal, loans, pledges, products, risk, scoring

FOREST = "示范村后山杉木林（演示）"


def _products(bank, officer, scheme):
    common = {
        "eligible_right_kinds": [RightKind.CONTRACT, RightKind.MANAGEMENT, RightKind.USE],
        "repayment_methods": [RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL],
        "payment_frequencies": [PaymentFrequency.MONTHLY, PaymentFrequency.QUARTERLY],
        "rate_min": Decimal("0.0300"),
        "rate_max": Decimal("0.0600"),
        "term_min_months": 6,
        "term_max_months": 60,
    }
    gep = products.create_product(
        actor=officer,
        bank=bank,
        code="GEP-01",
        name="GEP生态贷（演示）",
        kind=LoanKind.GEP_LOAN,
        description="以经核算采纳的 GEP 价值评估林地承包经营权等资源权利，办理质押后发放。",
        guarantee_requirement=GuaranteeRequirement.PLEDGE,
        max_ltv=Decimal("0.6"),
        haircut=Decimal("0.2"),
        min_amount=Decimal("10000"),
        max_amount=Decimal("2000000"),
        risk_scheme=scheme,
        **common,
    )
    credit = products.create_product(
        actor=officer,
        bank=bank,
        code="LSXY-01",
        name="两山信用贷（演示）",
        kind=LoanKind.ECO_CREDIT_LOAN,
        description="凭生态信用评分发放的信用贷款，额度不超过评分建议授信额度（参照云和“普惠·两山贷”信用类 ≤30 万元）。",
        guarantee_requirement=GuaranteeRequirement.NONE,
        max_ltv=Decimal("1"),
        min_amount=Decimal("10000"),
        max_amount=Decimal("300000"),
        min_credit_score=650,
        risk_scheme=scheme,
        **common,
    )
    return gep, credit


@transaction.atomic
def load_demo_finance():
    """Returns the demo loan, or None when it exists already or the demo forest is not valued."""
    if LoanProduct.objects.filter(code="GEP-01").exists():
        return None
    admin = User.objects.get(username="city_admin")
    staff = User.objects.get(username="coop_staff")
    officer = User.objects.get(username="bank_officer")
    bank = Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")
    county_coop = staff.active_memberships[0].organization
    if not Scorecard.objects.filter(is_active=True).exists():
        scoring.default_scorecards(admin)

    fund = risk.create_fund(
        actor=admin,
        name="莲都区生态贷款风险补偿基金（演示）",
        manager=county_coop,
        division=county_coop.division,
        source="演示：参照 T/ZJFS 001-2021 风险补偿章节设立",
    )
    today = timezone.localdate()
    risk.contribute(
        actor=admin,
        fund=fund,
        contributor=ensure_party(county_coop),
        amount=Decimal("5000000.00"),
        occurred_on=today - datetime.timedelta(days=200),
        reference="演示-基金注资-001",
    )
    guarantor = Organization.objects.get(kind=OrganizationKind.GUARANTOR)
    scheme = risk.default_scheme(
        actor=admin,
        division=county_coop.division,
        fund=fund,
        guarantor_party=ensure_party(guarantor),
        cooperative_party=ensure_party(county_coop),
        bank_party=ensure_party(bank),
    )
    gep_product, _credit = _products(bank, officer, scheme)

    forest = Asset.objects.filter(name=FOREST).first()
    if forest is None:
        return None
    right = forest.rights.filter(kind=RightKind.CONTRACT, status=RightStatus.ACTIVE).first()
    if right is None:
        return None
    scoring.recompute_credit_score(right.holder_id)
    application = applications.create_application(
        actor=staff,
        applicant=right.holder,
        product=gep_product,
        amount=Decimal("10000.00"),
        term_months=24,
        repayment_method=RepaymentMethod.EQUAL_INSTALLMENT,
        payment_frequency=PaymentFrequency.MONTHLY,
        annual_rate=Decimal("0.0360"),
        purpose="林下经济（香榧、中药材）种植（演示）",
        rights=[right],
        consent_document="个人信息授权书（演示）-001",
    )
    valued = appraisal.appraise(actor=staff, right=right, product=gep_product, application=application)
    amount = min(valued.max_loan, Decimal("200000.00")).quantize(Decimal("1000"))
    if amount < gep_product.min_amount:
        return None
    applications.update_application(actor=staff, application=application, amount=amount)
    applications.submit_application(actor=staff, application=application)
    applications.check_application(
        actor=admin, application=application, approve=True, note="资料齐全，同意报送银行（演示）"
    )
    applications.bank_decide(actor=officer, application=application, approve=True, note="同意放款（演示）")
    pledges.register_pledge(
        actor=officer,
        application=application,
        right=right,
        secured_amount=amount,
        bank_reference="ZYHT-演示-001",
    )
    disbursed_on = today - datetime.timedelta(days=100)
    loan = loans.disburse(
        actor=officer,
        application=application,
        principal=amount,
        disbursed_on=disbursed_on,
        bank_reference="JJ-演示-001",
    )
    for installment in loan.installments.filter(due_date__lte=today).order_by("seq")[:2]:
        loans.record_repayment(
            actor=officer,
            loan=loan,
            amount=installment.principal_due + installment.interest_due,
            paid_on=installment.due_date,
            bank_reference=f"HK-演示-{installment.seq}",
        )
    return loan
