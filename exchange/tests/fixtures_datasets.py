"""Fixtures of the data-exchange tests: a department and its officer, records of every dataset in
莲都区 (registered parcels with rights, forest attributes, observations, permits, GEP inputs, a
collective), and the dumps and flushes the round-trip tests compare and empty."""

import datetime
from decimal import Decimal

import pytest

from directory.models import AdministrativeDivision, Organization, OrganizationKind, Party, Role
from directory.services import create_organization, ensure_party
from exchange.models import Dataset, ExchangeRecord, HarvestPermit, PermitStatus, WaterPermit
from exchange.services import permits
from resources import services as registry
from resources.models import Asset, AssetObservation, AssetStatus, Restriction, Right, RightKind, RightStatus
from resources.tests.conftest import square
from tmcs.ids import uscc_check_char
from valuation.models import EcologicalInput
from valuation.services.input_import import record_indicator_inputs

START = datetime.date(2020, 1, 1)
FOREST_ATTRIBUTES = {
    "dominant_species": "杉木",
    "age_class": "中龄林",
    "stock_volume_m3": 120.5,
    "canopy_density": 0.7,
    "forest_class": "商品林",
    "compartment": "12林班3小班",
}


def uscc(body17):
    return body17 + uscc_check_char(body17)


@pytest.fixture
def lian_du(demo_region):
    return AdministrativeDivision.objects.get(code="331102000000")


@pytest.fixture
def other_county(demo_region):
    return AdministrativeDivision.objects.get(code="331121000000")


@pytest.fixture
def department(demo_region):
    return Organization.objects.create(
        name="莲都区水利局（测试）",
        kind=OrganizationKind.GOVERNMENT,
        division=AdministrativeDivision.objects.get(code="331102000000"),
        uscc=uscc("11331102MB0000011"),
    )


@pytest.fixture
def department_officer(department, make_member):
    return make_member(Role.DEPARTMENT_OFFICER, department)


@pytest.fixture
def parcels(make_asset, county_staff, households, county_cooperative, catalog):
    """Two registered forest parcels: the first held 1/2 + 1/2 under 承包权 by two households and
    under a certificated 经营权 by the county cooperative; the second by the third household."""
    first = make_asset(name="示范林地甲", geometry=square(dx=0.010), attributes=dict(FOREST_ATTRIBUTES))
    second = make_asset(name="示范林地乙", geometry=square(dx=0.012), quantity=Decimal("15.5"))
    for party in households[:2]:
        registry.grant_right(
            actor=county_staff,
            asset=first,
            holder=party,
            kind=RightKind.CONTRACT,
            share="1/2",
            start=START,
            source_document="承包经营权证（测试）",
        )
    registry.grant_right(
        actor=county_staff,
        asset=first,
        holder=ensure_party(county_cooperative),
        kind=RightKind.MANAGEMENT,
        start=datetime.date(2021, 1, 1),
        end=datetime.date(2031, 1, 1),
        source_document="流转合同 LZ-1",
        certificate_number="JYQ-2021-001",
    )
    registry.grant_right(
        actor=county_staff,
        asset=second,
        holder=households[2],
        kind=RightKind.CONTRACT,
        start=START,
        source_document="承包经营权证（测试）",
    )
    for asset in (first, second):
        for status in (AssetStatus.UNDER_REVIEW, AssetStatus.IN_PUBLIC_NOTICE, AssetStatus.REGISTERED):
            registry.transition_asset(actor=county_staff, asset=asset, to_status=status)
    return [Asset.objects.get(pk=first.pk), Asset.objects.get(pk=second.pk)]


