"""A region for the leaders' dashboard tests, built with the ORM so that every expected figure can
be written down exactly: two counties (莲都 with the demo township and village, 青田 with a test
township and village) holding assets, GEP runs with rollups, collection and trade contracts,
listings, loans, key projects, GEP balances and red-line readings."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, DivisionLevel, Organization, OrganizationKind, Role, User
from directory.services import ensure_party
from finance.models import LoanStatus, Repayment, RepaymentKind, RepaymentLine
from projects.models import (
    ExitReason,
    GepBalance,
    ProjectCategory,
    ProjectStatus,
    RedLineDirection,
    RedLineKey,
    RedLineReading,
    RedLineStatus,
)
from resources.models import Asset, AssetStatus
from resources.tests.conftest import square
from transactions.models import (
    CollectionContract,
    ContractStatus,
    Listing,
    ListingMode,
    ListingStatus,
    RevenueModel,
    TradeContract,
    TradeKind,
)
from valuation.models import AccountingRun, ParameterSet, PriceBasis, Rollup

D = Decimal
YEAR = 2025  # the business year of the fixtures: a whole year in the past


@dataclass
class Region:
    city: AdministrativeDivision
    county: AdministrativeDivision  # 莲都区
    township: AdministrativeDivision  # 示范镇
    village: AdministrativeDivision  # 示范村
    other_county: AdministrativeDivision  # 青田县
    other_township: AdministrativeDivision
    other_village: AdministrativeDivision
    other_staff: User  # staff of 青田's cooperative
    assets: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    loans: dict = field(default_factory=dict)


def local(*args):
    return timezone.make_aware(datetime.datetime(*args))


@pytest.fixture
def auditor(demo_region):
    return User.objects.get(username="auditor")


@pytest.fixture
def village_clerk(demo_region):
    return User.objects.get(username="village_clerk")


@pytest.fixture
def region(
    demo_region,
    county,
    city_cooperative,
    county_cooperative,
    county_staff,
    make_member,
    make_asset,
    farmland_type,
    collective,
    investor_org,
    make_application,
    make_loan,
    make_project,
    make_gep_rule,
    gep_credit,
):
    city = AdministrativeDivision.objects.get(code="331100000000")
    township = AdministrativeDivision.objects.get(code="331102199000")
    village = AdministrativeDivision.objects.get(code="331102199201")
    other_county = AdministrativeDivision.objects.get(code="331121000000")
    other_township = AdministrativeDivision.objects.create(
        code="331121100000", name="测试镇（青田）", level=DivisionLevel.TOWNSHIP, parent=other_county
    )
    other_village = AdministrativeDivision.objects.create(
        code="331121100201", name="测试村（青田）", level=DivisionLevel.VILLAGE, parent=other_township
    )
    other_coop = Organization.objects.create(
        name="青田县两山合作社（测试）", kind=OrganizationKind.COOPERATIVE, division=other_county
    )
    ensure_party(other_coop)
    other_staff = make_member(Role.COOP_STAFF, other_coop, username="qingtian_staff")
    r = Region(city, county, township, village, other_county, other_township, other_village, other_staff)

    # --- assets: five live ones and a retired one in 莲都, one in 青田
    plan = [
        ("registered", None, 0.0, AssetStatus.REGISTERED),
        ("collected", None, 0.002, AssetStatus.COLLECTED),
        ("pledged", None, 0.004, AssetStatus.PLEDGED),
        ("farmland", farmland_type, 0.006, AssetStatus.REGISTERED),
        ("retired", None, 0.008, AssetStatus.RETIRED),
        ("draft", None, 0.010, AssetStatus.DRAFT),
        ("other", None, 0.1, AssetStatus.REGISTERED),
    ]
    for key, resource_type, dx, status in plan:
        extra = {"attributes": {"land_class": "0101 水田", "soil_grade": 4}} if resource_type else {}
        asset = make_asset(
            geometry=square(dx=dx), resource_type=resource_type, name=f"看板资源{key}", **extra
        )
        Asset.objects.filter(pk=asset.pk).update(status=status)
        r.assets[key] = Asset.objects.get(pk=asset.pk)
    Asset.objects.filter(pk=r.assets["other"].pk).update(division=other_village)
    r.assets["other"].refresh_from_db()

    # --- GEP: runs with rollups (what finalize_run leaves), accepted at known times
    pset, _created = ParameterSet.objects.get_or_create(
        name="测试参数集",
        version=1,
        defaults=dict(
            standard="DB33/T 2274-2025",
            price_year=2024,
            valid_from=datetime.date(2024, 1, 1),
            created_by=county_staff,
        ),
    )
    now = timezone.now()
    t1, t2 = now - datetime.timedelta(days=3), now - datetime.timedelta(days=1)

    def run(key, division, year, rollups, accepted_at=t1, **fields):
        made = AccountingRun.objects.create(
            division=division,
            year=year,
            parameter_set=pset,
            status="succeeded",
            created_by=county_staff,
            accepted_at=accepted_at,
            accepted_by=county_staff if accepted_at else None,
            **fields,
        )
        for place, rows in rollups.items():
            for n, (category, value) in enumerate(rows):
                Rollup.objects.create(
                    run=made,
                    division=place,
                    indicator_key=f"{category}_{n}",
                    category=category,
                    value=D(value),
                )
        r.runs[key] = made
        return made

    def three(material, regulating, cultural):
        return [("material", material), ("regulating", regulating), ("cultural", cultural)]

    run("r1", county, 2024, {county: three("100.004", "200", "50"), township: three("100.004", "200", "50")})
    run("r2", county, 2025, {county: three("110", "220.555", "60"), township: three("110", "220.555", "60")})
    split = [("material", "120"), ("regulating", "150"), ("regulating", "80.005"), ("cultural", "70")]
    run("r3", county, 2025, {county: split, township: split}, accepted_at=t2)  # re-run: wins over r2
    run("r4", county, 2025, {county: three("999999", "0.01", "0.01")}, accepted_at=None)  # not accepted
    picked = run("r5", county, 2025, {county: three("5", "5", "5")}, accepted_at=now)  # picked assets
    picked.assets.add(r.assets["registered"])
    run(
        "r5b",
        county,
        2025,
        {county: three("7", "7", "7")},
        accepted_at=now,
        price_basis=PriceBasis.COMPARABLE,
        base_year=2020,
    )
    run("r6", other_county, 2025, {other_county: three("10", "20", "30")})
    run(
        "r7",
        city,
        2023,
        {
            city: three("1000", "2000", "3000"),
            county: three("400", "800", "1200"),
            other_county: three("600", "1200", "1800"),
        },
    )

    # --- trading in 2025 (and around its edges)
    def collection(n, division, signed_at, amount, status=ContractStatus.SIGNED):
        return CollectionContract.objects.create(
            number=f"SCT-DB-{n}",
            division=division,
            cooperative=county_cooperative,
            grantor=collective,
            source_right_kind="contract",
            start_date=datetime.date(2025, 1, 1),
            end_date=datetime.date(2030, 1, 1),
            revenue_model=RevenueModel.FIXED_RENT,
            annual_amount=D(amount),
            first_payment_date=datetime.date(2025, 6, 1),
            status=status,
            signed_at=signed_at,
            created_by=county_staff,
        )

    collection(1, village, local(2025, 3, 10, 12), "12000.50")
    collection(2, village, local(2025, 3, 25, 9), "8000.25")
    collection(3, village, local(2025, 11, 5, 9), "3000.00")
    collection(4, village, None, "99999.00", status=ContractStatus.DRAFT)
    collection(5, village, local(2024, 12, 31, 23, 30), "4444.00")  # 2024 in Beijing time
    collection(6, village, local(2025, 1, 1, 0, 10), "1000.00")  # 2024-12-31 in UTC, January here
    collection(7, other_village, local(2025, 6, 1, 10), "5000.00")

    def trade(n, division, signed_at, price, status=ContractStatus.SIGNED):
        return TradeContract.objects.create(
            number=f"JYT-DB-{n}",
            investor=investor_org,
            cooperative=county_cooperative,
            division=division,
            kind=TradeKind.LEASE,
            start_date=datetime.date(2025, 4, 1),
            end_date=datetime.date(2035, 4, 1),
            price=D(price),
            status=status,
            signed_at=signed_at,
            created_by=county_staff,
        )

    trade(1, village, local(2025, 3, 15, 10), "150000.00")
    trade(2, other_village, local(2025, 7, 1, 10), "88000.88")
    trade(3, village, local(2025, 7, 20, 10), "1000.00", status=ContractStatus.TERMINATED)  # signed in 2025
    trade(4, village, None, "5000.00", status=ContractStatus.DRAFT)

    def listing(n, division, asset, status, reserve):
        return Listing.objects.create(
            code=f"GPT-DB-{n}",
            title=f"看板挂牌{n}",
            asset=asset,
            division=division,
            trade_kind=TradeKind.LEASE,
            mode=ListingMode.BIDDING,
            term_start=datetime.date(2026, 1, 1),
            term_end=datetime.date(2031, 1, 1),
            reserve_price=D(reserve),
            deposit=D("1000.00"),
            status=status,
            created_by=county_staff,
        )

    listing(1, village, r.assets["collected"], ListingStatus.IN_NOTICE, "50000.00")
    listing(2, other_village, r.assets["other"], ListingStatus.BIDDING, "60000.00")
    listing(3, village, r.assets["registered"], ListingStatus.DRAFT, "70000.00")
    listing(4, village, r.assets["farmland"], ListingStatus.SOLD, "80000.00")

    # --- loans, dated from today so that their buckets are known
    today = timezone.localdate()

    def days(n):
        return today + datetime.timedelta(days=n)

    def loan(key, division, principal, installments, status=LoanStatus.ACTIVE):
        application = make_application(division=division, amount=D(principal))
        made = make_loan(
            application,
            principal=D(principal),
            disbursed_on=days(-200),
            installments=[(due, D(p), D(i)) for due, p, i in installments],
        )
        if status != LoanStatus.ACTIVE:
            made.status = status
            made.save(update_fields=["status"])
        r.loans[key] = made
        return made

    current = loan(
        "current",
        village,
        "120000",
        [(days(-170), "10000", "300"), (days(10), "50000", "200"), (days(40), "60000", "100")],
    )
    first = current.installments.get(seq=1)  # paid on time (as record_repayment books it): 110,000 left
    paid = Repayment.objects.create(
        loan=current,
        kind=RepaymentKind.REGULAR,
        paid_on=days(-170),
        amount=D("10300.00"),
        principal_part=D("10000.00"),
        interest_part=D("300.00"),
        penalty_part=D("0.00"),
        recorded_by=county_staff,
    )
    RepaymentLine.objects.create(
        repayment=paid, installment=first, principal=D("10000.00"), interest=D("300.00")
    )
    first.principal_paid, first.interest_paid = first.principal_due, first.interest_due
    first.settled_on = days(-170)
    first.save()
    loan("overdue_45", village, "60000", [(days(-45), "20000", "100"), (days(15), "40000", "100")])
    loan("overdue_120", other_village, "30000", [(days(-120), "15000", "50"), (days(30), "15000", "50")])
    loan("paid_off", village, "5000", [(days(-100), "5000", "10")], status=LoanStatus.PAID_OFF)
    loan("defaulted", village, "10000", [(days(-10), "10000", "30")], status=LoanStatus.DEFAULTED)

    # --- key projects
    make_project(
        status=ProjectStatus.ADMITTED,
        division=village,
        admitted_on=datetime.date(2025, 5, 1),
        total_investment=D("3000000.00"),
        social_capital=D("2000000.00"),
    )
    make_project(
        status=ProjectStatus.ADMITTED,
        division=township,
        category=ProjectCategory.HOMESTAY_CLUSTER,
        admitted_on=datetime.date(2025, 8, 1),
        total_investment=D("1500000.50"),
        social_capital=D("500000.25"),
    )
    make_project(status=ProjectStatus.SUBMITTED, division=village)
    make_project(
        status=ProjectStatus.EXITED,
        division=village,
        category=ProjectCategory.CARBON,
        exited_on=datetime.date(2025, 10, 1),
        exit_reason=ExitReason.COMPLETED,
    )
    make_project(
        status=ProjectStatus.ADMITTED,
        division=other_village,
        category=ProjectCategory.CARBON,
        admitted_on=datetime.date(2025, 6, 1),
        total_investment=D("2000000.00"),
        social_capital=D("1000000.00"),
    )

    # --- GEP balance: 莲都 below its warning line, 青田 negative
    gep_credit(D("30000"))  # 莲都's 2024 rule (warning 0) from the gep_rule fixture
    make_gep_rule(warning=D("50000"), effective_from=datetime.date(2025, 1, 1))
    make_gep_rule(division=other_county)
    GepBalance.objects.create(division=other_county, balance=D("-500.00"))

    # --- red lines: the county cooperative's latest readings, and the city's
    def reading(
        cooperative, key, as_of, value, status, direction=RedLineDirection.MAX, limit="0.7", warning="0.6"
    ):
        RedLineReading.objects.create(
            cooperative=cooperative,
            key=key,
            as_of=as_of,
            value=D(value),
            limit=D(limit),
            warning=D(warning),
            direction=direction,
            status=status,
        )

    reading(county_cooperative, RedLineKey.DEBT_RATIO, datetime.date(2026, 10, 1), "0.5", RedLineStatus.OK)
    reading(
        county_cooperative, RedLineKey.DEBT_RATIO, datetime.date(2026, 11, 1), "0.68", RedLineStatus.WARNING
    )
    reading(
        county_cooperative,
        RedLineKey.LIQUIDITY,
        datetime.date(2026, 11, 1),
        "0.9",
        RedLineStatus.BREACH,
        direction=RedLineDirection.MIN,
        limit="1.0",
        warning="1.2",
    )
    reading(city_cooperative, RedLineKey.DEBT_RATIO, datetime.date(2026, 11, 1), "0.3", RedLineStatus.OK)
    return r
