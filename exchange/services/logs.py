"""The exchange log: one row per import or export, whatever its outcome."""

import hashlib

from django.db import transaction
from django.utils import timezone

from tmcs.audit import audit_context
from transactions.services.common import next_number

from ..models import ExchangeLog, ExchangeStatus

MAX_LOGGED_ERRORS = 500  # a file with more bad rows keeps the first 500 (the count is exact)


def sha256_of(content):
    """Hex SHA-256 of bytes or str (what was received or sent, byte for byte)."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    return hashlib.sha256(content or b"").hexdigest()


@transaction.atomic
def record_exchange(
    *,
    actor,
    direction,
    dataset,
    fmt,
    channel,
    division,
    started_at,
    status=ExchangeStatus.SUCCEEDED,
    organization=None,
    file_name="",
    content=b"",
    rows_total=0,
    rows_created=0,
    rows_updated=0,
    rows_unchanged=0,
    rows_rejected=0,
    errors=(),
    parameters=None,
):
    """Write the log row. Call it *after* an import's own transaction has committed or rolled
    back (a refused file must still leave its log), or inside the export's transaction.

    `errors` are dicts such as {"row": 7, "field": "area_mu", "message": "…"}; `parameters`
    the filters of an export or the options of an import."""
    errors = list(errors)
    with audit_context(user=actor, reason=f"exchange {direction} {dataset}"):
        return ExchangeLog.objects.create(
            number=next_number("DX"),
            direction=direction,
            dataset=dataset,
            format=fmt,
            channel=channel,
            actor=actor,
            organization=organization,
            division=division,
            file_name=(file_name or "")[:200],
            file_sha256=sha256_of(content) if content else "",
            rows_total=rows_total,
            rows_created=rows_created,
            rows_updated=rows_updated,
            rows_unchanged=rows_unchanged,
            rows_rejected=rows_rejected,
            status=status,
            errors=errors[:MAX_LOGGED_ERRORS],
            parameters=parameters or {},
            started_at=started_at,
            finished_at=timezone.now(),
        )
