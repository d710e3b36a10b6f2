from celery import shared_task

from .importing import run_import
from .registration import close_due_notices


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_public_notices():
    """Beat, every 15 minutes: register what has passed 公示 without objection (idempotent)."""
    return {"registered": close_due_notices()}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import_batch(batch_id):
    """Validate and write one uploaded import file (all or nothing); returns the batch status."""
    return str(run_import(batch_id))
