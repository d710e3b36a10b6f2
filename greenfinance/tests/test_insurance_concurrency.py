# ruff: noqa: F811  (fixtures imported from fixtures_insurance)
"""Simultaneous approvals and payouts, in real threads on their own database connections: the
policy's row lock lets the approvals of its claims together never exceed the sum insured, and a
claim's payouts never exceed its approved amount."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from greenfinance.models import ClaimPayout, ClaimStatus, InsuranceClaim, PolicyStatus
from greenfinance.services import insurance as services
from tmcs.errors import DomainError

from .fixtures_insurance import (  # noqa: F401  (fixtures)
    INCIDENT,
    forest_asset,
    insurer,
    make_policy,
    policy,
)


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


def assessing(policy, actor, amount, n):
    claims = []
    for _ in range(n):
        claim = services.report_claim(
            actor=actor, policy=policy, incident_date=INCIDENT, cause="山火", claimed_amount=amount
        )
        claims.append(services.start_assessment(actor=actor, claim=claim))
    return claims


@pytest.mark.django_db(transaction=True)
def test_approvals_together_never_exceed_the_sum_insured(catalog, policy, county_staff, checker):
    claims = assessing(policy, county_staff, "150000", 3)  # 450,000 claimed on 300,000 insured
    results = run_together(
        *[
            (
                lambda c=c, who=who: services.approve_claim(
                    actor=who, claim=c, approved_amount="150000", note=""
                )
            )
            for c, who in zip(claims, (county_staff, checker, county_staff), strict=True)
        ]
    )
    assert sorted(r if isinstance(r, str) else "ok" for r in results) == ["ok", "ok", "over_sum_insured"]
    approved = InsuranceClaim.objects.filter(status=ClaimStatus.APPROVED)
    assert approved.count() == 2
    assert sum(c.approved_amount for c in approved) == policy.sum_insured == Decimal("300000.00")
    policy.refresh_from_db()
    assert policy.status == PolicyStatus.EXHAUSTED
    assert (
        InsuranceClaim.objects.filter(status=ClaimStatus.ASSESSING, approved_amount__isnull=True).count() == 1
    )


@pytest.mark.django_db(transaction=True)
def test_payouts_together_never_exceed_the_approved_amount(
    catalog, policy, county_staff, checker, households
):
    [claim] = assessing(policy, county_staff, "100000", 1)
    services.approve_claim(actor=county_staff, claim=claim, approved_amount="80000", note="")
    results = run_together(
        *[
            (
                lambda who=who, ref=ref: services.record_payout(
                    actor=who,
                    claim=claim,
                    amount="50000",
                    paid_on=INCIDENT,
                    payee=households[0],
                    reference=ref,
                )
            )
            for who, ref in ((county_staff, "PAY-A"), (checker, "PAY-B"))
        ]
    )
    assert sorted(r if isinstance(r, str) else "ok" for r in results) == ["ok", "over_approved"]
    claim.refresh_from_db()
    assert claim.paid_amount == Decimal("50000.00") and claim.status == ClaimStatus.APPROVED
    assert ClaimPayout.objects.filter(claim=claim).count() == 1
