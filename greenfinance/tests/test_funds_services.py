# ruff: noqa: F811  (fixtures imported from fixtures_funds)
"""Green funds services: every rule and refusal, with nothing half-written after a refusal."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, Notification, Organization, OrganizationKind, Role
from directory.services import ensure_party
from greenfinance.models import (
    FundCommitment,
    FundKind,
    FundMovement,
    FundMovementKind,
    FundStatus,
    GreenFund,
)
from greenfinance.services import funds
from projects.models import ProjectStatus
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import AccountKind, Movement, MovementKind, Posting

from .fixtures_funds import (  # noqa: F401  (fixtures)
    ISSUED,
    LATER,
    PAID,
    active_fund,
    assert_books_agree,
    bureau,
    commitment,
    fund,
    ledger_cash,
    loan,
    make_fund,
    project,
)

pytestmark = pytest.mark.django_db
K = FundMovementKind


def counts():
    return (
        GreenFund.objects.count(),
        FundCommitment.objects.count(),
        FundMovement.objects.count(),
        Movement.objects.count(),
        Posting.objects.count(),
    )


def refused(error_class, call, code=None, field=None):
    """Run `call`, expect `error_class` and that nothing was written."""
    before = counts()
    with pytest.raises(error_class) as caught:
        call()
    assert counts() == before
    if code is not None:
        assert caught.value.code == code
    if field is not None:
        assert field in caught.value.fields
    return caught.value


# --- funds ------------------------------------------------------------------------------------


def test_create_fund_numbers_it_and_starts_raising(make_fund, county_cooperative):
    first, second = make_fund(), make_fund(kind=FundKind.GREEN_BOND, name="丽水绿色债券（测试）")
    assert first.number == f"LJ{timezone.localdate().year}000001"
    assert second.number.endswith("000002")
    assert first.status == FundStatus.RAISING and first.manager == county_cooperative
    assert second.coupon_rate == Decimal("0.035") and second.maturity_date == datetime.date(2029, 2, 1)
    assert funds.fund_position(first)["cash"] == Decimal("0.00")


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"size": "-1"}, "size"),
        ({"size": "0"}, "size"),
        ({"size": "12.345"}, "size"),
        ({"size": "abc"}, "size"),
        ({"issue_date": datetime.date(2099, 1, 1)}, "issue_date"),
        ({"issue_date": "2026-01-01"}, "issue_date"),
        ({"name": "  "}, "name"),
        ({"kind": "lottery"}, "kind"),
        ({"purpose": ""}, "purpose"),
        ({"source": "x" * 301}, "source"),
        ({"maturity_date": datetime.date(2025, 1, 1)}, "maturity_date"),
        ({"coupon_rate": "1.5"}, "coupon_rate"),
        ({"coupon_rate": "0.0000001"}, "coupon_rate"),
        ({"coupon_rate": "-0.01"}, "coupon_rate"),
        ({"kind": FundKind.GREEN_BOND, "maturity_date": None}, "maturity_date"),
        ({"manager": None}, "manager"),
        ({"division": None}, "division"),
    ],
)
def test_create_fund_refuses_bad_input(make_fund, fields, field):
    if fields.get("kind") == FundKind.GREEN_BOND:
        error = refused(DomainError, lambda: make_fund(**fields, coupon_rate=None))
    else:
        error = refused(DomainError, lambda: make_fund(**fields))
    assert field in error.fields


def test_create_fund_needs_the_desk_of_the_division(make_fund, bank_officer, make_member, county_cooperative):
    qingtian = AdministrativeDivision.objects.get(code="331121000000")
    refused(PermissionDeniedError, lambda: make_fund(actor=bank_officer))
    refused(PermissionDeniedError, lambda: make_fund(division=qingtian))  # county staff of 莲都区
    auditor = make_member(Role.AUDITOR, county_cooperative)
    refused(PermissionDeniedError, lambda: make_fund(actor=auditor))
    inactive = Organization.objects.create(
        name="停用机构",
        kind=OrganizationKind.ENTERPRISE,
        division=county_cooperative.division,
        is_active=False,
    )
    refused(DomainError, lambda: make_fund(manager=inactive), field="manager")


# --- commitments and contributions ------------------------------------------------------------


def test_commitments_stay_within_size_and_one_per_contributor(fund, county_staff, bureau, bank):
    def commit(who, amount):
        return funds.record_commitment(
            actor=county_staff,
            fund=fund,
            contributor=who,
            amount=amount,
            committed_on=ISSUED,
            document="协议",
        )

    commit(bureau, Decimal("6000000.00"))
    error = refused(ConflictError, lambda: commit(bureau, Decimal("1.00")), code="duplicate_commitment")
    assert "已认缴" in str(error.detail)
    error = refused(ConflictError, lambda: commit(bank, Decimal("4000000.01")), code="over_size")
    assert "4000000.00" in str(error.detail)
    commit(bank, Decimal("4000000.00"))
    refused(DomainError, lambda: commit(ensure_party(bank), Decimal("0")), field="amount")
    assert funds.fund_position(fund)["committed"] == fund.size
    refused(
        DomainError,
        lambda: funds.record_commitment(
            actor=county_staff,
            fund=fund,
            contributor=Organization.objects.filter(kind=OrganizationKind.GUARANTOR).first(),
            amount=Decimal("1"),
            committed_on=datetime.date(2099, 1, 1),
            document="协议",
        ),
    )


def test_first_contribution_activates_and_posts_cash_against_capital(fund, commitment, county_staff, bureau):
    assert fund.status == FundStatus.RAISING
    movement = funds.record_contribution(
        actor=county_staff,
        commitment=commitment,
        amount=Decimal("1000000.00"),
        occurred_on=PAID,
        reference="CZ-1",
    )
    fund.refresh_from_db()
    assert fund.status == FundStatus.ACTIVE
    assert movement.kind == K.CONTRIBUTION and movement.cash_effect == Decimal("1000000.00")
    assert movement.movement.kind == MovementKind.GREEN_FUND_CONTRIBUTION
    lines = {
        (p.account.kind, p.account.party_id, p.account.sub_account): p.amount
        for p in movement.movement.postings.select_related("account")
    }
    manager = ensure_party(fund.manager)
    assert lines == {
        (AccountKind.GREEN_FUND_CASH, manager.pk, fund.number): Decimal("1000000.00"),
        (AccountKind.GREEN_FUND_CAPITAL, ensure_party(bureau).pk, fund.number): Decimal("-1000000.00"),
    }
    assert assert_books_agree(fund)["paid_in"] == Decimal("1000000.00")


def test_contribution_refusals(fund, commitment, county_staff):
    def pay(amount="1000.00", occurred_on=PAID, reference="R", actor=county_staff):
        return funds.record_contribution(
            actor=actor, commitment=commitment, amount=amount, occurred_on=occurred_on, reference=reference
        )

    refused(DomainError, lambda: pay(occurred_on=ISSUED - datetime.timedelta(days=1)), field="occurred_on")
    refused(DomainError, lambda: pay(occurred_on=timezone.localdate() + datetime.timedelta(days=1)))
    refused(DomainError, lambda: pay(amount="0.001"), field="amount")
    refused(DomainError, lambda: pay(reference="x" * 61), field="reference")
    error = refused(ConflictError, lambda: pay(amount="5000000.01"), code="over_commitment")
    assert "5000000.00" in str(error.detail)
    pay(amount="4000000.00", reference="CZ-A")
    refused(ConflictError, lambda: pay(amount="1.00", reference="CZ-A"), code="duplicate_reference")
    refused(ConflictError, lambda: pay(amount="1000000.01", reference="CZ-B"), code="over_commitment")
    pay(amount="1000000.00", reference="CZ-B")  # exactly the commitment
    fund.refresh_from_db()
    assert funds.fund_position(fund)["uncalled"] == Decimal("0.00")


def test_contribution_needs_the_desk(fund, commitment, bank_officer):
    refused(
        PermissionDeniedError,
        lambda: funds.record_contribution(
            actor=bank_officer, commitment=commitment, amount="1.00", occurred_on=PAID, reference="X"
        ),
    )


# --- drawdowns, returns, write-offs -----------------------------------------------------------


def test_drawdown_to_a_project_owner_and_a_loan_borrower(active_fund, county_staff, project, loan):
    to_project = funds.draw_down(
        actor=county_staff,
        fund=active_fund,
        amount=Decimal("1200000.00"),
        occurred_on=LATER,
        recipient=project.owner,
        project=project,
        reference="TF-1",
        memo="森林康养基地建设",
    )
    to_loan = funds.draw_down(
        actor=county_staff,
        fund=active_fund,
        amount=Decimal("300000.00"),
        occurred_on=LATER,
        recipient=loan.borrower,
        loan=loan,
        reference="TF-2",
        memo="贴息贷款配资",
    )
    assert to_project.counterparty == ensure_party(project.owner) and to_project.cash_effect == Decimal(
        "-1200000.00"
    )
    assert to_loan.counterparty == loan.borrower and to_loan.loan == loan
    position = assert_books_agree(active_fund)
    assert position["cash"] == Decimal("1500000.00")
    assert position["deployed"] == Decimal("1500000.00")
    assert [(r["project"], r["outstanding"]) for r in position["projects"]] == [
        (project, Decimal("1200000.00"))
    ]
    assert [(r["loan"], r["drawn"]) for r in position["loans"]] == [(loan, Decimal("300000.00"))]
    deployed = Posting.objects.get(movement=to_loan.movement, account__kind=AccountKind.GREEN_FUND_DEPLOYED)
    assert deployed.account.party == loan.borrower and deployed.amount == Decimal("300000.00")


def test_drawdown_refusals(active_fund, county_staff, project, loan, make_project, bank):
    def draw(amount="1000.00", occurred_on=LATER, reference="", **kwargs):
        kwargs.setdefault("recipient", project.owner)
        kwargs.setdefault("project", project)
        return funds.draw_down(
            actor=county_staff,
            fund=active_fund,
            amount=amount,
            occurred_on=occurred_on,
            reference=reference,
            memo="投放",
            **kwargs,
        )

    refused(DomainError, lambda: draw(project=None), field="project")
    refused(DomainError, lambda: draw(recipient=bank), field="recipient")
    refused(DomainError, lambda: draw(project=None, loan=loan, recipient=project.owner), field="recipient")
    refused(DomainError, lambda: draw(loan=loan), field="loan")  # the project's owner is not the borrower
    draft = make_project()
    refused(DomainError, lambda: draw(project=draft), field="project")
    elsewhere = make_project(
        status=ProjectStatus.ADMITTED, division=AdministrativeDivision.objects.get(code="331121000000")
    )
    refused(DomainError, lambda: draw(project=elsewhere), field="project")
    error = refused(ConflictError, lambda: draw(amount="3000000.01"), code="insufficient_cash")
    assert "3000000.00" in str(error.detail) and "0.01" in str(error.detail)
    # the money arrived on 1 March: a drawdown dated before it has nothing to draw on
    error = refused(
        ConflictError, lambda: draw(occurred_on=PAID - datetime.timedelta(days=1)), code="insufficient_cash"
    )
    assert "0.00" in str(error.detail)
    loan.status = "paid_off"
    loan.save(update_fields=["status"])
    refused(DomainError, lambda: draw(project=None, loan=loan, recipient=loan.borrower), field="loan")
    draw(amount="3000000.00", reference="ALL")
    refused(ConflictError, lambda: draw(amount="0.01"), code="insufficient_cash")
    refused(ConflictError, lambda: draw(amount="0.01", reference="ALL"), code="duplicate_reference")
    assert assert_books_agree(active_fund)["cash"] == Decimal("0.00")


def test_a_backdated_payment_cannot_spend_cash_a_later_day_needs(active_fund, county_staff, project):
    """Cash on 1 March: 3,000,000. Drawn 2,500,000 on 1 June. A 1,000,000 expense dated 1 April
    would leave −500,000 from 1 June on, so it is refused though 1 April alone could pay it."""
    funds.draw_down(
        actor=county_staff,
        fund=active_fund,
        amount=Decimal("2500000.00"),
        occurred_on=LATER,
        recipient=project.owner,
        project=project,
        memo="投放",
    )
    error = refused(
        ConflictError,
        lambda: funds.record_expense(
            actor=county_staff,
            fund=active_fund,
            amount="1000000.00",
            occurred_on=datetime.date(2026, 4, 1),
            memo="管理费",
        ),
        code="insufficient_cash",
    )
    assert "500000.00" in str(error.detail)
    funds.record_expense(
        actor=county_staff,
        fund=active_fund,
        amount="500000.00",
        occurred_on=datetime.date(2026, 4, 1),
        memo="管理费",
    )
    assert assert_books_agree(active_fund)["cash"] == Decimal("0.00")


def test_drawdown_needs_an_active_fund_and_no_maturity(fund, make_fund, county_staff, project, bureau):
    refused(
        ConflictError,
        lambda: funds.draw_down(
            actor=county_staff,
            fund=fund,
            amount="1",
            occurred_on=LATER,
            recipient=project.owner,
            project=project,
            memo="x",
        ),
        code="fund_status",
    )
    bond = make_fund(kind=FundKind.GREEN_BOND, maturity_date=datetime.date(2026, 5, 1))
    subscription = funds.record_commitment(
        actor=county_staff,
        fund=bond,
        contributor=bureau,
        amount="100.00",
        committed_on=ISSUED,
        document="认购",
    )
    funds.record_contribution(actor=county_staff, commitment=subscription, amount="100.00", occurred_on=PAID)
    refused(
        DomainError,
        lambda: funds.draw_down(
            actor=county_staff,
            fund=bond,
            amount="1",
            occurred_on=LATER,
            recipient=project.owner,
            project=project,
            memo="x",
        ),
        field="occurred_on",
    )


def test_returns_and_write_offs_stay_within_the_outstanding(active_fund, county_staff, project):
    drawdown = funds.draw_down(
        actor=county_staff,
        fund=active_fund,
        amount=Decimal("1000000.00"),
        occurred_on=LATER,
        recipient=project.owner,
        project=project,
        memo="投放",
    )
    back = funds.record_return(
        actor=county_staff, drawdown=drawdown, amount="600000.00", occurred_on=LATER, reference="SH-1"
    )
    assert back.cash_effect == Decimal("600000.00") and back.drawdown == drawdown and back.project == project
    assert funds.drawdown_outstanding(drawdown) == Decimal("400000.00")
    error = refused(
        ConflictError,
        lambda: funds.record_return(
            actor=county_staff, drawdown=drawdown, amount="400000.01", occurred_on=LATER
        ),
        code="over_outstanding",
    )
    assert "400000.00" in str(error.detail)
    refused(
        DomainError,
        lambda: funds.record_return(
            actor=county_staff,
            drawdown=drawdown,
            amount="1.00",
            occurred_on=LATER - datetime.timedelta(days=1),
        ),
        field="occurred_on",
    )
    refused(
        DomainError,
        lambda: funds.record_return(actor=county_staff, drawdown=back, amount="1.00", occurred_on=LATER),
        field="drawdown",
    )
    cash_before = ledger_cash(active_fund)
    loss = funds.write_off(
        actor=county_staff,
        drawdown=drawdown,
        amount="400000.00",
        occurred_on=LATER,
        reason="项目停建，经批准核销",
    )
    assert loss.cash_effect == Decimal("0.00") and ledger_cash(active_fund) == cash_before
    refused(
        ConflictError,
        lambda: funds.write_off(
            actor=county_staff, drawdown=drawdown, amount="0.01", occurred_on=LATER, reason="再核销"
        ),
        code="over_outstanding",
    )
    refused(
        DomainError,
        lambda: funds.write_off(
            actor=county_staff, drawdown=drawdown, amount="0.01", occurred_on=LATER, reason=" "
        ),
        field="reason",
    )
    position = assert_books_agree(active_fund)
    assert position["deployed"] == Decimal("0.00") and position["losses"] == Decimal("400000.00")
    assert position["projects"][0]["written_off"] == Decimal("400000.00")
    assert position["projects"][0]["returned"] == Decimal("600000.00")
    assert position["drawdowns"] == [{"drawdown": drawdown, "outstanding": Decimal("0.00")}]


# --- income, expense, redemption --------------------------------------------------------------


def test_income_expense_and_coupon_of_a_bond(make_fund, county_staff, bureau, bank):
    bond = make_fund(kind=FundKind.GREEN_BOND, size=Decimal("2000000.00"))
    subscription = funds.record_commitment(
        actor=county_staff,
        fund=bond,
        contributor=bank,
        amount="2000000.00",
        committed_on=ISSUED,
        document="认购确认书",
    )
    funds.record_contribution(
        actor=county_staff, commitment=subscription, amount="2000000.00", occurred_on=ISSUED
    )
    interest = funds.record_income(
        actor=county_staff, fund=bond, amount="1500.00", occurred_on=PAID, memo="存款利息", counterparty=bank
    )
    coupon = funds.record_expense(
        actor=county_staff,
        fund=bond,
        amount="70000.00",
        occurred_on=LATER,
        memo="第一年付息",
        counterparty=bank,
    )
    assert interest.cash_effect == Decimal("1500.00") and coupon.cash_effect == Decimal("-70000.00")
    refused(
        DomainError,
        lambda: funds.record_income(actor=county_staff, fund=bond, amount="1", occurred_on=PAID, memo=""),
        field="memo",
    )
    refused(
        ConflictError,
        lambda: funds.record_expense(
            actor=county_staff, fund=bond, amount="1931500.01", occurred_on=LATER, memo="费"
        ),
        code="insufficient_cash",
    )
    position = assert_books_agree(bond)
    assert position["income"] == Decimal("1500.00") and position["expense"] == Decimal("70000.00")
    assert position["result"] == Decimal("-68500.00")
    assert position["cash"] == Decimal("1931500.00")


def test_redemption_within_capital_and_cash(active_fund, commitment, county_staff, project, bank):
    def redeem(amount, reference=""):
        return funds.redeem(
            actor=county_staff, commitment=commitment, amount=amount, occurred_on=LATER, reference=reference
        )

    error = refused(ConflictError, lambda: redeem("3000000.01"), code="over_capital")
    assert "3000000.00" in str(error.detail)
    funds.draw_down(
        actor=county_staff,
        fund=active_fund,
        amount="2000000.00",
        occurred_on=LATER,
        recipient=project.owner,
        project=project,
        memo="投放",
    )
    refused(ConflictError, lambda: redeem("1000000.01"), code="insufficient_cash")
    done = redeem("1000000.00", reference="DF-1")
    assert done.cash_effect == Decimal("-1000000.00") and done.commitment == commitment
    position = assert_books_agree(active_fund)
    assert position["contributors"][0]["redeemed"] == Decimal("1000000.00")
    assert position["contributors"][0]["capital"] == Decimal("2000000.00")
    assert position["contributors"][0]["paid_in"] == Decimal("3000000.00")


# --- reversals --------------------------------------------------------------------------------


def test_reversal_mirrors_the_movement_and_frees_the_reference(active_fund, commitment, county_staff):
    contribution = FundMovement.objects.get(fund=active_fund, kind=K.CONTRIBUTION)
    reversal = funds.reverse_fund_movement(actor=county_staff, fund_movement=contribution, reason="金额录错")
    assert reversal.kind == K.REVERSAL and reversal.reverses == contribution
    assert reversal.cash_effect == Decimal("-3000000.00") and reversal.commitment == commitment
    assert reversal.movement.reverses == contribution.movement
    position = assert_books_agree(active_fund)
    assert position["cash"] == Decimal("0.00") and position["paid_in"] == Decimal("0.00")
    refused(
        ConflictError,
        lambda: funds.reverse_fund_movement(actor=county_staff, fund_movement=contribution, reason="再冲"),
        code="already_reversed",
    )
    refused(
        ConflictError,
        lambda: funds.reverse_fund_movement(actor=county_staff, fund_movement=reversal, reason="冲冲正"),
        code="cannot_reverse_reversal",
    )
    refused(
        DomainError,
        lambda: funds.reverse_fund_movement(actor=county_staff, fund_movement=reversal, reason=""),
        field="reason",
    )
    again = funds.record_contribution(
        actor=county_staff, commitment=commitment, amount="3000000.00", occurred_on=PAID, reference="CZ-1"
    )
    assert again.reference == "CZ-1"  # the reversed one no longer blocks its reference
    assert assert_books_agree(active_fund)["cash"] == Decimal("3000000.00")


def test_reversals_that_would_break_a_rule_are_refused(active_fund, commitment, county_staff, project):
    contribution = FundMovement.objects.get(fund=active_fund, kind=K.CONTRIBUTION)
    drawdown = funds.draw_down(
        actor=county_staff,
        fund=active_fund,
        amount="2000000.00",
        occurred_on=LATER,
        recipient=project.owner,
        project=project,
        memo="投放",
    )
    # taking the 3,000,000 back out would leave the fund 2,000,000 short
    error = refused(
        ConflictError,
        lambda: funds.reverse_fund_movement(actor=county_staff, fund_movement=contribution, reason="错"),
        code="insufficient_cash",
    )
    assert "2000000.00" in str(error.detail)
    back = funds.record_return(actor=county_staff, drawdown=drawdown, amount="500000.00", occurred_on=LATER)
    refused(
        ConflictError,
        lambda: funds.reverse_fund_movement(actor=county_staff, fund_movement=drawdown, reason="错"),
        code="has_followups",
    )
    funds.reverse_fund_movement(actor=county_staff, fund_movement=back, reason="收回录错")
    assert funds.drawdown_outstanding(drawdown) == Decimal("2000000.00")
    funds.reverse_fund_movement(actor=county_staff, fund_movement=drawdown, reason="投放录错")
    assert funds.drawdown_outstanding(drawdown) == Decimal("0.00")
    refused(
        ConflictError,
        lambda: funds.record_return(actor=county_staff, drawdown=drawdown, amount="1.00", occurred_on=LATER),
        code="already_reversed",
    )
    funds.redeem(actor=county_staff, commitment=commitment, amount="100.00", occurred_on=LATER)
    refused(
        ConflictError,
        lambda: funds.reverse_fund_movement(actor=county_staff, fund_movement=contribution, reason="错"),
        code="capital_redeemed",
    )
    position = assert_books_agree(active_fund)
    assert position["deployed"] == Decimal("0.00") and position["projects"][0]["drawn"] == Decimal("0.00")


# --- closing ----------------------------------------------------------------------------------


def test_close_only_when_empty_then_nothing_more(
    active_fund, commitment, county_staff, checker, django_capture_on_commit_callbacks
):
    error = refused(
        ConflictError, lambda: funds.close_fund(actor=county_staff, fund=active_fund), code="fund_not_empty"
    )
    assert "3000000.00" in str(error.detail)
    funds.redeem(actor=county_staff, commitment=commitment, amount="3000000.00", occurred_on=LATER)
    with django_capture_on_commit_callbacks(execute=True):
        closed = funds.close_fund(actor=county_staff, fund=active_fund)
    assert closed.status == FundStatus.CLOSED
    assert Notification.objects.filter(recipient=checker, title__contains="已清算").exists()
    refused(ConflictError, lambda: funds.close_fund(actor=county_staff, fund=active_fund))
    refused(
        ConflictError,
        lambda: funds.record_income(
            actor=county_staff, fund=active_fund, amount="1", occurred_on=LATER, memo="利息"
        ),
        code="fund_status",
    )
    refused(
        ConflictError,
        lambda: funds.record_commitment(
            actor=county_staff,
            fund=active_fund,
            contributor=active_fund.manager,
            amount="1",
            committed_on=LATER,
            document="x",
        ),
        code="fund_status",
    )


def test_a_raising_fund_only_takes_capital(fund, commitment, county_staff):
    refused(
        ConflictError,
        lambda: funds.record_income(actor=county_staff, fund=fund, amount="1", occurred_on=PAID, memo="利息"),
        code="fund_status",
    )
    refused(
        ConflictError,
        lambda: funds.redeem(actor=county_staff, commitment=commitment, amount="1", occurred_on=PAID),
        code="fund_status",
    )
    funds.close_fund(actor=county_staff, fund=fund)  # raised nothing: it can be wound up
    fund.refresh_from_db()
    assert fund.status == FundStatus.CLOSED


def test_drawdown_notifies_the_other_desk_staff(
    active_fund, county_staff, checker, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        funds.draw_down(
            actor=county_staff,
            fund=active_fund,
            amount="1000.00",
            occurred_on=LATER,
            recipient=project.owner,
            project=project,
            memo="投放",
        )
    note = Notification.objects.get(recipient=checker)
    assert "1000.00" in note.title and note.link == active_fund.get_absolute_url()
    assert not Notification.objects.filter(recipient=county_staff, title__contains="基金投放").exists()


def test_position_reads_in_a_fixed_number_of_queries(
    active_fund, county_staff, project, loan, bank, django_assert_num_queries
):
    for n in range(3):
        funds.draw_down(
            actor=county_staff,
            fund=active_fund,
            amount="1000.00",
            occurred_on=LATER,
            recipient=project.owner,
            project=project,
            memo=f"投放{n}",
        )
        funds.draw_down(
            actor=county_staff,
            fund=active_fund,
            amount="500.00",
            occurred_on=LATER,
            recipient=loan.borrower,
            loan=loan,
            memo=f"配资{n}",
        )
    funds.record_commitment(
        actor=county_staff,
        fund=active_fund,
        contributor=bank,
        amount="100.00",
        committed_on=LATER,
        document="x",
    )
    with django_assert_num_queries(5):
        position = funds.fund_position(active_fund)
    assert position["deployed"] == Decimal("4500.00") and len(position["drawdowns"]) == 6
    assert [row["committed"] for row in position["contributors"]] == [
        Decimal("5000000.00"),
        Decimal("100.00"),
    ]
