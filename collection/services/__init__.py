"""Collection writes: statements, expected collections, allocations (消込)."""

from .allocations import (
    allocate,
    allocation_reverse,
    derive_status,
    entry_remaining,
    entry_to_suspense,
)
from .expectations import open_expectations, payer_of, sync_expectations
from .statements import ImportResult, statement_import

__all__ = [
    "ImportResult",
    "allocate",
    "allocation_reverse",
    "derive_status",
    "entry_remaining",
    "entry_to_suspense",
    "open_expectations",
    "payer_of",
    "statement_import",
    "sync_expectations",
]
