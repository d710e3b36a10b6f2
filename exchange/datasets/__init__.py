"""The datasets departments exchange with the platform, one module each (see base.DatasetSpec).
The credit report (Dataset.CREDIT_REPORT) is not here: it leaves only through
exchange.services.credit, under consent."""

from django.utils.translation import gettext as _

from tmcs.errors import DomainError

from ..models import Dataset
from . import (
    collectives,
    forest_resources,
    gep_inputs,
    harvest_permits,
    monitoring,
    parcels,
    water_permits,
)
from .base import Column, ColumnType, DatasetSpec

DATASETS = {
    Dataset.PARCELS: parcels.SPEC,
    Dataset.FOREST_RESOURCES: forest_resources.SPEC,
    Dataset.HARVEST_PERMITS: harvest_permits.SPEC,
    Dataset.WATER_PERMITS: water_permits.SPEC,
    Dataset.MONITORING: monitoring.SPEC,
    Dataset.GEP_INPUTS: gep_inputs.SPEC,
    Dataset.COLLECTIVES: collectives.SPEC,
}

__all__ = ["DATASETS", "Column", "ColumnType", "DatasetSpec", "get_spec"]


def get_spec(key):
    """The spec of a dataset key; DomainError (400) for anything else."""
    spec = DATASETS.get(key)
    if spec is None:
        raise DomainError(
            _("未知的数据集“%(key)s”。") % {"key": key},
            code="unknown_dataset",
            fields={"dataset": [_("未知的数据集。")]},
        )
    return spec
