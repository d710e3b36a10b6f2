# ruff: noqa: F811  (fixtures imported from test_risk_fixtures)
import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db.models import Sum

from directory.models import Notification
from directory.services import ensure_party
from finance.models import (
    DefaultStatus,
    Disposal,
    DisposalMethod,
    LoanDefault,
    LoanStatus,
    LossAllocation,
    PledgeStatus,
    Repayment,
    RepaymentKind,
    RiskRole,
)
from finance.services import defaults, loans, risk
from resources.models import Right, RightStatus
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import AccountKind, Movement, MovementKind, Posting

from .test_risk_fixtures import (  # noqa: F401  (fixtures)
    DECLARED_ON,
    LOAN_PRINCIPAL,
    fund,
    funded,
    government,
    guarantor,
    pledged_loan,
    scheme,
)

pytestmark = pytest.mark.django_db
EXECUTED_ON = datetime.date(2026, 7, 1)
# Interest of the four installments due by 1 June (0.3 % a month on the balance before each):
# 300,000 × 0.003, 275,000 × 0.003, 250,000 × 0.003, 225,000 × 0.003.
INTEREST_DUE = Decimal("900.00") + Decimal("825.00") + Decimal("750.00") + Decimal("675.00")


def declare(staff, loan, on=DECLARED_ON):
    return defaults.declare_default(
        actor=staff, loan=loan, reason="连续四期未还款，经催收无效", declared_on=on
    )


def fund_total(fund):
    total = Posting.objects.filter(
        account__kind=AccountKind.RISK_FUND, account__party__organization=fund.manager
    ).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")


# --- declare ----------------------------------------------------------------------------------


def test_declare_freezes_the_claim_and_tells_bank_and_staff(
    pledged_loan, county_staff, bank_officer, django_capture_on_commit_callbacks
):
    loan, _pledges = pledged_loan()
    with django_capture_on_commit_callbacks(execute=True):
        default = declare(county_staff, loan)
    position = loans.position(loan, as_of=DECLARED_ON)
    assert position.days_past_due == (DECLARED_ON - datetime.date(2026, 2, 15)).days == 106
    assert default.outstanding_principal == LOAN_PRINCIPAL
    assert default.outstanding_interest == INTEREST_DUE == position.overdue_interest
    assert default.penalty == position.penalty_accrued > 0
    assert default.claim == LOAN_PRINCIPAL + INTEREST_DUE + default.penalty
    loan.refresh_from_db()
    assert loan.status == LoanStatus.DEFAULTED and default.status == DefaultStatus.DECLARED
    assert Notification.objects.filter(recipient=bank_officer, title__contains=loan.number).exists()
    assert Notification.objects.filter(recipient=county_staff, title__contains="认定违约").exists()
    event = LoanDefault.pgh_event_model.objects.filter(pgh_obj_id=default.pk).latest("pgh_id")
    assert event.pgh_context.metadata["username"] == "coop_staff"
    assert "declare default" in event.pgh_context.metadata["reason"]


def test_a_loan_not_overdue_cannot_be_declared(pledged_loan, county_staff):
    loan, _pledges = pledged_loan()
    with pytest.raises(ConflictError) as refused:
        declare(county_staff, loan, on=datetime.date(2026, 2, 15))  # the first installment is due today
    assert refused.value.code == "not_overdue"
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE and not LoanDefault.objects.exists()


def test_only_active_loans_and_only_once(pledged_loan, county_staff):
    loan, _pledges = pledged_loan()
    declare(county_staff, loan)
    with pytest.raises(ConflictError) as twice:
        declare(county_staff, loan)
    assert twice.value.code == "already_declared"
    other, _pledges = pledged_loan()
    other.status = LoanStatus.PAID_OFF
    other.save(update_fields=["status"])
    with pytest.raises(ConflictError) as paid:
        declare(county_staff, other)
    assert paid.value.code == "invalid_transition"
    assert LoanDefault.objects.count() == 1


