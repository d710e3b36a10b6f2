from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_licences():
    """Daily (beat, 00:20 Asia/Shanghai): licences past their term become 已到期."""
    from .services.lifecycle import expire_licences as expire

    return expire()
