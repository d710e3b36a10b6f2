# ruff: noqa: F811  (fixtures imported from test_applications_fixtures)
"""Two checkers pressing “approve” at once: the application row lock lets exactly one through,
and the bank gets one access grant and one notification per officer."""

import threading

import pytest
from django.db import connection

from directory.models import Notification, PersonAccessGrant
from finance.models import ApplicationStatus
from finance.services import applications as services
from tmcs.errors import DomainError

from .test_applications_fixtures import draft, submitted  # noqa: F401  (fixtures)


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_approve_once(catalog, submitted, checker, city_admin, bank_officer):
    application, _right = submitted()
    barrier, outcomes = threading.Barrier(2), []

    def check(actor):
        try:
            barrier.wait()
            services.check_application(actor=actor, application=application, approve=True, note="同意")
            outcomes.append("approved")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=check, args=(user,)) for user in (checker, city_admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "invalid_transition"]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.checked_by in (checker, city_admin)
    assert PersonAccessGrant.objects.count() == 1
    assert Notification.objects.filter(recipient=bank_officer).count() == 1
