"""The public ledger pages and API: no login, no internal detail or actor, receipts by number."""

import pytest
from django.utils import timezone

from journal.models import JournalEntry
from journal.services import make_checkpoints, record, sequence_pending

from .fixtures_chain import backdate, tamper

pytestmark = pytest.mark.django_db


def test_the_ledger_front_page_shows_head_and_checkpoints_without_login(client, chain):
    entries = chain(3)
    backdate(1, 3)
    make_checkpoints()
    page = client.get("/ledger/")
    html = page.content.decode()
    assert page.status_code == 200 and entries[-1].entry_hash in html
    assert 'id="checkpoint-table"' in html and "CX-3" in html
    sequenced = JournalEntry.objects.get(seq=1).sequenced_at
    day = client.get(f"/ledger/day/{timezone.localtime(sequenced).date()}/download/").json()
    assert day["checkpoint"]["last_seq"] == 3 and [e["seq"] for e in day["entries"]] == [1, 2, 3]
    assert all("detail" not in e and "actor" not in e for e in day["entries"])
    assert client.get("/ledger/day/2026-13-40/").status_code == 404
    assert client.get("/ledger/checkpoints.xml").status_code == 404
    csv = client.get("/ledger/checkpoints.csv").content.decode("utf-8-sig")
    assert csv.splitlines()[0] == "day,last_seq,head_hash,entry_count,signature"


def test_entry_page_shows_public_part_only(client, county_staff):
    record(
        kind="right_granted",
        references=["浙(2026)莲都区不动产权第0000001号"],
        public={"holder": "李**"},
        detail={"secret_internal_note": "内部备注"},
        actor=county_staff,
    )
    sequence_pending()
    html = client.get("/ledger/entries/1/").content.decode()
    assert "李**" in html and "内部备注" not in html and county_staff.username not in html
    assert client.get("/ledger/entries/99/").status_code == 404


def test_receipt_lists_exactly_the_entries_of_a_number(client, chain):
    chain(3)
    record(kind="payment", references=["CX-2", "HT-9"], public={})
    sequence_pending()
    page = client.get("/ledger/receipt/", {"reference": "CX-2"})
    html = page.content.decode()
    assert page.status_code == 200 and html.count('class="card mb-2 receipt-entry"') == 2
    data = client.get("/ledger/receipt/", {"reference": "CX-2", "format": "json"}).json()
    assert [row["entry"]["seq"] for row in data["entries"]] == [2, 4]
    assert all(row["checkpoint"] is None for row in data["entries"])  # tonight's checkpoint
    missing = client.get("/ledger/receipt/", {"reference": "不存在的编号"})
    assert missing.status_code == 404 and "未找到" in missing.content.decode()


def test_verify_page_points_at_the_first_bad_entry(client, chain):
    chain(4)
    assert 'id="verify-ok"' in client.post("/ledger/verify/").content.decode()
    tamper("UPDATE journal_journalentry SET public = '{}' WHERE seq = 3")
    html = client.post("/ledger/verify/").content.decode()
    assert 'id="verify-failed"' in html and "/ledger/entries/3/" in html


def test_public_api_entries_receipts_and_verify(client, chain):
    chain(3)
    entries = client.get("/api/v1/journal/entries/", {"reference": "CX-2"}).json()
    assert [e["seq"] for e in entries["results"]] == [2]
    assert set(entries["results"][0]) >= {"content_hash", "prev_hash", "entry_hash", "detail_digest"}
    assert "detail" not in entries["results"][0]
    assert (
        client.get("/api/v1/journal/entries/receipt/", {"reference": "CX-3"}).json()["entries"][0]["entry"][
            "seq"
        ]
        == 3
    )
    assert client.get("/api/v1/journal/entries/receipt/", {"reference": "nope"}).status_code == 404
    assert client.get("/api/v1/journal/entries/verify/").json()["ok"] is True
    assert JournalEntry.objects.count() == 3
