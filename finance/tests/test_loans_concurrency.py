# ruff: noqa: F811  (fixtures imported from test_loans_fixtures)
"""A bank's system sending one repayment twice at once with the same Idempotency-Key books it once;
two different repayments at once are allocated one after the other under the loan lock."""

import datetime
import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from rest_framework.test import APIClient

from finance.models import BankRequestKey, Repayment
from finance.services import loans

from .test_loans_fixtures import A, approved, disbursed, schedule_totals  # noqa: F401  (fixtures)

FEB15 = datetime.date(2025, 2, 15)


def _run_together(*jobs):
    barrier, outcomes = threading.Barrier(len(jobs)), []

    def run(job):
        try:
            barrier.wait()
            outcomes.append(job())
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_books_one_repayment(disbursed, bank_officer):
    loan = disbursed()
    url = f"/api/v1/finance/loans/{loan.pk}/repayments/"
    payload = {"amount": str(A), "paid_on": FEB15.isoformat(), "bank_reference": "LS-C1"}

    def post():
        client = APIClient()
        client.force_authenticate(bank_officer)
        response = client.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
        return response.status_code, response.json()["id"]

    outcomes = _run_together(post, post)
    assert sorted(code for code, _id in outcomes) == [200, 201]
    assert len({pk for _code, pk in outcomes}) == 1
    assert Repayment.objects.count() == 1 and BankRequestKey.objects.count() == 1
    first = loan.installments.get(seq=1)
    assert first.principal_paid == D("7903.91") and first.interest_paid == D("900.00")


@pytest.mark.django_db(transaction=True)
def test_two_repayments_at_once_are_allocated_in_turn(disbursed, bank_officer):
    loan = disbursed()

    def pay(reference):
        return lambda: loans.record_repayment(
            actor=bank_officer, loan=loan, amount=A, paid_on=FEB15, bank_reference=reference
        )

    outcomes = _run_together(pay("LS-C2"), pay("LS-C3"))
    assert all(isinstance(outcome, Repayment) for outcome in outcomes), outcomes
    kinds = sorted(outcome.kind for outcome in outcomes)
    assert kinds == ["early", "regular"]  # the second one finds installment 1 paid and prepays
    total, paid, rows = schedule_totals(loan)
    assert total == D("300000.00") and paid == D("7903.91") + A
    assert sum(r.interest_paid for r in rows) == D("900.00")
