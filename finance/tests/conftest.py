"""Fixtures for the finance desk: banks and their officers, a second cooperative staff member (the
checker), forest rights with an accepted GEP valuation, products, and upstream records built
directly with the ORM so that each area's tests do not depend on another area's services."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import Organization, OrganizationKind, Party, PartyKind, Role, User
from directory.services import ensure_party
from finance.models import (
    ApplicationCollateral,
    ApplicationStatus,
    CollateralAppraisal,
    DayCount,
    GuaranteeRequirement,
    Installment,
    LoanApplication,
    LoanKind,
    LoanProduct,
    PaymentFrequency,
    Pledge,
    RepaymentMethod,
)
from finance.models import Loan as LoanModel
from resources import services as registry
from resources.models import RightKind
from resources.tests.conftest import (  # noqa: F401  (fixtures)
    catalog,
    collective,
    farmland_type,
    forest_type,
    household,
    make_asset,
    square,
    village,
)
from transactions.tests.conftest import registered_asset  # noqa: F401
from transactions.tests.test_packages_services import make_valuation

PAST = datetime.date(2026, 1, 15)  # business dates in the past: services refuse future dates


@pytest.fixture
def bank(demo_region):
    return Organization.objects.get(kind=OrganizationKind.BANK, name__contains="演示")


@pytest.fixture
def second_bank(demo_region, county_cooperative):
    org = Organization.objects.create(
        name="第二测试银行（测试）", kind=OrganizationKind.BANK, division=county_cooperative.division
    )
    ensure_party(org)
    return org


@pytest.fixture
def second_bank_officer(second_bank, make_member):
    return make_member(Role.BANK_OFFICER, second_bank, username="bank2")


@pytest.fixture
def checker(county_cooperative, make_member):
    """A second staff member of the county cooperative: approves what `county_staff` prepared."""
    return make_member(Role.COOP_STAFF, county_cooperative, username="checker")


@pytest.fixture
def households(demo_region):
    return list(Party.objects.filter(kind=PartyKind.PERSON).order_by("pk")[:3])


@pytest.fixture
def valued_right(registered_asset, households, county_staff):  # noqa: F811
    """valued_right(gep=…, share=1, kind=contract) → a household's right on a registered forest
    asset valued by an accepted GEP run (default 100,000 元 a year)."""

    def make(gep=Decimal("100000"), holder=None, kind=RightKind.CONTRACT):
        holder = holder or households[0]
        asset = registered_asset([(holder, 1)], kind=kind)
        make_valuation(asset, [gep * Decimal("0.6"), gep * Decimal("0.4")], user=county_staff)
        return asset.rights.get(holder=holder)

    return make


@pytest.fixture
def make_product(bank, bank_officer):
    counter = iter(range(1, 1000))

    def make(bank_org=None, **fields):
        n = next(counter)
        values = dict(
            bank=bank_org or bank,
            code=f"P{n:03d}",
            name=f"测试生态贷{n}",
            kind=LoanKind.GEP_LOAN,
            eligible_right_kinds=[RightKind.CONTRACT, RightKind.MANAGEMENT, RightKind.USE],
            guarantee_requirement=GuaranteeRequirement.PLEDGE,
            max_ltv=Decimal("0.6"),
            haircut=Decimal("0.2"),
            max_amount=Decimal("1000000"),
            rate_min=Decimal("0.03"),
            rate_max=Decimal("0.06"),
            term_min_months=6,
            term_max_months=60,
            repayment_methods=[RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL],
            payment_frequencies=[PaymentFrequency.MONTHLY, PaymentFrequency.QUARTERLY],
            day_count=DayCount.ACT_360,
            created_by=bank_officer,
        )
        values.update(fields)
        return LoanProduct.objects.create(**values)

    return make


@pytest.fixture
def make_application(make_product, county_staff, checker, village):  # noqa: F811
    """make_application(rights=[…], status=…) → an application built directly (ORM) in `status`,
    prepared by county_staff and, once past submission, checked by `checker`."""
    counter = iter(range(1, 1000))

    def make(rights=(), status=ApplicationStatus.APPROVED, product=None, amount=Decimal("300000"), **fields):
        product = product or make_product()
        applicant = fields.pop("applicant", None) or (rights[0].holder if rights else Party.objects.first())
        checked = status not in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED)
        values = dict(
            number=f"SQT{next(counter):06d}",
            applicant=applicant,
            division=village,
            product=product,
            amount=amount,
            term_months=36,
            repayment_method=RepaymentMethod.EQUAL_INSTALLMENT,
            payment_frequency=PaymentFrequency.MONTHLY,
            annual_rate=Decimal("0.036"),
            purpose="林下经济种植（测试）",
            status=status,
            prepared_by=county_staff,
            prepared_at=timezone.now(),
            checked_by=checker if checked else None,
            checked_at=timezone.now() if checked else None,
        )
        values.update(fields)
        application = LoanApplication.objects.create(**values)
        for right in rights:
            ApplicationCollateral.objects.create(application=application, right=right)
        return application

    return make


@pytest.fixture
def make_appraisal(county_staff, county_cooperative):
    """make_appraisal(right, product, appraised_value=…) → an appraisal row (ORM), valid a year."""
    counter = iter(range(1, 1000))

    def make(right, product, appraised_value=Decimal("800000"), application=None, **fields):
        haircut, ltv = product.haircut, product.max_ltv
        collateral_value = (appraised_value * (1 - haircut)).quantize(Decimal("0.01"))
        values = dict(
            number=f"PGT{next(counter):06d}",
            right=right,
            asset=right.asset,
            product=product,
            application=application,
            appraised_value=appraised_value,
            haircut=haircut,
            collateral_value=collateral_value,
            ltv=ltv,
            max_loan=(collateral_value * ltv).quantize(Decimal("0.01")),
            method="收益法（测试）",
            appraiser_org=county_cooperative,
            appraised_on=PAST,
            valid_until=PAST + datetime.timedelta(days=365),
            created_by=county_staff,
        )
        values.update(fields)
        appraisal = CollateralAppraisal.objects.create(**values)
        if application is not None:
            ApplicationCollateral.objects.filter(application=application, right=right).update(
                appraisal=appraisal
            )
        return appraisal

    return make


@pytest.fixture
def make_pledge(county_staff):
    """make_pledge(application, appraisal, amount, rank=1) → a pledge registered through
    resources.services.add_pledge plus its finance row (what finance.services.pledges does)."""
    counter = iter(range(1, 1000))

    def make(application, appraisal, amount, rank=1):
        bank_party = ensure_party(application.product.bank)
        restriction = registry.add_pledge(
            actor=county_staff,
            right=appraisal.right,
            holder=bank_party,
            rank=rank,
            secured_amount=amount,
            start=PAST,
            end=None,
            source_document=f"质押合同（测试）{application.number}",
            capacity=appraisal.appraised_value,
        )
        n = next(counter)
        return Pledge.objects.create(
            number=f"ZYT{n:06d}",
            restriction=restriction,
            bank=application.product.bank,
            application=application,
            appraisal=appraisal,
            right=appraisal.right,
            rank=rank,
            secured_amount=amount,
            verification_code=f"TESTCODE{n:04d}",
            registered_by=county_staff,
        )

    return make


@pytest.fixture
def make_loan(bank_officer):
    """make_loan(application, principal=…, installments=[(due_date, principal, interest), …]) → a
    loan and its schedule built directly (ORM); the application becomes 已放款."""
    counter = iter(range(1, 1000))

    def make(application, principal=None, disbursed_on=PAST, installments=None):
        principal = principal or application.amount
        if installments is None:  # 12 monthly installments of equal principal, 0.3 % a month
            per = (principal / 12).quantize(Decimal("0.01"))
            installments = []
            balance = principal
            for k in range(1, 13):
                part = per if k < 12 else balance
                installments.append(
                    (
                        datetime.date(
                            disbursed_on.year + (disbursed_on.month + k - 1) // 12,
                            (disbursed_on.month + k - 1) % 12 + 1,
                            disbursed_on.day,
                        ),
                        part,
                        (balance * Decimal("0.003")).quantize(Decimal("0.01")),
                    )
                )
                balance -= part
        n = next(counter)
        loan = LoanModel.objects.create(
            number=f"DKT{n:06d}",
            application=application,
            bank=application.product.bank,
            borrower=application.applicant,
            division=application.division,
            product=application.product,
            principal=principal,
            annual_rate=application.annual_rate,
            penalty_rate=application.annual_rate * (1 + application.product.penalty_markup),
            term_months=len(installments),
            repayment_method=application.repayment_method,
            payment_frequency=application.payment_frequency,
            day_count=application.product.day_count,
            disbursed_on=disbursed_on,
            maturity_date=installments[-1][0],
            bank_reference=f"JJ-TEST-{n}",
            recorded_by=bank_officer,
        )
        start = disbursed_on
        for seq, (due, part, interest) in enumerate(installments, 1):
            Installment.objects.create(
                loan=loan,
                seq=seq,
                period_start=start,
                due_date=due,
                principal_due=part,
                interest_due=interest,
            )
            start = due
        application.status = ApplicationStatus.DISBURSED
        application.save(update_fields=["status"])
        return loan

    return make


@pytest.fixture
def staff_user(county_staff):
    return county_staff


@pytest.fixture
def bank_user(bank_officer):
    assert isinstance(bank_officer, User)
    return bank_officer
