"""The demo projects desk loads on the demo region after the registry, valuation, trading and
finance demos, through the services, and loads once."""

from decimal import Decimal

from django.core.management import call_command
from django.db.models import Sum

from projects.models import (
    CriteriaSet,
    CriteriaStatus,
    GepBalance,
    GepBalanceEntry,
    GepEntryKind,
    KeyProject,
    MonitorJob,
    MonitorRun,
    MonitorRunStatus,
    PerformanceEvaluation,
    ProjectStatus,
    RedLineKey,
    RedLineReading,
)


def test_demo_projects_load_once(demo_region, catalog):
    from finance.demo import load_demo_finance
    from projects.demo import load_demo_projects
    from resources.demo import load_demo_assets
    from transactions.demo import load_demo_trading
    from valuation.demo import load_demo_valuation

    load_demo_assets()
    load_demo_valuation()
    load_demo_trading()
    load_demo_finance()
    project = load_demo_projects()
    assert project is not None, "the demo forest should be valued in two years"
    project.refresh_from_db()
    assert project.status == ProjectStatus.ADMITTED and project.showcase
    assert KeyProject.objects.filter(status=ProjectStatus.SUBMITTED).count() == 1
    assert CriteriaSet.objects.get(status=CriteriaStatus.PUBLISHED).criteria.count() == 6

    # the admitted project's debit is covered by the forest's restoration credit
    credit = GepBalanceEntry.objects.get(kind=GepEntryKind.RESTORATION)
    debit = GepBalanceEntry.objects.get(kind=GepEntryKind.PROJECT_DEBIT, project=project)
    assert credit.amount > -debit.amount > 0
    balance = GepBalance.objects.get(division=credit.division)
    assert (
        balance.balance
        == GepBalanceEntry.objects.aggregate(s=Sum("amount"))["s"]
        == credit.amount + debit.amount
    )

    # the county cooperative's red lines are computed from its books, all within limits
    county_coop = project.division.code[:6]
    readings = RedLineReading.objects.filter(cooperative__division__code__startswith=county_coop)
    county_readings = {r.key: r for r in readings if r.cooperative.division.level == "county"}
    assert set(county_readings) == set(RedLineKey.values)
    assert county_readings[RedLineKey.DEBT_RATIO].value > 0
    assert all(r.status == "ok" for r in county_readings.values()), {
        k: r.status for k, r in county_readings.items()
    }

    evaluation = PerformanceEvaluation.objects.get(cooperative__division__level="county")
    assert evaluation.rank == 1 and evaluation.total_score > Decimal("0")
    assert {run.job for run in MonitorRun.objects.all()} == set(MonitorJob.values)
    assert not MonitorRun.objects.exclude(status=MonitorRunStatus.SUCCEEDED).exists()

    assert load_demo_projects() is None
    call_command("load_demo_projects", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert KeyProject.objects.count() == 2
    assert GepBalanceEntry.objects.count() == 2
