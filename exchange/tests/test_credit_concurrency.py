"""Races, in real threads on their own connections: the same paper consent recorded twice at
once is recorded once; a revocation racing with an export either lands first (the party is
withheld) or waits until the report is out (and is dated after it)."""

# ruff: noqa: F811  (fixtures)
import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tmcs.errors import DomainError

from ..models import CreditConsent, CreditExport
from ..services import credit
from .fixtures_credit import BOTH, guarantor, make_score  # noqa: F401  (fixtures)


def run_together(*calls):
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


def _record(actor, party, recipient):
    today = timezone.localdate()
    return credit.record_consent(
        actor=actor,
        party=party,
        recipient=recipient,
        purpose="申请担保",
        scopes=BOTH,
        document="授权书-并发",
        signed_on=today,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
    )


@pytest.mark.django_db(transaction=True)
def test_the_same_consent_twice_at_once_is_recorded_once(households, guarantor, county_staff, city_admin):
    party = households[0]
    results = run_together(
        lambda: _record(county_staff, party, guarantor), lambda: _record(city_admin, party, guarantor)
    )
    assert sorted(r if isinstance(r, str) else "made" for r in results) == ["duplicate_consent", "made"]
    assert CreditConsent.objects.filter(party=party).count() == 1


@pytest.mark.django_db(transaction=True)
def test_revocation_racing_an_export(households, make_score, guarantor, county_staff, city_admin):
    party = households[0]
    make_score(party)
    consent = _record(county_staff, party, guarantor)
    division = county_staff.memberships.get().organization.division
    results = run_together(
        lambda: credit.create_credit_export(
            actor=county_staff, recipient=guarantor, division=division, as_of=timezone.localdate()
        ),
        lambda: credit.revoke_consent(actor=city_admin, consent=consent, reason="本人撤回"),
    )
    export = CreditExport.objects.get()
    consent.refresh_from_db()
    assert isinstance(results[0], CreditExport) and consent.revoked_at is not None
    if export.parties_exported:
        assert consent.revoked_at >= export.created_at  # the revocation waited for the report
    else:
        assert export.parties_withheld == 1 and not export.lines.exists()
