"""Bank business days (銀行営業日): the calendar that every counted date uses.

Closed: Saturdays, Sundays, national holidays (jpholiday, which includes substitute
and citizens' holidays) and the banks' year-end closure on December 31, January 2 and
January 3.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import jpholiday
from django.utils import timezone

_YEAR_END_CLOSURE = {(12, 31), (1, 1), (1, 2), (1, 3)}


@lru_cache(maxsize=8192)
def is_bank_business_day(d: date) -> bool:
    """Return True when banks are open on ``d``."""
    if d.weekday() >= 5:
        return False
    if (d.month, d.day) in _YEAR_END_CLOSURE:
        return False
    return not jpholiday.is_holiday(d)


def add_business_days(d: date, n: int) -> date:
    """Return the date ``n`` bank business days after ``d`` (before it when ``n`` < 0).

    ``d`` itself is not counted, so ``n == 0`` returns ``d`` unchanged even on a closed day.
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = d
    while remaining:
        current += timedelta(days=step)
        if is_bank_business_day(current):
            remaining -= 1
    return current


def next_business_day(d: date) -> date:
    """Return ``d`` when banks are open that day, otherwise the next day they are."""
    while not is_bank_business_day(d):
        d += timedelta(days=1)
    return d


def business_days_between(start: date, end: date) -> int:
    """Return the number of bank business days after ``start`` up to and including ``end``.

    When ``end`` is before ``start`` the count is negative, so that
    ``add_business_days(start, business_days_between(start, end)) == end`` for any open ``end``.
    Counted with weekday arithmetic and each year's closed weekdays (cached), so spans of
    years cost no more than a few days.
    """
    if end < start:
        return -business_days_between(end, start)
    weeks, extra = divmod((end - start).days, 7)
    weekdays = weeks * 5 + sum(
        1 for offset in range(1, extra + 1) if (start + timedelta(days=offset)).weekday() < 5
    )
    closed = sum(
        1
        for year in range(start.year, end.year + 1)
        for day in _closed_weekdays(year)
        if start < day <= end
    )
    return weekdays - closed


@lru_cache(maxsize=64)
def _closed_weekdays(year: int) -> tuple[date, ...]:
    """Return the weekdays of ``year`` on which banks are closed."""
    return tuple(bank_holidays(date(year, 1, 1), date(year, 12, 31)))


def bank_holidays(start: date, end: date) -> list[date]:
    """Return the closed weekdays (holidays and year-end closure) from ``start`` to ``end``.

    Set-based SQL in nightly checks joins against this list instead of looping in Python.
    """
    days = []
    current = start
    while current <= end:
        if current.weekday() < 5 and not is_bank_business_day(current):
            days.append(current)
        current += timedelta(days=1)
    return days


def day_start(d: date) -> datetime:
    """Return local midnight at the start of ``d`` as an aware datetime."""
    return timezone.make_aware(datetime.combine(d, time.min))


def datetime_range(start: date, end: date) -> tuple[datetime, datetime]:
    """Return ``[start 00:00, end + 1 day 00:00)`` local: a datetime column in a date range
    without converting every row's time zone (the column's index stays usable)."""
    return day_start(start), day_start(end + timedelta(days=1))


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by whole months, clamped to the month's last day (1/31 + 1 → 2/28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    """Return the last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_starts(first: date, last: date) -> list[date]:
    """Return the first day of every month from ``first``'s month to ``last``'s."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months
