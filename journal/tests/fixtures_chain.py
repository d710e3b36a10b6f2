"""Building and tampering with a chain inside a test transaction."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from journal import hashing
from journal.models import JournalEntry
from journal.services import record, sequence_pending


def tamper(sql, params=()):
    """Change stored entries behind the services' back (as someone with database access could)."""
    with connection.cursor() as cursor:
        # ALTER TABLE needs no pending deferred checks (the entries' foreign keys are deferred)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE journal_journalentry DISABLE TRIGGER journal_entry_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE journal_journalentry ENABLE TRIGGER journal_entry_append_only")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def backdate(days, upto_seq):
    """Pretend entries up to `upto_seq` were sequenced `days` ago (sequenced_at is not hashed)."""
    moment = timezone.now() - datetime.timedelta(days=days)
    tamper("UPDATE journal_journalentry SET sequenced_at = %s WHERE seq <= %s", [moment, upto_seq])


@pytest.fixture
def chain(db):
    """chain(n) → n sequenced entries (payments with references CX-1 … CX-n)."""

    def make(n=5, start=1):
        for k in range(start, start + n):
            record(
                kind="payment",
                references=[f"CX-{k}"],
                public={"amount": Decimal(f"{k}.50"), "payee": "李**"},
                detail={"movement": k},
            )
        sequence_pending()
        return list(JournalEntry.objects.order_by("seq"))

    return make


def rechain_from(seq):
    """Recompute content and entry hashes from `seq` on, the way a careful forger would."""
    previous = JournalEntry.objects.filter(seq=seq - 1).values_list("entry_hash", flat=True).first()
    previous = previous or hashing.GENESIS_HASH
    for entry in JournalEntry.objects.filter(seq__gte=seq).order_by("seq"):
        digest = hashing.detail_digest(entry.detail)
        content = hashing.content_hash(
            kind=entry.kind,
            references=entry.references,
            recorded_at=entry.recorded_at,
            public=entry.public,
            detail_digest=digest,
        )
        new_hash = hashing.entry_hash(seq=entry.seq, prev_hash=previous, content_hash=content)
        tamper(
            "UPDATE journal_journalentry SET detail_digest=%s, content_hash=%s, prev_hash=%s, entry_hash=%s "
            "WHERE id=%s",
            [digest, content, previous, new_hash, entry.pk],
        )
        previous = new_hash
