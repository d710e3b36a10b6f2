"""Every registration, right change, pledge, contract and payment goes into the journal with the
service that makes it — with masked people and nothing when the service refuses."""

import datetime
from decimal import Decimal

import pytest

from journal.models import EntryKind, JournalEntry
from journal.services import PERSONAL_NUMBER, sequence_pending
from journal.verification import verify_chain
from resources import services as registry
from tmcs.errors import DomainError
from transactions.models import AccountKind
from transactions.services import ledger

pytestmark = pytest.mark.django_db


def _public_text(entries):
    return " ".join(str(e.public) + " ".join(e.references) for e in entries)


def test_rights_pledges_and_their_release_are_journaled_with_masked_holders(
    registered_asset, households, county_staff, bank
):
    from directory.services import ensure_party

    household = households[0]
    asset = registered_asset([(household, 1)])
    right = asset.rights.get()
    granted = JournalEntry.objects.get(kind=EntryKind.RIGHT_GRANTED, references__contains=[asset.code])
    name = household.person.name
    assert granted.public["holder"] == name[0] + "*" * (len(name) - 1)
    assert granted.public["share"] == "1/1" and granted.detail["right"] == right.pk

    pledge = registry.add_pledge(
        actor=county_staff,
        right=right,
        holder=ensure_party(bank),
        rank=1,
        secured_amount=Decimal("50000.00"),
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2027, 1, 1),
        source_document="质押合同（测试）",
        journal_references=["ZY2026000001"],
    )
    entry = JournalEntry.objects.get(kind=EntryKind.PLEDGE_REGISTERED)
    assert "ZY2026000001" in entry.references and entry.public["holder"] == bank.name
    assert entry.public["secured_amount"] == "50000.00" and entry.public["rank"] == 1

    with pytest.raises(DomainError):
        registry.release_restriction(actor=county_staff, restriction=pledge, reason="")
    assert not JournalEntry.objects.filter(kind=EntryKind.PLEDGE_RELEASED).exists()
    registry.release_restriction(actor=county_staff, restriction=pledge, reason="贷款结清")
    assert (
        JournalEntry.objects.filter(kind=EntryKind.PLEDGE_RELEASED, references__contains=[asset.code]).count()
        == 1
    )

    registry.end_right(actor=county_staff, right=right, reason="转让")
    assert JournalEntry.objects.filter(kind=EntryKind.RIGHT_ENDED).count() == 1

    entries = list(JournalEntry.objects.all())
    text = _public_text(entries)
    assert name not in text
    assert not PERSONAL_NUMBER.search(text)
    sequence_pending()
    assert verify_chain().ok


def test_a_refused_grant_leaves_no_entry(registered_asset, households, county_staff):
    asset = registered_asset([(households[0], 1)])
    before = JournalEntry.objects.count()
    with pytest.raises(DomainError):
        registry.grant_right(
            actor=county_staff,
            asset=asset,
            holder=households[1],
            kind="contract",
            share=1,
            start=datetime.date(2021, 1, 1),
            source_document="重复发包",
        )
    assert JournalEntry.objects.count() == before


def test_every_ledger_movement_is_one_payment_entry(county_staff, county_cooperative, households):
    from directory.services import ensure_party

    coop = ensure_party(county_cooperative)
    movement = ledger.post(
        actor=county_staff,
        kind="payout",
        memo="支付租金",
        lines=[
            ledger.debit(AccountKind.PAYABLE, households[0], "1200.00"),
            ledger.credit(AccountKind.CASH, coop, "1200.00"),
        ],
        reference="BANK-1",
    )
    entry = JournalEntry.objects.get(kind=EntryKind.PAYMENT)
    assert entry.references == [f"JZ{movement.pk}"] and entry.public["amount"] == "1200.00"
    reversal = ledger.reverse(actor=county_staff, movement=movement, reason="录错")
    second = JournalEntry.objects.filter(kind=EntryKind.PAYMENT).order_by("pk").last()
    assert second.references == [f"JZ{reversal.pk}"] and second.public["reverses"] == f"JZ{movement.pk}"
