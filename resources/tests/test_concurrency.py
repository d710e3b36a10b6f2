"""Real threads, real transactions: when users race, exactly the allowed number win, the others
get a clear error, and the ledger stays consistent."""

import datetime
import threading
import time

import pytest
from django.db import connection

from resources import services
from resources.models import Asset, AssetStatus, Restriction, Right
from tmcs.errors import ConflictError

from .conftest import square

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 4


def race(fn, args_list):
    barrier = threading.Barrier(len(args_list))
    results = [None] * len(args_list)

    def run(index, args):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", fn(*args))
        except ConflictError as exc:
            results[index] = ("conflict", str(exc.detail))
        except Exception as exc:  # any other outcome fails the test below
            results[index] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.fixture
def slow(monkeypatch):
    """Widen the window between a check and its write, so that an unlocked race would be lost."""

    def wrap(name):
        original = getattr(services, name)

        def slowed(*args, **kwargs):
            result = original(*args, **kwargs)
            time.sleep(0.3)
            return result

        monkeypatch.setattr(services, name, slowed)

    return wrap


def test_simultaneous_submissions_of_overlapping_parcels(make_asset, county_staff, slow):
    slow("find_overlaps")
    drafts = [make_asset(geometry=square(dx=0.0002 * i), name=f"地块{i}") for i in range(THREADS)]
    results = race(
        lambda asset: services.transition_asset(actor=county_staff, asset=asset, to_status="under_review"),
        [(a,) for a in drafts],
    )
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["conflict"] * (THREADS - 1) + ["ok"], results
    assert all("重叠" in r[1] for r in results if r[0] == "conflict")
    assert Asset.objects.filter(status=AssetStatus.UNDER_REVIEW).count() == 1


def test_simultaneous_overlapping_leases(make_asset, county_staff, collective, household):
    asset = make_asset()
    start = datetime.date(2026, 1, 1)
    results = race(
        lambda year: services.add_lease(
            actor=county_staff,
            asset=asset,
            holder=collective,
            start=start.replace(year=year),
            end=start.replace(year=year + 5),
            source_document=f"租赁合同 {year}",
        ),
        [(2026 + i,) for i in range(THREADS)],
    )
    assert sorted(r[0] for r in results) == ["conflict"] * (THREADS - 1) + ["ok"], results
    assert Restriction.objects.filter(asset=asset, kind="lease").count() == 1


def test_simultaneous_shares_never_sum_above_one(make_asset, county_staff, household, slow):
    slow("_max_concurrent_share")
    asset = make_asset()
    results = race(
        lambda n: services.grant_right(
            actor=county_staff,
            asset=asset,
            holder=household,
            kind="contract",
            share="1/2",
            start=datetime.date(2026, 1, 1),
            source_document=f"承包合同 {n}",
        ),
        [(i,) for i in range(THREADS)],
    )
    assert sorted(r[0] for r in results) == ["conflict"] * (THREADS - 2) + ["ok", "ok"], results
    assert Right.objects.filter(asset=asset, kind="contract").count() == 2


@pytest.mark.worker
def test_notice_closing_runs_on_a_real_worker(make_asset, county_staff, celery_worker_process):
    from django.utils import timezone

    from resources import registration as reg
    from resources.models import Registration
    from resources.tasks import close_public_notices

    registration = reg.review_registration(
        actor=county_staff,
        registration=reg.submit_registration(actor=county_staff, asset=make_asset()),
        approve=True,
    )
    Registration.objects.filter(pk=registration.pk).update(
        notice_ends_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert close_public_notices.delay().get(timeout=60) == {"registered": 1}
    registration.refresh_from_db()
    assert registration.status == "registered" and registration.certificate_number