@pytest.mark.parametrize(
    ("reason", "day", "field"),
    [
        ("", DECLARED_ON, "reason"),
        ("x" * 301, DECLARED_ON, "reason"),
        ("逾期", datetime.date(2099, 1, 1), "declared_on"),
        ("逾期", datetime.date(2025, 12, 31), "declared_on"),  # before disbursement
    ],
)
def test_bad_declarations_are_refused(pledged_loan, county_staff, reason, day, field):
    loan, _pledges = pledged_loan()
    with pytest.raises(DomainError) as refused:
        defaults.declare_default(actor=county_staff, loan=loan, reason=reason, declared_on=day)
    assert field in refused.value.fields
    assert not LoanDefault.objects.exists()


def test_a_bank_cannot_declare(pledged_loan, bank_officer):
    loan, _pledges = pledged_loan()
    with pytest.raises(PermissionDeniedError):
        declare(bank_officer, loan)
    assert not LoanDefault.objects.exists()


# --- buy-back ---------------------------------------------------------------------------------


def test_buy_back_below_the_claim(pledged_loan, county_staff, county_cooperative, bank):
    loan, (pledge,) = pledged_loan()
    default = declare(county_staff, loan)
    right = pledge.right
    disposal = defaults.buy_back(
        actor=county_staff,
        default=default,
        pledge=pledge,
        price=Decimal("100000.00"),
        executed_on=EXECUTED_ON,
        source_document="回购协议 HG-2026-01",
    )
    bank_party, coop = ensure_party(bank), ensure_party(county_cooperative)
    assert disposal.number.startswith("CZ2026") and disposal.method == DisposalMethod.BUY_BACK
    assert disposal.amount == Decimal("100000.00")
    assert [(line["to"], line["what"], Decimal(line["amount"])) for line in disposal.waterfall] == [
        ("bank", "penalty", default.penalty),
        ("bank", "interest", INTEREST_DUE),
        ("bank", "principal", Decimal("100000.00") - default.penalty - INTEREST_DUE),
    ]
    assert {line["party"] for line in disposal.waterfall} == {bank_party.pk}
    # the pledge is enforced and its restriction ended
    pledge.refresh_from_db()
    pledge.restriction.refresh_from_db()
    assert pledge.status == PledgeStatus.ENFORCED and pledge.restriction.status == RightStatus.ENDED
    # the right passed to the cooperative, same kind and share, from the buy-back day
    right.refresh_from_db()
    successor = Right.objects.get(supersedes=right)
    assert right.status == RightStatus.ENDED
    assert (
        successor.holder == coop and successor.kind == right.kind and successor.status == RightStatus.ACTIVE
    )
    assert Fraction(successor.share_numerator, successor.share_denominator) == Fraction(
        right.share_numerator, right.share_denominator
    )
    assert successor.period.lower == EXECUTED_ON and successor.period.upper == right.period.upper
    assert successor.source_document == "回购协议 HG-2026-01"
    # the cooperative's payment, balanced, referenced by the disposal number
    movement = Movement.objects.get(kind=MovementKind.BUYBACK)
    postings = {
        (p.account.kind, p.account.party_id): p.amount for p in movement.postings.select_related("account")
    }
    assert postings == {
        (AccountKind.BUYBACK_ASSETS, coop.pk): Decimal("100000.00"),
        (AccountKind.CASH, coop.pk): Decimal("-100000.00"),
    }
    assert sum(postings.values()) == 0 and movement.reference == disposal.number
    assert "罚息" in movement.memo and movement.occurred_on == EXECUTED_ON
    # the bank's recovery is in the loan book as a disposal repayment
    repayment = Repayment.objects.get(loan=loan)
    assert repayment.kind == RepaymentKind.DISPOSAL and repayment.amount == Decimal("100000.00")
    assert repayment.bank_reference == disposal.number and repayment.paid_on == EXECUTED_ON
    remaining = defaults.remaining_claim(default)
    assert remaining == {
        "penalty": 0,
        "interest": 0,
        "principal": LOAN_PRINCIPAL - remaining_principal_paid(disposal),
    }
    loan.refresh_from_db()
    default.refresh_from_db()
    assert loan.status == LoanStatus.DEFAULTED and default.status == DefaultStatus.DECLARED
    event = Disposal.pgh_event_model.objects.filter(pgh_obj_id=disposal.pk).latest("pgh_id")
    assert event.pgh_context.metadata["username"] == "coop_staff"
    # the audit trail names the disposal on the registry's side too
    ended = Right.pgh_event_model.objects.filter(pgh_obj_id=right.pk).latest("pgh_id")
    assert (
        ended.pgh_context.metadata["reason"]
        == f"end right: 违约处置回购 {disposal.number}（贷款 {loan.number}）"
    )
    assert disposal.number in pledge.release_reason


