"""Fixtures of the credit consent and credit export tests: two recipients (the demo guarantor and a
second guarantee platform) with their officers, scores and loans built for any party, a consent
helper that goes through the service, and a reader of every rendered format."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.demo import DEMO_PERSONS, demo_uscc
from directory.models import AdministrativeDivision, Organization, OrganizationKind, Person, Role, User
from directory.services import create_person, ensure_party
from finance.models import ApplicationStatus, CreditScore, Scorecard, ScoreSubject
from finance.services.loans import record_repayment
from tmcs.ids import national_id_check_char

from ..models import ConsentScope
from ..services import credit

TODAY = datetime.date(2026, 11, 23)  # the suite's "today" (see the common brief); tests use localdate()
BOTH = [ConsentScope.ECO_CREDIT.value, ConsentScope.LOAN_PERFORMANCE.value]


def demo_id(person):
    """The demo person's ID number rebuilt from directory/demo.py (with its check character)."""
    for name, birth, sequence, phone in DEMO_PERSONS:
        if name == person.name:
            body = f"331102{birth}{sequence}"
            return body + national_id_check_char(body), phone
    raise LookupError(person.name)


@pytest.fixture
def guarantor(demo_region):
    return Organization.objects.get(kind=OrganizationKind.GUARANTOR, name__contains="演示")


@pytest.fixture
def guarantor_officer(demo_region):
    return User.objects.get(username="guarantor_officer")


@pytest.fixture
def other_platform(demo_region, lishui):
    """A second guarantee platform (another recipient)."""
    return Organization.objects.create(
        name="浙江省农业融资担保有限公司（测试）",
        kind=OrganizationKind.GUARANTOR,
        division=lishui,
        uscc=demo_uscc("91330000MA27U0001"),
    )


@pytest.fixture
def other_platform_officer(other_platform, make_member):
    return make_member(Role.GUARANTOR_OFFICER, other_platform, username="zlg-officer")


@pytest.fixture
def enterprise(demo_region):
    """The demo investor company: an organization party living in 莲都区."""
    org = Organization.objects.get(kind=OrganizationKind.ENTERPRISE, name__contains="演示")
    return ensure_party(org)


@pytest.fixture
def qingtian(demo_region):
    return AdministrativeDivision.objects.get(code="331121000000")


@pytest.fixture
def qingtian_staff(qingtian, make_member):
    org = Organization.objects.create(
        name="青田县两山合作社（信用测试）", kind=OrganizationKind.COOPERATIVE, division=qingtian
    )
    ensure_party(org)
    return make_member(Role.COOP_STAFF, org, username="staff-qt-credit")


@pytest.fixture
def qingtian_party(qingtian, city_admin):
    """A person living in 青田县 (outside 莲都区 staff's reach)."""
    body = "33112119900101123"
    person = create_person(
        actor=city_admin,
        name="赵青田",
        division=qingtian,
        national_id=body + national_id_check_char(body),
        phone="13900000001",
        address="青田",
    )
    return person.party


@pytest.fixture
def make_score(city_admin):
    """make_score(party, score="712.50", grade="A", ago_days=0) → the party's current score, with
    two explained factors."""

    def make(party, score="712.50", grade="A", ago_days=0):
        card, _created = Scorecard.objects.get_or_create(
            subject=ScoreSubject.HOUSEHOLD,
            version=7,
            defaults={"name": "农户信用测试评分卡", "created_by": city_admin},
        )
        CreditScore.objects.filter(party=party, is_current=True).update(is_current=False)
        row = CreditScore.objects.create(
            party=party,
            scorecard=card,
            score=Decimal(score),
            grade=grade,
            suggested_line=Decimal("100000"),
            factors=[
                {
                    "key": "eco_behaviour",
                    "label": "生态行为",
                    "points": "24.00",
                    "explanation": "近 12 个月有效生态加分记录 3 条，合计 12 分；本项 +24 分。",
                },
                {
                    "key": "violations",
                    "label": "违规记录",
                    "points": "0.00",
                    "explanation": "近 12 个月无违规扣分记录；本项 0 分。",
                },
            ],
            inputs_digest="0" * 64,
        )
        if ago_days:
            CreditScore.objects.filter(pk=row.pk).update(
                computed_at=timezone.now() - datetime.timedelta(days=ago_days)
            )
            row.refresh_from_db()
        return row

    return make


@pytest.fixture
def make_borrowing(make_application, make_loan):
    """make_borrowing(party, principal=…, disbursed_on=…) → a disbursed loan of the party (12
    monthly installments from the disbursement date; the 2026-01-15 default leaves 10 due by today)."""

    def make(party, principal=Decimal("120000.00"), disbursed_on=datetime.date(2026, 1, 15)):
        # make_loan keeps the day of month for every due date: days 29–31 do not exist every month
        disbursed_on = disbursed_on.replace(day=min(disbursed_on.day, 28))
        application = make_application(
            applicant=party, status=ApplicationStatus.BANK_APPROVED, amount=principal
        )
        return make_loan(application, principal=principal, disbursed_on=disbursed_on)

    return make


@pytest.fixture
def pay_first_on_time(bank_officer):
    def pay(loan):
        first = loan.installments.order_by("seq").first()
        return record_repayment(
            actor=bank_officer,
            loan=loan,
            amount=first.principal_due + first.interest_due,
            paid_on=first.due_date,
            bank_reference=f"HK-{loan.number}-1",
        )

    return pay


@pytest.fixture
def consent(county_staff, guarantor):
    """consent(party, recipient=guarantor, scopes=both, valid_from=…, valid_until=…) via the service."""
    counter = iter(range(1, 1000))

    def make(
        party, recipient=None, scopes=None, signed_on=None, valid_from=None, valid_until=None, actor=None
    ):
        today = timezone.localdate()
        signed_on = signed_on or today - datetime.timedelta(days=30)
        return credit.record_consent(
            actor=actor or county_staff,
            party=party,
            recipient=recipient or guarantor,
            purpose="申请农业信贷担保（测试）",
            scopes=scopes or BOTH,
            document=f"授权书-T{next(counter):04d}",
            signed_on=signed_on,
            valid_from=valid_from or signed_on,
            valid_until=valid_until or today + datetime.timedelta(days=335),
        )

    return make


@pytest.fixture
def lianduqu(county_cooperative):
    return county_cooperative.division


def person_of(party):
    return Person.objects.get(pk=party.person_id)


def xlsx_text(content):
    """Every XML part of an XLSX file as one string (cells, shared strings, sheet names)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(
            archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".xml")
        )


def all_formats(export):
    """{fmt: searchable text} of the export rendered in every format."""
    out = {}
    for fmt in credit.EXPORT_FORMATS:
        content, _type, _name = credit.render_credit_export(export, fmt)
        out[fmt] = xlsx_text(content) if fmt == "xlsx" else content.decode("utf-8")
    return out
