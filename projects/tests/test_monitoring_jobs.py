# ruff: noqa: F811  (fixtures imported from fixtures_monitoring)
"""Each monitoring job: the condition present → one alert to exactly the right people (not to
another county's staff, another village's clerk or another bank's officers); a re-run → no new
alert and no new message; the condition gone → resolved; a changed condition → a new alert."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Notification
from projects.models import GepBalance, MonitorAlert, MonitorJob
from projects.services import books
from projects.tests.fixtures_monitoring import (  # noqa: F401  (fixtures)
    loan_with,
    make_appraisal,
    make_collection_contract,
    make_registration,
    make_trade_contract,
    notified,
    open_alerts,
    other_county_staff,
    other_village_clerk,
    recipients_of,
    run_job,
    seed_defaults,
    settle,
    today,
)
from resources.models import AssetObservation, RegistrationStatus
from transactions.models import ContractStatus
from transactions.tests.conftest import second_investor  # noqa: F401  (fixture)
from transactions.tests.test_packages_services import make_valuation

PAST = datetime.date(2026, 1, 15)

pytestmark = pytest.mark.django_db

STAFF = {"coop_staff", "checker", "city_admin"}  # county desk + the city administrator above it


def assert_idempotent(run_job, job, alert, **params):
    """A re-run raises nothing, sends nothing and only touches last_seen_at."""
    messages = Notification.objects.count()
    run = run_job(job, **params)
    assert (run.raised, run.resolved) == (0, 0)
    assert open_alerts(job) == [alert]
    assert Notification.objects.count() == messages
    alert.refresh_from_db()
    assert alert.last_seen_at >= run.started_at


# --- notice_ending ----------------------------------------------------------------------------


def test_notice_ending(run_job, make_registration, checker, other_county_staff):
    ending = make_registration(ends_in=datetime.timedelta(hours=30))
    make_registration(ends_in=datetime.timedelta(days=5))  # outside the 2-day window
    run = run_job(MonitorJob.NOTICE_ENDING, days=2)
    assert (run.checked, run.raised) == (2, 1)
    [alert] = open_alerts(MonitorJob.NOTICE_ENDING)
    assert alert.key.startswith(f"registration:{ending.pk}:")
    assert ending.asset.code in alert.title and alert.link == ending.get_absolute_url()
    assert alert.division == ending.asset.division
    assert recipients_of(alert) == STAFF
    assert notified(alert.title) == sorted(STAFF)
    assert_idempotent(run_job, MonitorJob.NOTICE_ENDING, alert, days=2)

    ending.status = RegistrationStatus.REGISTERED
    ending.save(update_fields=["status"])
    run = run_job(MonitorJob.NOTICE_ENDING, days=2)
    assert run.resolved == 1 and open_alerts(MonitorJob.NOTICE_ENDING) == []


def test_notice_restarted_is_a_new_condition(run_job, make_registration):
    registration = make_registration(ends_in=datetime.timedelta(hours=10))
    run_job(MonitorJob.NOTICE_ENDING, days=2)
    registration.notice_ends_at = timezone.now() + datetime.timedelta(days=1, hours=12)
    registration.save(update_fields=["notice_ends_at"])
    run = run_job(MonitorJob.NOTICE_ENDING, days=2)
    assert (run.raised, run.resolved) == (1, 1)


# --- leases_expiring ----------------------------------------------------------------------------


def test_leases_expiring(run_job, make_trade_contract, checker, other_county_staff, second_investor):
    contract = make_trade_contract(end_date=today() + datetime.timedelta(days=40))
    make_trade_contract(end_date=today() + datetime.timedelta(days=200))  # later
    make_trade_contract(end_date=today() + datetime.timedelta(days=10), status=ContractStatus.TERMINATED)
    run = run_job(MonitorJob.LEASES_EXPIRING, days=60)
    assert (run.checked, run.raised) == (2, 1)
    [alert] = open_alerts(MonitorJob.LEASES_EXPIRING)
    assert alert.key == f"trade:{contract.pk}:{contract.end_date.isoformat()}"
    assert contract.number in alert.title and "还剩 40 天" in alert.body
    # the desk and the investor's own people; not another investor, not another county
    assert recipients_of(alert) == STAFF | {"investor"}
    assert notified(alert.title) == sorted(STAFF | {"investor"})
    assert_idempotent(run_job, MonitorJob.LEASES_EXPIRING, alert, days=60)

    # a shorter look-ahead no longer sees it; a renewal (end moved) is a new condition
    contract.end_date = today() + datetime.timedelta(days=50)
    contract.save(update_fields=["end_date"])
    run = run_job(MonitorJob.LEASES_EXPIRING, days=60)
    assert (run.raised, run.resolved) == (1, 1)
    contract.status = ContractStatus.EXPIRED
    contract.save(update_fields=["status"])
    run = run_job(MonitorJob.LEASES_EXPIRING, days=60)
    assert run.resolved == 1 and open_alerts(MonitorJob.LEASES_EXPIRING) == []


def test_lease_past_its_end_but_still_signed_is_danger(run_job, make_trade_contract):
    make_trade_contract(end_date=today() - datetime.timedelta(days=3))
    run_job(MonitorJob.LEASES_EXPIRING, days=0)
    [alert] = open_alerts(MonitorJob.LEASES_EXPIRING)
    assert alert.level == "danger" and "已于" in alert.body


# --- collections_expiring --------------------------------------------------------------------------


def test_collections_expiring(
    run_job, make_collection_contract, checker, other_county_staff, other_village_clerk
):
    contract = make_collection_contract(end_date=today() + datetime.timedelta(days=20))
    make_collection_contract(end_date=today() + datetime.timedelta(days=400))
    run = run_job(MonitorJob.COLLECTIONS_EXPIRING, days=60)
    assert (run.checked, run.raised) == (2, 1)
    [alert] = open_alerts(MonitorJob.COLLECTIONS_EXPIRING)
    assert alert.key == f"collection:{contract.pk}:{contract.end_date.isoformat()}"
    # the desk and the clerk of the village the contract is in; not the neighbouring village's
    assert recipients_of(alert) == STAFF | {"village_clerk"}
    assert "other_clerk" not in notified()
    assert_idempotent(run_job, MonitorJob.COLLECTIONS_EXPIRING, alert, days=60)

    contract.status = ContractStatus.RENEWED
    contract.save(update_fields=["status"])
    assert run_job(MonitorJob.COLLECTIONS_EXPIRING, days=60).resolved == 1


def test_township_wide_collection_does_not_reach_a_village_clerk(run_job, make_collection_contract, village):
    make_collection_contract(end_date=today() + datetime.timedelta(days=5), division=village.parent)
    run_job(MonitorJob.COLLECTIONS_EXPIRING, days=60)
    [alert] = open_alerts(MonitorJob.COLLECTIONS_EXPIRING)
    # a village clerk's reach (the village) does not contain the township
    assert "village_clerk" not in recipients_of(alert)


# --- installments_due / installments_overdue ---------------------------------------------------------


def test_installments_due(run_job, loan_with, checker, second_bank, second_bank_officer, other_county_staff):
    soon = today() + datetime.timedelta(days=3)
    loan = loan_with(
        [
            (soon, Decimal("1000.00"), Decimal("30.00")),
            (soon + datetime.timedelta(days=30), Decimal("1000.00"), Decimal("20.00")),
        ]
    )
    other = loan_with(
        [(today() + datetime.timedelta(days=60), Decimal("800.00"), Decimal("8.00"))], bank=second_bank
    )
    run = run_job(MonitorJob.INSTALLMENTS_DUE, days=7)
    assert (run.checked, run.raised) == (3, 1)
    [alert] = open_alerts(MonitorJob.INSTALLMENTS_DUE)
    first = loan.installments.get(seq=1)
    assert alert.key == f"installment:{first.pk}:due"
    assert "1030.00" in alert.body and loan.number in alert.title
    # the lending bank's officers and the loan desk; never another bank's officers
    assert recipients_of(alert) == STAFF | {"bank_officer"}
    assert "bank2" not in notified()
    assert_idempotent(run_job, MonitorJob.INSTALLMENTS_DUE, alert, days=7)

    settle(first)
    assert run_job(MonitorJob.INSTALLMENTS_DUE, days=7).resolved == 1
    # the other bank's loan comes into the window: only its own officer hears of it
    run_job(MonitorJob.INSTALLMENTS_DUE, days=61)
    alert = MonitorAlert.objects.get(key=f"installment:{other.installments.get().pk}:due")
    assert recipients_of(alert) == STAFF | {"bank2"}


def test_installments_overdue(run_job, loan_with, checker, second_bank_officer):
    due = today() - datetime.timedelta(days=12)
    loan = loan_with(
        [
            (due, Decimal("2000.00"), Decimal("60.00")),
            (today() + datetime.timedelta(days=20), Decimal("2000.00"), Decimal("30.00")),
        ]
    )
    run = run_job(MonitorJob.INSTALLMENTS_OVERDUE)
    assert (run.checked, run.raised) == (2, 1)
    [alert] = open_alerts(MonitorJob.INSTALLMENTS_OVERDUE)
    inst = loan.installments.get(seq=1)
    assert alert.key == f"installment:{inst.pk}:overdue"
    assert alert.level == "danger"
    assert "已逾期 12 天" in alert.body and "未还本金 2000.00 元、利息 60.00 元" in alert.body
    assert "罚息" in alert.body and "五级分类" in alert.body
    assert recipients_of(alert) == STAFF | {"bank_officer"}
    assert_idempotent(run_job, MonitorJob.INSTALLMENTS_OVERDUE, alert)

    settle(inst)
    run = run_job(MonitorJob.INSTALLMENTS_OVERDUE)
    assert run.resolved == 1 and open_alerts(MonitorJob.INSTALLMENTS_OVERDUE) == []


def test_due_alert_is_resolved_when_the_installment_turns_overdue(run_job, loan_with):
    loan = loan_with([(today(), Decimal("500.00"), Decimal("5.00"))])
    run_job(MonitorJob.INSTALLMENTS_DUE, days=7)
    [due_alert] = open_alerts(MonitorJob.INSTALLMENTS_DUE)
    assert due_alert.level == "warning" and "今天" in due_alert.body
    inst = loan.installments.get()
    # the day passes unpaid: shift the due date back instead of the clock
    inst.due_date = today() - datetime.timedelta(days=1)
    inst.save(update_fields=["due_date"])
    assert run_job(MonitorJob.INSTALLMENTS_DUE, days=7).resolved == 1
    assert run_job(MonitorJob.INSTALLMENTS_OVERDUE).raised == 1


# --- pledge_value -----------------------------------------------------------------------------------


@pytest.fixture
def pledged_loan(
    valued_right, make_product, make_application, make_appraisal, make_pledge, make_loan, county_staff
):
    """A 300,000 元 loan on a right whose asset's accepted GEP was 100,000 元 when appraised:
    collateral value 640,000 元 (800,000 less 20 %) × max LTV 0.6 = 384,000 元 of capacity."""
    right = valued_right(gep=Decimal("100000"))
    product = make_product()
    application = make_application(rights=[right], product=product, amount=Decimal("300000"))
    run = right.asset.gep_results.first().run
    appraisal = make_appraisal(
        right,
        product,
        appraised_value=Decimal("800000"),
        application=application,
        valuation_run=run,
        gep_annual_value=Decimal("100000.00"),
    )
    pledge = make_pledge(application, appraisal, Decimal("400000"))
    loan = make_loan(application, principal=Decimal("300000"))
    return loan, pledge


def revalue(asset, gep, user, year=2026):
    return make_valuation(asset, [gep * Decimal("0.6"), gep * Decimal("0.4")], year=year, user=user)


def test_pledge_value(run_job, pledged_loan, county_staff, checker, second_bank_officer):
    loan, pledge = pledged_loan
    run = run_job(MonitorJob.PLEDGE_VALUE)
    assert (run.checked, run.raised) == (1, 0)  # 300,000 ≤ 384,000

    new_run = revalue(pledge.right.asset, Decimal("50000"), county_staff)  # GEP halves
    run = run_job(MonitorJob.PLEDGE_VALUE)
    assert run.raised == 1
    [alert] = open_alerts(MonitorJob.PLEDGE_VALUE)
    assert alert.key == f"loan:{loan.pk}:below_ltv:runs:{new_run.pk}"
    # 640,000 × 50,000 / 100,000 = 320,000; × 0.6 = 192,000 < 300,000 → gap 108,000
    assert "320000.00" in alert.body and "192000.00" in alert.body and "108000.00" in alert.body
    assert pledge.number in alert.body
    assert recipients_of(alert) == STAFF | {"bank_officer"}
    assert_idempotent(run_job, MonitorJob.PLEDGE_VALUE, alert)

    # a newer valuation, still too low: a new condition with the new numbers
    newer = revalue(pledge.right.asset, Decimal("40000"), county_staff)
    run = run_job(MonitorJob.PLEDGE_VALUE)
    assert (run.raised, run.resolved) == (1, 1)
    [alert] = open_alerts(MonitorJob.PLEDGE_VALUE)
    assert alert.key.endswith(f":{newer.pk}")

    # the value recovers (a later accepted run): resolved
    revalue(pledge.right.asset, Decimal("90000"), county_staff)
    run = run_job(MonitorJob.PLEDGE_VALUE)
    assert run.resolved == 1 and open_alerts(MonitorJob.PLEDGE_VALUE) == []


def test_pledge_value_rise_is_not_counted_above_the_appraisal(run_job, pledged_loan, county_staff):
    loan, pledge = pledged_loan
    loan.principal = Decimal("390000")  # just over the 384,000 the appraisal allows
    loan.save(update_fields=["principal"])
    loan.installments.filter(seq=12).update(principal_due=Decimal("115000.00"))
    revalue(pledge.right.asset, Decimal("300000"), county_staff)  # GEP triples
    run = run_job(MonitorJob.PLEDGE_VALUE)
    assert run.raised == 1  # capped at the appraisal's value: a rise needs a new appraisal


def test_released_pledge_is_not_watched(run_job, pledged_loan, county_staff):
    _loan, pledge = pledged_loan
    revalue(pledge.right.asset, Decimal("10000"), county_staff)
    pledge.status = "released"
    pledge.save(update_fields=["status"])
    run = run_job(MonitorJob.PLEDGE_VALUE)
    assert (run.checked, run.raised) == (0, 0)


# --- stale_data ---------------------------------------------------------------------------------------


def test_stale_observations_one_alert_per_village(
    run_job, registered_asset, households, county_staff, checker, village
):
    stale = [registered_asset([(households[0], 1)]) for _n in range(3)]
    fresh = registered_asset([(households[1], 1)])
    AssetObservation.objects.create(
        asset=fresh,
        observed_on=today() - datetime.timedelta(days=5),
        source="实地核查",
        recorded_by=county_staff,
    )
    AssetObservation.objects.create(
        asset=stale[0],
        observed_on=today() - datetime.timedelta(days=500),
        source="实地核查",
        recorded_by=county_staff,
    )
    run = run_job(MonitorJob.STALE_DATA, days=400)
    assert (run.checked, run.raised) == (4, 1)
    [alert] = open_alerts(MonitorJob.STALE_DATA)
    assert alert.key == f"observations:{village.pk}"
    assert "3 项" in alert.title and alert.division == village
    assert alert.link == f"/resources/?division={village.pk}"
    assert recipients_of(alert) == STAFF
    assert_idempotent(run_job, MonitorJob.STALE_DATA, alert, days=400)

    for asset in stale:
        AssetObservation.objects.create(
            asset=asset,
            observed_on=today() - datetime.timedelta(days=1),
            source="遥感解译",
            recorded_by=county_staff,
        )
    assert run_job(MonitorJob.STALE_DATA, days=400).resolved == 1


def test_stale_gep_run(run_job, registered_asset, households, county_staff, checker, village):
    asset = registered_asset([(households[0], 1)])
    AssetObservation.objects.create(
        asset=asset, observed_on=today(), source="实地核查", recorded_by=county_staff
    )
    revalue(asset, Decimal("1000"), county_staff, year=today().year - 3)
    run = run_job(MonitorJob.STALE_DATA, days=30)
    assert run.raised == 1
    [alert] = open_alerts(MonitorJob.STALE_DATA)
    assert alert.key == f"gep_run:{village.pk}:{today().year - 3}"
    assert recipients_of(alert) == STAFF
    revalue(asset, Decimal("1000"), county_staff, year=today().year - 2)  # newer, still old
    run = run_job(MonitorJob.STALE_DATA, days=30)
    assert (run.raised, run.resolved) == (1, 1)
    revalue(asset, Decimal("1000"), county_staff, year=today().year - 1)
    run = run_job(MonitorJob.STALE_DATA, days=30)
    assert run.resolved == 1 and open_alerts(MonitorJob.STALE_DATA) == []


# --- red_lines ------------------------------------------------------------------------------------------


@pytest.fixture
def coop_books(county_cooperative, county_staff, seed_defaults):
    """The county cooperative's books (projects.services.books): 100,000 元 of paid-in capital."""
    from directory.models import Organization, OrganizationKind

    lender = Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")

    def move(kind, amount):
        services = {"borrow": books.record_borrowing, "repay": books.repay_borrowing}
        services[kind](
            actor=county_staff,
            cooperative=county_cooperative,
            lender=lender,
            amount=Decimal(amount),
            occurred_on=PAST,
            reference=f"{kind}-{amount}",
            memo="测试",
        )

    books.record_capital(
        actor=county_staff,
        cooperative=county_cooperative,
        amount=Decimal("100000"),
        occurred_on=PAST,
        reference="ZB-1",
        memo="资本金",
    )
    return move


