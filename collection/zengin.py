"""Read 全銀協 bank statement files: 入出金取引明細 (03) and 振込入金通知 (01).

Pure: bytes in, a :class:`Statement` out. No models, no database, no files. A file with
any problem raises :class:`StatementError` listing every problem found (record number,
field, reason); nothing partial is ever returned.

Files
-----
Fixed-length 200-byte records in Shift_JIS (cp932) with half-width katakana (JIS X 0201).
Records follow each other without separators, or each ends with CR LF, LF or CR; both
are detected. Lengths are measured in encoded bytes, never in characters. A trailing
MS-DOS end-of-file mark (0x1A) and blank padding after the end record are ignored.

A file is one or more account sections, then one end record::

    header (データ区分 1)  data (2) …  trailer (8)   [header … trailer] …   end (9)

The header's 種別コード names the layout: 03 入出金取引明細, 01 振込入金通知. Any other
code (21 総合振込, 91 口座振替, 04 残高通知, …) is refused, as is コード区分 1 (EBCDIC).

N fields are ASCII digits, right-aligned and zero-filled; C fields are left-aligned and
space-filled. Optional N fields may be all spaces. ダミー areas are not checked.

Dates are 和暦 YYMMDD (e.g. 010501 → 令和元年5月1日 = 2019-05-01). The era is not in the
file, so a date is read in the newest era (令和, 平成, 昭和) in which it exists and which
does not put it more than a year after ``today``: 310430 is 平成31年4月30日 (2019-04-30),
300331 is 平成30年 (2018) until 令和30 (2048) comes within a year. The layouts found
define no 西暦 variant (a YYYYMMDD date does not fit their 6-byte fields), so none is read.

Sources
-------
- 全国銀行協会「全銀協パーソナル・コンピュータ用標準通信プロトコル（ベーシック手順）
  適用業務およびレコード・フォーマット」(AP-Ⅰ-12 別冊, 令和元年12月), published at
  https://www.zenginkyo.or.jp/abstract/efforts/system/protocol/ — read through its
  transcription in an open-source layout table (``formats.js``, "出典: … AP-Ⅰ-12〔別冊〕"),
  which gave every field, width and code below, including 振込入金通知 format B.
- 阿波銀行「振込入金通知（全銀協制定フォーマット）」
  http://www.awabank.co.jp/houjin/service/fb/zengin/tsuchi/ — header and data of 01.
- きらぼし銀行「入出金明細（全銀）明細ファイル・フォーマット（全銀協規定形式）」(2018-05-01)
  via https://123deta.com/document/z12v448y — header of 03 (和暦 YYMMDD, ダミー 000).
- Diva.Zengin (C#, record classes ``入出金取引明細Data1``, ``入出金取引明細Trailer``,
  ``入出金取引明細End``, ``振込入金通知DataA``, ``振込入金通知Trailer``) — cross-check of
  every width, and of the trailer rule that 振込合計 counts all data records with 取消
  as a subset.

入出金取引明細 (種別コード 03), 200 bytes
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Header (データ区分 1)

=======  =====  =  ==================  =========================================
bytes    width     field               read as
=======  =====  =  ==================  =========================================
1        1      N  データ区分          "1"
2-3      2      N  種別コード          "03" → ``StatementFormat.DEPOSIT_WITHDRAWAL``
4        1      N  コード区分          0 JIS (1 EBCDIC is refused)
5-10     6      N  作成日              ``header.created_on`` (和暦 YYMMDD)
11-16    6      N  勘定日（自）        ``header.period_start``
17-22    6      N  勘定日（至）        ``header.period_end``
23-26    4      N  銀行コード          ``header.bank_code``
27-41    15     C  銀行名              ``header.bank_name``
42-44    3      N  支店コード          ``header.branch_code``
45-59    15     C  支店名              ``header.branch_name``
60-62    3      N  ダミー              "000", not checked
63       1      N  預金種目            ``header.account_type`` (5/6/7 refused)
64-73    10     N  口座番号            ``header.account_number``
74-113   40     C  口座名              ``header.account_name``
114      1      N  貸越区分            sign of 取引前残高: 1 plus, 2 minus
115      1      N  通帳・証書区分      not read
116-129  14     N  取引前残高          ``header.opening_balance`` (optional)
130-200  71     C  ダミー
=======  =====  =  ==================  =========================================

Data (データ区分 2), 普通・当座・貯蓄預金

=======  =====  =  ==========================  ===================================
bytes    width     field                       read as
=======  =====  =  ==========================  ===================================
1        1      N  データ区分                  "2"
2-9      8      N  照会番号                    ``entry.inquiry_number`` (optional)
10-15    6      N  勘定日                      ``entry.booking_date``
16-21    6      N  預入・払出日                ``entry.value_date`` (blank → 勘定日)
22       1      N  入払区分                    1 入金 → "in", 2 出金 → "out"
23-24    2      N  取引区分                    ``entry.transaction_type`` (10 現金,
                                               11 振込, 12 他店券入金, 13 交換,
                                               14 振替, 15 継続, 18 その他, 19 訂正)
25-36    12     N  取引金額                    ``entry.amount``
37-48    12     N  うち他店券金額              ``entry.other_bank_cheques``
49-54    6      N  交換呈示日                  not read
55-60    6      N  不渡返還日                  not read
61       1      N  手形・小切手区分            not read
62-68    7      N  手形・小切手番号            not read
69-71    3      N  僚店番号                    not read
72-81    10     N  振込依頼人コード            ``entry.payer_code`` (optional)
82-129   48     C  振込依頼人名または契約者番号  ``entry.raw_payer_name`` /
                                               ``entry.payer_name`` (出金: 契約者番号)
130-144  15     C  仕向銀行名                  ``entry.remitting_bank_name``
145-159  15     C  仕向店名                    ``entry.remitting_branch_name``
160-179  20     C  摘要内容                    ``entry.description``
180-199  20     C  EDI情報                     ``entry.edi_info``
200      1      C  ダミー
=======  =====  =  ==========================  ===================================

Trailer (データ区分 8): checked against the section's data records.

=======  =====  =  ==================  =========================================
bytes    width     field               checked / read as
=======  =====  =  ==================  =========================================
1        1      N  データ区分          "8"
2-7      6      N  入金件数            = number of 入払区分 1 records
8-20     13     N  入金額合計          = sum of their 取引金額
21-26    6      N  出金件数            = number of 入払区分 2 records
27-39    13     N  出金額合計          = sum of their 取引金額
40       1      N  貸越区分            sign of 取引後残高
41-54    14     N  取引後残高          ``section.closing_balance`` (optional)
55-61    7      N  データ・レコード件数  = number of data records
62-200   139    C  ダミー
=======  =====  =  ==================  =========================================

End (データ区分 9)

=======  =====  =  ==================  =========================================
1        1      N  データ区分          "9"
2-11     10     N  レコード総件数      optional; = records up to the end record
                                       (with or without it)
12-16    5      N  口座数              optional; = number of header records
17-200   184    C  ダミー
=======  =====  =  ==================  =========================================

振込入金通知 (種別コード 01), 200 bytes
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

Header (データ区分 1)

=======  =====  =  ==================  =========================================
bytes    width     field               read as
=======  =====  =  ==================  =========================================
1        1      N  データ区分          "1"
2-3      2      N  種別コード          "01" → ``StatementFormat.TRANSFER_NOTICE``
4        1      N  コード区分          0 JIS (1 EBCDIC is refused)
5-10     6      N  作成日              ``header.created_on``
11-16    6      N  勘定日（自）        ``header.period_start``
17-22    6      N  勘定日（至）        ``header.period_end``
23-26    4      N  銀行コード          ``header.bank_code``
27-41    15     C  銀行名              ``header.bank_name``
42-44    3      N  支店コード          ``header.branch_code``
45-59    15     C  支店名              ``header.branch_name``
60       1      N  預金種目            ``header.account_type``
61-67    7      N  口座番号            ``header.account_number``
68-107   40     C  口座名              ``header.account_name``
108-200  93     C  ダミー
=======  =====  =  ==================  =========================================

Data (データ区分 2). Format A, and format B, told apart by bytes 129-152: 24 digits
(金額(2) and うち他店券金額(2)) in B, EDI情報 and spaces in A.

=======  =====  =  ==================  =========================================
bytes    width     field               read as
=======  =====  =  ==================  =========================================
1        1      N  データ区分          "2"
2-7      6      N  照会番号            ``entry.inquiry_number`` (optional)
8-13     6      N  勘定日              ``entry.booking_date``
14-19    6      N  起算日              ``entry.value_date`` (blank → 勘定日)
20-29    10     N  金額 / 金額(1)      ``entry.amount`` (direction always "in")
30-39    10     N  うち他店券金額(1)   ``entry.other_bank_cheques``
40-49    10     N  振込依頼人コード    ``entry.payer_code`` (optional)
50-97    48     C  振込依頼人名        ``entry.raw_payer_name`` / ``payer_name``
98-112   15     C  仕向銀行名          ``entry.remitting_bank_name``
113-127  15     C  仕向店名            ``entry.remitting_branch_name``
128      1      N  取消区分            1 → ``entry.cancelled`` (optional)
A 129-148  20   C  EDI情報             ``entry.edi_info``
A 149-200  52   C  ダミー
B 129-140  12   N  金額(2)             ``entry.amount`` when 金額(1) is 0
B 141-152  12   N  うち他店券金額(2)
B 153-172  20   C  EDI情報             ``entry.edi_info``
B 173-200  28   C  ダミー
=======  =====  =  ==================  =========================================

Trailer (データ区分 8): 振込合計 counts every data record, 取消 being a subset; a
trailer whose 振込合計 leaves the 取消 records out is accepted too.

=======  =====  =  ==================  =========================================
1        1      N  データ区分          "8"
2-7      6      N  振込合計件数        = number of data records
8-19     12     N  振込合計金額        = sum of their 金額
20-25    6      N  取消合計件数        optional; = records with 取消区分 1
26-37    12     N  取消合計金額        optional; = sum of their 金額
38-200   163    C  ダミー
=======  =====  =  ==================  =========================================

End (データ区分 9): データ区分 "9", then 199 bytes of ダミー.

Idempotency
-----------
Every entry carries a ``fingerprint``: a SHA-256 of the account (bank, branch, type,
number without leading zeros), 勘定日, 起算日, direction, amount, 照会番号, 振込依頼人コード,
payer name, 取引区分, EDI情報, 取消区分 and the entry's occurrence among identical entries
of the same account in the file. Reading the same file again, or a later file whose
period overlaps it by whole days, gives the same fingerprints, so an importer can skip
entries it has already stored. The two formats fingerprint independently.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal, TypeVar

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.text import to_bank_kana
from core.uploads import RowError

RECORD_LENGTH = 200
ENCODING = "cp932"
FINGERPRINT_VERSION = "zengin-v1"
# A list longer than this helps nobody fix a file; the rest are counted, not listed.
MAX_LISTED_PROBLEMS = 50

Direction = Literal["in", "out"]
IN: Direction = "in"
OUT: Direction = "out"

T = TypeVar("T")


class StatementFormat(StrEnum):
    """The statement layouts read here, named by the header's 種別コード."""

    DEPOSIT_WITHDRAWAL = "deposit_withdrawal"  # 入出金取引明細, 種別コード 03
    TRANSFER_NOTICE = "transfer_notice"  # 振込入金通知, 種別コード 01
    BANK_CSV = "bank_csv"  # a bank's own CSV, read through a saved mapping (bank_csv.py)


