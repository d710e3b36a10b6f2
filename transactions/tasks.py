"""Celery entry points of the trading desk (schedules in migration 0003, editable in the admin).
Each task calls an idempotent service that re-reads state and locks what it changes."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_due_listings():
    """Every minute: end 公示 periods (open bidding or decide negotiated listings) and close
    auctions whose deadline has passed. Returns how many listings moved."""
    from .services import auctions

    return auctions.advance_due_listings()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_listing_task(listing_id):
    from .services import auctions

    auctions.close_listing_by_id(listing_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_contracts():
    """Daily: collection and trade contracts whose term has ended are marked expired, and savings
    slips whose term has ended mature (their income rights end). Returns how many changed."""
    from .services import collection, contracts, savings

    expired = collection.expire_collection_contracts() + contracts.expire_trade_contracts()
    return expired + savings.mature_slips()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def match_open_demands():
    """Hourly: match open investor demands against what is available; staff are told once per match."""
    from .services import demands

    return demands.match_open_demands()