def test_red_lines_warning_then_breach_then_back(
    run_job, coop_books, county_cooperative, checker, other_county_staff
):
    coop_books("borrow", "200000")  # debt ratio 200,000 ÷ 300,000 = 66.67 %: over the 65 % warning line
    run = run_job(MonitorJob.RED_LINES)
    assert run.checked == 15  # five lines × three cooperatives (the city, 莲都区 and 青田县)
    [alert] = open_alerts(MonitorJob.RED_LINES)
    assert alert.key == f"red_line:{county_cooperative.pk}:debt_ratio:warning"
    assert alert.level == "warning" and "资产负债率" in alert.title and "66.67%" in alert.body
    assert alert.link == f"/projects/red-lines/cooperatives/{county_cooperative.pk}/"
    # overseers of the county (its staff, the city administrator and the auditor above it)
    assert recipients_of(alert) == STAFF | {"auditor"}
    assert_idempotent(run_job, MonitorJob.RED_LINES, alert)

    coop_books("borrow", "200000")  # 400,000 ÷ 500,000 = 80 %: over the 75 % red line
    run = run_job(MonitorJob.RED_LINES)
    assert (run.raised, run.resolved) == (1, 1)  # the escalation is a new alert, the warning resolved
    [breach] = open_alerts(MonitorJob.RED_LINES)
    assert breach.key == f"red_line:{county_cooperative.pk}:debt_ratio:breach" and breach.level == "danger"
    assert notified(breach.title) == sorted(STAFF | {"auditor"})

    coop_books("repay", "400000")
    run = run_job(MonitorJob.RED_LINES)
    assert run.resolved == 1 and open_alerts(MonitorJob.RED_LINES) == []


