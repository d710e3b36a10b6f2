"""Celery entry points of accounting runs: each takes ids and calls an idempotent service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_chunk_task(run_id, number):
    """Compute one chunk (a redelivered or retried chunk replaces its own results), then let the
    last chunk finalize the run."""
    try:
        services.process_chunk(run_id, number)
    except Exception as exc:  # a bug or bad data, not a lost worker: stop the run visibly
        services.fail_run(run_id, f"chunk {number}: {exc!r}")
        raise
    services.maybe_finalize(run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def finalize_run_task(run_id):
    services.finalize_run(run_id)