@pytest.fixture
def observations(parcels, county_staff):
    first, second = parcels
    registry.record_observation(
        actor=county_staff,
        asset=first,
        observed_on=datetime.date(2025, 6, 1),
        source="林业二类调查",
        quantity=Decimal("118.2"),
        quality_grade="良",
    )
    registry.record_observation(
        actor=county_staff,
        asset=first,
        observed_on=datetime.date(2025, 6, 1),
        source="遥感解译",
        quality_grade="优",
        note="NDVI 0.82",
    )
    registry.record_observation(
        actor=county_staff,
        asset=second,
        observed_on=datetime.date(2026, 3, 5),
        source="实地核查",
        quantity=Decimal("3"),
    )


@pytest.fixture
def harvest_permits(parcels, county_staff):
    first, second = parcels
    common = {
        "holder_name": "示范村股份经济合作社",
        "issuer": "莲都区林业局",
        "species": "杉木",
        "valid_from": datetime.date(2026, 3, 1),
        "valid_until": datetime.date(2026, 12, 31),
    }
    return [
        permits.record_harvest_permit(
            actor=county_staff,
            number="LC-2026-001",
            asset=first,
            harvest_type="抚育采伐",
            area_mu=Decimal("12.50"),
            volume_m3=Decimal("85.00"),
            **common,
        ),
        permits.record_harvest_permit(
            actor=county_staff,
            number="LC-2026-002",
            asset=second,
            harvest_type="主伐",
            area_mu=Decimal("3.00"),
            volume_m3=Decimal("0.00"),
            status=PermitStatus.EXPIRED,
            **common,
        ),
    ]


@pytest.fixture
def water_permits(parcels, county_staff, households, lian_du, village):
    return [
        permits.record_water_permit(
            actor=county_staff,
            number="QS-2026-001",
            division=village,
            asset=parcels[0],
            holder_name="张山林",
            holder=households[0],
            issuer="莲都区水利局",
            water_source="瓯江",
            purpose="农业灌溉",
            annual_volume_m3=Decimal("1.2500"),
            valid_from=datetime.date(2024, 1, 1),
            valid_until=datetime.date(2028, 12, 31),
        ),
        permits.record_water_permit(
            actor=county_staff,
            number="QS-2026-002",
            division=lian_du,
            holder_name="丽水示范生态旅游开发有限公司",
            issuer="丽水市水利局",
            water_source="地下水",
            purpose="生活用水",
            annual_volume_m3=Decimal("0.3000"),
            valid_from=datetime.date(2025, 1, 1),
            valid_until=datetime.date(2027, 12, 31),
        ),
    ]


@pytest.fixture
def gep_inputs(parcels, county_staff, lian_du):
    record_indicator_inputs(
        actor=county_staff,
        indicator_key="water_conservation",
        year=2025,
        asset=parcels[0],
        values={
            "precipitation": ("1650", "mm", "丽水市水文年鉴"),
            "runoff": ("300", "mm", "丽水市水文年鉴"),
            "evapotranspiration": ("800", "mm", "丽水市水文年鉴"),
        },
    )
    record_indicator_inputs(
        actor=county_staff,
        indicator_key="landscape_recreation",
        year=2025,
        division=lian_du,
        values={
            "visits": ("120", "10k_person_visits", "莲都区统计公报"),
            "travel_cost_per_visit": ("850", "yuan_per_visit", "莲都区统计公报"),
        },
    )


@pytest.fixture
def collectives(county_staff, village):
    return [
        create_organization(
            actor=county_staff,
            name="示范二村股份经济合作社",
            kind=OrganizationKind.VILLAGE_COLLECTIVE,
            division=village,
            uscc=uscc("N2331102MF0000021"),
            contact_name="王会计",
            address="示范二村村委会",
        ),
        create_organization(
            actor=county_staff,
            name="示范三村股份经济合作社",
            kind=OrganizationKind.VILLAGE_COLLECTIVE,
            division=village,
            uscc=uscc("N2331102MF0000032"),
            is_active=False,
        ),
    ]


# --- normalised dumps: what "the same records" means ---------------------------------------------


