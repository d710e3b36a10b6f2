"""The whole road of a GEP loan, through the services only, checked in the loan book, the rights
ledger, the cooperative's ledger and the audit trail at every step:

registered forest → GEP accounting run (accepted) → application (maker) → appraisal → check
(checker) → bank approval → pledge → disbursement → repayments → overdue → default → cooperative
buy-back → pledge enforced, right passed to the cooperative → the rest of the loss split by the
risk-sharing scheme, the government fund paying its share.
"""

import datetime
from decimal import Decimal

import pghistory.models
import pytest
from django.db.models import Sum

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from finance.models import (
    ApplicationStatus,
    DefaultStatus,
    DisposalMethod,
    LoanStatus,
    PaymentFrequency,
    PledgeStatus,
    RepaymentKind,
    RepaymentMethod,
    RiskRole,
)
from finance.services import applications, appraisal, defaults, loans, pledges, risk
from resources.models import Restriction, RightKind, RightStatus
from transactions.models import AccountKind, MovementKind, Posting
from transactions.services.common import cooperative_party
from transactions.services.ledger import balance
from valuation import services as valuation
from valuation.selectors import latest_asset_valuation
from valuation.tests.test_runs import WATER, enter

DISBURSED_ON = datetime.date(2026, 1, 10)


@pytest.fixture
def accepted_valuation(celery_eager, django_capture_on_commit_callbacks, city_admin, checker):
    def run(asset, staff):
        parameter_set = valuation.load_default_parameter_set(actor=city_admin)
        enter(staff, asset, WATER)
        with django_capture_on_commit_callbacks(execute=True):
            started = valuation.start_run(
                actor=staff, division=asset.division, year=2025, parameter_set=parameter_set
            )
        started.refresh_from_db()
        valuation.accept_run(actor=checker, run=started)
        return started

    return run


def _ledger_is_balanced():
    assert Posting.objects.aggregate(s=Sum("amount"))["s"] in (None, Decimal("0.00"))


def _events(model, pk):
    return pghistory.models.Events.objects.references(model.objects.get(pk=pk)).order_by("pgh_created_at")


