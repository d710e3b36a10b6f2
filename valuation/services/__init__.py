"""Every write of the valuation app, one module per subject; import from here.

A run is reproducible by construction: `start_run` freezes its inputs (a snapshot in RunInput, with
each asset's PostGIS area), its parameter set (locked, never edited again) and its price indices,
and records a SHA-256 of all of them (see runs.py).
"""

from .inputs import contradictions, record_input, validate_input_value
from .parameters import (
    copy_parameter_set,
    load_default_parameter_set,
    params_of,
    publish_parameter_set,
    record_price_index,
    update_parameter_value,
)
from .runs import (
    accept_run,
    cancel_run,
    compute_rollups,
    dispatch_run,
    fail_run,
    finalize_run,
    inputs_checksum,
    maybe_finalize,
    process_chunk,
    retry_run,
    start_run,
)

__all__ = [
    "accept_run",
    "cancel_run",
    "compute_rollups",
    "contradictions",
    "copy_parameter_set",
    "dispatch_run",
    "fail_run",
    "finalize_run",
    "inputs_checksum",
    "load_default_parameter_set",
    "maybe_finalize",
    "params_of",
    "process_chunk",
    "publish_parameter_set",
    "record_input",
    "record_price_index",
    "retry_run",
    "start_run",
    "update_parameter_value",
    "validate_input_value",
]
