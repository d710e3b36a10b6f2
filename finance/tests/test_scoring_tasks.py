# ruff: noqa: F811  (fixtures imported from test_scoring_fixtures)
"""The recompute job: scheduled after a record is made or revoked, run eagerly and through a real
Celery worker; two recomputes of one party at once write one score."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from conftest import _wait_for
from finance.models import CreditScore
from finance.services import scoring
from finance.tasks import recompute_credit_score

from .test_scoring_fixtures import HOUSEHOLD_FACTORS, days_ago, household_card, record  # noqa: F401


@pytest.mark.django_db
def test_recording_and_revoking_recompute_eagerly(
    household_card, households, record, county_staff, celery_eager, django_capture_on_commit_callbacks
):
    party = households[0]
    with django_capture_on_commit_callbacks(execute=True):
        made = record(party, "standard_pilot", "6")
    first = scoring.current_score(party)
    assert first.score == Decimal("612.00") and first.factors[0]["points"] == "12.00"
    with django_capture_on_commit_callbacks(execute=True):
        scoring.revoke_eco_behaviour(actor=county_staff, record=made, reason="县级试点未通过验收")
    second = scoring.current_score(party)
    assert second.pk != first.pk and second.score == Decimal("600.00")
    # The task itself is idempotent: the same inputs give the same current score.
    assert recompute_credit_score.delay(party.pk).get() == second.pk
    assert recompute_credit_score.delay(999_999_999).get() is None
    assert CreditScore.objects.filter(party=party).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_record_is_scored_by_a_real_worker(
    city_admin, households, village, county_staff, celery_worker_process
):
    scoring.create_scorecard(
        actor=city_admin, subject="household", name="农户测试评分卡", factors=HOUSEHOLD_FACTORS
    )
    party = households[0]
    scoring.record_eco_behaviour(
        actor=county_staff,
        party=party,
        division=village,
        category="garbage_sorting",
        points=Decimal("1"),
        occurred_on=days_ago(3),
        description="主动分类投放",
        source_document="示范村评议记录",
    )  # committed: the recompute goes to the broker and the worker picks it up
    _wait_for(
        lambda: CreditScore.objects.filter(party=party, is_current=True).exists(),
        timeout=60,
        what="the worker to score the party",
    )
    score = CreditScore.objects.get(party=party, is_current=True)
    assert score.score == Decimal("602.00") and score.grade == "B"
    assert "有效生态加分记录 1 条" in score.factors[0]["explanation"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_recomputes_write_one_score(city_admin, households):
    scoring.create_scorecard(
        actor=city_admin, subject="household", name="农户测试评分卡", factors=HOUSEHOLD_FACTORS
    )
    party = households[0]
    barrier, results, errors = threading.Barrier(2), [], []

    def recompute():
        try:
            barrier.wait()
            results.append(scoring.recompute_credit_score(party.pk).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=recompute) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert CreditScore.objects.filter(party=party).count() == 1
