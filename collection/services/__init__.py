"""Collection writes: statements, expected collections, allocations (消込)."""

from .allocations import allocate, allocation_reverse, entry_remaining, entry_to_suspense
from .batch import derive_status
from .expectations import open_expectations, payer_of
from .recovery import (
    dunning_record,
    repurchase_open,
    repurchase_settle,
    repurchase_waive,
    reserve_settlement_pay,
)
from .statements import ImportResult, statement_import

__all__ = [
    "ImportResult",
    "allocate",
    "allocation_reverse",
    "derive_status",
    "dunning_record",
    "entry_remaining",
    "entry_to_suspense",
    "open_expectations",
    "payer_of",
    "repurchase_open",
    "repurchase_settle",
    "repurchase_waive",
    "reserve_settlement_pay",
    "statement_import",
]
