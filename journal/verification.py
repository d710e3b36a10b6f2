"""Recomputing the chain. The same code checks the database (with the internal detail) and a public
download (without it), so what the cooperative runs is what an outsider can run.

Detected: a changed field of any entry (its digests or hashes no longer match), a reordered or
deleted entry (the sequence has a gap or the previous-hash link breaks), a forged but internally
consistent tail (its head no longer matches a published, signed checkpoint). Deleting entries after
the latest checkpoint is only detectable against the next checkpoint: that is why they are published
daily and should be kept outside.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from . import hashing, signing


@dataclass
class Verification:
    ok: bool = True
    checked: int = 0
    first_bad_seq: int | None = None
    reason: str = ""
    message: str = ""
    head_seq: int = 0
    head_hash: str = hashing.GENESIS_HASH
    checkpoints_checked: int = 0
    problems: list = field(default_factory=list)

    def fail(self, seq, reason, message):
        if self.ok:
            self.ok, self.first_bad_seq, self.reason, self.message = False, seq, reason, message
        return self

    def as_dict(self):
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "message": self.message,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "checkpoints_checked": self.checkpoints_checked,
        }


def _db_entries():
    from .models import JournalEntry

    rows = JournalEntry.objects.order_by("seq", "pk").values(
        "seq", "kind", "references", "recorded_at", "public", "detail", "detail_digest",
        "content_hash", "prev_hash", "entry_hash",
    )  # fmt: skip
    return rows.iterator(chunk_size=2000)


def _db_checkpoints():
    from .models import JournalCheckpoint

    return list(
        JournalCheckpoint.objects.order_by("day").values(
            "day", "last_seq", "head_hash", "entry_count", "signature"
        )
    )


def _entry_problem(entry, expected_seq, previous_hash, check_detail):
    """(reason, message) for the first thing wrong with this entry, or None."""
    seq = entry["seq"]
    if seq is None:
        return "unsequenced", _("存在未上链的条目。")
    if seq != expected_seq:
        return "sequence_gap", _("第 %(expected)s 条缺失或顺序被改动（此处为第 %(seq)s 条）。") % {
            "expected": expected_seq,
            "seq": seq,
        }
    if check_detail and hashing.detail_digest(entry["detail"]) != entry["detail_digest"]:
        return "detail_mismatch", _("第 %(seq)s 条的内部内容与其摘要不符。") % {"seq": seq}
    content = hashing.content_hash(
        kind=entry["kind"],
        references=entry["references"],
        recorded_at=entry["recorded_at"],
        public=entry["public"],
        detail_digest=entry["detail_digest"],
    )
    if content != entry["content_hash"]:
        return "content_mismatch", _("第 %(seq)s 条的内容与其内容哈希不符。") % {"seq": seq}
    if entry["prev_hash"] != previous_hash:
        return "link_broken", _("第 %(seq)s 条记录的前一条哈希与第 %(prev)s 条不符。") % {
            "seq": seq,
            "prev": seq - 1,
        }
    if hashing.entry_hash(seq=seq, prev_hash=previous_hash, content_hash=content) != entry["entry_hash"]:
        return "hash_mismatch", _("第 %(seq)s 条的本条哈希重算不符。") % {"seq": seq}
    return None


def verify_chain(*, entries=None, checkpoints=None, check_detail=True, public_key=None):
    """Walk the chain from the first entry; stop at the first problem. `entries`/`checkpoints` None
    read the database; otherwise dicts as in the public download (then pass check_detail=False)."""
    result = Verification()
    if entries is None:
        entries = _db_entries()
    if checkpoints is None:
        checkpoints = _db_checkpoints()
    heads = {}  # seq -> entry_hash, only for checkpointed seqs
    wanted = {int(c["last_seq"]) for c in checkpoints}
    previous_hash, expected = hashing.GENESIS_HASH, 1
    for entry in entries:
        problem = _entry_problem(entry, expected, previous_hash, check_detail)
        if problem:
            return result.fail(entry["seq"] if entry["seq"] is not None else expected, *problem)
        previous_hash, expected = entry["entry_hash"], expected + 1
        result.checked += 1
        result.head_seq, result.head_hash = entry["seq"], entry["entry_hash"]
        if entry["seq"] in wanted:
            heads[entry["seq"]] = entry["entry_hash"]
    for checkpoint in checkpoints:
        last_seq = int(checkpoint["last_seq"])
        day = str(checkpoint["day"])
        message = signing.checkpoint_message(checkpoint)
        if checkpoint.get("signature") and not signing.verify(message, checkpoint["signature"], public_key):
            return result.fail(last_seq, "bad_signature", _("%(day)s 检查点的签名无效。") % {"day": day})
        if last_seq == 0:
            result.checkpoints_checked += 1
            continue
        if last_seq not in heads:
            return result.fail(
                last_seq,
                "checkpoint_missing_entry",
                _("%(day)s 检查点截至第 %(seq)s 条，但账本中已没有该条（条目被删除）。")
                % {"day": day, "seq": last_seq},
            )
        if heads[last_seq] != checkpoint["head_hash"]:
            return result.fail(
                last_seq,
                "checkpoint_mismatch",
                _("第 %(seq)s 条的哈希与 %(day)s 公布的检查点不符（此前的条目被改写）。")
                % {"seq": last_seq, "day": day},
            )
        result.checkpoints_checked += 1
    return result