def remaining_principal_paid(disposal):
    return sum(Decimal(line["amount"]) for line in disposal.waterfall if line["what"] == "principal")


def test_buy_back_above_the_claim_pays_the_rest_to_the_borrower(
    pledged_loan, county_staff, county_cooperative
):
    loan, (pledge,) = pledged_loan()
    default = declare(county_staff, loan)
    price = default.claim + Decimal("12345.67")
    disposal = defaults.buy_back(
        actor=county_staff,
        default=default,
        pledge=pledge,
        price=price,
        executed_on=DECLARED_ON,
        source_document="回购协议",
    )
    assert [(line["to"], line["what"], Decimal(line["amount"])) for line in disposal.waterfall] == [
        ("bank", "penalty", default.penalty),
        ("bank", "interest", INTEREST_DUE),
        ("bank", "principal", LOAN_PRINCIPAL),
        ("borrower", "surplus", Decimal("12345.67")),
    ]
    assert disposal.waterfall[-1]["party"] == loan.borrower_id and disposal.waterfall[-1]["name"] == ""
    assert sum(Decimal(line["amount"]) for line in disposal.waterfall) == price
    assert Repayment.objects.get(loan=loan).amount == default.claim
    assert sum(defaults.remaining_claim(default).values()) == 0
    # nothing left to share: compensation closes the loan without touching the fund
    closing = defaults.compensate_loss(
        actor=county_staff, default=default, executed_on=DECLARED_ON, source_document="结案审批"
    )
    assert closing.amount == 0 and not LossAllocation.objects.exists()
    assert not Movement.objects.filter(kind=MovementKind.LOSS_COMPENSATION).exists()
    loan.refresh_from_db()
    assert loan.status == LoanStatus.CLOSED and loan.closed_on == DECLARED_ON


def test_a_buy_back_that_pays_the_loan_off_settles_the_default(pledged_loan, county_staff):
    # A loan past maturity: on the buy-back day the frozen claim is all the loan book asks.
    schedule = [
        (datetime.date(2026, 2, 15), Decimal("100000.00"), Decimal("900.00")),
        (datetime.date(2026, 3, 15), Decimal("100000.00"), Decimal("600.00")),
        (datetime.date(2026, 4, 15), Decimal("100000.00"), Decimal("300.00")),
    ]
    loan, (pledge, second) = pledged_loan(rights=2, installments=schedule)
    default = declare(county_staff, loan)
    assert default.outstanding_interest == Decimal("1800.00")
    disposal = defaults.buy_back(
        actor=county_staff,
        default=default,
        pledge=pledge,
        price=default.claim + Decimal("1.00"),
        executed_on=DECLARED_ON,
        source_document="回购协议",
    )
    assert disposal.waterfall[-1] == {
        "to": "borrower",
        "party": loan.borrower_id,
        "name": "",
        "what": "surplus",
        "amount": "1.00",
    }
    loan.refresh_from_db()
    default.refresh_from_db()
    second.refresh_from_db()
    assert loan.status == LoanStatus.PAID_OFF and default.status == DefaultStatus.SETTLED
    assert second.status == PledgeStatus.RELEASED  # the loan book releases the other pledge on payoff
    assert loans.position(loan, as_of=DECLARED_ON).outstanding_principal == 0


@pytest.mark.parametrize(
    ("price", "day", "document", "field"),
    [
        ("0", EXECUTED_ON, "协议", "price"),
        ("12.345", EXECUTED_ON, "协议", "price"),
        ("1000", datetime.date(2099, 1, 1), "协议", "executed_on"),
        ("1000", datetime.date(2026, 5, 31), "协议", "executed_on"),  # before the declaration
        ("1000", EXECUTED_ON, " ", "source_document"),
    ],
)
def test_bad_buy_backs_leave_nothing_behind(pledged_loan, county_staff, price, day, document, field):
    loan, (pledge,) = pledged_loan()
    default = declare(county_staff, loan)
    with pytest.raises(DomainError) as refused:
        defaults.buy_back(
            actor=county_staff,
            default=default,
            pledge=pledge,
            price=price,
            executed_on=day,
            source_document=document,
        )
    assert field in refused.value.fields
    pledge.refresh_from_db()
    assert pledge.status == PledgeStatus.ACTIVE and pledge.right.status == RightStatus.ACTIVE
    assert not Disposal.objects.exists() and not Movement.objects.exists() and not Repayment.objects.exists()


