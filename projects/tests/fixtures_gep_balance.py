"""Fixtures of the GEP balance tests: accounting runs over several assets with results per
category (as a finished run leaves them), bare registered assets, an asset in another county,
and the people who may or may not see the ledger."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from directory.models import AdministrativeDivision, User
from resources import services as registry
from resources.models import AssetStatus
from resources.tests.conftest import square
from valuation.models import AccountingRun, AssetResult, ParameterSet

TODAY = timezone.localdate


@pytest.fixture
def make_run(county_staff):
    """make_run(year, {asset: {"regulating": v, "material": v, …}}, accepted=True) → an accepted
    accounting run of the county with one result row per asset and category."""

    def make(year, values, *, accepted=True, price_basis="current", base_year=None, accepted_at=None):
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
        run = AccountingRun.objects.create(
            division=AdministrativeDivision.objects.get(code="331102000000"),
            year=year,
            parameter_set=pset,
            price_basis=price_basis,
            base_year=base_year,
            status="succeeded",
            created_by=county_staff,
            accepted_at=(accepted_at or timezone.now()) if accepted else None,
            accepted_by=county_staff if accepted else None,
        )
        for asset, parts in values.items():
            for category, value in parts.items():
                AssetResult.objects.create(
                    run=run,
                    asset=asset,
                    division_code=asset.division.code,
                    indicator_key=f"{category}_k",
                    category=category,
                    quantity=Decimal(1),
                    quantity_unit="t",
                    value=Decimal(value),
                )
        return run

    return make


@pytest.fixture
def bare_asset(registered_asset, households):
    """bare_asset() → a registered forest asset in the demo village, not yet valued."""

    def make(**fields):
        return registered_asset([(households[0], 1)], **fields)

    return make


@pytest.fixture
def qingtian():
    return AdministrativeDivision.objects.get(code="331121000000")


@pytest.fixture
def outside_asset(city_admin, forest_type, qingtian):
    """A registered forest asset in 青田县 (outside 莲都区)."""
    asset = registry.create_asset(
        actor=city_admin,
        resource_type=forest_type,
        division=qingtian,
        name="青田测试林地",
        geometry=square(dx=0.5),
        attributes={"dominant_species": "杉木", "age_class": "中龄林"},
    )
    asset.status = AssetStatus.REGISTERED
    asset.save(update_fields=["status"])
    return asset


@pytest.fixture
def auditor(demo_region):
    return User.objects.get(username="auditor")


@pytest.fixture
def village_clerk(demo_region):
    return User.objects.get(username="village_clerk")


def entries_total(division):
    from django.db.models import Sum

    from projects.models import GepBalanceEntry

    return GepBalanceEntry.objects.filter(division=division).aggregate(s=Sum("amount"))["s"] or Decimal(
        "0.00"
    )


@pytest.fixture
def mixed_ledger(gep_rule, make_gep_rule, bare_asset, make_run, make_project, county_staff):
    """A county ledger with one entry of each kind but release, all through the services:
    restoration +199.85, protection +800.40 (regulating only), a project debit −449.70
    (0.5 × (800.40 + 99) at ratio 1), a reversal of the restoration −199.85 → balance 350.70;
    warning line 500 (status: warning)."""
    from projects.models import ProjectStatus
    from projects.services import gep_balance

    # a second version over conftest's gep_rule (so gep_credit can add entries): warning 500
    rule = make_gep_rule(warning=Decimal("500"), effective_from=datetime.date(2025, 1, 1))
    a1, a2, a3 = bare_asset(), bare_asset(), bare_asset()
    base = make_run(2024, {a1: {"regulating": "1000.50", "material": "200"}, a2: {"regulating": "500"}})
    run = make_run(
        2025,
        {
            a1: {"regulating": "1300.25", "material": "150"},
            a2: {"regulating": "450.10"},
            a3: {"regulating": "800.40", "cultural": "99"},
        },
    )
    today = TODAY()
    restoration = gep_balance.record_restoration(
        actor=county_staff, assets=[a1, a2], baseline_run=base, run=run, memo="矿山修复", occurred_on=today
    )
    protection = gep_balance.record_protection(
        actor=county_staff,
        assets=[a3],
        run=run,
        memo="划入生态公益林",
        occurred_on=today,
        protection_document="莲政发〔2026〕12号",
    )
    project = make_project(consumptions=[(a3, "0.5")], status=ProjectStatus.ADMITTED, admitted_on=today)
    debit = gep_balance.post_project_debit(actor=county_staff, project=project, occurred_on=today)
    reversal = gep_balance.reverse_entry(actor=county_staff, entry=restoration, reason="验收未通过")
    return {
        "rule": rule,
        "assets": (a1, a2, a3),
        "runs": (base, run),
        "project": project,
        "entries": [restoration, protection, debit, reversal],
    }
