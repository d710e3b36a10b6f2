"""Appends from many concurrent transactions keep one unbroken chain: each commit is sequenced
under the journal's lock by the deferred trigger, in commit order; a rolled-back transaction
leaves no entry and no gap."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from journal.models import JournalEntry
from journal.services import record
from journal.verification import verify_chain

THREADS, APPENDS = 8, 5


def _append_many(worker, barrier, errors):
    try:
        barrier.wait()
        for k in range(APPENDS):
            with transaction.atomic():
                record(kind="payment", references=[f"T{worker}-{k}"], public={"amount": Decimal(k)})
                if k == 2:  # a second entry in the same transaction stays adjacent and in order
                    record(kind="distribution", references=[f"T{worker}-{k}b"], public={"n": k})
            if k == 3:
                try:
                    with transaction.atomic():
                        record(kind="payment", references=[f"T{worker}-rolled-back"], public={})
                        raise RuntimeError("business rule refused")
                except RuntimeError:
                    pass
    except Exception as exc:
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unbroken_chain():
    barrier, errors = threading.Barrier(THREADS), []
    threads = [threading.Thread(target=_append_many, args=(n, barrier, errors)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = list(JournalEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, THREADS * (APPENDS + 1) + 1))
    assert not JournalEntry.objects.filter(references__contains=["T0-rolled-back"]).exists()
    for worker in range(THREADS):
        pair = [e.seq for e in entries if e.references[0] in (f"T{worker}-2", f"T{worker}-2b")]
        assert pair[1] == pair[0] + 1
    result = verify_chain()
    assert result.ok and result.checked == len(entries)
