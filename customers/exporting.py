"""Customer register export and the import template, both in the import file's layout.

The export uses the import template's Japanese headers and cell conventions (種別 and
業種 as words, ○ for flags, 設立年月 as YYYY-MM), plus ID and 状態, so an exported file
can be read back by ``customers.importing``. It streams: openpyxl's write-only mode and
the queryset read in chunks with only the columns it needs.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from core.audit import audit_log

from .choices import PREFECTURES, CustomerStatus
from .importing import COLUMNS, EXPORT_ONLY_HEADERS, HEADERS, INDUSTRY_LABELS, KIND_LABELS, Column
from .models import Customer, TransferName

SHEET_NAME = "顧客"
EXAMPLE_SHEET_NAME = "記入例"
GUIDE_SHEET_NAME = "説明"
EXPORT_HEADERS: tuple[str, ...] = (EXPORT_ONLY_HEADERS[0], *HEADERS, EXPORT_ONLY_HEADERS[1])
CHUNK_SIZE = 2000

_AMOUNT_FIELDS = {"capital", "annual_sales", "net_assets"}
_NUMBER_FIELDS = {"employees", "fiscal_year_end_month"}
# Columns Excel would turn into numbers and strip of leading zeros unless typed as text.
_TEXT_FIELDS = {"corporate_number", "invoice_number", "postal_code", "phone"}
_MODEL_FIELDS = tuple(c.field for c in COLUMNS if c.field != "transfer_names")
_WIDTHS = {"name": 32, "name_kana": 28, "name_en": 28, "invoice_number": 18, "industry": 24}
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")


def _cell_value(customer: Customer, column: Column) -> Any:
    """Return what the import template expects in ``column`` for ``customer``."""
    name = column.field
    if name == "transfer_names":
        return "、".join(transfer.name for transfer in customer.transfer_names.all())
    value = getattr(customer, name)
    if name == "kind":
        return KIND_LABELS.get(value, value)
    if name == "industry":
        return INDUSTRY_LABELS.get(value, value or "")
    if name == "established":
        return f"{value:%Y-%m}" if value else ""
    if name in ("is_client", "is_debtor"):
        return "○" if value else ""
    return "" if value is None else value


def _cell(sheet: Worksheet, value: Any, field: str = "") -> WriteOnlyCell | Any:
    """Return a write-only cell: amounts with separators, text never read as a formula."""
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # a customer named "=HYPERLINK(...)" stays a name in Excel
        return cell
    if field in _AMOUNT_FIELDS and isinstance(value, int):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0"
        return cell
    return value


def _header_cells(sheet: Worksheet, headers: tuple[str, ...]) -> list[WriteOnlyCell]:
    """Return the header row, bold on a tint, so it reads as the header in Excel."""
    cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cells.append(cell)
    return cells


def _set_widths(sheet: Worksheet, fields: list[str]) -> None:
    """Size the columns so names and numbers are readable without resizing."""
    for index, name in enumerate(fields, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(name, 14)


def _export_queryset(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Return ``queryset`` reading only the exported columns, with transfer names prefetched."""
    transfer_names = TransferName.objects.only("id", "customer_id", "name").order_by("id")
    return (
        queryset.select_related(None)
        .prefetch_related(None)
        .only("id", "status", *_MODEL_FIELDS)
        .prefetch_related(Prefetch("transfer_names", queryset=transfer_names))
    )


def write_customer_register(queryset: QuerySet[Customer]) -> tuple[bytes, int]:
    """Write the customers of ``queryset`` to .xlsx; return the file and the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    sheet.freeze_panes = "C2"  # keep the header and ID/種別 in view while scrolling
    _set_widths(sheet, ["id", *(c.field for c in COLUMNS), "status"])
    sheet.append(_header_cells(sheet, EXPORT_HEADERS))
    count = 0
    for customer in _export_queryset(queryset).iterator(chunk_size=CHUNK_SIZE):
        row = [customer.pk]
        row.extend(_cell(sheet, _cell_value(customer, column), column.field) for column in COLUMNS)
        row.append(str(CustomerStatus(customer.status).label))
        sheet.append(row)
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count


def export_customers(queryset: QuerySet[Customer]) -> bytes:
    """Return the customer register of ``queryset`` as .xlsx, re-importable as a template."""
    return write_customer_register(queryset)[0]


def export_customers_logged(
    *, actor: Any, queryset: QuerySet[Customer], filters: Mapping[str, Any]
) -> bytes:
    """Export and write the ``customer.exported`` audit event: every export is logged (§5)."""
    data, count = write_customer_register(queryset)
    used = {key: value for key, value in filters.items() if value and key != "page"}
    audit_log(
        actor=actor,
        action="customer.exported",
        data={"filters": used, "rows": count, "format": "xlsx"},
    )
    return data


def _example_value(column: Column) -> Any:
    """Return the example typed as a user would enter it (amounts and counts as numbers)."""
    if column.field in _AMOUNT_FIELDS | _NUMBER_FIELDS and column.example:
        return int(column.example)
    return column.example


def _style_header(sheet: Worksheet) -> None:
    """Style and freeze the header row of a template sheet."""
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    sheet.freeze_panes = "A2"
    _set_widths(sheet, [c.field for c in COLUMNS])


def _add_choices(sheet: Worksheet) -> None:
    """Offer drop-down lists where the column takes fixed words (typing stays allowed)."""
    lists = {
        "kind": ",".join(KIND_LABELS.values()),
        "prefecture": ",".join(PREFECTURES),
        "is_client": "○",
        "is_debtor": "○",
    }
    for index, column in enumerate(COLUMNS, start=1):
        if column.field not in lists:
            continue
        validation = DataValidation(
            type="list",
            formula1=f'"{lists[column.field]}"',
            allow_blank=True,
            showErrorMessage=False,
        )
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}10000")
        sheet.add_data_validation(validation)


def import_template() -> bytes:
    """Return the empty import template: 顧客 (headers), 記入例 (one example row), 説明."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    sheet.append(list(HEADERS))
    _style_header(sheet)
    for index, column in enumerate(COLUMNS, start=1):
        if column.field in _TEXT_FIELDS:
            sheet.column_dimensions[get_column_letter(index)].number_format = "@"
    _add_choices(sheet)

    example = workbook.create_sheet(EXAMPLE_SHEET_NAME)
    example.append(list(HEADERS))
    example.append([_example_value(column) for column in COLUMNS])
    _style_header(example)

    guide = workbook.create_sheet(GUIDE_SHEET_NAME)
    guide.append([_("Column"), _("Required"), _("Description"), _("Example")])
    for column in COLUMNS:
        guide.append(
            [column.header, "○" if column.required else "", str(column.description), column.example]
        )
    guide.append([])
    guide.append(["", "", _("The header row must stay as it is; row 1 is the header.")])
    guide.append(["", "", _("CSV files may be saved as UTF-8 or Shift_JIS.")])
    for cell in guide[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for letter, width in zip("ABCD", (20, 8, 70, 28), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
