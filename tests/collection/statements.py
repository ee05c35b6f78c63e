"""Collection test helpers: 全銀協 statement files built field by field in cp932 bytes, a
deposit imported from one, and receivables made late.

The builders follow the 全銀協 layouts (AP-Ⅰ-12 別冊) independently of the parser's own
tables, so a shifted field in either shows up as a failing test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date

from collection.models import BankEntry, ExpectedCollection
from collection.overdue import overdue_cutoff
from collection.services import statement_import

CRLF = b"\r\n"


# Builders --------------------------------------------------------------------------------


def num(value: int | str | None, width: int) -> bytes:
    """Return an N field: an int right-aligned and zero-filled, a str as given, None blank."""
    if value is None:
        return b" " * width
    text = str(value).rjust(width, "0") if isinstance(value, int) else value
    encoded = text.encode("cp932")
    assert len(encoded) == width, (value, width)
    return encoded


def kana(text: str, width: int) -> bytes:
    """Return a C field: cp932 bytes left-aligned and space-filled to ``width`` bytes."""
    encoded = text.encode("cp932")
    assert len(encoded) <= width, (text, width)
    return encoded + b" " * (width - len(encoded))


def record(*fields: bytes) -> bytes:
    raw = b"".join(fields)
    assert len(raw) == 200, len(raw)
    return raw


def join(records: list[bytes], sep: bytes = CRLF) -> bytes:
    return b"".join(raw + sep for raw in records)


# 入出金取引明細 (種別コード 03)


def dw_header(
    *,
    type_code: str = "03",
    code_type: str = "0",
    created: str = "070630",
    start: str = "070601",
    end: str = "070630",
    bank: str = "0005",
    branch: str = "001",
    account_type: str = "1",
    account: str = "0001234567",
    opening: int | None = 1_000_000,
) -> bytes:
    return record(
        b"1",
        num(type_code, 2),
        num(code_type, 1),
        num(created, 6),
        num(start, 6),
        num(end, 6),
        num(bank, 4),
        kana("ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", 15),
        num(branch, 3),
        kana("ﾎﾝﾃﾝ", 15),
        b"000",
        num(account_type, 1),
        num(account, 10),
        kana("ｶ)ﾃｽﾄﾌｱｸﾀﾘﾝｸﾞ", 40),
        b"1",
        b"1",
        num(opening, 14),
        kana("", 71),
    )


def dw_data(
    *,
    amount: int | str = 10_000,
    direction: str = "1",
    booking: str = "070610",
    value: str | None = "070610",
    kind: str | None = "11",
    inquiry: int | None = 1,
    payer_code: int | None = None,
    payer: str = "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ",
    remitting_bank: str = "ﾐｽﾞﾎ",
    remitting_branch: str = "ｼﾝｼﾞﾕｸ",
    description: str = "ﾌﾘｺﾐ",
    edi: str = "",
) -> bytes:
    return record(
        b"2",
        num(inquiry, 8),
        num(booking, 6),
        num(value, 6),
        num(direction, 1),
        num(kind, 2),
        num(amount, 12),
        num(0, 12),
        num(None, 6),
        num(None, 6),
        num(None, 1),
        num(None, 7),
        num(None, 3),
        num(payer_code, 10),
        kana(payer, 48),
        kana(remitting_bank, 15),
        kana(remitting_branch, 15),
        kana(description, 20),
        kana(edi, 20),
        b" ",
    )


def dw_trailer(
    *,
    in_count: int,
    in_total: int,
    out_count: int,
    out_total: int,
    data_count: int,
    closing: int | None = None,
) -> bytes:
    return record(
        b"8",
        num(in_count, 6),
        num(in_total, 13),
        num(out_count, 6),
        num(out_total, 13),
        b"1",
        num(closing, 14),
        num(data_count, 7),
        kana("", 139),
    )


def dw_end(*, records: int | None = None, accounts: int | None = None) -> bytes:
    return record(b"9", num(records, 10), num(accounts, 5), kana("", 184))


def dw_section(entries: list[dict], header: dict | None = None, **trailer) -> list[bytes]:
    """Return header, data and trailer records; the trailer adds up ``entries`` by default."""
    amounts = {"1": [], "2": []}
    for entry in entries:
        amount = entry.get("amount", 10_000)
        amounts.setdefault(entry.get("direction", "1"), []).append(
            amount if isinstance(amount, int) else 0
        )
    totals = {
        "in_count": len(amounts["1"]),
        "in_total": sum(amounts["1"]),
        "out_count": len(amounts["2"]),
        "out_total": sum(amounts["2"]),
        "data_count": len(entries),
    }
    totals.update(trailer)
    return [
        dw_header(**(header or {})),
        *(dw_data(**entry) for entry in entries),
        dw_trailer(**totals),
    ]


def dw_file(entries: list[dict], *, sep: bytes = CRLF, **trailer) -> bytes:
    records = dw_section(entries, **trailer)
    return join([*records, dw_end(records=len(records) + 1, accounts=1)], sep)


# 振込入金通知 (種別コード 01)


def tn_header(*, type_code: str = "01", account: str = "7654321") -> bytes:
    return record(
        b"1",
        num(type_code, 2),
        b"0",
        num("070630", 6),
        num("070630", 6),
        num("070630", 6),
        num("0009", 4),
        kana("ﾐﾂｲｽﾐﾄﾓ", 15),
        num("250", 3),
        kana("ｼﾌﾞﾔ", 15),
        b"2",
        num(account, 7),
        kana("ｶ)ﾃｽﾄﾌｱｸﾀﾘﾝｸﾞ", 40),
        kana("", 93),
    )


def tn_data(
    *,
    amount: int | str = 50_000,
    booking: str = "070630",
    value: str = "070630",
    inquiry: int | None = 1,
    payer: str = "ﾕ)ｻﾄｳｼﾖｳﾃﾝ",
    cancelled: str | None = None,
    edi: str = "",
    wide_amount: int | None = None,
) -> bytes:
    head = [
        b"2",
        num(inquiry, 6),
        num(booking, 6),
        num(value, 6),
        num(0 if wide_amount is not None else amount, 10),
        num(0, 10),
        num(None, 10),
        kana(payer, 48),
        kana("ﾐｽﾞﾎ", 15),
        kana("ｵｵﾃﾏﾁ", 15),
        num(cancelled, 1),
    ]
    if wide_amount is None:  # format A
        return record(*head, kana(edi, 20), kana("", 52))
    return record(*head, num(wide_amount, 12), num(0, 12), kana(edi, 20), kana("", 28))


def tn_trailer(
    *,
    total_count: int,
    total_amount: int,
    cancelled_count: int | None = 0,
    cancelled_amount: int | None = 0,
) -> bytes:
    return record(
        b"8",
        num(total_count, 6),
        num(total_amount, 12),
        num(cancelled_count, 6),
        num(cancelled_amount, 12),
        kana("", 163),
    )


def tn_end() -> bytes:
    return record(b"9", kana("", 199))


def tn_file(entries: list[dict], *, sep: bytes = CRLF, **trailer) -> bytes:
    def amount_of(entry: dict) -> int:
        value = entry.get("wide_amount", entry.get("amount", 50_000))
        return value if isinstance(value, int) else 0

    cancelled = [amount_of(entry) for entry in entries if entry.get("cancelled") == "1"]
    totals = {
        "total_count": len(entries),
        "total_amount": sum(amount_of(entry) for entry in entries),
        "cancelled_count": len(cancelled),
        "cancelled_amount": sum(cancelled),
    }
    totals.update(trailer)
    return join(
        [
            tn_header(),
            *(tn_data(**entry) for entry in entries),
            tn_trailer(**totals),
            tn_end(),
        ],
        sep,
    )


# Deposits and lateness -------------------------------------------------------------------

_KANA = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉ"
_PAYERS = itertools.cycle([a + b for a in _KANA for b in _KANA])


def deposit(amount: int, *, value_date: date | None = None) -> BankEntry:
    """Import one deposit of ``amount`` in a statement of its own and return its entry.

    Each deposit has a payer name of its own, so no two files are alike and none is taken
    for a re-import; with ``value_date`` the entry is dated that day."""
    payer = f"ｶ)ﾃｽﾄ{next(_PAYERS)}"
    data = dw_file([{"amount": amount, "payer": payer}])
    entry = statement_import(data=data, file_name=f"{payer}.txt").statement.entries.get()
    if value_date is not None:
        BankEntry.objects.filter(pk=entry.pk).update(value_date=value_date)
        entry.value_date = value_date
    return entry


def due_on(rows: Iterable[ExpectedCollection], due_date: date) -> None:
    """Move the due date of the expected collections ``rows`` to ``due_date``."""
    ExpectedCollection.objects.filter(pk__in=[r.pk for r in rows]).update(due_date=due_date)


def make_late(rows: Iterable[ExpectedCollection], days: int, today: date) -> None:
    """Move the due dates so the rows are exactly ``days`` bank business days overdue."""
    due_on(rows, overdue_cutoff(today, days + 1))
