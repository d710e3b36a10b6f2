# ruff: noqa: F811  (fixtures imported from fixtures_performance)
"""Two county desks evaluating their cooperatives at the same moment under one scheme and period:
the group's advisory lock serializes them, so the later ranking sees the earlier evaluation and
every rank counts every peer (without the lock both would read "1 of 1")."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from projects.models import PerformanceEvaluation
from projects.services import performance

from .fixtures_performance import (  # noqa: F401  (fixtures)
    P_END,
    P_START,
    admitted_project,
    make_county_coop,
    make_scheme,
    qingtian,
)


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_rank_the_whole_group(
    make_scheme, county_staff, county_cooperative, qingtian, admitted_project, monkeypatch
):
    scheme = make_scheme([{"key": "projects_admitted", "weight": "100", "target": "4"}])
    qt_coop, qt_staff = qingtian
    admitted_project(datetime.date(2026, 2, 1), division=qt_coop.division)
    jobs = [(county_staff, county_cooperative), (qt_staff, qt_coop)]
    barrier, errors = threading.Barrier(len(jobs)), []
    compute = performance.compute_indicators

    def slow_compute(*args):
        time.sleep(0.3)  # widen the window in which unserialized evaluations would overlap
        return compute(*args)

    monkeypatch.setattr(performance, "compute_indicators", slow_compute)

    def evaluate(actor, cooperative):
        try:
            barrier.wait()
            performance.evaluate_cooperative(
                actor=actor, scheme=scheme, cooperative=cooperative, period_start=P_START, period_end=P_END
            )
        except Exception as exc:  # reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = {
        e.cooperative_id: (e.total_score, e.rank, e.peer_count)
        for e in PerformanceEvaluation.objects.filter(scheme=scheme)
    }
    assert stored == {qt_coop.pk: (Decimal("25.00"), 1, 2), county_cooperative.pk: (Decimal("0.00"), 2, 2)}
