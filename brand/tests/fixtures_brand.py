"""The brand 丽水山耕 with a tea standard, a tea producer (an enterprise with its own clerk) and a
registered tea garden; `make_licence` and `make_batch` build licences and batches through the
services."""

import datetime

import pytest

from directory.models import Organization, OrganizationKind, Role
from directory.services import ensure_party
from resources.models import AssetStatus, ResourceType
from resources.tests.conftest import square

from ..models import ProductCategory
from ..services import batches, licences

LICENCE_START = datetime.date(2026, 1, 1)
LICENCE_END = datetime.date(2028, 12, 31)


@pytest.fixture
def tea_type(catalog):
    return ResourceType.objects.get(code="tea_garden")


@pytest.fixture
def tea_garden(make_asset, tea_type):
    """A registered tea garden in the demo village (registration itself is tested in resources)."""
    counter = iter(range(100))

    def make(**fields):
        n = next(counter)
        asset = make_asset(
            resource_type=tea_type,
            name=fields.pop("name", f"示范茶园{n}"),
            geometry=square(dx=0.01 + 0.002 * n, dy=0.01),
            attributes=fields.pop("attributes", {}),
            **fields,
        )
        asset.status = AssetStatus.REGISTERED
        asset.save(update_fields=["status"])
        return asset

    return make


@pytest.fixture
def brand_lssg(city_admin, city_cooperative, lishui):
    return licences.create_brand(
        actor=city_admin,
        name="丽水山耕",
        owner=city_cooperative,
        division=lishui,
        established_on=datetime.date(2014, 9, 1),
        description="丽水市农产品区域公用品牌。",
    )


@pytest.fixture
def tea_standard(city_admin, brand_lssg):
    return licences.add_standard(
        actor=city_admin,
        brand=brand_lssg,
        code="T/LSSG 001-2019",
        title="丽水山耕 茶叶生产技术规程（测试）",
        category=ProductCategory.TEA,
        requirements="基地生态环境、农药使用、采摘与加工要求。",
        effective_from=datetime.date(2019, 1, 1),
    )


@pytest.fixture
def producer(county_cooperative):
    org = Organization.objects.create(
        name="莲都区示范茶叶专业合作社（测试）",
        kind=OrganizationKind.ENTERPRISE,
        division=county_cooperative.division,
    )
    ensure_party(org)
    return org


@pytest.fixture
def producer_user(producer, make_member):
    return make_member(Role.INVESTOR, producer, username="tea_producer")


@pytest.fixture
def make_licence(county_staff, brand_lssg, tea_standard, producer, tea_garden, village):
    def make(*, producer=producer, origins=None, valid_from=LICENCE_START, valid_to=LICENCE_END, **fields):
        return licences.grant_licence(
            actor=fields.pop("actor", county_staff),
            brand=brand_lssg,
            producer=producer,
            division=fields.pop("division", county_staff.active_memberships[0].organization.division),
            categories=fields.pop("categories", [ProductCategory.TEA]),
            standards=fields.pop("standards", [tea_standard]),
            origin_assets=origins if origins is not None else [tea_garden()],
            valid_from=valid_from,
            valid_to=valid_to,
            **fields,
        )

    return make


@pytest.fixture
def make_batch(producer_user, tea_standard):
    def make(licence, **fields):
        return batches.register_batch(
            actor=fields.pop("actor", producer_user),
            licence=licence,
            product_name=fields.pop("product_name", "丽水山耕·莲都白茶"),
            category=fields.pop("category", ProductCategory.TEA),
            standard=fields.pop("standard", tea_standard),
            origin_assets=fields.pop("origin_assets", list(licence.origin_assets.all())),
            harvest_start=fields.pop("harvest_start", datetime.date(2026, 4, 1)),
            harvest_end=fields.pop("harvest_end", datetime.date(2026, 4, 20)),
            produced_on=fields.pop("produced_on", datetime.date(2026, 4, 25)),
            quantity=fields.pop("quantity", "500"),
            unit=fields.pop("unit", "kg"),
            **fields,
        )

    return make
