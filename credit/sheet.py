"""The monthly credit management sheet (月次与信管理表): every limit in force at a month end
against the exposure the ledger shows at that moment, as rows and as an Excel workbook.

Month-end exposure is rebuilt from the append-only ledger (``ExposureEntry``), not read from
the running balances, so a sheet for a past month shows that month and not today. Every read
is an aggregate over all counterparties at once: the number of queries does not grow with the
number of rows or ledger entries.

What the ledger cannot tell is shown as it is today, and the sheet says so by its labels: the
limit's status, the group tree and the worst current payment delay.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from customers.models import Customer

from .calculations import utilization_percent, utilization_status
from .choices import LimitKind, LimitStatus, Utilization
from .models import CreditLimit, ExposureEntry, Rating

# A superseded or expired limit was still the one in force on a past month end; rejected and
# proposed limits never were.
IN_FORCE_STATUSES = (
    LimitStatus.ACTIVE,
    LimitStatus.SUSPENDED,
    LimitStatus.EXPIRED,
    LimitStatus.SUPERSEDED,
)
SEVERITY = {"red": 0, "yellow": 1, "green": 2}
# The group tree is walked at most this deep (as ``credit.checks.ancestor_ids`` does).
MAX_GROUP_DEPTH = 20

YEN_FORMAT = '"¥"#,##0;[Red]-"¥"#,##0'
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy/mm/dd"
RED_FILL = PatternFill("solid", fgColor="FFC7CE")
YELLOW_FILL = PatternFill("solid", fgColor="FFEB9C")
GREEN_FILL = PatternFill("solid", fgColor="C6EFCE")
LIGHT_FILLS = {"red": RED_FILL, "yellow": YELLOW_FILL, "green": GREEN_FILL}
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
TITLE_FONT = Font(bold=True, size=14)
TITLE_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = HEADER_ROW + 1
# (width, number format) per column, in the order of ``_headers``.
COLUMN_LAYOUT: tuple[tuple[int, str | None], ...] = (
    (36, None),  # counterparty
    (16, "@"),  # corporate number: text, so Excel keeps all 13 digits as typed
    (14, None),  # limit kind
    (16, YEN_FORMAT),  # credit limit
    (16, YEN_FORMAT),  # month-end exposure
    (16, YEN_FORMAT),  # headroom
    (10, PERCENT_FORMAT),  # utilisation
    (18, None),  # traffic light
    (8, None),  # rating
    (12, DATE_FORMAT),  # review date
    (18, None),  # status
    (10, "0"),  # worst delay
)


@dataclass(frozen=True)
class SheetRow:
    """One line of the sheet: a limit in force at month end, or exposure without one.

    ``limit_amount`` is None when the counterparty carried exposure of ``kind`` without a limit
    in force; such a row is red and its headroom is minus the exposure (there was no room).
    ``utilization`` is in percent with one decimal, as ``utilization_percent`` returns it.
    """

    counterparty_id: int
    counterparty_name: str
    corporate_number: str
    kind: str
    limit_id: int | None
    limit_amount: int | None
    exposure: int
    headroom: int
    utilization: Decimal | None
    traffic_light: str
    rating: str
    review_date: date | None
    limit_status: str
    worst_delay_days: int

    @property
    def kind_label(self) -> str:
        return str(LimitKind(self.kind).label)

    @property
    def status_label(self) -> str:
        if not self.limit_status:
            return _("No limit in force")
        return str(LimitStatus(self.limit_status).label)

    @property
    def traffic_light_label(self) -> str:
        return str(Utilization(self.traffic_light).label)

    def sort_key(self) -> tuple[int, Decimal, str, str]:
        """Red first, then the fullest; exposure without a limit counts as the fullest."""
        if self.utilization is not None:
            fullness = self.utilization
        else:
            fullness = Decimal("Infinity") if self.exposure > 0 else Decimal(0)
        return (SEVERITY[self.traffic_light], -fullness, self.counterparty_name, self.kind)


def month_end_cutoff(month_end: date) -> datetime:
    """Return the first moment after ``month_end`` in the business time zone (Asia/Tokyo)."""
    return datetime.combine(month_end + timedelta(days=1), time.min, ZoneInfo(settings.TIME_ZONE))


def _limits_in_force(month_end: date, cutoff: datetime) -> dict[tuple[int, str], CreditLimit]:
    """Return the limit in force per (counterparty, kind): valid on ``month_end``, decided by
    then and not rejected; of several, the newest decided."""
    limits = (
        CreditLimit.objects.filter(
            status__in=IN_FORCE_STATUSES,
            valid_from__lte=month_end,
            valid_until__gte=month_end,
            decided_at__lt=cutoff,
        )
        .only("id", "counterparty_id", "kind", "amount", "review_date", "status", "decided_at")
        .order_by("counterparty_id", "kind", "-decided_at", "-pk")
    )
    newest: dict[tuple[int, str], CreditLimit] = {}
    for limit in limits:
        newest.setdefault((limit.counterparty_id, limit.kind), limit)
    return newest


def _ledger_totals(field: str, cutoff: datetime) -> dict[int, int]:
    """Return the exposure per ``field`` (counterparty or debtor) from entries before ``cutoff``."""
    rows = (
        ExposureEntry.objects.filter(created_at__lt=cutoff, **{f"{field}__isnull": False})
        .order_by()
        .values_list(field)
        .annotate(total=Sum(F("reserved_change") + F("consumed_change")))
    )
    return {party: int(total or 0) for party, total in rows}


def _group_members(parent_ids: Iterable[int]) -> dict[int, set[int]]:
    """Return each parent with itself and all its descendants, in one recursive query."""
    roots = sorted(set(parent_ids))
    if not roots:
        return {}
    table = connection.ops.quote_name(Customer._meta.db_table)
    placeholders = ", ".join(["%s"] * len(roots))
    sql = (
        f"WITH RECURSIVE tree(root, id, depth) AS ("
        f" SELECT id, id, 0 FROM {table} WHERE id IN ({placeholders})"
        f" UNION ALL SELECT tree.root, c.id, tree.depth + 1 FROM {table} c"
        f" JOIN tree ON c.parent_id = tree.id WHERE tree.depth < %s)"
        f" SELECT root, id FROM tree"
    )
    members: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*roots, MAX_GROUP_DEPTH])
        for root, member in cursor.fetchall():
            members[root].add(member)
    return members


def _parties(ids: Iterable[int], cutoff: datetime) -> dict[int, dict[str, Any]]:
    """Return name, 法人番号, grade at ``cutoff`` and worst current delay per counterparty."""
    grade_then = (
        Rating.objects.filter(counterparty=OuterRef("pk"), rated_at__lt=cutoff)
        .order_by("-rated_at", "-pk")
        .values("grade")[:1]
    )
    rows = (
        Customer.objects.filter(pk__in=sorted(set(ids)))
        .annotate(
            grade_then=Subquery(grade_then),
            delay=Coalesce(F("exposure__worst_delay_days"), Value(0), output_field=IntegerField()),
        )
        .order_by()
        .values("pk", "name", "corporate_number", "grade_then", "delay")
    )
    return {row["pk"]: row for row in rows}


def _row(party: dict[str, Any], kind: str, limit: CreditLimit | None, exposure: int) -> SheetRow:
    amount = limit.amount if limit is not None else None
    return SheetRow(
        counterparty_id=party["pk"],
        counterparty_name=party["name"],
        corporate_number=party["corporate_number"] or "",
        kind=kind,
        limit_id=limit.pk if limit is not None else None,
        limit_amount=amount,
        exposure=exposure,
        headroom=(amount or 0) - exposure,
        utilization=utilization_percent(amount or 0, exposure),
        traffic_light=utilization_status(amount or 0, exposure),
        rating=party["grade_then"] or "",
        review_date=limit.review_date if limit is not None else None,
        limit_status=limit.status if limit is not None else "",
        worst_delay_days=int(party["delay"] or 0),
    )


def sheet_rows(*, month_end: date) -> list[SheetRow]:
    """Return the sheet's rows as of the end of ``month_end`` (Tokyo time), worst first.

    One row per limit in force at month end (client, debtor, group), plus one per counterparty
    that carried client or debtor exposure without a limit of that kind in force. Exposure is
    reserved plus outstanding from the ledger: by client for client limits, by debtor for
    debtor limits, and for a group limit summed by client over the parent and its descendants
    in today's group tree. Five queries at most, whatever the size of the book.
    """
    cutoff = month_end_cutoff(month_end)
    limits = _limits_in_force(month_end, cutoff)
    by_client = _ledger_totals("counterparty", cutoff)
    by_debtor = _ledger_totals("debtor", cutoff)
    groups = _group_members(pid for pid, kind in limits if kind == LimitKind.GROUP)

    def exposure_of(party_id: int, kind: str) -> int:
        if kind == LimitKind.DEBTOR:
            return by_debtor.get(party_id, 0)
        if kind == LimitKind.GROUP:
            return sum(by_client.get(m, 0) for m in groups.get(party_id, {party_id}))
        return by_client.get(party_id, 0)

    keys: set[tuple[int, str]] = set(limits)
    keys.update((pid, LimitKind.CLIENT) for pid, total in by_client.items() if total)
    keys.update((pid, LimitKind.DEBTOR) for pid, total in by_debtor.items() if total)
    parties = _parties((pid for pid, _kind in keys), cutoff)
    rows = [
        _row(parties[pid], kind, limits.get((pid, kind)), exposure_of(pid, kind))
        for pid, kind in keys
        if pid in parties
    ]
    rows.sort(key=SheetRow.sort_key)
    return rows


def _headers() -> list[str]:
    """Return the header labels in the active language (the UI's Japanese by default)."""
    return [
        # "Counterparty" alone is already 接続先 (compliance connections) in the catalogue.
        pgettext("credit sheet", "Counterparty"),
        _("Corporate number"),
        _("Limit kind"),
        _("Credit limit"),
        _("Month-end exposure"),
        _("Headroom"),
        _("Utilisation"),
        _("Traffic light"),
        _("Rating"),
        _("Review date"),
        _("Status"),
        _("Worst delay (days)"),
    ]


def _write_row(sheet: Worksheet, index: int, row: SheetRow) -> None:
    values: list[Any] = [
        row.counterparty_name,
        row.corporate_number or None,
        row.kind_label,
        row.limit_amount,
        row.exposure,
        row.headroom,
        row.utilization / 100 if row.utilization is not None else None,
        row.traffic_light_label,
        row.rating or None,
        row.review_date,
        row.status_label,
        row.worst_delay_days,
    ]
    for column, (value, (_width, number_format)) in enumerate(
        zip(values, COLUMN_LAYOUT, strict=True), start=1
    ):
        cell = sheet.cell(row=index, column=column, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # a customer named "=HYPERLINK(...)" stays a name in Excel
        if number_format is not None:
            cell.number_format = number_format
    headroom = sheet.cell(row=index, column=6)
    if row.headroom < 0:
        headroom.fill = RED_FILL
    elif row.traffic_light == "yellow":
        headroom.fill = YELLOW_FILL
    sheet.cell(row=index, column=8).fill = LIGHT_FILLS[row.traffic_light]


def sheet_title(month_end: date) -> str:
    """Return the worksheet's name, ``月次与信管理表 YYYY-MM`` (Excel allows 31 characters)."""
    return f"月次与信管理表 {month_end:%Y-%m}"


def monthly_sheet(*, month_end: date) -> bytes:
    """Return the monthly credit management sheet as of ``month_end`` as an .xlsx file.

    A caption row, then the header (frozen, filterable), then ``sheet_rows`` worst first;
    headroom is red when negative and yellow from 80 % utilisation.
    """
    rows = sheet_rows(month_end=month_end)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(month_end)
    headers = _headers()
    caption_text = _("Monthly credit management sheet as of %(date)s") % {
        "date": f"{month_end:%Y-%m-%d}"
    }
    caption = sheet.cell(row=TITLE_ROW, column=1, value=caption_text)
    caption.font = TITLE_FONT
    for column, label in enumerate(headers, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, row in enumerate(rows, start=FIRST_DATA_ROW):
        _write_row(sheet, index, row)
    for column, (width, _number_format) in enumerate(COLUMN_LAYOUT, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    last_row = HEADER_ROW + len(rows)
    last_column = get_column_letter(len(headers))
    # Keep the header and the counterparty's name in view while scrolling.
    sheet.freeze_panes = f"B{FIRST_DATA_ROW}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last_column}{last_row}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
