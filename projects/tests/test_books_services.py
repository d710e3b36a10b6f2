# ruff: noqa: F811  (fixtures imported from fixtures_red_lines)
"""The cooperative's own books: capital, borrowings per lender, equity stakes and their disposal,
all through the ledger; bad input and permissions leave nothing behind."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from directory.models import Organization, OrganizationKind
from directory.services import ensure_party
from projects.models import Borrowing, BorrowingKind, EquityStake
from projects.services import books
from tmcs.errors import ConflictError, DomainError, PermissionDeniedError
from transactions.models import AccountKind, Movement, MovementKind
from transactions.services import ledger

from .fixtures_red_lines import (  # noqa: F401  (fixtures)
    LATER,
    PAST,
    borrow,
    capital,
    firm,
    invest,
    lender,
    second_lender,
    village_clerk,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def balance(kind, cooperative):
    return ledger.balance(kind, ensure_party(cooperative))


def test_capital_posts_cash_and_paid_in_capital(capital, county_cooperative):
    movement = capital("1000000.50")
    assert movement.kind == MovementKind.CAPITAL_CONTRIBUTION and movement.occurred_on == PAST
    assert "国资出资（测试）" in movement.memo and movement.reference == "ZB-1000000.50"
    assert balance(AccountKind.CASH, county_cooperative) == Decimal("1000000.50")
    assert balance(AccountKind.PAID_IN_CAPITAL, county_cooperative) == Decimal("-1000000.50")
    sheet = books.balance_sheet(county_cooperative)
    assert sheet["total_assets"] == Decimal("1000000.50") and sheet["net_assets"] == Decimal("1000000.50")
    assert sheet["paid_in_capital"] == Decimal("1000000.50") and sheet["total_liabilities"] == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"occurred_on": datetime.date(2099, 1, 1)}, "occurred_on"),
        ({"occurred_on": "2026-01-01"}, "occurred_on"),
        ({"reference": "  "}, "reference"),
        ({"reference": "x" * 61}, "reference"),
        ({"memo": ""}, "memo"),
    ],
)
def test_capital_bad_input_writes_nothing(county_staff, county_cooperative, changes, field):
    values = dict(amount="100", occurred_on=PAST, reference="R", memo="出资")
    values.update(changes)
    with pytest.raises(DomainError) as info:
        books.record_capital(actor=county_staff, cooperative=county_cooperative, **values)
    assert field in info.value.fields
    assert Movement.objects.count() == 0


def test_only_cooperatives_and_their_staff(
    county_staff, city_cooperative, county_cooperative, investor_org, village_clerk, investor
):
    values = dict(amount="100", occurred_on=PAST, reference="R", memo="出资")
    with pytest.raises(DomainError) as info:
        books.record_capital(actor=county_staff, cooperative=investor_org, **values)
    assert "cooperative" in info.value.fields
    with pytest.raises(PermissionDeniedError):  # the county desk does not keep the city's books
        books.record_capital(actor=county_staff, cooperative=city_cooperative, **values)
    for outsider in (village_clerk, investor):
        with pytest.raises(PermissionDeniedError):
            books.record_capital(actor=outsider, cooperative=county_cooperative, **values)
    county_cooperative.is_active = False
    county_cooperative.save()
    with pytest.raises(DomainError):
        books.record_capital(actor=county_staff, cooperative=county_cooperative, **values)
    assert Movement.objects.count() == 0


def test_same_token_records_once_and_a_different_body_is_refused(
    county_staff, county_cooperative, lender, second_lender
):
    values = dict(
        actor=county_staff, cooperative=county_cooperative, occurred_on=PAST, reference="R", memo="出资"
    )
    first = books.record_capital(amount="100", idempotency_key="form-1", **values)
    again = books.record_capital(amount="100", idempotency_key="form-1", **values)
    assert first.pk == again.pk
    with pytest.raises(ConflictError) as info:
        books.record_capital(amount="200", idempotency_key="form-1", **values)
    assert info.value.code == "idempotency_key_reused"
    borrowed = books.record_borrowing(lender=lender, amount="50", idempotency_key="form-1", **values)
    assert borrowed.movement_id != first.pk  # keys live per kind of record
    # the caller's key, plain: no cooperative, lender or kind of money encoded in it
    assert borrowed.movement.idempotency_key == "projects:borrow:form-1"
    assert books.record_borrowing(lender=lender, amount="50", idempotency_key="form-1", **values) == borrowed
    for changes in ({"lender": second_lender}, {"amount": "60"}):  # same key, another borrowing
        with pytest.raises(ConflictError) as info:
            books.record_borrowing(
                **{"lender": lender, "amount": "50", **changes}, idempotency_key="form-1", **values
            )
        assert info.value.code == "idempotency_key_reused"
    repaid = books.repay_borrowing(lender=lender, amount="50", idempotency_key="form-1", **values)
    assert repaid.movement.idempotency_key == "projects:repay:form-1"
    assert books.repay_borrowing(lender=lender, amount="50", idempotency_key="form-1", **values) == repaid
    long_key = "k" * 200  # a long API key is hashed into the movement's key
    assert books.record_capital(amount="1", idempotency_key=long_key, **values).pk == (
        books.record_capital(amount="1", idempotency_key=long_key, **values).pk
    )
    assert Movement.objects.count() == 4 and Borrowing.objects.count() == 2


def test_borrowing_without_a_key_records_each_time(borrow, county_cooperative, lender):
    first, second = borrow("100"), borrow("100")
    assert first.pk != second.pk and first.movement.idempotency_key is None
    assert second.movement.idempotency_key is None
    assert books.outstanding_borrowing(county_cooperative, lender) == Decimal("200.00")


def test_borrowings_per_lender_and_repayment_limit(
    borrow, county_staff, county_cooperative, lender, second_lender
):
    borrowed = borrow("100000")
    assert isinstance(borrowed, Borrowing) and borrowed.kind == BorrowingKind.BORROW
    assert (borrowed.cooperative, borrowed.lender, borrowed.amount) == (
        county_cooperative,
        lender,
        Decimal("100000"),
    )
    assert borrowed.occurred_on == PAST and borrowed.created_by == county_staff
    assert borrowed.movement.kind == MovementKind.BORROWING and lender.name in borrowed.movement.memo
    borrow("50000", who=second_lender)
    assert books.outstanding_borrowing(county_cooperative, lender) == Decimal("100000.00")
    assert books.outstanding_borrowing(county_cooperative, second_lender) == Decimal("50000.00")
    values = dict(
        actor=county_staff, cooperative=county_cooperative, occurred_on=LATER, reference="HK", memo="还款"
    )
    with pytest.raises(ConflictError) as info:
        books.repay_borrowing(lender=second_lender, amount="80000", **values)
    assert info.value.code == "repayment_exceeds_borrowing" and "50000.00" in str(info.value.detail)
    assert second_lender.name in str(info.value.detail) and "amount" in info.value.fields
    assert Borrowing.objects.count() == 2 and Movement.objects.count() == 2  # the refusal left nothing
    repaid = books.repay_borrowing(lender=second_lender, amount="50000", **values)
    assert repaid.kind == BorrowingKind.REPAY and repaid.movement.kind == MovementKind.BORROWING_REPAYMENT
    assert repaid.movement.occurred_on == repaid.occurred_on == LATER and repaid.movement.reference == "HK"
    assert books.outstanding_borrowing(county_cooperative, second_lender) == 0
    assert books.outstanding_borrowing(county_cooperative, second_lender, on=PAST) == Decimal("50000.00")
    assert balance(AccountKind.BORROWINGS, county_cooperative) == Decimal("-100000.00")
    assert balance(AccountKind.CASH, county_cooperative) == Decimal("100000.00")
    assert books.borrowings_by_lender(county_cooperative) == [
        {
            "lender_id": lender.pk,
            "lender": lender.name,
            "borrowed": Decimal("100000.00"),
            "repaid": Decimal("0.00"),
            "outstanding": Decimal("100000.00"),
            "entries": 1,
        },
        {
            "lender_id": second_lender.pk,
            "lender": second_lender.name,
            "borrowed": Decimal("50000.00"),
            "repaid": Decimal("50000.00"),
            "outstanding": Decimal("0.00"),
            "entries": 2,
        },
    ]
    on_past = books.borrowings_by_lender(county_cooperative, as_of=PAST)
    assert [(row["lender_id"], row["repaid"], row["outstanding"]) for row in on_past] == [
        (lender.pk, 0, Decimal("100000.00")),
        (second_lender.pk, 0, Decimal("50000.00")),
    ]
    with pytest.raises(ConflictError):  # nothing was ever borrowed from a third party
        books.repay_borrowing(lender=Organization.objects.get(name__contains="担保"), amount="1", **values)
    # the lender's total always agrees with the ledger's single BORROWINGS account
    assert sum(row["outstanding"] for row in books.borrowings_by_lender(county_cooperative)) == -balance(
        AccountKind.BORROWINGS, county_cooperative
    )


def test_a_reversed_movement_no_longer_counts(borrow, county_staff, county_cooperative, lender):
    kept = borrow("100000")
    mistaken = borrow("30000")
    ledger.reverse(actor=county_staff, movement=mistaken.movement, reason="重复录入")
    assert books.outstanding_borrowing(county_cooperative, lender) == Decimal("100000.00")
    assert balance(AccountKind.BORROWINGS, county_cooperative) == Decimal("-100000.00")
    [row] = books.borrowings_by_lender(county_cooperative)
    assert (row["borrowed"], row["entries"]) == (Decimal("100000.00"), 1)
    with pytest.raises(ConflictError):
        books.repay_borrowing(
            actor=county_staff,
            cooperative=county_cooperative,
            lender=lender,
            amount="100000.01",
            occurred_on=PAST,
            reference="HK",
            memo="还款",
        )
    assert Borrowing.objects.filter(pk__in=[kept.pk, mistaken.pk]).count() == 2  # rows stay, append-only


def test_borrowings_are_append_only(borrow):
    row = borrow("100")
    for change in (lambda: Borrowing.objects.filter(pk=row.pk).update(amount=1), row.delete):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    row.refresh_from_db()
    assert row.amount == Decimal("100.00")


def test_repayment_cannot_predate_the_debt_or_undo_a_later_repayment(
    borrow, county_staff, county_cooperative, lender
):
    borrow("100000", on=LATER)
    values = dict(
        actor=county_staff, cooperative=county_cooperative, lender=lender, reference="HK", memo="还款"
    )
    with pytest.raises(ConflictError):  # before the money was borrowed
        books.repay_borrowing(amount="10", occurred_on=PAST, **values)
    books.repay_borrowing(amount="100000", occurred_on=TODAY(), **values)
    with pytest.raises(ConflictError) as info:  # owed on that day, but the later repayment cleared it
        books.repay_borrowing(amount="10", occurred_on=LATER + datetime.timedelta(days=1), **values)
    assert "0.00" in str(info.value.detail)
    assert books.outstanding_borrowing(county_cooperative, lender) == 0
    assert Movement.objects.filter(kind=MovementKind.BORROWING_REPAYMENT).count() == 1
    assert Borrowing.objects.filter(kind=BorrowingKind.REPAY).count() == 1


def test_lender_must_be_another_organization(county_staff, county_cooperative, lender):
    values = dict(
        actor=county_staff,
        cooperative=county_cooperative,
        amount="1",
        occurred_on=PAST,
        reference="R",
        memo="m",
    )
    with pytest.raises(DomainError) as info:
        books.record_borrowing(lender=county_cooperative, **values)
    assert "lender" in info.value.fields
    with pytest.raises(DomainError) as info:
        books.record_borrowing(lender=None, **values)
    assert "lender" in info.value.fields
    with pytest.raises(DomainError) as info:
        books.repay_borrowing(lender=county_cooperative, **values)
    assert "lender" in info.value.fields
    for changes, field in (({"amount": "0"}, "amount"), ({"memo": " "}, "memo")):
        with pytest.raises(DomainError) as info:
            books.record_borrowing(lender=lender, **{**values, **changes})
        assert field in info.value.fields
    assert Movement.objects.count() == 0 and Borrowing.objects.count() == 0


# --- equity stakes ----------------------------------------------------------------------------


def test_stake_posts_equity_investment_at_cost(invest, county_cooperative, investor_org, county_staff):
    stake = invest("300000", share="0.25")
    assert stake.cooperative == county_cooperative and stake.investee == investor_org
    assert stake.share == Decimal("0.25") and stake.created_by == county_staff and stake.disposed_on is None
    assert stake.movement.kind == MovementKind.EQUITY_INVESTMENT and stake.movement.occurred_on == PAST
    assert balance(AccountKind.EQUITY_INVESTMENTS, county_cooperative) == Decimal("300000.00")
    assert balance(AccountKind.CASH, county_cooperative) == Decimal("-300000.00")
    assert stake.get_absolute_url() == f"/projects/stakes/{stake.pk}/"


def test_one_open_stake_per_investee(invest, county_staff, investor_org, firm):
    stake = invest("100000")
    with pytest.raises(ConflictError) as info:
        invest("50000")
    assert info.value.code == "duplicate_stake" and investor_org.name in str(info.value.detail)
    assert "investee" in info.value.fields
    assert EquityStake.objects.count() == 1 and Movement.objects.count() == 1
    invest("50000", investee=firm)  # another firm is fine
    books.dispose_equity_stake(
        actor=county_staff, stake=stake, proceeds="100000", disposed_on=LATER, reference="TC"
    )
    again = invest("80000", on=LATER)  # after the exit a new stake may be registered
    assert again.pk != stake.pk and EquityStake.objects.filter(disposed_on__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"share": "0"}, "share"),
        ({"share": "1.5"}, "share"),
        ({"share": "0.1234567"}, "share"),
        ({"share": "三成"}, "share"),
        ({"amount": "0"}, "amount"),
        ({"acquired_on": datetime.date(2099, 1, 1)}, "acquired_on"),
        ({"source_document": ""}, "source_document"),
        ({"reference": ""}, "reference"),
        ({"investee": None}, "investee"),
    ],
)
def test_stake_bad_input_writes_nothing(county_staff, county_cooperative, investor_org, changes, field):
    values = dict(
        investee=investor_org,
        amount="100",
        share="0.3",
        acquired_on=PAST,
        source_document="纪要",
        reference="R",
    )
    values.update(changes)
    with pytest.raises(DomainError) as info:
        books.record_equity_stake(actor=county_staff, cooperative=county_cooperative, **values)
    assert field in info.value.fields
    assert EquityStake.objects.count() == 0 and Movement.objects.count() == 0


def test_stake_investee_rules(county_staff, county_cooperative, city_cooperative):
    values = dict(amount="100", share="0.3", acquired_on=PAST, source_document="纪要", reference="R")
    with pytest.raises(DomainError) as info:
        books.record_equity_stake(
            actor=county_staff, cooperative=county_cooperative, investee=county_cooperative, **values
        )
    assert "investee" in info.value.fields
    government = Organization.objects.create(
        name="莲都区财政局（测试）", kind=OrganizationKind.GOVERNMENT, division=county_cooperative.division
    )
    with pytest.raises(DomainError):
        books.record_equity_stake(
            actor=county_staff, cooperative=county_cooperative, investee=government, **values
        )
    with pytest.raises(PermissionDeniedError):
        books.record_equity_stake(
            actor=county_staff, cooperative=city_cooperative, investee=county_cooperative, **values
        )
    assert EquityStake.objects.count() == 0 and Movement.objects.count() == 0


def test_stake_form_submitted_twice_records_once(county_staff, county_cooperative, investor_org, firm):
    values = dict(
        actor=county_staff,
        cooperative=county_cooperative,
        amount="100",
        share="0.3",
        acquired_on=PAST,
        source_document="纪要",
        reference="R",
    )
    first = books.record_equity_stake(investee=investor_org, idempotency_key="tok", **values)
    assert books.record_equity_stake(investee=investor_org, idempotency_key="tok", **values).pk == first.pk
    with pytest.raises(ConflictError):
        books.record_equity_stake(investee=firm, idempotency_key="tok", **values)
    assert EquityStake.objects.count() == 1 and Movement.objects.count() == 1


def test_disposal_with_gain_loss_and_nothing_back(invest, county_staff, county_cooperative, firm):
    result = books.DISPOSAL_RESULT_ACCOUNT
    gain = invest("100000")
    books.dispose_equity_stake(
        actor=county_staff, stake=gain, proceeds="130000", disposed_on=LATER, reference="TC-1"
    )
    gain.refresh_from_db()
    assert gain.disposed_on == LATER and gain.disposal_movement.kind == MovementKind.EQUITY_DISPOSAL
    lines = {(p.account.kind, p.amount) for p in gain.disposal_movement.postings.select_related("account")}
    assert lines == {
        (AccountKind.CASH, Decimal("130000.00")),
        (AccountKind.EQUITY_INVESTMENTS, Decimal("-100000.00")),
        (result, Decimal("-30000.00")),
    }
    loss = invest("100000", investee=firm)
    books.dispose_equity_stake(
        actor=county_staff, stake=loss, proceeds="0", disposed_on=LATER, reference="TC-2"
    )
    lines = {
        (p.account.kind, p.amount)
        for p in EquityStake.objects.get(pk=loss.pk).disposal_movement.postings.select_related("account")
    }
    assert lines == {(AccountKind.EQUITY_INVESTMENTS, Decimal("-100000.00")), (result, Decimal("100000.00"))}
    assert balance(AccountKind.EQUITY_INVESTMENTS, county_cooperative) == 0
    assert balance(AccountKind.CASH, county_cooperative) == Decimal("-70000.00")
    # 投资收益 is an income account: +30,000 − 100,000, in net assets but neither asset nor liability
    assert result == AccountKind.INVESTMENT_INCOME
    assert balance(AccountKind.INVESTMENT_INCOME, county_cooperative) == Decimal("70000.00")
    sheet = books.balance_sheet(county_cooperative)
    assert result not in sheet["assets"] and result not in sheet["liabilities"]
    assert sheet["results"][result] == Decimal("-70000.00") and sheet["result"] == Decimal("-70000.00")
    assert sheet["total_assets"] == Decimal("-70000.00") and sheet["net_assets"] == Decimal("-70000.00")
    assert sheet["net_assets"] == sheet["paid_in_capital"] + sheet["result"]


def test_disposal_rules(invest, county_staff, city_admin, county_cooperative):
    stake = invest("100000", on=LATER)
    with pytest.raises(DomainError) as info:
        books.dispose_equity_stake(
            actor=county_staff, stake=stake, proceeds="1", disposed_on=PAST, reference="TC"
        )
    assert "disposed_on" in info.value.fields
    with pytest.raises(DomainError) as info:
        books.dispose_equity_stake(
            actor=county_staff, stake=stake, proceeds="-1", disposed_on=LATER, reference="TC"
        )
    assert "proceeds" in info.value.fields
    assert Movement.objects.filter(kind=MovementKind.EQUITY_DISPOSAL).count() == 0
    books.dispose_equity_stake(
        actor=county_staff, stake=stake, proceeds="90000", disposed_on=LATER, reference="TC"
    )
    # the same disposal submitted twice returns the stake; a different one is refused
    again = books.dispose_equity_stake(
        actor=city_admin, stake=stake, proceeds="90000", disposed_on=LATER, reference="TC"
    )
    assert again.disposed_on == LATER
    with pytest.raises(ConflictError) as info:
        books.dispose_equity_stake(
            actor=county_staff, stake=stake, proceeds="95000", disposed_on=LATER, reference="TC"
        )
    assert info.value.code == "already_disposed"
    assert Movement.objects.filter(kind=MovementKind.EQUITY_DISPOSAL).count() == 1


def test_disposal_permission(invest, village_clerk, investor):
    stake = invest("100000")
    for outsider in (village_clerk, investor):
        with pytest.raises(PermissionDeniedError):
            books.dispose_equity_stake(
                actor=outsider, stake=stake, proceeds="1", disposed_on=LATER, reference="TC"
            )
    stake.refresh_from_db()
    assert stake.disposed_on is None


def test_open_stakes_by_date(invest, county_staff, firm, county_cooperative):
    kept = invest("100000")
    sold = invest("100000", investee=firm)
    books.dispose_equity_stake(
        actor=county_staff, stake=sold, proceeds="1", disposed_on=LATER, reference="TC"
    )
    assert set(books.open_stakes(county_cooperative, PAST)) == {kept, sold}
    assert set(books.open_stakes(county_cooperative, LATER)) == {kept}
    assert set(books.open_stakes(county_cooperative, PAST - datetime.timedelta(days=1))) == set()
