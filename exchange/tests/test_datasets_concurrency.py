# ruff: noqa: F811  (fixtures imported from fixtures_datasets)
"""Two imports of one dataset at the same moment, in real threads on their own connections: the
dataset's lock makes them run one after the other, so the second validates against what the first
wrote and finds every row unchanged — neither fails on a duplicate permit number."""

import threading

import pytest
from django.db import connection

from exchange.models import Dataset, ExchangeRecord, ExchangeStatus, HarvestPermit
from exchange.services.datasets import import_dataset

from .fixtures_datasets import lian_du, parcels  # noqa: F401  (fixtures)
from .test_datasets_import import csv_file, permit_row


def run_together(*calls):
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_simultaneous_imports_of_a_dataset_do_not_interleave(parcels, county_staff, lian_du):
    content = csv_file([permit_row(f"LC-{n}", parcels[n % 2].code) for n in range(6)])

    def importing():
        return import_dataset(
            actor=county_staff,
            dataset=Dataset.HARVEST_PERMITS,
            fmt="csv",
            division=lian_du,
            channel="api",
            content=content,
            file_name="permits.csv",
        )

    first, second = run_together(importing, importing)
    assert {first.status, second.status} == {ExchangeStatus.SUCCEEDED}, (first.errors, second.errors)
    assert sorted(
        [(first.rows_created, first.rows_unchanged), (second.rows_created, second.rows_unchanged)]
    ) == [
        (0, 6),
        (6, 0),
    ]
    assert HarvestPermit.objects.count() == 6
    assert ExchangeRecord.objects.filter(dataset=Dataset.HARVEST_PERMITS).count() == 6
