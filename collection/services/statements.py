"""Collection writes. Statement import: parse, then store only entries not seen before."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from core.audit import audit_log

from ..bank_csv import parse_bank_csv
from ..models import BankEntry, EntryStatus, StatementImport
from ..zengin import Statement, parse_statement


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the statement record (None when the file was seen before)."""

    statement: StatementImport | None
    entries_in_file: int
    entries_added: int
    already_imported: bool = False


def _status(entry) -> str:
    if entry.direction != "in" or entry.cancelled:
        return EntryStatus.IGNORED
    return EntryStatus.UNMATCHED


@transaction.atomic
def statement_import(
    *,
    data: bytes,
    file_name: str,
    actor: Any | None = None,
    actor_label: str = "",
    mapping: Any | None = None,
) -> ImportResult:
    """Import a 全銀 statement file (or a bank CSV read through ``mapping``). Idempotent: the same file adds nothing, and entries
    already stored from an overlapping file (same fingerprint) are skipped.

    Raises ``zengin.StatementError`` (every problem, by record and field) and writes nothing
    when the file is not valid.
    """
    digest = hashlib.sha256(data).hexdigest()
    previous = StatementImport.objects.filter(sha256=digest).first()
    statement: Statement = parse_bank_csv(data, mapping) if mapping else parse_statement(data)
    if previous is not None:
        return ImportResult(None, len(statement.entries), 0, already_imported=True)
    header = statement.header
    record = StatementImport.objects.create(
        file_name=file_name[:255], sha256=digest, format=str(statement.format),
        bank_code=header.bank_code, branch_code=header.branch_code,
        account_number=header.account_number, period_start=header.period_start,
        period_end=header.period_end, entries_in_file=len(statement.entries),
        imported_by=actor, actor_label=actor_label,
    )  # fmt: skip
    fingerprints = [entry.fingerprint for entry in statement.entries]
    known = set(
        BankEntry.objects.filter(fingerprint__in=fingerprints).values_list("fingerprint", flat=True)
    )
    new = [
        BankEntry(
            statement=record, fingerprint=e.fingerprint, record_number=e.record_number,
            bank_code=e.bank_code, branch_code=e.branch_code, account_number=e.account_number,
            value_date=e.value_date, booking_date=e.booking_date, amount=e.amount,
            direction=str(e.direction), payer_name=e.payer_name[:100],
            raw_payer_name=e.raw_payer_name[:100], payer_code=e.payer_code or "",
            remitting_bank=e.remitting_bank_name[:50], description=e.description[:50],
            edi_info=e.edi_info[:50], cancelled=e.cancelled, status=_status(e),
        )
        for e in statement.entries
        if e.fingerprint not in known
    ]  # fmt: skip
    BankEntry.objects.bulk_create(new, batch_size=2000)
    record.entries_added = len(new)
    record.save(update_fields=["entries_added"])
    audit_log(
        actor=actor, actor_label=actor_label, action="collection.statement_imported",
        subject=record,
        data={"file": file_name, "sha256": digest, "entries": len(statement.entries),
              "added": len(new)},
    )  # fmt: skip
    return ImportResult(record, len(statement.entries), len(new))