def _holder_key(party):
    return (
        ("org", party.organization.uscc)
        if party.organization_id
        else ("person", party.person.national_id_hash)
    )


def dump_parcels(codes):
    result = []
    for asset in (
        Asset.objects.filter(code__in=codes).select_related("resource_type", "division").order_by("code")
    ):
        rights = sorted(
            (
                r.kind,
                _holder_key(r.holder),
                r.share_numerator,
                r.share_denominator,
                r.period.lower,
                r.period.upper,
                r.source_document,
                r.certificate_number,
                r.pledge_once,
            )
            for r in Right.objects.filter(asset=asset, status=RightStatus.ACTIVE).select_related(
                "holder__person", "holder__organization"
            )
        )
        result.append(
            (
                asset.code,
                asset.name,
                asset.resource_type.code,
                asset.division.code,
                asset.geometry.wkt if asset.geometry else None,
                asset.area_m2,
                asset.quantity,
                asset.quality_grade,
                asset.attributes,
                asset.status,
                rights,
            )
        )
    return result


def flush_parcels(codes):
    assets = Asset.objects.filter(code__in=codes)
    Restriction.objects.filter(asset__in=assets).delete()
    Right.objects.filter(asset__in=assets).delete()
    assets.delete()
    ExchangeRecord.objects.filter(dataset=Dataset.PARCELS).delete()


def dump_forest(codes):
    return list(Asset.objects.filter(code__in=codes).order_by("code").values_list("code", "attributes"))


def flush_forest(codes):
    Asset.objects.filter(code__in=codes).update(attributes={})
    ExchangeRecord.objects.filter(dataset=Dataset.FOREST_RESOURCES).delete()


def dump_observations():
    return list(
        AssetObservation.objects.order_by("asset__code", "observed_on", "source").values_list(
            "asset__code", "observed_on", "source", "quantity", "quality_grade", "note"
        )
    )


def flush_observations():
    AssetObservation.objects.all().delete()
    ExchangeRecord.objects.filter(dataset=Dataset.MONITORING).delete()


HARVEST_FIELDS = (
    "number",
    "asset__code",
    "holder_name",
    "issuer",
    "species",
    "harvest_type",
    "area_mu",
    "volume_m3",
    "valid_from",
    "valid_until",
    "status",
)
WATER_FIELDS = (
    "number",
    "division__code",
    "asset__code",
    "holder_name",
    "holder__person__national_id_hash",
    "holder__organization__uscc",
    "issuer",
    "water_source",
    "purpose",
    "annual_volume_m3",
    "valid_from",
    "valid_until",
    "status",
)


def dump_harvest_permits():
    return list(HarvestPermit.objects.order_by("number").values_list(*HARVEST_FIELDS))


def dump_water_permits():
    return list(WaterPermit.objects.order_by("number").values_list(*WATER_FIELDS))


def flush_permits(model, dataset):
    model.objects.all().delete()
    ExchangeRecord.objects.filter(dataset=dataset).delete()


def dump_gep_inputs():
    return list(
        EcologicalInput.objects.order_by(
            "asset__code", "division__code", "year", "indicator_key", "input_key"
        ).values_list(
            "asset__code", "division__code", "year", "indicator_key", "input_key", "value", "unit", "source"
        )
    )


def flush_gep_inputs():
    EcologicalInput.objects.all().delete()
    ExchangeRecord.objects.filter(dataset=Dataset.GEP_INPUTS).delete()


def dump_collectives(usccs):
    return list(
        Organization.objects.filter(uscc__in=usccs)
        .order_by("uscc")
        .values_list("uscc", "name", "kind", "division__code", "contact_name", "address", "is_active")
    )


def flush_collectives(usccs):
    Party.objects.filter(organization__uscc__in=usccs).delete()
    Organization.objects.filter(uscc__in=usccs).delete()
    ExchangeRecord.objects.filter(dataset=Dataset.COLLECTIVES).delete()
