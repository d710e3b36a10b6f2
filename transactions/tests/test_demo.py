"""The demo trading desk loads on the demo region, shows on the public board, and loads once."""

from django.core.management import call_command

from transactions.models import CollectionContract, Demand, Listing, ListingStatus, Movement


def test_demo_trading_loads_once_and_is_public(demo_region, catalog, client):
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading

    load_demo_assets()
    listing = load_demo_trading()
    assert listing.status == ListingStatus.IN_NOTICE
    assert CollectionContract.objects.get().status == "signed"
    assert Movement.objects.filter(kind="deposit_received").count() == 1
    assert Demand.objects.count() == 1
    assert load_demo_trading() is None  # idempotent
    call_command("load_demo_trading", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Listing.objects.count() == 1
    page = client.get(listing.get_public_url())
    assert page.status_code == 200 and "示范村后山杉木林十年经营权出租（演示）" in page.content.decode()
