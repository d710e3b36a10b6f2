"""The core invariants of licences and batches (the areas' own tests go further)."""

import pytest

from journal.models import EntryKind, JournalEntry
from tmcs.errors import ConflictError

from ..models import LicenceStatus

pytestmark = pytest.mark.django_db


def test_a_licensed_producer_registers_a_batch_and_both_enter_the_journal(make_licence, make_batch):
    licence = make_licence()
    batch = make_batch(licence)
    assert batch.producer == licence.producer and len(batch.trace_code) == 24
    kinds = list(
        JournalEntry.objects.filter(references__contains=[batch.number]).values_list("kind", flat=True)
    )
    assert kinds == [EntryKind.BATCH_REGISTERED]
    assert JournalEntry.objects.filter(
        kind=EntryKind.LICENCE_CHANGED, references__contains=[licence.number]
    ).exists()


def test_a_suspended_licence_blocks_new_batches(make_licence, make_batch):
    licence = make_licence()
    licence.status = LicenceStatus.SUSPENDED  # the suspension service is tested in its own area
    licence.save(update_fields=["status"])
    with pytest.raises(ConflictError) as refused:
        make_batch(licence)
    assert refused.value.code == "licence_not_active" and "暂停" in str(refused.value.detail)
    assert not licence.batches.exists()


def test_one_live_licence_per_brand_and_producer(make_licence):
    make_licence()
    with pytest.raises(ConflictError) as refused:
        make_licence()
    assert refused.value.code == "duplicate_licence"
