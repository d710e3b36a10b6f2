"""Appending to the journal. `record` is called by the services of every app inside the
transaction whose change it records, so the entry commits (and is chained) with that change or
not at all. Sequencing and chaining happen in the database at commit (see models.py)."""

import datetime
import re
import secrets

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

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


# --- public view of entries, checkpoints, receipts -------------------------------------------------

PUBLIC_FIELDS = ("seq", "kind", "references", "recorded_at", "public", "detail_digest", "content_hash")
CHAIN_FIELDS = ("prev_hash", "entry_hash", "sequenced_at")


def public_entry(entry):
    """What anyone may read of an entry: everything needed to recompute its hashes but `detail`."""
    return {
        "seq": entry.seq,
        "kind": entry.kind,
        "kind_label": str(entry.get_kind_display()),
        "references": list(entry.references),
        "recorded_at": hashing.timestamp(entry.recorded_at),
        "public": entry.public,
        "detail_digest": entry.detail_digest,
        "content_hash": entry.content_hash,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
    }


def public_checkpoint(checkpoint):
    return {
        "day": checkpoint.day.isoformat(),
        "last_seq": checkpoint.last_seq,
        "head_hash": checkpoint.head_hash,
        "entry_count": checkpoint.entry_count,
        "signature": checkpoint.signature,
    }


def _day_bounds(day):
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def make_checkpoint(day):
    """The chain's head at the end of `day` (Asia/Shanghai), signed. Idempotent; only for days that
    are over, so no later commit can still be sequenced into them."""
    from . import signing
    from .models import JournalCheckpoint

    if day >= timezone.localdate():
        raise ValueError("a checkpoint is made only for a day that is over")
    existing = JournalCheckpoint.objects.filter(day=day).first()
    if existing:
        return existing
    start, end = _day_bounds(day)
    sequenced = JournalEntry.objects.filter(seq__isnull=False)
    head = sequenced.filter(sequenced_at__lt=end).order_by("-seq").values("seq", "entry_hash").first()
    fields = {
        "day": day,
        "last_seq": head["seq"] if head else 0,
        "head_hash": head["entry_hash"] if head else hashing.GENESIS_HASH,
        "entry_count": sequenced.filter(sequenced_at__gte=start, sequenced_at__lt=end).count(),
    }
    with transaction.atomic():
        checkpoint, _created = JournalCheckpoint.objects.get_or_create(
            day=day, defaults={**fields, "signature": signing.sign(signing.checkpoint_message(fields))}
        )
    return checkpoint


def make_checkpoints(until=None):
    """Every missing checkpoint from the first entry's day to `until` (default yesterday), after
    verifying the whole chain against the existing checkpoints. A broken chain gets no new
    checkpoint (that would bless the tampering); the oversight desk is told instead."""
    from directory.models import Membership
    from directory.permissions import ROLE_CAPABILITIES, Capability
    from directory.services import notify

    from .models import JournalCheckpoint
    from .verification import verify_chain

    until = until or timezone.localdate() - datetime.timedelta(days=1)
    result = verify_chain()
    if not result.ok:
        # the chain is platform-wide: every oversight holder hears of it, wherever they sit
        roles = [role for role, held in ROLE_CAPABILITIES.items() if Capability.MANAGE_OVERSIGHT in held]
        recipients = {
            m.user.pk: m.user
            for m in Membership.objects.filter(
                is_active=True, user__is_active=True, role__in=roles
            ).select_related("user")
        }
        notify(
            recipients=list(recipients.values()),
            title=gettext("公开账本校验失败，未生成检查点"),
            body=result.message,
            link="/ledger/verify/",
            level="danger",
        )
        return result, []
    first = (
        JournalEntry.objects.filter(seq__isnull=False)
        .order_by("seq")
        .values_list("sequenced_at", flat=True)
        .first()
    )
    if first is None:
        return result, []
    day = timezone.localtime(first).date()
    last = JournalCheckpoint.objects.order_by("-day").values_list("day", flat=True).first()
    if last is not None:
        day = max(day, last + datetime.timedelta(days=1))
    made = []
    while day <= until:
        made.append(make_checkpoint(day))
        day += datetime.timedelta(days=1)
    return result, made


def receipt(reference):
    """The entries carrying a public reference, each with the checkpoint that first covers it."""
    from .models import JournalCheckpoint

    reference = (reference or "").strip()
    if not reference:
        return None
    entries = list(
        JournalEntry.objects.filter(references__contains=[reference], seq__isnull=False).order_by("seq")
    )
    if not entries:
        return None
    checkpoints = list(JournalCheckpoint.objects.filter(last_seq__gte=entries[0].seq).order_by("last_seq"))
    rows = []
    for entry in entries:
        covering = next((c for c in checkpoints if c.last_seq >= entry.seq), None)
        rows.append(
            {"entry": public_entry(entry), "checkpoint": public_checkpoint(covering) if covering else None}
        )
    return {"reference": reference, "entries": rows}
