"""Updating many rows, each to its own values, in one statement.

Django's ``bulk_update`` writes a ``CASE WHEN pk = … THEN …`` per row and field, which
PostgreSQL evaluates for every row updated: quadratic, seconds for a thousand rows. Set-based
services (a reconciliation run's balances and statuses) use ``update_rows`` instead: one
``UPDATE … FROM (VALUES …)`` join per batch on PostgreSQL, ``bulk_update`` elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

BATCH = 2000


def update_rows(model: type[models.Model], rows: Sequence[models.Model],
                fields: Sequence[str]) -> None:  # fmt: skip
    """Write ``fields`` of every row in ``rows`` (already changed in memory) to the database."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, fields, batch_size=BATCH)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    casts = ", ".join(f"%s::{column.db_type(connection)}" for column in columns)
    names = ", ".join(quote(column.column) for column in columns)
    assign = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
    key = quote(meta.pk.column)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        params = [
            column.get_db_prep_save(getattr(row, column.attname), connection)
            for row in batch
            for column in columns
        ]
        values = ", ".join([f"({casts})"] * len(batch))
        sql = (
            f"UPDATE {quote(meta.db_table)} AS t SET {assign} "
            f"FROM (VALUES {values}) AS v({names}) WHERE t.{key} = v.{key}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
