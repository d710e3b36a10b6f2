"""Platform housekeeping tasks."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

SESSION_CHUNK = 1000


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def clear_expired_sessions(self):
    """Delete expired web sessions in chunks, recording progress; safe to retry or run twice."""
    expired = Session.objects.filter(expire_date__lt=timezone.now())
    total = expired.count()
    deleted = 0
    while True:
        keys = list(expired.values_list("session_key", flat=True)[:SESSION_CHUNK])
        if not keys:
            break
        deleted += Session.objects.filter(session_key__in=keys).delete()[0]
        if not self.request.called_directly:
            self.update_state(state="PROGRESS", meta={"current": deleted, "total": total})
    return {"deleted": deleted}
