"""Fixtures shared by every app's tests. The database is the real PostGIS cluster and Redis the
real server that `make test` starts (see Makefile)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from directory.models import AdministrativeDivision, Membership, Organization, OrganizationKind, Role, User

ROOT = Path(__file__).resolve().parent
DEMO_PASSWORD = "Test-password-2026"


@pytest.fixture
def demo_region(db, settings):
    from directory.demo import load_demo_region

    settings.TMCS_DEMO_PASSWORD = DEMO_PASSWORD
    return load_demo_region(password=DEMO_PASSWORD)


@pytest.fixture
def make_member(db):
    """make_member(role, organization) → a user acting for the organization in that role."""
    counter = iter(range(1, 10_000))

    def make(role, organization, **user_fields):
        user = User.objects.create_user(
            username=user_fields.pop("username", f"{role}-{next(counter)}"),
            password=DEMO_PASSWORD,
            **user_fields,
        )
        Membership.objects.create(user=user, organization=organization, role=role)
        return user

    return make


@pytest.fixture
def lishui(demo_region):
    return AdministrativeDivision.objects.get(code="331100000000")


@pytest.fixture
def city_admin(demo_region):
    return User.objects.get(username="city_admin")


@pytest.fixture
def county_staff(demo_region):
    return User.objects.get(username="coop_staff")


@pytest.fixture
def bank_officer(demo_region):
    return User.objects.get(username="bank_officer")


@pytest.fixture
def city_cooperative(demo_region):
    return Organization.objects.get(kind=OrganizationKind.COOPERATIVE, division__code="331100000000")


@pytest.fixture
def county_cooperative(demo_region):
    return Organization.objects.get(kind=OrganizationKind.COOPERATIVE, division__code="331102000000")


@pytest.fixture
def roles():
    return Role


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real `celery worker` process on the test database and the test Redis.

    The test must use committed data (transactional_db), since the worker has its own connection.
    """
    from tmcs.celery import app

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    hostname = f"pytest-{os.getpid()}@localhost"
    app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tmcs",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--hostname",
            hostname,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(
            lambda: (
                process.poll() is None
                and bool(app.control.inspect(timeout=0.5, destination=[hostname]).ping())
            ),
            timeout=60,
            what="the Celery worker to answer a ping",
        )
        yield hostname
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        if process.returncode not in (0, -15):
            print(output)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness guards real passwords; tests only need a correct hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs `collectstatic` first; tests/test_static.py checks that it works.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def celery_eager():
    """Run .delay() inline in this process (and raise task errors), for the eager half of task
    tests; the other half goes through `celery_worker_process`."""
    from tmcs.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