def test_buy_back_refuses_another_loans_pledge_a_used_pledge_and_a_bank(
    pledged_loan, county_staff, bank_officer
):
    loan, (pledge,) = pledged_loan()
    _other_loan, (foreign,) = pledged_loan()
    default = declare(county_staff, loan)
    args = dict(default=default, price="1000.00", executed_on=EXECUTED_ON, source_document="协议")
    with pytest.raises(DomainError) as foreign_refused:
        defaults.buy_back(actor=county_staff, pledge=foreign, **args)
    assert "pledge" in foreign_refused.value.fields
    with pytest.raises(PermissionDeniedError):
        defaults.buy_back(actor=bank_officer, pledge=pledge, **args)
    defaults.buy_back(actor=county_staff, pledge=pledge, **args)
    with pytest.raises(ConflictError) as again:
        defaults.buy_back(actor=county_staff, pledge=pledge, **args)
    assert again.value.code == "pledge_not_active"
    assert Disposal.objects.count() == 1


# --- loss compensation --------------------------------------------------------------------------


def test_loss_is_split_exactly_and_the_fund_pays_its_share(
    pledged_loan, funded, fund, county_staff, county_cooperative, guarantor, government, bank, second_bank
):
    # The scheme names a reference bank (here another bank); the loss falls on the loan's own bank.
    scheme = risk.default_scheme(
        actor=county_staff,
        division=county_cooperative.division,
        fund=fund,
        guarantor_party=ensure_party(guarantor),
        cooperative_party=ensure_party(county_cooperative),
        bank_party=ensure_party(second_bank),
    )
    funded(Decimal("50000.00"))
    loan, (first, second) = pledged_loan(scheme=scheme, rights=2)
    default = declare(county_staff, loan)
    for pledge, price in ((first, "120000.00"), (second, "80000.00")):
        defaults.buy_back(
            actor=county_staff,
            default=default,
            pledge=pledge,
            price=price,
            executed_on=EXECUTED_ON,
            source_document="协议",
        )
    loss = default.claim - Decimal("200000.00")
    with pytest.raises(ConflictError) as settled_too_early:
        defaults.declare_default(actor=county_staff, loan=loan, reason="再次")
    assert settled_too_early.value.code == "already_declared"
    disposal = defaults.compensate_loss(
        actor=county_staff, default=default, executed_on=EXECUTED_ON, source_document="代偿审批 2026-07"
    )
    assert disposal.method == DisposalMethod.RISK_COMPENSATION and disposal.amount == loss
    allocations = {a.role: a for a in disposal.allocations.all()}
    expected = {share.role: amount for share, amount in risk.split_loss(scheme, loss)}
    assert {role: a.amount for role, a in allocations.items()} == expected
    assert sum(a.amount for a in allocations.values()) == loss
    for role, share in ((RiskRole.GUARANTOR, "0.4"), (RiskRole.COOPERATIVE, "0.3"), (RiskRole.BANK, "0.2")):
        assert abs(allocations[role].amount - loss * Decimal(share)) < Decimal("0.01")
    assert allocations[RiskRole.BANK].party == ensure_party(bank) != ensure_party(second_bank)
    assert allocations[RiskRole.GUARANTOR].party == ensure_party(guarantor)
    fund_part = allocations[RiskRole.GOVERNMENT_FUND].amount
    assert risk.fund_balance(fund) == Decimal("50000.00") - fund_part == fund_total(fund)
    paid = Movement.objects.filter(kind=MovementKind.LOSS_COMPENSATION, reference=disposal.number)
    assert paid.count() == 2
    lines = {
        (p.account.kind, p.account.party_id): p.amount
        for p in Posting.objects.filter(movement__in=paid).select_related("account")
    }
    manager, coop = ensure_party(government), ensure_party(county_cooperative)
    assert lines == {
        (AccountKind.FUND_COMPENSATION, manager.pk): fund_part,
        (AccountKind.RISK_FUND, manager.pk): -fund_part,
        (AccountKind.LOSS_COST, coop.pk): allocations[RiskRole.COOPERATIVE].amount,
        (AccountKind.CASH, coop.pk): -allocations[RiskRole.COOPERATIVE].amount,
    }
    loan.refresh_from_db()
    default.refresh_from_db()
    assert default.status == DefaultStatus.SETTLED
    assert loan.status == LoanStatus.CLOSED and loan.closed_on == EXECUTED_ON
    with pytest.raises(ConflictError) as twice:
        defaults.compensate_loss(
            actor=county_staff, default=default, executed_on=EXECUTED_ON, source_document="x"
        )
    assert twice.value.code == "settled"


