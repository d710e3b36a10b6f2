# ruff: noqa: F811  (fixtures imported from test_projects_fixtures)
"""Two projects in the same county, each consuming 60 % of the balance, admitted at the same
moment by two reviewers: the balance row lock lets exactly one through; the other is refused with
the shortfall and leaves nothing behind."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from projects.models import GepBalance, GepBalanceEntry, ProjectReview, ProjectStatus
from projects.services import projects as services
from tmcs.errors import DomainError

from .test_projects_fixtures import MANUAL_OK, owner_member, prepare, submitted  # noqa: F401  (fixtures)


def race(jobs):
    barrier, outcomes = threading.Barrier(len(jobs)), {}

    def run(name, job):
        try:
            barrier.wait()
            job()
            outcomes[name] = "admitted"
        except DomainError as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_admissions_cannot_spend_the_same_credit(
    catalog, submitted, gep_rule, gep_credit, valued_asset, county_staff, reviewer
):
    gep_credit(Decimal("100000"))
    first = submitted(consumptions=[(valued_asset(gep=Decimal("100000")), "0.6", "林地转为建设用地")])
    second = submitted(consumptions=[(valued_asset(gep=Decimal("100000")), "0.6", "林地转为建设用地")])

    def admit(actor, project):
        return lambda: services.review_project(
            actor=actor, project=project, decision="admit", note="", manual=MANUAL_OK
        )

    outcomes = race({first.pk: admit(county_staff, first), second.pk: admit(reviewer, second)})
    winners = [pk for pk, outcome in outcomes.items() if outcome == "admitted"]
    losers = [outcome for outcome in outcomes.values() if outcome != "admitted"]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].code == "gep_shortfall" and Decimal(losers[0].fields["shortfall"]) == Decimal("20000.00")
    loser_pk = first.pk if winners[0] == second.pk else second.pk
    statuses = {p.pk: p.status for p in (first, second) for p in [type(p).objects.get(pk=p.pk)]}
    assert statuses == {winners[0]: ProjectStatus.ADMITTED, loser_pk: ProjectStatus.SUBMITTED}
    assert ProjectReview.objects.filter(project_id=loser_pk).count() == 0
    assert GepBalanceEntry.objects.filter(project_id=loser_pk).count() == 0
    assert GepBalance.objects.get(division=gep_rule.division).balance == Decimal("40000.00")
    total = sum(GepBalanceEntry.objects.values_list("amount", flat=True))
    assert total == Decimal("40000.00")  # the balance row equals the sum of its entries
