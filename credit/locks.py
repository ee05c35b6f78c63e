"""The one place credit takes row locks: exposure rows in ascending primary-key order.

Every service that moves exposure or changes a live limit locks the balances of each party
it touches here first, always in the same order, so two approvals racing for the same
headroom queue behind each other instead of both passing the check (and cannot deadlock).
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Exposure


def lock_exposures(counterparty_ids: Iterable[int]) -> dict[int, Exposure]:
    """Create any missing balance rows, then lock them all, ordered by pk; return them by id."""
    ids = sorted(set(counterparty_ids))
    Exposure.objects.bulk_create(
        [Exposure(counterparty_id=pk) for pk in ids], ignore_conflicts=True
    )
    rows = Exposure.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}
