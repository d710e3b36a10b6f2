import datetime

import pytest

from directory.models import AdministrativeDivision, Party, PartyKind
from directory.services import ensure_party
from resources import services
from resources.catalog import seed_catalog
from resources.models import ResourceType

# A 100 m × 100 m-ish square near 莲都 (119.92E, 28.45N): 0.001° ≈ 98 m east, 111 m north.
X0, Y0 = 119.920, 28.450


def square(dx=0.0, dy=0.0, size=0.001):
    x, y = X0 + dx, Y0 + dy
    return f"SRID=4490;POLYGON(({x} {y}, {x + size} {y}, {x + size} {y + size}, {x} {y + size}, {x} {y}))"


@pytest.fixture
def village(demo_region):
    return AdministrativeDivision.objects.get(code="331102199201")


@pytest.fixture
def catalog(db):
    # Seeded by a migration; re-seeded here because transactional tests flush the tables.
    seed_catalog(ResourceType)


@pytest.fixture
def forest_type(catalog):
    return ResourceType.objects.get(code="forest")


@pytest.fixture
def farmland_type(catalog):
    return ResourceType.objects.get(code="farmland")


@pytest.fixture
def collective(demo_region, county_cooperative):
    from directory.models import Organization

    return ensure_party(Organization.objects.get(kind="village_collective"))


@pytest.fixture
def household(demo_region):
    return Party.objects.filter(kind=PartyKind.PERSON).first()


@pytest.fixture
def make_asset(county_staff, village, forest_type):
    def make(geometry=None, resource_type=None, status=None, **fields):
        asset = services.create_asset(
            actor=county_staff,
            resource_type=resource_type or forest_type,
            division=village,
            name=fields.pop("name", "示范林地"),
            geometry=geometry or square(),
            attributes=fields.pop("attributes", {"dominant_species": "杉木", "age_class": "中龄林"}),
            **fields,
        )
        if status:
            services.transition_asset(actor=county_staff, asset=asset, to_status="under_review")
        return asset

    return make


@pytest.fixture
def today():
    return datetime.date(2026, 1, 1)
