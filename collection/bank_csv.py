"""Bank CSV statements read through a saved column mapping into the same ``Statement`` the
全銀 parser returns, so import, idempotence and matching are shared."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime

from django.utils.translation import gettext as _

from core.text import to_bank_kana
from core.uploads import parse_yen

from .zengin import (
    IN,
    OUT,
    Statement,
    StatementEntry,
    StatementError,
    StatementFormat,
    StatementHeader,
    StatementProblem,
    StatementSection,
    empty_file_error,
    entry_fingerprint,
)

FINGERPRINT_VERSION = "csv-v1"


def _cell(row: list[str], column: int | None) -> str:
    if not column or column > len(row):
        return ""
    return row[column - 1].strip()


def _amount(text: str) -> int | None:
    """Return the yen of a cell (0 when empty), None when it is not an amount."""
    try:
        return parse_yen(text) or 0
    except ValueError:
        return None


def parse_bank_csv(data: bytes, mapping) -> Statement:
    """Read a CSV statement laid out as ``mapping`` says; refuse it whole on any bad row."""
    try:
        text = data.decode(mapping.encoding)
    except UnicodeDecodeError as error:
        raise StatementError([StatementProblem(0, "encoding", _("Encoding"), "encoding",
                                               _("The file is not in %(encoding)s.")
                                               % {"encoding": mapping.encoding})]) from error  # fmt: skip
    rows = list(csv.reader(io.StringIO(text)))[mapping.header_rows :]
    problems: list[StatementProblem] = []
    entries: list[StatementEntry] = []
    seen: Counter[str] = Counter()
    for number, row in enumerate(rows, start=mapping.header_rows + 1):
        if not any(cell.strip() for cell in row):
            continue
        try:
            day = datetime.strptime(_cell(row, mapping.date_column), mapping.date_format).date()
        except ValueError:
            problems.append(StatementProblem(number, "date", _("Date"), "not_date",
                                             _("Not a date in the layout's format.")))  # fmt: skip
            continue
        deposit = _amount(_cell(row, mapping.amount_column))
        withdrawal = _amount(_cell(row, mapping.withdrawal_column))
        if deposit is None or withdrawal is None:
            problems.append(StatementProblem(number, "amount", _("Amount"), "not_numeric",
                                             _("Not a number.")))  # fmt: skip
            continue
        direction = IN if deposit > 0 else OUT
        amount = deposit if deposit > 0 else (withdrawal or -deposit)
        raw = _cell(row, mapping.payer_column)
        description = _cell(row, mapping.description_column)
        fingerprint = entry_fingerprint(
            FINGERPRINT_VERSION, seen, mapping.bank_code, mapping.branch_code,
            mapping.account_number.lstrip("0"), day.isoformat(), str(direction), str(amount),
            raw, description,
        )  # fmt: skip
        entries.append(StatementEntry(
            record_number=number, format=StatementFormat.BANK_CSV, value_date=day,
            booking_date=day, amount=amount, direction=direction,
            payer_name=to_bank_kana(raw), raw_payer_name=raw, bank_code=mapping.bank_code,
            branch_code=mapping.branch_code, account_type="1",
            account_number=mapping.account_number, description=description,
            fingerprint=fingerprint,
        ))  # fmt: skip
    if problems:
        raise StatementError(problems)
    if not entries:
        raise empty_file_error()
    days = [entry.value_date for entry in entries]
    header = StatementHeader(
        record_number=0, format=StatementFormat.BANK_CSV, type_code="csv",
        created_on=date.today(), period_start=min(days), period_end=max(days),
        bank_code=mapping.bank_code, bank_name="", branch_code=mapping.branch_code,
        branch_name="", account_type="1", account_number=mapping.account_number,
        account_name=mapping.name,
    )  # fmt: skip
    section = StatementSection(header=header, entries=tuple(entries))
    return Statement(format=StatementFormat.BANK_CSV, sections=(section,), entries=tuple(entries))
