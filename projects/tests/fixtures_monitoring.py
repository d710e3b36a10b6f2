"""Fixtures of the monitoring tests: the upstream records each job watches, built directly with
the ORM, people who must NOT hear about them (another county's staff, another village's clerk,
another bank's officer), and helpers to run a job with its after-commit notifications executed."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from directory.models import (
    AdministrativeDivision,
    DivisionLevel,
    Notification,
    Organization,
    OrganizationKind,
    Role,
)
from directory.services import ensure_party
from finance.tests.conftest import make_appraisal  # noqa: F401  (fixture)
from projects.models import MonitorAlert
from projects.services.monitoring import run_monitor
from resources.models import Registration, RegistrationStatus, RightKind
from transactions.models import CollectionContract, ContractStatus, RevenueModel, TradeContract, TradeKind

PAST = datetime.date(2026, 1, 15)


def today():
    return timezone.localdate()


def usernames(users):
    return {user.username for user in users}


def recipients_of(alert):
    return usernames(alert.recipients.all())


def notified(title=None):
    """Usernames that received an inbox message (with `title` if given)."""
    qs = Notification.objects.all()
    if title is not None:
        qs = qs.filter(title=title)
    return sorted(qs.values_list("recipient__username", flat=True))


def open_alerts(job):
    return list(MonitorAlert.objects.filter(job=job, resolved_at__isnull=True).order_by("pk"))


@pytest.fixture
def seed_defaults(db):
    """Re-run migration 0003 (default red lines and the nine beat schedules): transactional tests
    elsewhere in the session flush what the migration seeded."""
    migration = importlib.import_module("projects.migrations.0003_defaults_and_schedules")
    migration.create(apps, None)


@pytest.fixture
def run_job(django_capture_on_commit_callbacks):
    """run_job(job, **params) → the run, with the after-commit notifications (and e-mails) sent."""

    def run(job, **params):
        with django_capture_on_commit_callbacks(execute=True):
            return run_monitor(job, params=params)

    return run


@pytest.fixture
def with_emails(demo_region, checker):
    """Give the demo users e-mail addresses so that the e-mail half of a notification is visible."""
    from directory.models import User

    for user in User.objects.all():
        user.email = f"{user.username}@example.test"
        user.save(update_fields=["email"])


@pytest.fixture
def other_county_staff(demo_region, make_member):
    """Staff of 青田县's cooperative: reaches nothing in 莲都区."""
    county = AdministrativeDivision.objects.get(code="331121000000")
    coop = Organization.objects.create(
        name="青田县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=county
    )
    return make_member(Role.COOP_STAFF, coop, username="qingtian_staff")


@pytest.fixture
def other_village_clerk(demo_region, make_member):
    """The clerk of a second village of the demo township."""
    township = AdministrativeDivision.objects.get(code="331102199000")
    village, _created = AdministrativeDivision.objects.get_or_create(
        code="331102199202",
        defaults={"name": "另一村（测试）", "level": DivisionLevel.VILLAGE, "parent": township},
    )
    org = Organization.objects.create(
        name="另一村股份经济合作社（测试）", kind=OrganizationKind.VILLAGE_COLLECTIVE, division=village
    )
    return make_member(Role.VILLAGE_CLERK, org, username="other_clerk")


@pytest.fixture
def make_registration(make_asset, county_staff):
    def make(ends_in=datetime.timedelta(days=1)):
        asset = make_asset()
        now = timezone.now()
        return Registration.objects.create(
            asset=asset,
            applicant=county_staff,
            status=RegistrationStatus.IN_PUBLIC_NOTICE,
            reviewed_by=county_staff,
            reviewed_at=now - datetime.timedelta(days=6),
            notice_starts_at=now - datetime.timedelta(days=6),
            notice_ends_at=now + ends_in,
        )

    return make


@pytest.fixture
def make_trade_contract(investor_org, county_cooperative, village, county_staff):
    counter = iter(range(1, 1000))

    def make(end_date, status=ContractStatus.SIGNED, investor=None):
        return TradeContract.objects.create(
            number=f"JYT{next(counter):06d}",
            investor=investor or investor_org,
            cooperative=county_cooperative,
            division=village,
            kind=TradeKind.LEASE,
            start_date=datetime.date(2024, 1, 1),
            end_date=end_date,
            price=Decimal("120000.00"),
            status=status,
            signed_at=timezone.now() - datetime.timedelta(days=300),
            signed_by=county_staff,
            created_by=county_staff,
        )

    return make


@pytest.fixture
def make_collection_contract(county_cooperative, village, county_staff, collective):
    counter = iter(range(1, 1000))

    def make(end_date, status=ContractStatus.SIGNED, division=None):
        return CollectionContract.objects.create(
            number=f"SCT{next(counter):06d}",
            division=division or village,
            cooperative=county_cooperative,
            grantor=collective,
            source_right_kind=RightKind.OWNERSHIP,
            start_date=datetime.date(2021, 1, 1),
            end_date=end_date,
            revenue_model=RevenueModel.FIXED_RENT,
            annual_amount=Decimal("20000.00"),
            first_payment_date=datetime.date(2021, 1, 1),
            status=status,
            signed_at=timezone.now() - datetime.timedelta(days=900),
            signed_by=county_staff,
            created_by=county_staff,
        )

    return make


@pytest.fixture
def loan_with(make_application, make_loan, make_product):
    """loan_with([(due_date, principal, interest), …], bank=None) → an active loan (ORM)."""

    def make(installments, bank=None):
        product = make_product(bank_org=bank) if bank is not None else make_product()
        application = make_application(
            product=product, amount=sum((p for _d, p, _i in installments), Decimal(0))
        )
        return make_loan(application, installments=installments)

    return make


def settle(installment, on=None):
    installment.principal_paid = installment.principal_due
    installment.interest_paid = installment.interest_due
    installment.settled_on = on or today()
    installment.save(update_fields=["principal_paid", "interest_paid", "settled_on"])


@pytest.fixture
def second_bank_with_party(second_bank):
    ensure_party(second_bank)
    return second_bank