def test_gep_loan_from_registration_to_disposal(
    registered_asset,
    households,
    county_staff,
    checker,
    city_admin,
    bank,
    bank_officer,
    county_cooperative,
    make_product,
    accepted_valuation,
):
    borrower = households[0]
    asset = registered_asset([(borrower, 1)], kind=RightKind.CONTRACT)
    right = asset.rights.get(holder=borrower)

    # valuation: a real accounting run, adopted by a second person
    run = accepted_valuation(asset, county_staff)
    gep = latest_asset_valuation(asset)
    assert gep.run == run and gep.total > 0

    # risk sharing: a fund with money in it, and the 4:3:2:1 scheme on the product
    fund = risk.create_fund(
        actor=city_admin,
        name="莲都区生态贷风险补偿基金",
        manager=county_cooperative,
        division=county_cooperative.division,
        source="测试",
    )
    risk.contribute(
        actor=city_admin,
        fund=fund,
        contributor=ensure_party(county_cooperative),
        amount="200000.00",
        occurred_on=datetime.date(2026, 1, 2),
        reference="BJ-001",
    )
    guarantor = Organization.objects.get(kind=OrganizationKind.GUARANTOR)
    scheme = risk.default_scheme(
        actor=city_admin,
        division=county_cooperative.division,
        fund=fund,
        guarantor_party=ensure_party(guarantor),
        cooperative_party=ensure_party(county_cooperative),
        bank_party=ensure_party(bank),
    )
    product = make_product(
        risk_scheme=scheme,
        income_share_of_gep=Decimal("1"),
        max_ltv=Decimal("0.6"),
        min_amount=Decimal("1000"),
    )

    # application (maker), appraisal, check (checker), bank approval
    application = applications.create_application(
        actor=county_staff,
        applicant=borrower,
        product=product,
        amount="1000.00",
        term_months=12,
        repayment_method=RepaymentMethod.EQUAL_INSTALLMENT,
        payment_frequency=PaymentFrequency.MONTHLY,
        annual_rate="0.036",
        purpose="林下中药材种植",
        rights=[right],
        consent_document="授权书-2026-001",
    )
    valued = appraisal.appraise(actor=county_staff, right=right, product=product, application=application)
    assert valued.valuation_run == run and valued.max_loan >= Decimal("1000"), valued.calculation
    amount = min(valued.max_loan, Decimal("20000.00")).quantize(Decimal("1"))
    applications.update_application(actor=county_staff, application=application, amount=amount)
    applications.submit_application(actor=county_staff, application=application)
    applications.check_application(actor=checker, application=application, approve=True, note="资料齐全")
    applications.bank_decide(actor=bank_officer, application=application, approve=True, note="同意")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.BANK_APPROVED
    assert application.prepared_by == county_staff and application.checked_by == checker

    # pledge in the rights ledger, then disbursement
    pledge = pledges.register_pledge(
        actor=bank_officer, application=application, right=right, secured_amount=amount
    )
    restriction = Restriction.objects.get(pk=pledge.restriction_id)
    assert restriction.kind == "pledge" and restriction.holder == ensure_party(bank) and restriction.rank == 1
    loan = loans.disburse(
        actor=bank_officer,
        application=application,
        principal=amount,
        disbursed_on=DISBURSED_ON,
        bank_reference="JJ-E2E-1",
    )
    schedule = list(loan.installments.order_by("seq"))
    assert len(schedule) == 12 and sum(i.principal_due for i in schedule) == amount

    # three installments paid on time, the fourth never
    for installment in schedule[:3]:
        loans.record_repayment(
            actor=bank_officer,
            loan=loan,
            amount=installment.principal_due + installment.interest_due,
            paid_on=installment.due_date,
            bank_reference=f"HK-{installment.seq}",
        )
    position = loans.position(loan, as_of=schedule[3].due_date + datetime.timedelta(days=45))
    assert position.days_past_due == 45 and position.bucket == "31_60"
    assert position.outstanding_principal == amount - sum(i.principal_due for i in schedule[:3])
    assert position.penalty_accrued > 0

    # default, buy-back below the claim, loss compensation
    declared_on = schedule[3].due_date + datetime.timedelta(days=100)
    default = defaults.declare_default(
        actor=county_staff, loan=loan, reason="连续逾期", declared_on=declared_on
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.DEFAULTED
    claim = default.outstanding_principal + default.outstanding_interest + default.penalty
    price = (claim * Decimal("0.7")).quantize(Decimal("0.01"))
    coop = cooperative_party(asset.division)
    cash_before = balance(AccountKind.CASH, coop)
    buyback = defaults.buy_back(
        actor=county_staff,
        default=default,
        pledge=pledge,
        price=price,
        executed_on=declared_on + datetime.timedelta(days=10),
        source_document="回购协议-2026-001",
    )
    assert buyback.method == DisposalMethod.BUY_BACK and buyback.amount == price
    pledge.refresh_from_db()
    restriction.refresh_from_db()
    assert pledge.status == PledgeStatus.ENFORCED and restriction.status == RightStatus.ENDED
    right.refresh_from_db()
    assert right.status == RightStatus.ENDED
    assert asset.rights.get(status=RightStatus.ACTIVE, kind=RightKind.CONTRACT).holder == coop
    assert balance(AccountKind.CASH, coop) == cash_before - price
    assert loan.repayments.filter(kind=RepaymentKind.DISPOSAL).aggregate(s=Sum("amount"))["s"] == price

    compensation = defaults.compensate_loss(
        actor=county_staff,
        default=default,
        executed_on=declared_on + datetime.timedelta(days=20),
        source_document="代偿审批-2026-001",
    )
    loss = claim - price
    shares = {a.role: a.amount for a in compensation.allocations.all()}
    assert sum(shares.values()) == loss
    for role, share in ((RiskRole.GUARANTOR, "0.4"), (RiskRole.COOPERATIVE, "0.3"), (RiskRole.BANK, "0.2")):
        assert abs(shares[role] - loss * Decimal(share)) < Decimal("0.01")
    assert abs(shares[RiskRole.GOVERNMENT_FUND] - loss * Decimal("0.1")) < Decimal("0.01")
    assert risk.fund_balance(fund) == Decimal("200000.00") - shares[RiskRole.GOVERNMENT_FUND]
    default.refresh_from_db()
    loan.refresh_from_db()
    assert default.status == DefaultStatus.SETTLED and loan.status == LoanStatus.CLOSED

    # the cooperative's ledger: balanced, with the buy-back and the compensations
    _ledger_is_balanced()
    kinds = set(Posting.objects.values_list("movement__kind", flat=True))
    assert {MovementKind.FUND_CONTRIBUTION, MovementKind.BUYBACK, MovementKind.LOSS_COMPENSATION} <= kinds

    # the audit trail: who did what to the application, the pledge and its restriction
    users = {(e.pgh_context or {}).get("user") for e in _events(type(application), application.pk)}
    assert {county_staff.pk, checker.pk, bank_officer.pk} <= users
    assert _events(type(pledge), pledge.pk).count() >= 2  # registered, then enforced
    assert _events(Restriction, restriction.pk).count() >= 2
