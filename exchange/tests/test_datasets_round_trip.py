# ruff: noqa: F811  (fixtures imported from fixtures_datasets)
"""The issue's "done means": for every dataset and every format it supports, export → import into
an empty database (the dataset's records flushed, reference data kept) → the same records; and
re-importing the same file changes nothing (no writes, no history rows)."""

import pghistory.models
import pytest

from exchange.models import Dataset, ExchangeRecord, ExchangeStatus, HarvestPermit, WaterPermit
from exchange.services.datasets import export_dataset, import_dataset
from resources.models import AssetStatus

from .fixtures_datasets import (  # noqa: F401  (fixtures)
    collectives,
    department,
    dump_collectives,
    dump_forest,
    dump_gep_inputs,
    dump_harvest_permits,
    dump_observations,
    dump_parcels,
    dump_water_permits,
    flush_collectives,
    flush_forest,
    flush_gep_inputs,
    flush_observations,
    flush_parcels,
    flush_permits,
    gep_inputs,
    harvest_permits,
    lian_du,
    observations,
    parcels,
    water_permits,
)

pytestmark = pytest.mark.django_db


def _export(user, dataset, fmt, division):
    content, _type, name, log = export_dataset(
        actor=user, dataset=dataset, fmt=fmt, division=division, channel="web"
    )
    assert log.status == ExchangeStatus.SUCCEEDED and log.rows_total > 0
    return content, name


def _import(user, dataset, fmt, division, content, name="file"):
    return import_dataset(
        actor=user,
        dataset=dataset,
        fmt=fmt,
        division=division,
        channel="web",
        content=content,
        file_name=name,
    )


def _round_trip(user, dataset, division, formats, dump, flush):
    before = dump()
    assert before, "the fixture must have records"
    for fmt in formats:
        content, name = _export(user, dataset, fmt, division)
        flush()
        assert not dump() or dataset == Dataset.FOREST_RESOURCES
        log = _import(user, dataset, fmt, division, content, name)
        assert log.status == ExchangeStatus.SUCCEEDED, (fmt, log.errors)
        assert log.rows_total == len(before) and log.rows_rejected == 0
        assert dump() == before, fmt
        # the same file again: nothing written, no history
        events = pghistory.models.Events.objects.count()
        again = _import(user, dataset, fmt, division, content, name)
        assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, len(before))
        assert pghistory.models.Events.objects.count() == events
        assert dump() == before
    return log


def test_parcels_round_trip_in_every_format(parcels, county_staff, lian_du):
    codes = [a.code for a in parcels]
    log = _round_trip(
        county_staff,
        Dataset.PARCELS,
        lian_du,
        ["geojson", "csv", "xlsx", "json"],
        lambda: dump_parcels(codes),
        lambda: flush_parcels(codes),
    )
    assert log.rows_created == 2
    assert {row[9] for row in dump_parcels(codes)} == {AssetStatus.REGISTERED}
    assert ExchangeRecord.objects.filter(dataset=Dataset.PARCELS, last_log=log).count() == 2


def test_forest_resources_round_trip(parcels, county_staff, lian_du):
    codes = [a.code for a in parcels]
    _round_trip(
        county_staff,
        Dataset.FOREST_RESOURCES,
        lian_du,
        ["csv", "xlsx", "json"],
        lambda: dump_forest(codes),
        lambda: flush_forest(codes),
    )


def test_monitoring_round_trip(observations, county_staff, lian_du):
    _round_trip(
        county_staff,
        Dataset.MONITORING,
        lian_du,
        ["csv", "xlsx", "json"],
        dump_observations,
        flush_observations,
    )


def test_harvest_permits_round_trip(harvest_permits, county_staff, lian_du):
    _round_trip(
        county_staff,
        Dataset.HARVEST_PERMITS,
        lian_du,
        ["csv", "xlsx", "json"],
        dump_harvest_permits,
        lambda: flush_permits(HarvestPermit, Dataset.HARVEST_PERMITS),
    )


def test_water_permits_round_trip(water_permits, county_staff, lian_du):
    _round_trip(
        county_staff,
        Dataset.WATER_PERMITS,
        lian_du,
        ["csv", "xlsx", "json"],
        dump_water_permits,
        lambda: flush_permits(WaterPermit, Dataset.WATER_PERMITS),
    )


def test_gep_inputs_round_trip(gep_inputs, county_staff, lian_du):
    _round_trip(
        county_staff, Dataset.GEP_INPUTS, lian_du, ["csv", "xlsx", "json"], dump_gep_inputs, flush_gep_inputs
    )


def test_collectives_round_trip(collectives, county_staff, lian_du):
    usccs = [c.uscc for c in collectives]
    before = dump_collectives(usccs)
    for fmt in ("csv", "xlsx", "json"):
        content, name = _export(county_staff, Dataset.COLLECTIVES, fmt, lian_du)
        flush_collectives(usccs)
        log = _import(county_staff, Dataset.COLLECTIVES, fmt, lian_du, content, name)
        assert log.status == ExchangeStatus.SUCCEEDED, (fmt, log.errors)
        # the demo region's own collective is exported too and is unchanged
        assert (log.rows_created, log.rows_unchanged) == (2, log.rows_total - 2)
        assert dump_collectives(usccs) == before
