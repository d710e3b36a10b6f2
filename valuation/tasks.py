"""Celery entry points of accounting runs: each takes ids and calls an idempotent service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OSError,), max_retries=3)
def run_chunk_task(run_id, number):
    """Compute one chunk (a redelivered or retried chunk replaces its own results), then let the
    last chunk finalize the run."""
    services.process_chunk(run_id, number)
    services.maybe_finalize(run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def finalize_run_task(run_id):
    services.finalize_run(run_id)
