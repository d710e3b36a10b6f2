"""Simultaneous pledge requests, in real threads on their own database connections: the right's
lock lets exactly one through when together they exceed what the right can bear or want the same
rank, and one Idempotency-Key sent twice at once makes one pledge."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from finance.models import Pledge, PledgeStatus
from finance.services import pledges
from resources.models import Restriction, RestrictionKind, RightStatus
from tmcs.errors import DomainError

URL = "/api/v1/finance/pledges/"


def run_together(*calls):
    """Start every call at the same moment; return their results (or raised DomainError codes)."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except DomainError as exc:
            results[index] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def two_applications(valued_right, make_product, make_application, make_appraisal):
    """Two approved applications with the same right as collateral; the right is appraised at
    300,000 元 and each application may borrow up to 200,000 元 on it."""
    right = valued_right()
    product = make_product()
    first = make_application(rights=[right], product=product)
    second = make_application(rights=[right], product=product)
    make_appraisal(right, product, appraised_value=Decimal("300000"), max_loan=Decimal("200000"))
    return right, first, second


@pytest.mark.django_db(transaction=True)
def test_requests_together_beyond_capacity_one_succeeds(two_applications, county_staff, bank_officer):
    right, first, second = two_applications
    results = run_together(
        lambda: pledges.register_pledge(
            actor=county_staff, application=first, right=right, secured_amount="200000"
        ),
        lambda: pledges.register_pledge(
            actor=bank_officer, application=second, right=right, secured_amount="200000"
        ),
    )
    made = [r for r in results if isinstance(r, Pledge)]
    assert len(made) == 1 and [r for r in results if not isinstance(r, Pledge)] == ["over_capacity"]
    assert made[0].rank == 1
    assert Pledge.objects.count() == 1
    securities = Restriction.objects.filter(
        right=right, kind=RestrictionKind.PLEDGE, status=RightStatus.ACTIVE
    )
    assert [s.secured_amount for s in securities] == [Decimal("200000.00")]


@pytest.mark.django_db(transaction=True)
def test_requests_together_for_the_same_rank_one_succeeds(two_applications, county_staff, bank_officer):
    right, first, second = two_applications
    results = run_together(
        lambda: pledges.register_pledge(
            actor=county_staff, application=first, right=right, secured_amount="50000", rank=1
        ),
        lambda: pledges.register_pledge(
            actor=bank_officer, application=second, right=right, secured_amount="50000", rank=1
        ),
    )
    assert sorted(r if isinstance(r, str) else "pledged" for r in results) == ["pledged", "rank_taken"]
    assert Pledge.objects.filter(status=PledgeStatus.ACTIVE).count() == 1
    assert Restriction.objects.filter(right=right, kind=RestrictionKind.PLEDGE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_requests_together_without_rank_take_consecutive_ranks(two_applications, county_staff, bank_officer):
    """Within capacity, both succeed: the second, waiting on the right's lock, takes rank 2."""
    right, first, second = two_applications
    results = run_together(
        lambda: pledges.register_pledge(
            actor=county_staff, application=first, right=right, secured_amount="100000"
        ),
        lambda: pledges.register_pledge(
            actor=bank_officer, application=second, right=right, secured_amount="100000"
        ),
    )
    assert sorted(p.rank for p in results) == [1, 2]
    assert len({p.number for p in results}) == 2


@pytest.mark.django_db(transaction=True)
def test_same_idempotency_key_twice_at_once_makes_one_pledge(two_applications, bank_officer):
    right, first, _second = two_applications
    body = {"application": first.pk, "right": right.pk, "secured_amount": "150000.00"}

    def post():
        client = APIClient()
        client.force_authenticate(bank_officer)
        response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="bank-req-0001")
        return response.status_code, response.json()

    results = run_together(post, post)
    assert sorted(code for code, _body in results) == [200, 201]
    numbers = {answer["number"] for _code, answer in results}
    assert len(numbers) == 1
    assert Pledge.objects.count() == 1 and Pledge.objects.get().number in numbers
    assert Restriction.objects.filter(right=right, kind=RestrictionKind.PLEDGE).count() == 1
