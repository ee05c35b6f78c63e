"""Writing a 全銀 入出金取引明細 (種別 03) file: the demo's and the benchmark's statements.

The inverse of ``collection.zengin.parse_statement`` for the one format the company's banks
send most: 200-byte cp932 records with CRLF, half-width kana, 令和 YYMMDD dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

RECORD = 200


@dataclass(frozen=True)
class Deposit:
    """One incoming transfer as the bank books it (``payer`` in half-width kana)."""

    value_date: date
    amount: int
    payer: str
    description: str = ""
    edi: str = ""


def _num(value: int | str | None, width: int) -> bytes:
    if value is None:
        return b" " * width
    return (str(value).rjust(width, "0") if isinstance(value, int) else value).encode("cp932")


def _text(value: str, width: int) -> bytes:
    raw = value.encode("cp932")[:width]
    return raw + b" " * (width - len(raw))


def wareki(day: date) -> str:
    """Return ``day`` as 令和 YYMMDD."""
    return f"{day.year - 2018:02d}{day:%m%d}"


def write_statement(deposits: Sequence[Deposit], *, first: date, last: date,
                    account_name: str = "ｶ)ﾃﾞﾓﾌｱｸﾀﾘﾝｸﾞ") -> bytes:  # fmt: skip
    """Return a 入出金取引明細 file of ``deposits`` booked between ``first`` and ``last``."""
    records = [
        b"".join([
            b"1", b"03", b"0", _num(wareki(last), 6), _num(wareki(first), 6),
            _num(wareki(last), 6), b"0005", _text("ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", 15), b"001",
            _text("ﾎﾝﾃﾝ", 15), b"000", b"1", b"0001234567", _text(account_name, 40), b"1",
            b"1", _num(0, 14), _text("", 71),
        ])
    ]  # fmt: skip
    for n, deposit in enumerate(deposits, 1):
        day = wareki(deposit.value_date)
        records.append(b"".join([
            b"2", _num(n, 8), _num(day, 6), _num(day, 6), b"1", b"11", _num(deposit.amount, 12),
            _num(0, 12), _num(None, 6), _num(None, 6), _num(None, 1), _num(None, 7),
            _num(None, 3), _num(None, 10), _text(deposit.payer, 48), _text("ﾐｽﾞﾎ", 15),
            _text("ｼﾝｼﾞﾕｸ", 15), _text(deposit.description, 20), _text(deposit.edi, 20), b" ",
        ]))  # fmt: skip
    total = sum(d.amount for d in deposits)
    records.append(b"".join([
        b"8", _num(len(deposits), 6), _num(total, 13), _num(0, 6), _num(0, 13), b"1",
        _num(total, 14), _num(len(deposits), 7), _text("", 139),
    ]))  # fmt: skip
    records.append(b"".join([b"9", _num(len(records) + 1, 10), _num(1, 5), _text("", 184)]))
    if any(len(record) != RECORD for record in records):
        raise ValueError("a record is not 200 bytes")
    return b"".join(record + b"\r\n" for record in records)
