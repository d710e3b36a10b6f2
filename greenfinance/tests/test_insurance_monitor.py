# ruff: noqa: F811  (fixtures imported from fixtures_insurance and fixtures_monitoring)
"""The expiring-policies monitoring job through projects.services.monitoring.run_monitor: ended
policies are marked expired first; a policy in force ending within `days` raises one alert to the
division's green-finance desk and the officers of the bank whose application it secures (not
another bank, not another county); a re-run is silent; a renewal or a cancellation resolves it; a
new end date is a new condition."""

import datetime

import pytest
from django.utils import timezone

from greenfinance.models import PolicyStatus
from greenfinance.services import insurance as services
from projects.models import MonitorJob, MonitorRunStatus
from projects.tests.fixtures_monitoring import notified, open_alerts, recipients_of, run_job  # noqa: F401

from .fixtures_insurance import (  # noqa: F401  (fixtures)
    forest_asset,
    insurer,
    make_policy,
    qingtian_staff,
)

pytestmark = pytest.mark.django_db
JOB = MonitorJob.POLICIES_EXPIRING
STAFF = {"coop_staff", "checker", "city_admin"}


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def secured(make_policy, make_application, forest_asset):
    """A forest policy securing a loan application of the demo bank, ending in 20 days."""
    application = make_application(rights=[forest_asset.rights.get()])
    return make_policy(
        application=application, assets=[forest_asset], start_date=days(-345), end_date=days(20)
    )


def test_policies_expiring(
    run_job, secured, make_policy, checker, qingtian_staff, second_bank_officer, county_staff, forest_asset
):
    make_policy(start_date=days(-200), end_date=days(100))  # later than the look-ahead
    ended = make_policy(start_date=days(-400), end_date=days(-1))  # ended yesterday
    run = run_job(JOB, days=30)
    assert run.status == MonitorRunStatus.SUCCEEDED and (run.checked, run.raised) == (2, 1)
    ended.refresh_from_db()
    assert ended.status == PolicyStatus.EXPIRED  # marked before looking ahead
    [alert] = open_alerts(JOB)
    assert alert.key == f"policy:{secured.number}:{secured.end_date.isoformat()}"
    assert secured.number in alert.title and "还剩 20 天" in alert.body
    assert secured.application.number in alert.body and alert.level == "warning"
    # the desk over the division and the secured bank's officer; not another bank or county
    assert recipients_of(alert) == STAFF | {"bank_officer"}
    assert notified(alert.title) == sorted(STAFF | {"bank_officer"})

    # a re-run raises nothing and sends nothing
    messages = len(notified())
    again = run_job(JOB, days=30)
    assert (again.raised, again.resolved) == (0, 0) and len(notified()) == messages
    assert open_alerts(JOB) == [alert]

    # a look-ahead too short no longer sees it (resolved); the default (30 days) sees it again
    assert run_job(JOB, days=10).resolved == 1
    assert run_job(JOB).raised == 1

    # a new end date is a new condition
    secured.end_date = days(25)
    secured.save(update_fields=["end_date"])
    moved = run_job(JOB, days=30)
    assert (moved.raised, moved.resolved) == (1, 1)

    # a renewal continuing the cover resolves it
    make_policy(
        application=secured.application,
        assets=[forest_asset],
        start_date=days(25),
        end_date=days(25 + 365),
    )
    renewed = run_job(JOB, days=30)
    assert renewed.resolved == 1 and open_alerts(JOB) == []


def test_a_cancellation_resolves_and_no_link_means_no_bank(
    run_job, make_policy, households, county_staff, checker, bank_officer
):
    plain = make_policy(start_date=days(-300), end_date=days(3))
    # not a renewal: another insured, or not covering the same asset
    make_policy(insured=households[1], start_date=days(0), end_date=days(300))
    run = run_job(JOB, days=30)
    [alert] = open_alerts(JOB)
    assert run.raised == 1 and alert.level == "danger"  # 3 days left
    assert recipients_of(alert) == STAFF  # no bank: the policy secures no loan
    services.cancel_policy(actor=county_staff, policy=plain, reason="退保", on=timezone.localdate())
    assert run_job(JOB, days=30).resolved == 1 and open_alerts(JOB) == []


def test_bad_parameters_fail_the_run(run_job):
    run = run_job(JOB, days="soon")
    assert run.status == MonitorRunStatus.FAILED and "days" in run.error
    assert run_job(JOB, weeks=2).status == MonitorRunStatus.FAILED
