"""Celery entry points of the finance desk (beat schedules in a migration, editable in the admin).
Each task takes ids and calls an idempotent service that re-reads state."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_credit_score(party_id):
    """A party's eco-credit inputs changed: compute its score again (no new row if unchanged)."""
    from .services import scoring

    score = scoring.recompute_credit_score(party_id)
    return score.pk if score is not None else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def snapshot_delinquency():
    """Daily: every open loan's days past due, bucket and classification for today."""
    from .services import loans

    return loans.snapshot_delinquency()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_all_credit_scores():
    """Nightly: records age out of the scoring windows without any write to trigger a recompute;
    unchanged inputs write nothing (the digest is compared)."""
    from .services import scoring

    visited, written = scoring.recompute_all_credit_scores()
    return {"visited": visited, "written": written}
