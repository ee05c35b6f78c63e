"""SQL building blocks the KPIs share: the period bounds of datetime columns (business days
in SQL come from ``core.calendar_sql``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import DateField, Func
from django.utils import timezone

from core.calendar import bank_holidays


class MonthStart(Func):
    """The first day of a date column's month. Django's ``TruncMonth`` truncates a date as a
    timestamp with time zone, converting the zone on every row; a date needs no zone."""

    output_field = DateField()
    template = "DATE_TRUNC('month', %(expressions)s::timestamp)::date"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="date(%(expressions)s, 'start of month')",
                           **extra_context)  # fmt: skip


class HolidayWindow:
    """The closed weekdays between two dates, fetched once per request from the calendar."""

    def __init__(self, first: date, last: date):
        self.first = first
        self.last = last
        self.days = bank_holidays(first, last)


def day_start(d: date) -> datetime:
    """Return local midnight at the start of ``d`` as an aware datetime."""
    return timezone.make_aware(datetime.combine(d, time.min))


def datetime_range(start: date, end: date) -> tuple[datetime, datetime]:
    """Return ``[start 00:00, end + 1 day 00:00)`` local: a datetime column in a date range
    without converting every row's timezone (the column's index stays usable)."""
    return day_start(start), day_start(end + timedelta(days=1))