def test_red_lines_without_thresholds_fail_the_run(run_job, county_cooperative):
    from projects.models import RedLine

    RedLine.objects.all().delete()
    run = run_job(MonitorJob.RED_LINES)
    assert run.status == "failed" and "尚未设定红线" in run.error
    assert not MonitorAlert.objects.exists()


# --- gep_balance ------------------------------------------------------------------------------------------


def test_gep_balance_warning_then_negative_then_ok(run_job, gep_credit, county, checker, other_county_staff):
    gep_credit(Decimal("20000")).rule.__class__.objects.filter(division=county).update(
        warning_balance=Decimal("50000")
    )
    run = run_job(MonitorJob.GEP_BALANCE)
    assert (run.checked, run.raised) == (1, 1)
    [alert] = open_alerts(MonitorJob.GEP_BALANCE)
    assert alert.key == f"gep_balance:{county.pk}:warning"
    assert "20000.00" in alert.body and "50000" in alert.body
    assert alert.link == f"/projects/gep/{county.pk}/"
    assert recipients_of(alert) == STAFF  # the project desk over the county; not the village clerk
    assert_idempotent(run_job, MonitorJob.GEP_BALANCE, alert)

    GepBalance.objects.filter(division=county).update(balance=Decimal("-3000.00"))
    run = run_job(MonitorJob.GEP_BALANCE)
    assert (run.raised, run.resolved) == (1, 1)
    [negative] = open_alerts(MonitorJob.GEP_BALANCE)
    assert negative.level == "danger" and "缺口 3000.00 元" in negative.body

    GepBalance.objects.filter(division=county).update(balance=Decimal("80000.00"))
    assert run_job(MonitorJob.GEP_BALANCE).resolved == 1


def test_gep_balance_of_another_county_goes_to_its_own_staff(
    run_job, make_gep_rule, other_county_staff, checker
):
    qingtian = other_county_staff.memberships.get().organization.division
    make_gep_rule(division=qingtian)
    GepBalance.objects.create(division=qingtian, balance=Decimal("-1.00"))
    run_job(MonitorJob.GEP_BALANCE)
    [alert] = open_alerts(MonitorJob.GEP_BALANCE)
    assert recipients_of(alert) == {"qingtian_staff", "city_admin"}
