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

from directory.permissions import Capability, is_division_scoped, memberships_with
from transactions.services.common import cooperative_for
from valuation.api.idempotency import (  # noqa: F401  (re-exported for the finance API)
    HEADER,
    KEY_PATTERN,
    IdempotencyKeyReused,
    fingerprint,
    header_key,
)

from .models import BankRequestKey
from .services.common import acting_bank


def key_owner(user, division):
    """Whose key space an Idempotency-Key lives in: the caller's bank, or the caller's cooperative
    (the cooperative responsible for `division` for a superuser without a membership)."""
    bank = acting_bank(user)
    if bank is not None:
        return bank
    for membership in memberships_with(user, Capability.MANAGE_LOANS):
        if is_division_scoped(membership):
            return membership.organization
    return cooperative_for(division)


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
