"""Tampering with any stored field of an entry, reordering entries or deleting one is detected, at
the first entry that no longer matches; checkpoints catch what the chain alone cannot."""

import itertools
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from journal import hashing
from journal.models import JournalCheckpoint, JournalEntry
from journal.services import make_checkpoint, make_checkpoints
from journal.verification import verify_chain

from .fixtures_chain import backdate, rechain_from, tamper

pytestmark = pytest.mark.django_db


def test_an_untouched_chain_verifies(chain):
    entries = chain(5)
    result = verify_chain()
    assert result.ok and result.checked == 5
    assert result.head_seq == 5 and result.head_hash == entries[-1].entry_hash
    assert entries[0].prev_hash == hashing.GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(entries))


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("kind = 'distribution'", "content_mismatch"),
        ("\"references\" = ARRAY['CX-999']", "content_mismatch"),
        ('public = \'{"amount": "3000.50", "payee": "李**"}\'', "content_mismatch"),
        ("recorded_at = recorded_at + interval '1 second'", "content_mismatch"),
        ("detail = '{\"movement\": 77}'", "detail_mismatch"),
        ("detail_digest = repeat('a', 64)", "detail_mismatch"),
        ("content_hash = repeat('b', 64)", "content_mismatch"),
        ("prev_hash = repeat('c', 64)", "link_broken"),
        ("entry_hash = repeat('d', 64)", "hash_mismatch"),
    ],
)
def test_changing_any_field_of_an_entry_is_detected_at_that_entry(chain, sql, reason):
    chain(5)
    tamper(f"UPDATE journal_journalentry SET {sql} WHERE seq = 3")  # noqa: S608 (fixed test strings)
    result = verify_chain()
    assert not result.ok
    assert (result.first_bad_seq, result.reason) == (3, reason)
    assert "第 3 条" in result.message and result.checked == 2


def test_changing_a_sequence_number_is_detected(chain):
    chain(5)
    tamper("UPDATE journal_journalentry SET seq = 30 WHERE seq = 3")
    result = verify_chain()
    assert not result.ok and result.reason == "sequence_gap" and result.first_bad_seq == 4


def test_reordering_two_entries_is_detected(chain):
    chain(5)
    tamper("UPDATE journal_journalentry SET seq = -2 WHERE seq = 2")
    tamper("UPDATE journal_journalentry SET seq = 2 WHERE seq = 4")
    tamper("UPDATE journal_journalentry SET seq = 4 WHERE seq = -2")
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 2 and result.reason == "link_broken"


def test_deleting_an_entry_in_the_middle_is_detected(chain):
    chain(5)
    tamper("DELETE FROM journal_journalentry WHERE seq = 3")
    result = verify_chain()
    assert not result.ok and result.reason == "sequence_gap" and result.first_bad_seq == 4


def test_deleting_the_last_entry_is_detected_against_the_checkpoint(chain, settings):
    chain(4)
    backdate(1, 4)
    checkpoint = make_checkpoint(JournalEntry.objects.get(seq=4).sequenced_at.astimezone().date())
    assert checkpoint.last_seq == 4 and checkpoint.entry_count == 4
    tamper("DELETE FROM journal_journalentry WHERE seq = 4")
    result = verify_chain()
    assert not result.ok and result.reason == "checkpoint_missing_entry" and result.first_bad_seq == 4


def test_a_consistently_rewritten_history_is_caught_by_the_signed_checkpoint(chain):
    entries = chain(5)
    backdate(1, 5)
    make_checkpoints()
    assert JournalCheckpoint.objects.get().head_hash == entries[-1].entry_hash
    tamper('UPDATE journal_journalentry SET public = \'{"amount": "1.00", "payee": "王**"}\' WHERE seq = 2')
    rechain_from(2)
    result = verify_chain()
    assert not result.ok and result.reason == "checkpoint_mismatch" and result.first_bad_seq == 5
    assert verify_chain(checkpoints=[]).ok  # without the checkpoint the forgery would pass


def test_a_checkpoint_changed_after_signing_fails_its_signature(chain):
    chain(3)
    backdate(1, 3)
    make_checkpoints()
    JournalCheckpoint.objects.update(entry_count=99)
    result = verify_chain()
    assert not result.ok and result.reason == "bad_signature"


def test_checkpoints_are_idempotent_refuse_today_and_cover_empty_days(chain):
    import datetime

    from django.utils import timezone

    chain(2)
    backdate(3, 2)
    result, made = make_checkpoints()
    assert result.ok and len(made) == 3  # the day of the entries and the two empty days after it
    assert [c.entry_count for c in sorted(made, key=lambda c: c.day)] == [2, 0, 0]
    assert len({c.head_hash for c in made}) == 1
    assert make_checkpoints()[1] == []
    with pytest.raises(ValueError):
        make_checkpoint(timezone.localdate())
    assert make_checkpoint(timezone.localdate() - datetime.timedelta(days=1)).pk == made[-1].pk


def test_a_broken_chain_gets_no_checkpoint_and_oversight_is_told(chain, city_admin):
    from directory.models import Notification

    chain(3)
    backdate(1, 3)
    tamper("UPDATE journal_journalentry SET kind = 'distribution' WHERE seq = 2")
    result, made = make_checkpoints()
    assert not result.ok and made == [] and not JournalCheckpoint.objects.exists()
    assert Notification.objects.filter(
        recipient=city_admin, level="danger", body__contains="第 2 条"
    ).exists()


def test_the_public_download_verifies_offline_with_the_same_code(chain, client, tmp_path):
    chain(4)
    backdate(1, 4)
    make_checkpoints()
    chain(2, start=5)
    body = b"".join(client.get("/ledger/chain.json").streaming_content).decode("utf-8")
    data = json.loads(body)
    assert len(data["entries"]) == 6 and len(data["checkpoints"]) == 1
    assert all("detail" not in e for e in data["entries"])
    assert verify_chain(entries=data["entries"], checkpoints=data["checkpoints"], check_detail=False).ok
    path = tmp_path / "chain.json"
    path.write_text(body, encoding="utf-8")
    call_command("verify_journal", "--file", str(path))
    data["entries"][2]["public"]["amount"] = "9999.00"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="#3"):
        call_command("verify_journal", "--file", str(path))
    offline = verify_chain(entries=data["entries"], checkpoints=data["checkpoints"], check_detail=False)
    assert offline.reason == "content_mismatch" and offline.first_bad_seq == 3


def test_the_command_fails_on_the_database_with_the_first_bad_entry(chain):
    chain(3)
    call_command("verify_journal")
    tamper("UPDATE journal_journalentry SET \"references\" = ARRAY['X'] WHERE seq = 2")
    with pytest.raises(CommandError, match="#2"):
        call_command("verify_journal")