TYPE_CODES: dict[str, StatementFormat] = {
    "03": StatementFormat.DEPOSIT_WITHDRAWAL,
    "01": StatementFormat.TRANSFER_NOTICE,
}

# 貸越区分: 1 plus, 2 minus; some banks write 0 where there is no balance to sign.
SIGNS = {"0": 1, "1": 1, "2": -1}

# 入出金取引明細 data records of these 預金種目 (通知・定期・積立定期) use another layout.
TIME_DEPOSIT_TYPES = frozenset({"5", "6", "7"})


# Errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementProblem:
    """One problem in a statement file.

    ``record_number`` is 1-based (the line number when records end with line breaks);
    0 means the file as a whole. ``field`` is the layout's field name as the user reads it,
    ``field_key`` and ``code`` are stable for programs ("amount", "not_numeric").
    """

    record_number: int
    field_key: str
    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """Return the problem as the user reads it, e.g. "3行目 取引金額: 数字ではありません。"."""
        return self.as_row_error().text

    def as_row_error(self) -> RowError:
        """Return the problem in the shape the upload preview shows."""
        return RowError(row=self.record_number, column=self.field, message=self.message)


class StatementError(ValueError):
    """The file cannot be read as a statement; ``problems`` lists every reason found."""

    def __init__(self, problems: list[StatementProblem]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(problem.text for problem in self.problems)


# Layouts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One fixed-width field: N (digits, right-aligned) or C (text, left-aligned)."""

    key: str
    width: int
    kind: Literal["N", "C"]
    label: Promise | str


class Layout:
    """A record layout: fields in order, with their byte offsets; always 200 bytes."""

    def __init__(self, name: str, *fields: Field) -> None:
        self.name = name
        self.slices: dict[str, tuple[Field, int, int]] = {}
        start = 0
        for item in fields:
            self.slices[item.key] = (item, start, start + item.width)
            start += item.width
        if start != RECORD_LENGTH:
            raise AssertionError(f"layout {name} is {start} bytes, not {RECORD_LENGTH}")

    def field(self, key: str) -> Field:
        return self.slices[key][0]


def N(key: str, width: int, label: Promise | str) -> Field:
    return Field(key, width, "N", label)


def C(key: str, width: int, label: Promise | str) -> Field:
    return Field(key, width, "C", label)


RECORD_TYPE = N("record_type", 1, pgettext_lazy("zengin field", "record type"))
FILLER = pgettext_lazy("zengin field", "filler")

# Both headers are the same up to 支店名 (bytes 2-59).
_HEADER_COMMON = (
    N("type_code", 2, pgettext_lazy("zengin field", "type code")),
    N("code_type", 1, pgettext_lazy("zengin field", "character code type")),
    N("created_on", 6, pgettext_lazy("zengin field", "creation date")),
    N("period_start", 6, pgettext_lazy("zengin field", "booking date (from)")),
    N("period_end", 6, pgettext_lazy("zengin field", "booking date (to)")),
    N("bank_code", 4, pgettext_lazy("zengin field", "bank code")),
    C("bank_name", 15, pgettext_lazy("zengin field", "bank name")),
    N("branch_code", 3, pgettext_lazy("zengin field", "branch code")),
    C("branch_name", 15, pgettext_lazy("zengin field", "branch name")),
)

DW_HEADER = Layout(
    "入出金取引明細 header",
    RECORD_TYPE,
    *_HEADER_COMMON,
    N("reserved", 3, FILLER),
    N("account_type", 1, pgettext_lazy("zengin field", "account type")),
    N("account_number", 10, pgettext_lazy("zengin field", "account number")),
    C("account_name", 40, pgettext_lazy("zengin field", "account name")),
    N("opening_sign", 1, pgettext_lazy("zengin field", "overdraft flag")),
    N("passbook_type", 1, pgettext_lazy("zengin field", "passbook or certificate flag")),
    N("opening_balance", 14, pgettext_lazy("zengin field", "balance before")),
    C("filler", 71, FILLER),
)

DW_DATA = Layout(
    "入出金取引明細 data",
    RECORD_TYPE,
    N("inquiry_number", 8, pgettext_lazy("zengin field", "inquiry number")),
    N("booking_date", 6, pgettext_lazy("zengin field", "booking date")),
    N("value_date", 6, pgettext_lazy("zengin field", "deposit or withdrawal date")),
    N("direction", 1, pgettext_lazy("zengin field", "deposit or withdrawal flag")),
    N("transaction_type", 2, pgettext_lazy("zengin field", "transaction type")),
    N("amount", 12, pgettext_lazy("zengin field", "transaction amount")),
    N("other_bank_cheques", 12, pgettext_lazy("zengin field", "of which other-bank cheques")),
    N("exchange_date", 6, pgettext_lazy("zengin field", "clearing presentation date")),
    N("dishonour_date", 6, pgettext_lazy("zengin field", "dishonour return date")),
    N("bill_type", 1, pgettext_lazy("zengin field", "bill or cheque type")),
    N("bill_number", 7, pgettext_lazy("zengin field", "bill or cheque number")),
    N("transaction_branch", 3, pgettext_lazy("zengin field", "transacting branch number")),
    N("payer_code", 10, pgettext_lazy("zengin field", "remitter code")),
    C("payer_name", 48, pgettext_lazy("zengin field", "remitter name or contract number")),
    C("remitting_bank_name", 15, pgettext_lazy("zengin field", "remitting bank name")),
    C("remitting_branch_name", 15, pgettext_lazy("zengin field", "remitting branch name")),
    C("description", 20, pgettext_lazy("zengin field", "description")),
    C("edi_info", 20, pgettext_lazy("zengin field", "EDI information")),
    C("filler", 1, FILLER),
)

DW_TRAILER = Layout(
    "入出金取引明細 trailer",
    RECORD_TYPE,
    N("in_count", 6, pgettext_lazy("zengin field", "number of deposits")),
    N("in_total", 13, pgettext_lazy("zengin field", "total of deposits")),
    N("out_count", 6, pgettext_lazy("zengin field", "number of withdrawals")),
    N("out_total", 13, pgettext_lazy("zengin field", "total of withdrawals")),
    N("closing_sign", 1, pgettext_lazy("zengin field", "overdraft flag")),
    N("closing_balance", 14, pgettext_lazy("zengin field", "balance after")),
    N("data_count", 7, pgettext_lazy("zengin field", "number of data records")),
    C("filler", 139, FILLER),
)

DW_END = Layout(
    "入出金取引明細 end",
    RECORD_TYPE,
    N("record_count", 10, pgettext_lazy("zengin field", "total number of records")),
    N("account_count", 5, pgettext_lazy("zengin field", "number of accounts")),
    C("filler", 184, FILLER),
)

TN_HEADER = Layout(
    "振込入金通知 header",
    RECORD_TYPE,
    *_HEADER_COMMON,
    N("account_type", 1, pgettext_lazy("zengin field", "account type")),
    N("account_number", 7, pgettext_lazy("zengin field", "account number")),
    C("account_name", 40, pgettext_lazy("zengin field", "account name")),
    C("filler", 93, FILLER),
)

_TN_DATA_COMMON = (
    RECORD_TYPE,
    N("inquiry_number", 6, pgettext_lazy("zengin field", "inquiry number")),
    N("booking_date", 6, pgettext_lazy("zengin field", "booking date")),
    N("value_date", 6, pgettext_lazy("zengin field", "value date")),
    N("amount", 10, pgettext_lazy("zengin field", "amount")),
    N("other_bank_cheques", 10, pgettext_lazy("zengin field", "of which other-bank cheques")),
    N("payer_code", 10, pgettext_lazy("zengin field", "remitter code")),
    C("payer_name", 48, pgettext_lazy("zengin field", "remitter name")),
    C("remitting_bank_name", 15, pgettext_lazy("zengin field", "remitting bank name")),
    C("remitting_branch_name", 15, pgettext_lazy("zengin field", "remitting branch name")),
    N("cancellation", 1, pgettext_lazy("zengin field", "cancellation flag")),
)

TN_DATA_A = Layout(
    "振込入金通知 data (format A)",
    *_TN_DATA_COMMON,
    C("edi_info", 20, pgettext_lazy("zengin field", "EDI information")),
    C("filler", 52, FILLER),
)

TN_DATA_B = Layout(
    "振込入金通知 data (format B)",
    *_TN_DATA_COMMON,
    N("amount_large", 12, pgettext_lazy("zengin field", "amount (2)")),
    N(
        "other_bank_cheques_large",
        12,
        pgettext_lazy("zengin field", "of which other-bank cheques (2)"),
    ),
    C("edi_info", 20, pgettext_lazy("zengin field", "EDI information")),
    C("filler", 28, FILLER),
)

# Bytes 129-152 of a 振込入金通知 data record: 金額(2) and うち他店券金額(2) in format B.
_FORMAT_B_SPAN = slice(128, 152)

TN_TRAILER = Layout(
    "振込入金通知 trailer",
    RECORD_TYPE,
    N("total_count", 6, pgettext_lazy("zengin field", "number of transfers")),
    N("total_amount", 12, pgettext_lazy("zengin field", "total of transfers")),
    N("cancelled_count", 6, pgettext_lazy("zengin field", "number of cancellations")),
    N("cancelled_amount", 12, pgettext_lazy("zengin field", "total of cancellations")),
    C("filler", 163, FILLER),
)

TN_END = Layout("振込入金通知 end", RECORD_TYPE, C("filler", 199, FILLER))


# Dates -----------------------------------------------------------------------------------

# (first day, last day) of each era, newest first; 元年 is year 1.
ERAS: tuple[tuple[str, date, date | None], ...] = (
    ("令和", date(2019, 5, 1), None),
    ("平成", date(1989, 1, 8), date(2019, 4, 30)),
    ("昭和", date(1926, 12, 25), date(1989, 1, 7)),
)


def parse_wareki_date(text: str, *, today: date) -> date | None:
    """Return the 西暦 date of a 和暦 ``YYMMDD``, or None when no era has that date.

    The newest era in which the date exists and which does not put it more than a year
    after ``today`` wins: with today in 2025, 010501 is 2019-05-01 (令和元年),
    310430 is 2019-04-30 (平成31年) and 300331 is 2018-03-31 (平成30年).
    """
    if len(text) != 6 or not (text.isascii() and text.isdigit()):
        return None
    year, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
    if year == 0:
        return None
    latest = today + timedelta(days=366)
    for _name, first, last in ERAS:
        try:
            candidate = date(first.year + year - 1, month, day)
        except ValueError:
            continue
        if candidate < first or (last is not None and candidate > last) or candidate > latest:
            continue
        return candidate
    return None


# Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementHeader:
    """The account a section of the file reports on, and the period it covers."""

    record_number: int
    format: StatementFormat
    type_code: str
    created_on: date
    period_start: date
    period_end: date
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: str
    account_number: str
    account_name: str
    # 取引前残高 (入出金取引明細 only), negative when 貸越区分 is 2.
    opening_balance: int | None = None


@dataclass(frozen=True)
class StatementEntry:
    """One deposit or withdrawal as the bank reported it.

    ``value_date`` is the 起算日 / 預入・払出日 (the date the money counts from),
    ``booking_date`` the 勘定日; they are usually the same day. ``payer_name`` is the
    name width-folded to full-width katakana and trimmed, legal-form marks such as ``カ)``
    kept; ``raw_payer_name`` is the field as decoded from the file, trailing padding
    removed. For 出金 in 入出金取引明細 the field holds the 口座振替 契約者番号.
    """

    record_number: int
    format: StatementFormat
    value_date: date
    booking_date: date
    amount: int
    direction: Direction
    payer_name: str
    raw_payer_name: str
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    transaction_type: str | None = None
    inquiry_number: str | None = None
    payer_code: str | None = None
    remitting_bank_name: str = ""
    remitting_branch_name: str = ""
    description: str = ""
    edi_info: str = ""
    other_bank_cheques: int = 0
    # 取消区分 1 in 振込入金通知: this record cancels an earlier notice of the same deposit.
    cancelled: bool = False
    fingerprint: str = ""


@dataclass(frozen=True)
class StatementSection:
    """One account's header, its entries in file order, and its closing balance."""

    header: StatementHeader
    entries: tuple[StatementEntry, ...]
    # 取引後残高 (入出金取引明細 only), negative when 貸越区分 is 2.
    closing_balance: int | None = None


@dataclass(frozen=True)
class Statement:
    """A whole statement file: its format, its account sections, every entry in order."""

    format: StatementFormat
    sections: tuple[StatementSection, ...]
    entries: tuple[StatementEntry, ...] = field(default=())

    @property
    def header(self) -> StatementHeader:
        """Return the first section's header (most files report on one account)."""
        return self.sections[0].header


# Reading ---------------------------------------------------------------------------------


class _Problems:
    """Collect problems; past MAX_LISTED_PROBLEMS they are counted, not kept."""

    def __init__(self) -> None:
        self.items: list[StatementProblem] = []
        self.unlisted = 0

    def add(self, number: int, item: Field | None, code: str, message: str, key: str = "") -> None:
        if len(self.items) >= MAX_LISTED_PROBLEMS:
            self.unlisted += 1
            return
        self.items.append(
            StatementProblem(
                record_number=number,
                field_key=item.key if item else key,
                field=str(item.label) if item else "",
                code=code,
                message=message,
            )
        )

    def raise_if_any(self) -> None:
        if not self.items:
            return
        problems = list(self.items)
        if self.unlisted:
            problems.append(
                StatementProblem(
                    0,
                    "",
                    "",
                    "more",
                    _("%(count)s more problems are not listed.") % {"count": self.unlisted},
                )
            )
        raise StatementError(problems)


def _file_problem(code: str, message: str) -> StatementError:
    return StatementError([StatementProblem(0, "", "", code, message)])


def empty_file_error() -> StatementError:
    """Return the refusal of a file with nothing in it (全銀 or a bank's CSV alike)."""
    return _file_problem("empty", _("The file is empty."))


def entry_fingerprint(version: str, occurrences: Counter[str], *parts: str) -> str:
    """Return the hash of an entry's ``parts`` and their occurrence so far in the file.

    Equal entries (two transfers of the same amount from the same payer on the same day,
    with no 照会番号) are told apart by their order, which a re-read keeps; ``version``
    names the scheme, so a changed one never collides with stored fingerprints.
    """
    key = "|".join(parts)
    occurrences[key] += 1
    return hashlib.sha256(f"{version}|{key}|{occurrences[key]}".encode()).hexdigest()


class _Record:
    """Read the fields of one record, noting each problem instead of stopping at the first."""

    def __init__(
        self, number: int, raw: bytes, layout: Layout, problems: _Problems, today: date
    ) -> None:
        self.number = number
        self.raw = raw
        self.layout = layout
        self.problems = problems
        self.today = today
        self.ok = True

    def problem(self, item: Field, code: str, message: str) -> None:
        self.ok = False
        self.problems.add(self.number, item, code, message)

    def _chunk(self, key: str) -> tuple[Field, bytes]:
        item, start, end = self.layout.slices[key]
        return item, self.raw[start:end]

    def text(self, key: str) -> str:
        """Return a C field decoded from Shift_JIS, trailing padding removed."""
        item, chunk = self._chunk(key)
        try:
            return chunk.decode(ENCODING).rstrip(" ")
        except UnicodeDecodeError:
            self.problem(
                item,
                "encoding",
                _("Contains bytes that are not Shift_JIS text."),
            )
            return ""

    def digits(self, key: str, *, optional: bool = False) -> str | None:
        """Return an N field's digits; None when an optional field is blank."""
        item, chunk = self._chunk(key)
        if optional and not chunk.strip(b" "):
            return None
        if not (chunk.isascii() and chunk.isdigit()):
            self.problem(item, "not_numeric", _("Not a number."))
            return None
        return chunk.decode("ascii")

    def integer(self, key: str, *, optional: bool = False) -> int | None:
        value = self.digits(key, optional=optional)
        return None if value is None else int(value)

    def day(self, key: str, *, optional: bool = False) -> date | None:
        """Return a 和暦 YYMMDD field as a date; None when an optional one is blank or 0."""
        value = self.digits(key, optional=optional)
        if value is None or (optional and int(value) == 0):
            return None
        parsed = parse_wareki_date(value, today=self.today)
        if parsed is None:
            item = self.layout.field(key)
            self.problem(
                item,
                "invalid_date",
                _("%(value)s is not a date (YYMMDD in the Japanese era calendar).")
                % {"value": value},
            )
        return parsed

    def choice(self, key: str, choices: Mapping[str, T], *, optional: bool = False) -> T | None:
        """Return what an N code field's value stands for; note a value the layout lacks."""
        value = self.digits(key, optional=optional)
        if value is None:
            return None
        if value not in choices:
            item = self.layout.field(key)
            self.problem(
                item,
                "unknown_value",
                _("Must be one of %(allowed)s, not %(value)s.")
                % {"allowed": ", ".join(choices), "value": value},
            )
            return None
        return choices[value]


def _split_records(data: bytes) -> list[bytes]:
    """Split the file into records: at line breaks when it has any, else every 200 bytes."""
    body = data.rstrip(b"\x1a")
    if b"\n" in body or b"\r" in body:
        lines = re.split(rb"\r\n|\n|\r", body)
        while lines and not lines[-1]:
            lines.pop()
        return lines
    return [body[start : start + RECORD_LENGTH] for start in range(0, len(body), RECORD_LENGTH)]


def _looks_like_utf8(data: bytes) -> bool:
    """Return True for non-ASCII text that decodes as UTF-8 (a converted file, not cp932)."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_padding(raw: bytes) -> bool:
    return not raw.strip(b" \x00\x1a")


def _signed(sign: int | None, amount: int | None) -> int | None:
    return None if amount is None else amount * (sign or 1)


RECORD_KINDS = {
    b"1": pgettext_lazy("zengin record", "header"),
    b"2": pgettext_lazy("zengin record", "data"),
    b"8": pgettext_lazy("zengin record", "trailer"),
    b"9": pgettext_lazy("zengin record", "end"),
}


@dataclass
class _OpenSection:
    header: StatementHeader
    entries: list[StatementEntry] = field(default_factory=list)
    data_records: int = 0
    clean: bool = True


class _Parser:
    """Walk the records of one file in order, building sections and collecting problems."""

    def __init__(self, fmt: StatementFormat, today: date, records: list[bytes]) -> None:
        self.format = fmt
        self.today = today
        self.records = records
        self.problems = _Problems()
        self.sections: list[StatementSection] = []
        self.occurrences: Counter[str] = Counter()
        self.type_code = records[0][1:3].decode("ascii")
        self.wide_amounts = fmt is StatementFormat.TRANSFER_NOTICE and any(
            raw[:1] == b"2" and raw[_FORMAT_B_SPAN].isdigit() for raw in records
        )

    @property
    def layouts(self) -> tuple[Layout, Layout, Layout, Layout]:
        if self.format is StatementFormat.DEPOSIT_WITHDRAWAL:
            return DW_HEADER, DW_DATA, DW_TRAILER, DW_END
        return TN_HEADER, TN_DATA_B if self.wide_amounts else TN_DATA_A, TN_TRAILER, TN_END

    def record(self, number: int, raw: bytes, layout: Layout) -> _Record:
        return _Record(number, raw, layout, self.problems, self.today)

    def parse(self) -> Statement:
        current: _OpenSection | None = None
        previous: bytes | None = None
        ended = False
        for number, raw in enumerate(self.records, start=1):
            if ended:
                if _is_padding(raw):
                    continue
                self.problems.add(
                    number,
                    RECORD_TYPE,
                    "sequence",
                    _("Nothing may follow the end record."),
                )
                break
            kind = raw[:1]
            expected = {
                b"1": previous in (None, b"8"),
                b"2": previous in (b"1", b"2"),
                b"8": previous in (b"1", b"2"),
                b"9": previous == b"8",
            }
            if kind not in expected:
                self.problems.add(
                    number,
                    RECORD_TYPE,
                    "unknown_value",
                    _("Must be one of %(allowed)s, not %(value)s.")
                    % {
                        "allowed": "1, 2, 8, 9",
                        "value": raw[:1].decode(ENCODING, "replace"),
                    },
                )
                if current is not None:
                    current.clean = False
                continue
            if not expected[kind]:
                self.problems.add(
                    number,
                    RECORD_TYPE,
                    "sequence",
                    _("A %(kind)s record cannot follow a %(previous)s record.")
                    % {
                        "kind": RECORD_KINDS[kind],
                        "previous": RECORD_KINDS[previous] if previous else "-",
                    },
                )
                if current is not None:
                    current.clean = False
                # A stray data or trailer record is skipped; a header opens a new section
                # and an end record still ends the file, so one slip is reported once.
                if kind in (b"2", b"8"):
                    continue
            previous = kind
            if kind == b"1":
                header = self.header(number, raw)
                # An unreadable header still opens a section, so its data are checked too.
                current = _OpenSection(header or _BROKEN_HEADER, clean=header is not None)
            elif kind == b"2" and current is not None:
                current.data_records += 1
                entry = self.data(number, raw, current.header)
                if entry is None:
                    current.clean = False
                else:
                    current.entries.append(entry)
            elif kind == b"8" and current is not None:
                self.sections.append(self.trailer(number, raw, current))
                current = None
            elif kind == b"9":
                self.end(number, raw)
                ended = True
        if not ended:
            self.problems.add(
                0,
                None,
                "sequence",
                _("The file ends without an end record (record type 9)."),
                key="record_type",
            )
        self.problems.raise_if_any()
        entries = tuple(entry for section in self.sections for entry in section.entries)
        return Statement(format=self.format, sections=tuple(self.sections), entries=entries)

    # Records -----------------------------------------------------------------------------

    def header(self, number: int, raw: bytes) -> StatementHeader | None:
        layout = self.layouts[0]
        record = self.record(number, raw, layout)
        type_code = record.digits("type_code")
        if type_code is not None and type_code != self.type_code:
            record.problem(
                layout.field("type_code"),
                "mismatch",
                _("%(value)s differs from the first header's %(expected)s.")
                % {"value": type_code, "expected": self.type_code},
            )
        created_on = record.day("created_on")
        period_start = record.day("period_start")
        period_end = record.day("period_end")
        bank_code = record.digits("bank_code")
        branch_code = record.digits("branch_code")
        account_type = record.digits("account_type")
        account_number = record.digits("account_number")
        bank_name = record.text("bank_name")
        branch_name = record.text("branch_name")
        account_name = record.text("account_name")
        opening_balance = None
        if self.format is StatementFormat.DEPOSIT_WITHDRAWAL:
            if account_type in TIME_DEPOSIT_TYPES:
                record.problem(
                    layout.field("account_type"),
                    "unsupported",
                    _(
                        "%(value)s is a time deposit, whose statement layout is not supported; "
                        "only ordinary, current and savings accounts can be read."
                    )
                    % {"value": account_type},
                )
            sign = record.choice("opening_sign", SIGNS, optional=True)
            opening_balance = _signed(sign, record.integer("opening_balance", optional=True))
        if not record.ok:
            return None
        assert created_on and period_start and period_end
        return StatementHeader(
            record_number=number,
            format=self.format,
            type_code=self.type_code,
            created_on=created_on,
            period_start=period_start,
            period_end=period_end,
            bank_code=bank_code or "",
            bank_name=to_bank_kana(bank_name),
            branch_code=branch_code or "",
            branch_name=to_bank_kana(branch_name),
            account_type=account_type or "",
            account_number=account_number or "",
            account_name=to_bank_kana(account_name),
            opening_balance=opening_balance,
        )

    def data(self, number: int, raw: bytes, header: StatementHeader) -> StatementEntry | None:
        layout = self.layouts[1]
        record = self.record(number, raw, layout)
        inquiry_number = record.digits("inquiry_number", optional=True)
        booking_date = record.day("booking_date")
        value_date = record.day("value_date", optional=True) or booking_date
        amount = record.integer("amount")
        other_bank_cheques = record.integer("other_bank_cheques", optional=True) or 0
        payer_code = record.digits("payer_code", optional=True)
        raw_payer_name = record.text("payer_name")
        remitting_bank_name = record.text("remitting_bank_name")
        remitting_branch_name = record.text("remitting_branch_name")
        edi_info = record.text("edi_info")
        transaction_type = None
        description = ""
        cancelled = False
        if self.format is StatementFormat.DEPOSIT_WITHDRAWAL:
            direction = record.choice("direction", {"1": IN, "2": OUT})
            transaction_type = record.digits("transaction_type", optional=True)
            description = record.text("description")
        else:
            direction = IN
            cancelled = bool(record.choice("cancellation", {"0": False, "1": True}, optional=True))
            if self.wide_amounts:
                amount, other_bank_cheques = self.wide(record, amount, other_bank_cheques)
        if not record.ok or header is _BROKEN_HEADER:
            return None
        assert booking_date and value_date and direction and amount is not None
        payer_name = to_bank_kana(raw_payer_name)
        edi = to_bank_kana(edi_info)
        payer_code = None if payer_code is None or not payer_code.strip("0") else payer_code
        fingerprint = self.fingerprint(
            header,
            booking_date.isoformat(),
            value_date.isoformat(),
            direction,
            str(amount),
            inquiry_number or "",
            payer_code or "",
            payer_name,
            transaction_type or "",
            edi,
            "1" if cancelled else "0",
        )
        return StatementEntry(
            record_number=number,
            format=self.format,
            value_date=value_date,
            booking_date=booking_date,
            amount=amount,
            direction=direction,
            payer_name=payer_name,
            raw_payer_name=raw_payer_name,
            bank_code=header.bank_code,
            branch_code=header.branch_code,
            account_type=header.account_type,
            account_number=header.account_number,
            transaction_type=transaction_type,
            inquiry_number=inquiry_number,
            payer_code=payer_code,
            remitting_bank_name=to_bank_kana(remitting_bank_name),
            remitting_branch_name=to_bank_kana(remitting_branch_name),
            description=to_bank_kana(description),
            edi_info=edi,
            other_bank_cheques=other_bank_cheques,
            cancelled=cancelled,
            fingerprint=fingerprint,
        )

    def fingerprint(self, header: StatementHeader, *parts: str) -> str:
        """Return the fingerprint of an entry of the account of ``header`` (see
        ``entry_fingerprint``)."""
        return entry_fingerprint(
            FINGERPRINT_VERSION,
            self.occurrences,
            self.format.value,
            header.bank_code,
            header.branch_code,
            header.account_type,
            header.account_number.lstrip("0"),
            *parts,
        )

    def wide(
        self, record: _Record, amount: int | None, other_bank_cheques: int
    ) -> tuple[int | None, int]:
        """Return the amounts of a format B record: 金額(1) or, when it is 0, 金額(2)."""
        amount_large = record.integer("amount_large")
        other_large = record.integer("other_bank_cheques_large", optional=True) or 0
        if amount is None or amount_large is None:
            return None, 0
        if amount and amount_large:
            record.problem(
                record.layout.field("amount_large"),
                "conflict",
                _("Filled in together with %(other)s; a record uses only one of them.")
                % {"other": record.layout.field("amount").label},
            )
            return None, 0
        if amount:
            return amount, other_bank_cheques
        return amount_large, other_large

    def trailer(self, number: int, raw: bytes, section: _OpenSection) -> StatementSection:
        layout = self.layouts[2]
        record = self.record(number, raw, layout)
        entries = section.entries
        closing_balance = None
        if self.format is StatementFormat.DEPOSIT_WITHDRAWAL:
            deposits = [entry.amount for entry in entries if entry.direction == IN]
            withdrawals = [entry.amount for entry in entries if entry.direction == OUT]
            checks = {
                "in_count": (record.integer("in_count"), (len(deposits),)),
                "in_total": (record.integer("in_total"), (sum(deposits),)),
                "out_count": (record.integer("out_count"), (len(withdrawals),)),
                "out_total": (record.integer("out_total"), (sum(withdrawals),)),
                "data_count": (record.integer("data_count"), (section.data_records,)),
            }
            sign = record.choice("closing_sign", SIGNS, optional=True)
            closing_balance = _signed(sign, record.integer("closing_balance", optional=True))
        else:
            live = [entry.amount for entry in entries if not entry.cancelled]
            cancelled = [entry.amount for entry in entries if entry.cancelled]
            everything = [entry.amount for entry in entries]
            checks = {
                "total_count": (record.integer("total_count"), (len(everything), len(live))),
                "total_amount": (record.integer("total_amount"), (sum(everything), sum(live))),
                "cancelled_count": (
                    record.integer("cancelled_count", optional=True),
                    (len(cancelled),),
                ),
                "cancelled_amount": (
                    record.integer("cancelled_amount", optional=True),
                    (sum(cancelled),),
                ),
            }
        # Totals are only comparable when every data record of the section could be read.
        if section.clean and record.ok:
            for key, (stated, accepted) in checks.items():
                if stated is not None and stated not in accepted:
                    item = layout.field(key)
                    record.problem(
                        item,
                        "mismatch",
                        _("Says %(stated)s, but the data records give %(actual)s.")
                        % {
                            "stated": f"{stated:,}",
                            "actual": f"{accepted[0]:,}",
                        },
                    )
        return StatementSection(
            header=section.header, entries=tuple(entries), closing_balance=closing_balance
        )

    def end(self, number: int, raw: bytes) -> None:
        if self.format is not StatementFormat.DEPOSIT_WITHDRAWAL:
            return
        record = self.record(number, raw, DW_END)
        record_count = record.integer("record_count", optional=True)
        account_count = record.integer("account_count", optional=True)
        if record_count and record_count not in (number, number - 1):
            item = DW_END.field("record_count")
            record.problem(
                item,
                "mismatch",
                _("Says %(stated)s, but the file holds %(actual)s.")
                % {"stated": f"{record_count:,}", "actual": f"{number:,}"},
            )
        sections = sum(1 for raw in self.records[:number] if raw[:1] == b"1")
        if account_count and account_count != sections:
            item = DW_END.field("account_count")
            record.problem(
                item,
                "mismatch",
                _("Says %(stated)s, but the file holds %(actual)s.")
                % {"stated": account_count, "actual": sections},
            )


# Stands in for a header that could not be read, so its data records are still checked.
_BROKEN_HEADER = StatementHeader(
    record_number=0,
    format=StatementFormat.DEPOSIT_WITHDRAWAL,
    type_code="",
    created_on=date.min,
    period_start=date.min,
    period_end=date.min,
    bank_code="",
    bank_name="",
    branch_code="",
    branch_name="",
    account_type="",
    account_number="",
    account_name="",
)


def _detect_format(first: bytes) -> StatementFormat:
    """Return the layout the first (header) record names; refuse anything else clearly."""
    if first[:1] == b"\xf1" or (first[:1] == b"1" and first[3:4] == b"1"):
        raise _file_problem(
            "unsupported",
            _("The file is in EBCDIC (code type 1); only JIS / Shift_JIS files can be read."),
        )
    if first[:1] != b"1":
        raise StatementError(
            [
                StatementProblem(
                    1,
                    RECORD_TYPE.key,
                    str(RECORD_TYPE.label),
                    "sequence",
                    _("The file must start with a header record (record type 1)."),
                )
            ]
        )
    code = first[1:3]
    fmt = TYPE_CODES.get(code.decode("ascii")) if code.isascii() else None
    if fmt is None:
        label = pgettext_lazy("zengin field", "type code")
        raise StatementError(
            [
                StatementProblem(
                    1,
                    "type_code",
                    str(label),
                    "unsupported",
                    _(
                        "%(value)s is not a statement this system reads; only 03 "
                        "(deposit and withdrawal details) and 01 (transfer deposit notices) "
                        "can be imported."
                    )
                    % {"value": code.decode(ENCODING, "replace")},
                )
            ]
        )
    return fmt


def parse_statement(data: bytes, *, today: date | None = None) -> Statement:
    """Return the statement in a 全銀協 入出金取引明細 or 振込入金通知 file.

    ``today`` anchors the 和暦 era of two-digit years (see the module docstring); it
    defaults to the current date. Raise :class:`StatementError` listing every problem
    when the file cannot be read in full.
    """
    if not data or _is_padding(data.replace(b"\r", b"").replace(b"\n", b"")):
        raise empty_file_error()
    records = _split_records(data)
    problems = _Problems()
    if any(len(raw) != RECORD_LENGTH for raw in records) and _looks_like_utf8(data):
        problems.add(
            0,
            None,
            "encoding",
            _("The file looks like UTF-8 text; bank statement files are Shift_JIS."),
            key="record",
        )
    if all(len(raw) != RECORD_LENGTH for raw in records):
        # Nothing fits the layout: one sentence helps more than a problem per line.
        problems.add(
            0,
            None,
            "length",
            _(
                "This is not a Zengin statement file: no record is %(expected)s bytes long "
                "(the first is %(length)s bytes)."
            )
            % {"expected": RECORD_LENGTH, "length": len(records[0])},
            key="record",
        )
        problems.raise_if_any()
    record_label = pgettext_lazy("zengin field", "record length")
    for number, raw in enumerate(records, start=1):
        if len(raw) != RECORD_LENGTH and not (number == len(records) and _is_padding(raw)):
            problems.add(
                number,
                Field("record", len(raw), "C", record_label),
                "length",
                _(
                    "The record is %(length)s bytes long; every record must be exactly "
                    "%(expected)s bytes in Shift_JIS."
                )
                % {"length": len(raw), "expected": RECORD_LENGTH},
            )
    problems.raise_if_any()
    fmt = _detect_format(records[0])
    return _Parser(fmt, today or date.today(), records).parse()
