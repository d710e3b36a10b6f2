"""`Idempotency-Key` on POSTs that create something (IETF draft-ietf-httpapi-idempotency-key-header).

A client that retries a POST with the same key and the same body gets back what the first request
created instead of a second one; the same key with a different body is refused with 409. Records
live in the shared cache (Redis), per user and per endpoint, for 24 hours. While the first request
is still running, a retry with its key answers 409 too; a request that failed leaves no record, so
it may be retried, or corrected, under the same key.

Nothing here knows about runs: a view calls `claim()`, then `complete(pk)` or `release()`.
"""

import hashlib
import json
import re

from django.core.cache import cache
from django.utils.translation import gettext as _

from tmcs.errors import ConflictError, DomainError

HEADER = "Idempotency-Key"
RECORD_SECONDS = 24 * 3600
# How long a claim of a request still running holds; longer than the slowest start (a 1,000,000-asset
# run freezes its inputs in a few minutes, see bench/valuation.py).
PENDING_SECONDS = 30 * 60
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as the draft recommends


class IdempotencyKeyReused(ConflictError):
    code = "idempotency_key_reused"


class IdempotencyInProgress(ConflictError):
    code = "idempotency_in_progress"


def fingerprint(data):
    """SHA-256 of the parsed body in a canonical form: key order and spacing do not matter."""
    if hasattr(data, "lists"):  # a QueryDict (form or multipart body)
        data = dict(data.lists())
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotentRequest:
    def __init__(self, request, scope, key):
        digest = hashlib.sha256(key.encode()).hexdigest()
        self.cache_key = f"idempotency:{scope}:{request.user.pk}:{digest}"
        self.fingerprint = fingerprint(request.data)

    def claim(self):
        """The pk created by an earlier identical request (replay it), or None once this request
        holds the key. Raises IdempotencyKeyReused or IdempotencyInProgress (both 409)."""
        pending = {"state": "pending", "fingerprint": self.fingerprint}
        if cache.add(self.cache_key, pending, timeout=PENDING_SECONDS):
            return None
        record = cache.get(self.cache_key)
        if record is None:  # expired or released between the two calls: try once more
            if cache.add(self.cache_key, pending, timeout=PENDING_SECONDS):
                return None
            record = cache.get(self.cache_key) or pending
        if record["fingerprint"] != self.fingerprint:
            raise IdempotencyKeyReused(_("此 Idempotency-Key 已用于内容不同的请求；新的请求请使用新的键。"))
        if record["state"] != "done":
            raise IdempotencyInProgress(_("使用此 Idempotency-Key 的请求仍在处理中，请稍后重试。"))
        return record["pk"]

    def complete(self, pk):
        record = {"state": "done", "fingerprint": self.fingerprint, "pk": pk}
        cache.set(self.cache_key, record, timeout=RECORD_SECONDS)

    def release(self):
        cache.delete(self.cache_key)


def create_once(idempotent, create):
    """Run `create()` (a service call returning a model instance) under the request's claim:
    the claim is completed with the new pk, or released if creating fails, so the client may
    retry or correct the request under the same key. Without a key, just create."""
    if idempotent is None:
        return create()
    try:
        created = create()
    except BaseException:
        idempotent.release()
        raise
    idempotent.complete(created.pk)
    return created


def header_key(request):
    """The request's Idempotency-Key (validated), or None when it carries none."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not KEY_PATTERN.fullmatch(key):
        raise DomainError(
            _("提交的数据有误，请检查各字段。"),
            code="invalid",
            fields={HEADER: [_("Idempotency-Key 须为 1 至 255 个可见 ASCII 字符。")]},
        )
    return key


def idempotent_request(request, scope):
    """An IdempotentRequest when the request carries the header, else None."""
    key = header_key(request)
    return None if key is None else IdempotentRequest(request, scope, key)
