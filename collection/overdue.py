"""遅延: days overdue in bank business days and the ageing buckets (pure, no ORM).

A receivable due on ``due_date`` is late by the number of bank business days after the due
date up to and including ``today``: due on a Friday, it is 1 day late on Monday and still 0
on the Saturday between. The nightly check and the selectors turn these counts into due-date
cutoffs (``overdue_cutoff``) so the database filters whole sets instead of counting per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _

from core.calendar import add_business_days, business_days_between

#: Business days overdue after which the nightly check alerts collections and the owner.
ALERT_AFTER_DAYS = 3


@dataclass(frozen=True)
class Bucket:
    """One ageing bucket: ``low`` to ``high`` business days overdue (``high`` None: no end)."""

    code: str
    low: int
    high: int | None
    label: str


BUCKETS: tuple[Bucket, ...] = (
    Bucket("1-3", 1, 3, _("1–3 business days")),
    Bucket("4-30", 4, 30, _("4–30 business days")),
    Bucket("31-60", 31, 60, _("31–60 business days")),
    Bucket("61+", 61, None, _("61 business days or more")),
)
BUCKET_CODES: tuple[str, ...] = tuple(b.code for b in BUCKETS)


def days_overdue(due_date: date, today: date) -> int:
    """Return the bank business days ``today`` is past ``due_date`` (0 when not yet late)."""
    if today <= due_date:
        return 0
    return business_days_between(due_date, today)


def bucket(days: int) -> str:
    """Return the code of the bucket ``days`` overdue fall in ("" when not overdue)."""
    for b in BUCKETS:
        if days >= b.low and (b.high is None or days <= b.high):
            return b.code
    return ""


def overdue_cutoff(today: date, days: int) -> date:
    """Return the date before which a due date is at least ``days`` business days overdue.

    ``due_date < overdue_cutoff(today, n)`` holds exactly when ``days_overdue(due_date, today)
    >= n`` (for ``n`` >= 1): the cutoff is the n-th bank business day counting back from
    ``today`` (``today`` itself included when banks are open), so closed due dates work too.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    return add_business_days(today + timedelta(days=1), -days)


def bucket_cutoffs(today: date) -> dict[str, tuple[date | None, date]]:
    """Return, per bucket code, the due-date range ``[start, end)`` of that bucket on ``today``
    (``start`` None for the open-ended oldest bucket)."""
    ranges = {}
    for b in BUCKETS:
        end = overdue_cutoff(today, b.low)
        start = overdue_cutoff(today, b.high + 1) if b.high is not None else None
        ranges[b.code] = (start, end)
    return ranges
