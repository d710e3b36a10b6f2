"""The ledger's own guarantees, checked against PostgreSQL: balanced, append-only, idempotent."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from directory.services import ensure_party
from transactions.models import AccountKind, Movement, MovementKind, Posting
from transactions.services import ledger


@pytest.fixture
def parties(county_cooperative, investor_org):
    return ensure_party(county_cooperative), ensure_party(investor_org)


def _deposit(actor, coop, investor, amount="50000.00", key=None):
    return ledger.post(
        actor=actor,
        kind=MovementKind.DEPOSIT_RECEIVED,
        memo="保证金",
        lines=[
            ledger.debit(AccountKind.CASH, coop, Decimal(amount)),
            ledger.credit(AccountKind.DEPOSIT_HELD, investor, Decimal(amount)),
        ],
        idempotency_key=key,
    )


def test_post_and_balances(county_staff, parties):
    coop, investor = parties
    _deposit(county_staff, coop, investor)
    _deposit(county_staff, coop, investor, "0.01")
    assert ledger.balance(AccountKind.CASH, coop) == Decimal("50000.01")
    assert ledger.balance(AccountKind.DEPOSIT_HELD, investor) == Decimal("-50000.01")
    assert ledger.balances_by_party(AccountKind.DEPOSIT_HELD) == {investor.pk: Decimal("-50000.01")}


def test_unbalanced_or_sub_cent_movements_are_refused(county_staff, parties):
    coop, investor = parties
    with pytest.raises(ValueError, match="unbalanced"):
        ledger.post(
            actor=county_staff,
            kind=MovementKind.PAYOUT,
            memo="x",
            lines=[ledger.debit(AccountKind.CASH, coop, 10), ledger.credit(AccountKind.PAYABLE, investor, 9)],
        )
    with pytest.raises(ValueError, match="cent"):
        ledger.post(
            actor=county_staff,
            kind=MovementKind.PAYOUT,
            memo="x",
            lines=[
                ledger.debit(AccountKind.CASH, coop, Decimal("0.001")),
                ledger.credit(AccountKind.PAYABLE, investor, Decimal("0.001")),
            ],
        )
    assert not Movement.objects.exists()


def test_the_database_refuses_an_unbalanced_movement_at_commit(county_staff, parties):
    coop, _investor = parties
    movement = _deposit(county_staff, coop, parties[1])
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
        Posting.objects.create(
            movement=movement, account=ledger.account(AccountKind.CASH, coop), amount=Decimal("1.00")
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_movements_and_postings_are_append_only(county_staff, parties):
    movement = _deposit(county_staff, *parties)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Posting.objects.filter(movement=movement).update(amount=Decimal("1.00"))
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM transactions_movement WHERE id = %s", [movement.pk])


def test_idempotency_key_returns_the_earlier_movement(county_staff, parties):
    first = _deposit(county_staff, *parties, key="bank-ref-1")
    with pytest.raises(ledger.AlreadyPosted) as caught:
        _deposit(county_staff, *parties, key="bank-ref-1")
    assert caught.value.movement == first
    assert Movement.objects.count() == 1


def test_reversal_mirrors_and_cannot_repeat(county_staff, parties):
    coop, investor = parties
    movement = _deposit(county_staff, coop, investor)
    ledger.reverse(actor=county_staff, movement=movement, reason="录错金额")
    assert ledger.balance(AccountKind.CASH, coop) == 0
    movement.refresh_from_db()
    with pytest.raises(Exception, match="已冲正"):
        ledger.reverse(actor=county_staff, movement=movement, reason="再次")
