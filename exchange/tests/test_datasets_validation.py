# ruff: noqa: F811  (fixtures imported from fixtures_datasets)
"""Row checks of the other datasets: forest attributes against the type's schema, monitoring
records that are evidence, GEP inputs through the valuation checks, collectives' USCCs, water
permits' holders. Every refused file leaves the records as they were."""

import json

import pytest

from directory.models import Organization, OrganizationKind
from exchange.models import Dataset, ExchangeStatus, WaterPermit
from exchange.services.datasets import import_dataset
from resources.models import Asset, AssetObservation
from resources.tests.conftest import square
from valuation.models import EcologicalInput

from .fixtures_datasets import (  # noqa: F401  (fixtures)
    FOREST_ATTRIBUTES,
    collectives,
    gep_inputs,
    lian_du,
    observations,
    parcels,
    uscc,
    water_permits,
)

pytestmark = pytest.mark.django_db


def run(user, division, dataset, rows):
    return import_dataset(
        actor=user,
        dataset=dataset,
        fmt="json",
        division=division,
        channel="api",
        content=json.dumps({"rows": rows}, ensure_ascii=False).encode(),
        file_name="",
    )


def keys(log):
    return {(e["row"], e["key"]) for e in log.errors}


def test_forest_attributes_update_only_what_the_file_names(parcels, county_staff, lian_du):
    first, second = parcels
    log = run(
        county_staff,
        lian_du,
        Dataset.FOREST_RESOURCES,
        [{"code": first.code, "stock_volume_m3": "130", "canopy_density": ""}, {"code": second.code}],
    )
    assert (log.status, log.rows_updated, log.rows_unchanged) == (ExchangeStatus.SUCCEEDED, 1, 1), log.errors
    attributes = Asset.objects.get(pk=first.pk).attributes
    assert attributes["stock_volume_m3"] == 130 and "canopy_density" not in attributes
    assert attributes["compartment"] == FOREST_ATTRIBUTES["compartment"]  # column absent: kept


def test_forest_rows_against_schema_family_and_reach(
    parcels, county_staff, lian_du, make_asset, farmland_type
):
    farmland = make_asset(
        resource_type=farmland_type, attributes={"land_class": "0101"}, geometry=square(dx=0.3)
    )
    log = run(
        county_staff,
        lian_du,
        Dataset.FOREST_RESOURCES,
        [
            {"code": parcels[0].code, "age_class": "百年林", "other_attrs": {"dominant_species": "x"}},
            {"code": parcels[1].code, "dominant_species": "", "canopy_density": "1.5"},
            {"code": farmland.code, "dominant_species": "杉木"},
            {"code": "ZY-NONE"},
        ],
    )
    assert log.status == ExchangeStatus.REJECTED
    assert keys(log) >= {
        (1, "other_attrs"),
        (2, "dominant_species"),
        (2, "canopy_density"),
        (3, "code"),
        (4, "code"),
    }
    assert Asset.objects.get(pk=parcels[0].pk).attributes == FOREST_ATTRIBUTES


def test_monitoring_records_are_evidence(observations, parcels, county_staff, lian_du):
    stored = list(AssetObservation.objects.values_list("pk", "quantity"))
    log = run(
        county_staff,
        lian_du,
        Dataset.MONITORING,
        [
            {
                "code": parcels[0].code,
                "observed_on": "2025-06-01",
                "source": "林业二类调查",
                "quantity": "999",
            },
            {"code": parcels[0].code, "observed_on": "2099-01-01", "source": "遥感", "quantity": "1"},
            {"code": parcels[1].code, "observed_on": "2026-01-01", "source": "遥感"},
            {"code": parcels[1].code, "observed_on": "2026-01-02", "source": "遥感", "quantity": "-1"},
        ],
    )
    assert log.status == ExchangeStatus.REJECTED
    assert keys(log) == {(1, "source"), (2, "observed_on"), (3, "quantity"), (4, "quantity")}, log.errors
    assert list(AssetObservation.objects.values_list("pk", "quantity")) == stored
    fine = run(
        county_staff,
        lian_du,
        Dataset.MONITORING,
        [
            {
                "code": parcels[0].code,
                "observed_on": "2025-06-01",
                "source": "林业二类调查",
                "quantity": "118.2000",
                "quality_grade": "良",
            },
            {
                "code": parcels[1].code,
                "observed_on": "2026-01-01",
                "source": "水质监测站",
                "quality_grade": "Ⅱ类",
            },
        ],
    )
    assert (fine.rows_created, fine.rows_unchanged) == (1, 1), fine.errors


