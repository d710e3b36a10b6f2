"""Appending to the journal. `record` is called by the services of every app inside the
transaction whose change it records, so the entry commits (and is chained) with that change or
not at all. Sequencing and chaining happen in the database at commit (see models.py)."""

import re
import secrets

from django.db import connection, transaction
from django.utils import timezone

from . import hashing
from .models import EntryKind, JournalEntry

# An 18-character resident ID or an 11-digit mainland mobile number anywhere in the public part is
# a programming error: refused before it can be chained (and then could never be removed).
PERSONAL_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|1[3-9]\d{9})(?![0-9A-Za-z])")


def _refuse_personal_numbers(*values):
    text = hashing.canonical(list(values))
    if PERSONAL_NUMBER.search(text):
        raise ValueError("personal numbers must not enter the public journal")


def record(*, kind, references, public, detail=None, actor=None):
    """Append one entry; returns it (unsequenced until the transaction commits).

    `references` are the public numbers a receipt is looked up by (certificate, contract, slip,
    asset or voucher numbers); `public` holds only what anyone may read — masked names, amounts,
    dates; `detail` the internal ids. Never pass personal data in `public` or `references`.
    """
    kind = EntryKind(kind)
    references = [str(reference) for reference in references if reference]
    public = hashing.plain(public)
    _refuse_personal_numbers(references, public)
    detail = hashing.plain({**(detail or {}), "nonce": secrets.token_hex(16)})
    if actor is not None and getattr(actor, "is_authenticated", False):
        detail["actor"] = actor.pk
    else:
        actor = None
    recorded_at = timezone.now()
    digest = hashing.detail_digest(detail)
    with transaction.atomic():
        return JournalEntry.objects.create(
            kind=kind,
            references=references,
            public=public,
            detail=detail,
            detail_digest=digest,
            content_hash=hashing.content_hash(
                kind=kind.value,
                references=references,
                recorded_at=recorded_at,
                public=public,
                detail_digest=digest,
            ),
            recorded_at=recorded_at,
            actor=actor,
        )


def sequence_pending():
    """Chain this transaction's pending entries now instead of at commit. Tests use it (their
    transaction never commits); the lock it takes is then held to the end of the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS journal_entry_sequence IMMEDIATE")
        cursor.execute("SET CONSTRAINTS journal_entry_sequence DEFERRED")
