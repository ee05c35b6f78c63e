"""Bank business days counted in SQL (PostgreSQL and SQLite), for set-based figures.

A count of business days between two dates is ``B(end) - B(start)`` where ``B(x)`` is the
number of bank business days from a fixed Sunday up to ``x``: weekdays by arithmetic on the
day number, minus the closed weekdays (holidays, year-end closure) up to ``x`` — read from
``core.calendar.bank_holidays`` and passed as one array parameter (a nested ``CASE`` per
holiday cost more to compile than the query took to run). This equals
``core.calendar.business_days_between(start, end)`` for any ``start`` not before the
holiday list's first day.
"""

from __future__ import annotations

import json
from datetime import date

from django.db.models import (
    DateField,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Value,
)
from django.db.models.functions import Least, Mod

EPOCH = date(1900, 1, 7)  # a Sunday: day 1 after it is a Monday


class DayNumber(Func):
    """Days from EPOCH to a date expression (an integer)."""

    output_field = IntegerField()
    template = "(%(expressions)s - DATE '1900-01-07')"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection,
            template="CAST(ROUND(julianday(%(expressions)s) - julianday('1900-01-07')) AS INTEGER)",
            **extra_context,
        )  # fmt: skip


def _as_expression(value: Expression | str) -> Expression:
    return F(value) if isinstance(value, str) else value


class ClosedUpTo(Func):
    """How many of the sorted ``holidays`` fall on or before a date expression, passed as one
    array parameter: PostgreSQL's ``width_bucket`` binary-searches it in C; SQLite (the small
    embedded demo) scans it with ``json_each``."""

    output_field = IntegerField()

    def __init__(self, expression: Expression, holidays: list[date]) -> None:
        super().__init__(expression)
        self.holidays = list(holidays)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if not self.holidays:
            return "0", []
        return f"width_bucket({sql}, %s::date[])", [*params, sorted(self.holidays)]

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        days = json.dumps([day.isoformat() for day in sorted(self.holidays)])
        return f"(SELECT COUNT(*) FROM json_each(%s) WHERE value <= {sql})", [days, *params]


def business_day_number(value: Expression | str, holidays: list[date]) -> Expression:
    """Return SQL for B(x): bank business days from EPOCH up to and including date ``x``."""
    x = _as_expression(value)
    n = DayNumber(x)
    integer = IntegerField()
    weeks = ExpressionWrapper(n / Value(7), output_field=integer)
    rest = Least(Mod(n, Value(7), output_field=integer), Value(5), output_field=integer)
    return ExpressionWrapper(
        Value(5) * weeks + rest - ClosedUpTo(x, holidays), output_field=integer
    )


def business_days_between_sql(start: Expression | str, end: Expression | str,
                              holidays: list[date]) -> Expression:  # fmt: skip
    """Return SQL for the bank business days after ``start`` up to and including ``end``."""
    return ExpressionWrapper(
        business_day_number(end, holidays) - business_day_number(start, holidays),
        output_field=IntegerField(),
    )


class MonthStart(Func):
    """The first day of a date column's month. Django's ``TruncMonth`` truncates a date as a
    timestamp with time zone, converting the zone on every row; a date needs no zone."""

    output_field = DateField()
    template = "DATE_TRUNC('month', %(expressions)s::timestamp)::date"

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="date(%(expressions)s, 'start of month')",
                           **extra_context)  # fmt: skip
