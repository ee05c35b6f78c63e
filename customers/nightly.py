"""Nightly 名寄せ: refresh the duplicate candidates the review screen lists."""

from __future__ import annotations

from datetime import date

from core.jobs import CheckOutcome, nightly_check

from .dedup import refresh_duplicate_candidates


@nightly_check("find_duplicates", "名寄せ: duplicate customer candidates")
def check_duplicates(*, today: date) -> CheckOutcome:
    """Find new candidate pairs by blocking and fuzzy scores; dismissed pairs stay dismissed."""
    created, _updated = refresh_duplicate_candidates()
    return CheckOutcome(processed=created + _updated, raised=0)
