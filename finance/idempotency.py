"""Durable `Idempotency-Key` for banks' POSTs (pledge requests, disbursements, repayments).

The key is stored in `BankRequestKey` in the same transaction as what the request creates, and it
is inserted *before* the work starts: a second request with the same key (a retry, or the same
message sent twice at once) waits on the unique index until the first commits, then replays the
first result instead of doing the work again. The same key with a different body is refused.
Unlike the Redis records of `valuation.api.idempotency`, these survive restarts and never expire:
a bank's core system may retry a repayment days later.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from valuation.api.idempotency import HEADER, KEY_PATTERN, IdempotencyKeyReused, fingerprint  # noqa: F401

from .models import BankRequestKey


class Replay(Exception):
    """The key was used before with the same body; `object_id` is what that request created."""

    def __init__(self, object_id):
        super().__init__(object_id)
        self.object_id = object_id


def run_once(*, organization, endpoint, key, body_fingerprint, create):
    """Run `create()` (returning a model instance) once per (organization, endpoint, key).

    Returns the new instance, or raises Replay with the earlier object's id, or
    IdempotencyKeyReused (409) when the key came with a different body.
    """
    if not key:
        return create()
    try:
        with transaction.atomic():
            record = BankRequestKey.objects.create(
                organization=organization, endpoint=endpoint, key=key, fingerprint=body_fingerprint
            )
            instance = create()
            record.object_id = instance.pk
            record.save(update_fields=["object_id"])
            return instance
    except IntegrityError as exc:
        if "bank_request_key_unique" not in str(exc):
            raise
    earlier = BankRequestKey.objects.get(organization=organization, endpoint=endpoint, key=key)
    if earlier.fingerprint != body_fingerprint:
        raise IdempotencyKeyReused(_("此 Idempotency-Key 已用于内容不同的请求；新的请求请使用新的键。"))
    raise Replay(earlier.object_id)
