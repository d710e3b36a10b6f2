"""Fixtures for the trading desk: registered forest parcels held by households or the village
collective, the county cooperative's staff, and an approved investor."""

import datetime

import pytest

from directory.models import Organization, OrganizationKind, Party, PartyKind, Role, User
from directory.services import ensure_party
from resources import services as registry
from resources.models import AssetStatus, RightKind
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

TERM_START = datetime.date(2026, 1, 1)
TERM_END = datetime.date(2031, 1, 1)


@pytest.fixture
def households(demo_region):
    """The three demo villagers' parties."""
    return list(Party.objects.filter(kind=PartyKind.PERSON).order_by("pk")[:3])


@pytest.fixture
def registered_asset(make_asset, county_staff):  # noqa: F811
    """registered_asset(holders=[(party, share), …], kind=contract, dx=…) → a registered asset whose
    holders hold `kind` rights (default: 承包权) from 2020 without end."""
    counter = iter(range(100))

    def make(holders, kind=RightKind.CONTRACT, name=None, dx=None, **fields):
        n = next(counter)
        asset = make_asset(
            name=name or f"示范林地{n}", geometry=square(dx=dx if dx is not None else 0.002 * n), **fields
        )
        for party, share in holders:
            registry.grant_right(
                actor=county_staff,
                asset=asset,
                holder=party,
                kind=kind,
                share=share,
                start=datetime.date(2020, 1, 1),
                source_document="承包经营权证（测试）",
            )
        # Registration itself is tested in resources; here the asset just needs to be registered.
        asset.status = AssetStatus.REGISTERED
        asset.save(update_fields=["status"])
        return asset

    return make


@pytest.fixture
def investor_org(demo_region):
    return Organization.objects.get(kind=OrganizationKind.ENTERPRISE, name__contains="生态旅游")


@pytest.fixture
def investor(demo_region):
    return User.objects.get(username="investor")


@pytest.fixture
def second_investor(demo_region, make_member, county_cooperative):
    org = Organization.objects.create(
        name="第二投资有限公司（测试）",
        kind=OrganizationKind.ENTERPRISE,
        division=county_cooperative.division,
    )
    ensure_party(org)
    return make_member(Role.INVESTOR, org, username="investor2")