def test_insufficient_fund_is_refused_with_the_shortfall_and_nothing_written(
    pledged_loan, scheme, funded, fund, county_staff
):
    funded(Decimal("100.00"))
    loan, (pledge,) = pledged_loan(scheme=scheme)
    default = declare(county_staff, loan)
    defaults.buy_back(
        actor=county_staff,
        default=default,
        pledge=pledge,
        price="100000.00",
        executed_on=EXECUTED_ON,
        source_document="协议",
    )
    movements, disposals = Movement.objects.count(), Disposal.objects.count()
    loss = sum(defaults.remaining_claim(default).values())
    fund_part = {s.role: a for s, a in risk.split_loss(scheme, loss)}[RiskRole.GOVERNMENT_FUND]
    with pytest.raises(ConflictError) as refused:
        defaults.compensate_loss(
            actor=county_staff, default=default, executed_on=EXECUTED_ON, source_document="代偿"
        )
    assert refused.value.code == "fund_insufficient"
    assert str(fund_part - Decimal("100.00")) in str(refused.value.detail) and "fund" in refused.value.fields
    assert Movement.objects.count() == movements and Disposal.objects.count() == disposals
    assert not LossAllocation.objects.exists() and risk.fund_balance(fund) == Decimal("100.00")
    loan.refresh_from_db()
    default.refresh_from_db()
    assert loan.status == LoanStatus.DEFAULTED and default.status == DefaultStatus.DECLARED
    # once the fund is topped up, the same step goes through and the balance still adds up
    funded(fund_part, reference="财政追加")
    defaults.compensate_loss(
        actor=county_staff, default=default, executed_on=EXECUTED_ON, source_document="代偿"
    )
    assert risk.fund_balance(fund) == Decimal("100.00") == fund_total(fund)


def test_compensation_needs_a_scheme_and_no_open_pledge(pledged_loan, county_staff):
    loan, (pledge,) = pledged_loan()  # product without a scheme
    default = declare(county_staff, loan)
    with pytest.raises(ConflictError) as pledged:
        defaults.compensate_loss(
            actor=county_staff, default=default, executed_on=EXECUTED_ON, source_document="x"
        )
    assert pledged.value.code == "pledges_open" and pledge.number in str(pledged.value.detail)
    defaults.buy_back(
        actor=county_staff,
        default=default,
        pledge=pledge,
        price="1000.00",
        executed_on=EXECUTED_ON,
        source_document="x",
    )
    with pytest.raises(ConflictError) as no_scheme:
        defaults.compensate_loss(
            actor=county_staff, default=default, executed_on=EXECUTED_ON, source_document="x"
        )
    assert no_scheme.value.code == "no_risk_scheme" and "风险分担方案" in str(no_scheme.value.detail)
    assert Disposal.objects.filter(method=DisposalMethod.RISK_COMPENSATION).count() == 0


def test_borrower_repayment_after_the_declaration_reduces_the_claim(pledged_loan, county_staff, bank_officer):
    loan, _pledges = pledged_loan()
    default = declare(county_staff, loan)
    loans.record_repayment(
        actor=bank_officer, loan=loan, amount="2000.00", paid_on=datetime.date(2026, 6, 10)
    )
    left = defaults.remaining_claim(default)
    assert sum(left.values()) == default.claim - Decimal("2000.00")
    assert left["principal"] == LOAN_PRINCIPAL  # taken from penalty and interest first
