"""Monitoring jobs. Beat calls `run_monitor` with kwargs from django-celery-beat (editable in the
admin), e.g. {"job": "leases_expiring", "days": 60}; the job re-reads everything and is
idempotent: an open alert is never raised twice."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_monitor(job, **params):
    from .services.monitoring import run_monitor as run

    return run(job, params=params).pk