def test_gep_inputs_use_the_valuation_checks(gep_inputs, parcels, county_staff, lian_du):
    code = parcels[0].code
    log = run(
        county_staff,
        lian_du,
        Dataset.GEP_INPUTS,
        [
            {
                "object": "资产",
                "code": code,
                "year": 2025,
                "indicator": "水源涵养",
                "input": "降水量",
                "value": "1700",
                "unit": "亩",
                "source": "年鉴",
            },
            {
                "object": "资产",
                "code": code,
                "year": 2025,
                "indicator": "R1",
                "input": "runoff",
                "value": "5000",
                "unit": "mm",
                "source": "年鉴",
            },
            {
                "object": "区划",
                "code": "331102000000",
                "year": 2025,
                "indicator": "landscape_recreation",
                "input": "visits",
                "value": "130",
                "unit": "万人次",
                "source": "",
            },
        ],
    )
    assert log.status == ExchangeStatus.REJECTED
    assert {(1, "unit"), (3, "source")} <= keys(log), log.errors
    assert EcologicalInput.objects.get(input_key="visits").value == 120
    corrected = run(
        county_staff,
        lian_du,
        Dataset.GEP_INPUTS,
        [
            {
                "object": "区划",
                "code": "331102000000",
                "year": 2025,
                "indicator": "休闲旅游/景观游憩",
                "input": "visits",
                "value": "130",
                "unit": "10k_person_visits",
                "source": "莲都区统计公报",
            },
            {
                "object": "division",
                "code": "331102000000",
                "year": 2025,
                "indicator": "landscape_recreation",
                "input": "travel_cost_per_visit",
                "value": "850",
                "unit": "yuan_per_visit",
                "source": "莲都区统计公报",
            },
        ],
    )
    assert (corrected.rows_updated, corrected.rows_unchanged) == (1, 1), corrected.errors
    assert EcologicalInput.objects.get(input_key="visits").value == 130


def test_collectives_keyed_by_a_valid_uscc(collectives, county_staff, lian_du, bank):
    good = uscc("N2331102MF0000043")
    log = run(
        county_staff,
        lian_du,
        Dataset.COLLECTIVES,
        [
            {
                "uscc": good[:-1] + ("0" if good[-1] != "0" else "1"),
                "name": "错码村",
                "division": "331102199201",
            },
            {"uscc": bank.uscc, "name": "银行", "division": "331102199201"},
            {"uscc": good, "name": "外县村", "division": "331121000000"},
        ],
    )
    assert keys(log) == {(1, "uscc"), (2, "uscc"), (3, "division")}, log.errors
    assert "校验位" in log.errors[0]["message"]
    renamed = run(
        county_staff,
        lian_du,
        Dataset.COLLECTIVES,
        [
            {
                "uscc": collectives[0].uscc.lower(),
                "name": "示范二村股份经济合作社（更名）",
                "division": "331102199201",
                "contact_name": "王会计",
                "address": "示范二村村委会",
                "is_active": "是",
            }
        ],
    )
    assert renamed.rows_updated == 1, renamed.errors
    organization = Organization.objects.get(pk=collectives[0].pk)
    assert organization.name.endswith("（更名）") and organization.kind == OrganizationKind.VILLAGE_COLLECTIVE


def test_water_permit_holders_must_be_registered(water_permits, county_staff, lian_du):
    row = {
        "number": "QS-NEW",
        "division": "331102199201",
        "holder_name": "某人",
        "holder_id": "331102199001011231",
        "issuer": "水利局",
        "water_source": "溪",
        "purpose": "灌溉",
        "annual_volume_m3": "0",
        "valid_from": "2026-01-01",
        "valid_until": "2025-01-01",
    }
    log = run(county_staff, lian_du, Dataset.WATER_PERMITS, [row])
    assert keys(log) == {(1, "holder_id"), (1, "annual_volume_m3"), (1, "valid_until")}, log.errors
    assert not WaterPermit.objects.filter(number="QS-NEW").exists()
