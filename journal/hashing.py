"""How an entry's hashes are computed. One module, used when an entry is written, when the chain
is verified (here and by anyone outside with the public download), so the three never drift.

    detail_digest = sha256(canonical(detail))                 detail stays inside (ids, nonce)
    content_hash  = sha256(canonical({kind, references, recorded_at, public, detail_digest}))
    entry_hash    = sha256("{seq}:{prev_hash}:{content_hash}")  computed by the database at commit

canonical(x) is JSON with sorted keys, no spaces, UTF-8 (not ASCII-escaped). Values are only
strings, integers, booleans, null, lists and objects: money and dates are written as strings so
that PostgreSQL's jsonb gives back exactly what was hashed.
"""

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal

GENESIS_HASH = "0" * 64


def canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def timestamp(moment):
    """The recorded time as hashed: UTC, always with microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def plain(value):
    """A payload value turned into what canonical JSON accepts (Decimal and dates as strings);
    floats are refused: a float's text is not stable enough to hash."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        raise TypeError("floats are not hashed: pass a Decimal or a string")
    return str(value)


def detail_digest(detail):
    return sha256_hex(canonical(detail))


def content_hash(*, kind, references, recorded_at, public, detail_digest):
    return sha256_hex(
        canonical(
            {
                "kind": kind,
                "references": list(references),
                "recorded_at": recorded_at if isinstance(recorded_at, str) else timestamp(recorded_at),
                "public": public,
                "detail_digest": detail_digest,
            }
        )
    )


def entry_hash(*, seq, prev_hash, content_hash):
    return sha256_hex(f"{seq}:{prev_hash}:{content_hash}")
