"""Watchlist import: read a list file into one Watchlist, preview the changes, then write them.

Three layouts are read, each from Excel (.xlsx, read-only streaming) or CSV (UTF-8 with or
without BOM, or cp932 as Excel writes it on Windows):

``internal`` — the company's own 反社 list template, first sheet, header row first (a title
    row above it is tolerated). Columns: 参照番号, 種別 (個人 / 団体), 氏名・名称, 別名
    (separated by 、 ; or line breaks), フリガナ, ローマ字, 生年月日 (YYYY-MM-DD, YYYY/M/D,
    YYYY年M月D日, 和暦 such as 昭和45年3月1日 or S45.3.1, or the year only), 国籍, 住所,
    掲載日, 備考. 氏名・名称 and 種別 are required columns; every other column may be left
    out, and a column left out never blanks what the list already holds.

``mof`` — 財務省「経済制裁措置及び対象者リスト」as published in Excel. The official layout
    could not be confirmed byte for byte, so this reading is deliberately tolerant:

    * every sheet is read; a sheet is one or more sections (制裁プログラム). A section
      starts at a header row, found as the first row with a name column and at least one
      other known column (the published file starts it with 告示日付). The row(s) above the
      header give the section title (else the sheet name). A later header row in the same
      sheet starts a new section; a row with a single filled cell just before it is that
      section's title. Sheets without a header row (a cover or notes sheet) are skipped
      with a warning.
    * headers are compared after NFKC width folding with spaces and punctuation removed,
      so 「生 年 月 日」, 「ＩＤ番号」 and 「氏名\\n（日本語表記）」 all match. A header row may
      be followed by a sub-header row (氏名 over 日本語表記 | 英語表記); it is merged in.
    * columns mapped: 日本語表記 / 氏名 / 名称 → name (first line; further lines are aliases);
      英語表記 / ローマ字表記 → name_romaji (the name when there is no Japanese form);
      別名 / 別称 / 旧称 / 確定可能な別名 / 確定に十分でない別名 / 過去の別名 … → aliases (split on
      line breaks, 、 ; and (a) (b) … markers); 生年月日 → date_of_birth / birth_year;
      国籍 → nationality; 住所 / 所在地 / 住所・所在地 / 活動地域・住所 → address;
      告示日付 (else リスト掲載日) → listed_on; 告示番号, 番号, 出生地, 旅券番号, ID番号 /
      身分証番号, 称号, 役職 / 肩書, 国連参照番号, 指定の根拠, その他の情報 / 詳細, 電話, FAX
      → remarks (one 「見出し: 値」 line each), after a first 「制裁プログラム: 〈section〉」 line.
      Other columns are ignored with a warning; 「不明」 counts as blank.
    * individual or entity: from the section title — （個人） means individuals, （団体…） or
      特定銀行 entities, a title naming only one of 個人 / 団体 decides too; otherwise per row:
      a row with a date or place of birth, a passport number or a nationality is an
      individual, any other an entity.
    * 告示番号 numbers a public notice, which designates many parties at once, so it is not
      an identifier of one party: MOF entries carry no reference and are matched by
      normalised name + date of birth (or year). The same party listed in two programmes
      (same name and date of birth) becomes one entry whose remarks name both programmes.
    * the official dates are free text the user cannot correct, so a 生年月日 cell is read
      leniently: one readable date (or year) is taken; several alternatives or a range
      leave date_of_birth empty — a possibly wrong date must never rule a true match out —
      with birth_year set when every alternative has the same year, and the original text
      kept in remarks. A name, address or nationality longer than the model allows is cut
      and kept in full in remarks. Rows without any name are skipped with a warning.

``custom`` — any other layout: the user maps each entry field to one of the file's headers
    on the preview page (the mapping is guessed from the headers first). The mapping lives
    in the form only; cells are read as in the internal format; an unmapped 種別 takes the
    default type chosen with the mapping. ``mapping`` is ``{field: header}`` over
    :data:`MAPPABLE_FIELDS`, plus ``"default_entry_type"`` (``individual`` / ``entity``).

Every row is validated before anything is written (DESIGN §7): problems are reported as
:class:`RowError` with the row Excel shows, the file's own header and a message, and nothing
is written while any row has an error unless the valid rows only are asked for.

Writing (one transaction, the watchlist row locked): the list's version goes up by one, a
WatchlistImport records the file and the counts, new entries are added, changed ones updated
(matched by reference when the row has one, otherwise by normalised name + date of birth),
and — when the file is the complete list — active entries absent from it are marked
delisted (``is_active=False``, never deleted). Delisting is skipped when rows were left out
because of errors, since a left-out row may be a listed party. Every added or updated entry
goes through ``screening.refresh_entry_keys``; an unchanged entry is not touched and keeps
its fingerprint. One ``compliance.watchlist_imported`` audit event records the counts, and
after the commit the ``rescreening`` nightly check is queued when something changed.

Importing the very same file (same SHA-256) as the list's latest import is refused with a
clear message: it cannot change anything. A file with the same content but different bytes
(re-saved, re-exported) is imported and records a new version with 0 added / 0 updated, so
the audit trail shows the list was confirmed current on that day.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any, BinaryIO

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core.audit import audit_log
from core.exceptions import DomainError
from core.text import collapse_spaces, hiragana_to_katakana, nfkc, strip_punctuation
from core.uploads import (
    FileUnreadable,
    RowError,
    cell_plain,
    cell_text,
    file_kind,
    read_bytes,
    sheet_rows,
    sheet_slug,
)
from customers.matching import normalize_name

from .choices import EntryType
from .models import Watchlist, WatchlistEntry, WatchlistImport
from .screening import refresh_entry_keys

logger = logging.getLogger(__name__)

FORMAT_INTERNAL = "internal"
FORMAT_MOF = "mof"
FORMAT_CUSTOM = "custom"
FORMAT_CHOICES = (
    (FORMAT_INTERNAL, gettext_lazy("Internal list template")),
    (FORMAT_MOF, gettext_lazy("Ministry of Finance sanctions list (Excel)")),
    (FORMAT_CUSTOM, gettext_lazy("Other layout (map the columns)")),
)
FORMATS = tuple(code for code, _label in FORMAT_CHOICES)

MAX_ROWS = 20_000
HEADER_SCAN_ROWS = 30  # the header must appear within this many rows of a sheet's top
RESCREEN_CHECK = "rescreening"
BATCH_SIZE = 500
AUDIT_ROW_LIMIT = 500

# The fields a file fills; birth_year travels with date_of_birth (one 生年月日 cell).
IMPORT_FIELDS: tuple[str, ...] = (
    "reference", "entry_type", "name", "aliases", "name_kana", "name_romaji",
    "date_of_birth", "birth_year", "nationality", "address", "listed_on", "remarks",
)  # fmt: skip
# The fields a custom mapping assigns a column, with the internal template's header.
FIELD_HEADERS: dict[str, str] = {
    "reference": "参照番号",
    "entry_type": "種別",
    "name": "氏名・名称",
    "aliases": "別名",
    "name_kana": "フリガナ",
    "name_romaji": "ローマ字",
    "date_of_birth": "生年月日",
    "nationality": "国籍",
    "address": "住所",
    "listed_on": "掲載日",
    "remarks": "備考",
}
MAPPABLE_FIELDS: tuple[str, ...] = tuple(FIELD_HEADERS)
TYPE_LABELS = {EntryType.INDIVIDUAL: "個人", EntryType.ENTITY: "団体"}

_BLANK_WORDS = {
    "",
    "-",
    "ー",
    "―",
    "—",
    "−",
    "不明",
    "なし",
    "無し",
    "不詳",
    "未詳",
    "N/A",
    "NA",
    "UNKNOWN",
}
_ALIAS_SPLIT = re.compile(r"[、;\n]")
_MOF_SPLIT = re.compile(r"\n|[、;]|又は|または|\((?:[a-z]|[ivx]+)\)")


@dataclass(frozen=True)
class Column:
    """One column of the internal template: header, entry field, accepted variants, help."""

    header: str
    field: str
    synonyms: tuple[str, ...]
    description: Any  # lazy gettext, shown on the template's 説明 sheet
    example: str = ""
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("参照番号", "reference", ("番号", "管理番号", "整理番号", "ID", "NO", "参照ID"), gettext_lazy("Your own number for the entry; an entry keeps it from import to import."), "AS-0001"),
    Column("種別", "entry_type", ("区分", "個人団体", "個人法人", "個人団体区分"), gettext_lazy("個人 (individual) or 団体 (entity, group, company)."), "個人", required=True),
    Column("氏名・名称", "name", ("氏名", "名称", "氏名又は名称", "氏名名称", "名前", "商号", "団体名", "個人名"), gettext_lazy("Full name of the person or name of the entity."), "山田 太郎", required=True),
    Column("別名", "aliases", ("別称", "通称", "別名通称", "旧称", "旧姓", "別名義"), gettext_lazy("Other names, separated by 、 or ;."), "山田太朗、ヤマダ タロウ"),
    Column("フリガナ", "name_kana", ("ふりがな", "カナ", "氏名カナ", "名称カナ", "読み", "ヨミ", "フリガナ氏名"), gettext_lazy("Reading in katakana (hiragana and half-width kana are converted)."), "ヤマダ タロウ"),
    Column("ローマ字", "name_romaji", ("ローマ字表記", "英字", "英字表記", "英語表記", "英文名", "アルファベット"), gettext_lazy("Name in Latin letters."), "YAMADA Taro"),
    Column("生年月日", "date_of_birth", ("生年", "誕生日", "生年月日設立日"), gettext_lazy("YYYY-MM-DD, YYYY年M月D日, 和暦 (昭和45年3月1日) or the year only."), "1970-03-01"),
    Column("国籍", "nationality", ("国籍地域",), gettext_lazy("Nationality (individuals)."), "日本"),
    Column("住所", "address", ("所在地", "住所所在地", "住所等"), gettext_lazy("Address or seat."), "東京都新宿区西新宿2-8-1"),
    Column("掲載日", "listed_on", ("登録日", "リスト掲載日", "追加日", "掲載年月日"), gettext_lazy("Date the entry was put on the list."), "2024-04-01"),
    Column("備考", "remarks", ("その他", "メモ", "情報源", "備考欄"), gettext_lazy("Source and other notes."), "2023年 新聞報道"),
)  # fmt: skip
HEADERS: tuple[str, ...] = tuple(column.header for column in COLUMNS)

# MOF roles: what a column of the published list holds.
_MOF_COLUMNS: dict[str, tuple[str, ...]] = {
    "notice_date": ("告示日付", "告示日", "告示年月日"),
    "notice_number": ("告示番号",),
    "serial": ("番号", "NO", "整理番号"),
    "name_ja": (
        "日本語表記", "氏名日本語表記", "名称日本語表記", "氏名名称日本語表記", "日本語",
        "氏名", "名称", "氏名名称", "氏名又は名称", "個人名", "団体名",
    ),
    "name_en": (
        "英語表記", "英文表記", "英字表記", "ローマ字表記", "氏名英語表記", "名称英語表記",
        "氏名名称英語表記", "氏名ローマ字表記", "英語名", "英語",
    ),
    "alias": (
        "別名", "別称", "別称別名", "別名別称", "確定可能な別名", "確定に十分でない別名",
        "旧称", "過去の別名", "以前の別名", "別称旧称", "旧称以前の呼称", "通称",
    ),
    "birth_date": ("生年月日", "生年月日出生地", "生年"),
    "birth_place": ("出生地", "出生地出身地"),
    "nationality": ("国籍",),
    "passport": ("旅券番号",),
    "id_number": ("ID番号", "身分証番号", "身分登録番号", "国民識別番号"),
    "address": ("住所", "住所所在地", "所在地", "住所等", "活動地域住所", "所在地住所", "所在地住所登録された事務所の住所"),
    "title": ("称号", "肩書", "肩書等", "役職"),
    "list_date": ("リスト掲載日", "国連制裁委員会による指定日", "国連制裁員会による指定日"),
    "un_ref": ("国連参照番号",),
    "other": ("その他の情報", "詳細", "指定の根拠", "備考", "決議1483上の根拠", "活動地域"),
    "phone": ("電話番号", "電話", "FAX"),
}  # fmt: skip
# Roles written to remarks, in this order, each line headed by the file's own header.
_MOF_REMARK_ROLES = (
    "notice_number", "serial", "title", "birth_place", "passport", "id_number", "un_ref",
    "list_date", "phone", "other",
)  # fmt: skip
_MOF_NAME_ROLES = {"name_ja", "name_en"}


# Errors and rows ---------------------------------------------------------------------------


class WatchlistImportRejected(DomainError):
    """The file has errors (or cannot change anything) and nothing was written."""

    default_message = gettext_lazy("The file has errors; nothing was imported.")

    def __init__(
        self, errors: list[RowError], preview: WatchlistPreview | None = None, message: Any = None
    ) -> None:
        """Keep the errors and the preview, so a view can show the rows again."""
        self.errors = errors
        self.preview = preview
        super().__init__(message)


class _CellError(ValueError):
    """A cell that cannot be read; carries the message for the row's error list."""


@dataclass
class EntryRow:
    """One data row: its cells, the entry fields read from it, what is wrong, what it changes."""

    row: int
    sheet: str = ""
    cells: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # entry field → file header
    provided: set[str] = field(default_factory=set)  # fields the file has a column for
    errors: list[RowError] = field(default_factory=list)
    merged_into: EntryRow | None = None
    status: str = ""  # new / changed / unchanged, once planned against a watchlist
    changes: list[str] = field(default_factory=list)
    entry: WatchlistEntry | None = None

    @property
    def is_valid(self) -> bool:
        """Return True when the row can be imported."""
        return not self.errors

    @property
    def anchor(self) -> str:
        """Return the id of this row in the preview table."""
        return f"row-{sheet_slug(self.sheet)}{self.row}"

    @property
    def error_columns(self) -> set[str]:
        """Return the file headers with an error, to highlight their cells."""
        return {error.column for error in self.errors}

    @property
    def display_status(self) -> str:
        """Return error / merged / new / changed / unchanged (or "" before planning)."""
        if self.errors:
            return "error"
        if self.merged_into is not None:
            return "merged"
        return self.status

    @property
    def change_labels(self) -> str:
        """Return the changed fields as the template's headers."""
        labels = [str(_CHANGE_LABELS.get(name, name)) for name in self.changes]
        return "、".join(dict.fromkeys(labels))

    def values(self) -> list[tuple[str, str, bool]]:
        """Return (header, text, has error) in template order, for the preview table.

        A readable cell shows the value as it will be stored (a misread is visible before
        confirming); a cell in error shows what the file says.
        """
        bad = self.error_columns
        result = []
        for name, header in FIELD_HEADERS.items():
            source = self.sources.get(name, "")
            if source and source in bad:
                result.append((header, self.cells.get(source, ""), True))
            else:
                result.append((header, _display(name, self.fields), False))
        return result

    def add_error(self, column: str, message: Any) -> None:
        """Record a problem in ``column`` (a file header) of this row."""
        self.errors.append(RowError(self.row, column, str(message), self.sheet))


_CHANGE_LABELS: dict[str, Any] = {
    **FIELD_HEADERS,
    "birth_year": FIELD_HEADERS["date_of_birth"],
    "is_active": gettext_lazy("listed again"),
}


@dataclass
class ImportPlan:
    """What an import would write to one watchlist."""

    added: list[EntryRow] = field(default_factory=list)
    changed: list[EntryRow] = field(default_factory=list)
    unchanged: list[EntryRow] = field(default_factory=list)
    delisted: list[WatchlistEntry] = field(default_factory=list)
    delisting_skipped: bool = False


@dataclass
class WatchlistPreview:
    """Everything read from one file, before anything is written."""

    filename: str
    file_format: str
    sha256: str = ""
    rows: list[EntryRow] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)  # the first header row, for mapping
    mapping: dict[str, str] = field(default_factory=dict)  # the mapping used (custom)
    sheets: list[str] = field(default_factory=list)  # sheets read
    plan: ImportPlan | None = None
    complete_list: bool = True

    @property
    def errors(self) -> list[RowError]:
        """Return every error, file-level first, then by row."""
        return [*self.file_errors, *(error for row in self.rows for error in row.errors)]

    @property
    def has_errors(self) -> bool:
        """Return True when anything would stop an all-or-nothing import."""
        return bool(self.file_errors) or any(row.errors for row in self.rows)

    @property
    def valid_rows(self) -> list[EntryRow]:
        """Return the rows an import with valid_rows_only would use."""
        return [row for row in self.rows if row.is_valid]

    @property
    def invalid_rows(self) -> list[EntryRow]:
        """Return the rows that would be left out."""
        return [row for row in self.rows if not row.is_valid]

    @property
    def entry_rows(self) -> list[EntryRow]:
        """Return the valid rows that stand for one entry each (merged duplicates excluded)."""
        return [row for row in self.rows if row.is_valid and row.merged_into is None]


# Reading the file ---------------------------------------------------------------------------


# Reading cells ----------------------------------------------------------------------------


def _is_blank_word(text: str) -> bool:
    return nfkc(text).strip().upper() in _BLANK_WORDS


def _header_key(value: Any) -> str:
    """Return a header folded so 「生 年 月 日」, 「ＩＤ番号」 or 「氏名 *」 still match."""
    text = re.sub(r"[\s\u3000]+", "", nfkc(cell_text(value)))
    text = re.sub(r"(\*|※|\(必須\)|必須)$", "", text)
    return strip_punctuation(text).upper()


def _header_text(value: Any) -> str:
    """Return a header as the user reads it in the file (line breaks and runs of spaces folded)."""
    return collapse_spaces(cell_text(value))


_ERA_START = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}
_ERA_START.update({"M": 1867, "T": 1911, "S": 1925, "H": 1988, "R": 2018})
_ERA = r"(明治|大正|昭和|平成|令和|[MTSHR])(\d{1,2}|元)"
_MONTHS = {
    name: index
    for index, names in enumerate(
        (("JAN", "JANUARY"), ("FEB", "FEBRUARY"), ("MAR", "MARCH"), ("APR", "APRIL"), ("MAY",),
         ("JUN", "JUNE"), ("JUL", "JULY"), ("AUG", "AUGUST"), ("SEP", "SEPT", "SEPTEMBER"),
         ("OCT", "OCTOBER"), ("NOV", "NOVEMBER"), ("DEC", "DECEMBER")),
        start=1,
    )
    for name in names
}  # fmt: skip
_APPROXIMATE = re.compile(r"^(?:およそ|約|CIRCA|CA\.?|C\.)|(?:頃|ごろ|生まれ|生|BORN)$")


def _era_year(era: str, year: str) -> int:
    return _ERA_START[era] + (1 if year == "元" else int(year))


def _checked_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _CellError(
            _("%(value)s is not a date that exists.") % {"value": f"{year}-{month}-{day}"}
        ) from None


def _read_date(text: str) -> tuple[date | None, int | None] | None:
    """Return (date, year) for one date or year written in a common way, else None.

    Raises _CellError for a well-formed date that does not exist (2月30日).
    """
    compact = re.sub(r"[\s\u3000]+", "", nfkc(text)).upper()
    previous = None
    while previous != compact:  # 「およそ1970年頃」: strip every approximate marker
        previous = compact
        compact = _APPROXIMATE.sub("", compact)
    patterns: list[tuple[str, Any]] = [
        (r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", lambda m: _checked_date(int(m[1]), int(m[2]), int(m[3]))),
        (r"(\d{4})(\d{2})(\d{2})", lambda m: _checked_date(int(m[1]), int(m[2]), int(m[3]))),
        (_ERA + r"[-/.年](\d{1,2})[-/.月](\d{1,2})日?", lambda m: _checked_date(_era_year(m[1], m[2]), int(m[3]), int(m[4]))),
        (r"(\d{1,2})([A-Z]+)\.?,?(\d{4})", lambda m: _checked_date(int(m[3]), _MONTHS[m[2]], int(m[1])) if m[2] in _MONTHS else None),
        (r"([A-Z]+)\.?(\d{1,2}),?(\d{4})", lambda m: _checked_date(int(m[3]), _MONTHS[m[1]], int(m[2])) if m[1] in _MONTHS else None),
    ]  # fmt: skip
    for pattern, build in patterns:
        match = re.fullmatch(pattern, compact)
        if match:
            found = build(match)
            if found is not None:
                return found, found.year
    for pattern, build_year in (
        (r"(\d{4})[-/.年](\d{1,2})月?", lambda m: int(m[1])),
        (_ERA + r"年(?:\d{1,2}月)?", lambda m: _era_year(m[1], m[2])),
        (r"(\d{4})年?", lambda m: int(m[1])),
    ):
        match = re.fullmatch(pattern, compact)
        if match:
            return None, build_year(match)
    return None


def _check_birth(found: date | None, year: int | None) -> tuple[date | None, int | None]:
    today = timezone.localdate()
    if found is not None and found > today:
        raise _CellError(_("The date of birth is in the future."))
    if year is not None and not 1850 <= year <= today.year:
        raise _CellError(_("%(year)s is not a plausible year of birth.") % {"year": year})
    return found, year


def _parse_birth(value: Any) -> tuple[date | None, int | None]:
    """Read 生年月日 strictly: a date (several notations, 和暦 included) or the year only."""
    if value is None or value == "":
        return None, None
    if isinstance(value, datetime):
        return _check_birth(value.date(), value.year)
    if isinstance(value, date):
        return _check_birth(value, value.year)
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise _CellError(_birth_hint())
    text = cell_plain(value)  # a number: 1970 (a year) or 19700301
    if _is_blank_word(text):
        return None, None
    parsed = _read_date(text)
    if parsed is None:
        raise _CellError(_birth_hint())
    return _check_birth(*parsed)


def _birth_hint() -> str:
    return _("Enter the date of birth as YYYY-MM-DD or YYYY年M月D日, or the year only.")


def _parse_date(value: Any) -> date | None:
    """Read 掲載日 strictly: a full date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_plain(value)
    if _is_blank_word(text):
        return None
    parsed = _read_date(text)
    if parsed is None or parsed[0] is None:
        raise _CellError(_("Enter a date such as 2024-04-01 or 2024年4月1日."))
    return parsed[0]


def _pieces(value: Any) -> list[str]:
    """Return the alternatives of a MOF cell: lines, 、 ; 又は, (a) (b) … markers."""
    text = nfkc(cell_text(value))
    pieces = [collapse_spaces(piece).strip("()（） ") for piece in _MOF_SPLIT.split(text)]
    return [piece for piece in pieces if piece and not _is_blank_word(piece)]


def _lenient_birth(value: Any) -> tuple[date | None, int | None, bool]:
    """Read a MOF 生年月日 cell: (date, year, read exactly) — never an error, see the module doc.

    Alternatives are reduced to one date only when they all give the same date, and to a
    year only when every alternative could be read and they share it.
    """
    try:
        found, year = _parse_birth(value)
        return found, year, True
    except _CellError:
        pass
    pieces = _pieces(value)
    results: list[tuple[date | None, int | None]] = []
    for piece in pieces:
        try:
            parsed = _read_date(piece)
            if parsed is not None:
                results.append(_check_birth(*parsed))
        except _CellError:
            continue
    if not results:
        return None, None, False
    exact = len(pieces) == 1 and len(results) == 1
    if len(results) == len(pieces) and len(set(results)) == 1:
        found, year = results[0]
        return found, year, exact
    years = {year for _found, year in results}
    year = years.pop() if len(results) == len(pieces) and len(years) == 1 else None
    return None, year, False


def _lenient_date(value: Any) -> date | None:
    """Read a MOF 告示日付: the first full date in the cell, or None."""
    try:
        return _parse_date(value)
    except _CellError:
        pass
    for piece in _pieces(value):
        try:
            parsed = _read_date(piece)
        except _CellError:
            continue
        if parsed is not None and parsed[0] is not None:
            return parsed[0]
    return None


def _parse_entry_type(value: Any) -> str:
    """Read 種別: 個人 or 団体 (法人, 組織 … also mean an entity), or the stored codes."""
    text = cell_plain(value).upper()
    if text in ("個人", "個人名", "自然人", "人", EntryType.INDIVIDUAL.upper(), "PERSON"):
        return EntryType.INDIVIDUAL
    if text in (
        "団体",
        "法人",
        "組織",
        "企業",
        "会社",
        "グループ",
        EntryType.ENTITY.upper(),
        "ORGANIZATION",
        "COMPANY",
    ):
        return EntryType.ENTITY
    raise _CellError(_("Enter 個人 or 団体."))


def _parse_name(value: Any) -> str:
    """Read a name as typed (㈱, 全角 kept: screening folds them), spaces collapsed."""
    text = collapse_spaces(cell_text(value))
    return "" if _is_blank_word(text) else text


def _parse_kana(value: Any) -> str:
    """Read フリガナ as katakana: hiragana and half-width kana are converted."""
    text = hiragana_to_katakana(cell_plain(value))
    if _is_blank_word(text):
        return ""
    if not re.fullmatch(r"[\u30a0-\u30ff\s=＝]+", text):
        raise _CellError(_("Enter the reading in katakana."))
    return text


def _parse_aliases(value: Any) -> list[str]:
    """Read 別名: several names in one cell, separated by 、 ; or line breaks."""
    names = [collapse_spaces(part) for part in _ALIAS_SPLIT.split(nfkc(cell_text(value)))]
    return list(dict.fromkeys(name for name in names if name and not _is_blank_word(name)))


def _parse_plain(value: Any) -> str:
    text = cell_plain(value)
    return "" if _is_blank_word(text) else text


def _parse_as_typed(value: Any) -> str:
    text = collapse_spaces(cell_text(value))
    return "" if _is_blank_word(text) else text


def _parse_remarks(value: Any) -> str:
    return cell_text(value)


_PARSERS = {
    "reference": _parse_plain,
    "entry_type": _parse_entry_type,
    "name": _parse_name,
    "aliases": _parse_aliases,
    "name_kana": _parse_kana,
    "name_romaji": _parse_as_typed,
    "nationality": _parse_plain,
    "address": _parse_as_typed,
    "listed_on": _parse_date,
    "remarks": _parse_remarks,
}
_EMPTY: dict[str, Any] = {
    "reference": "", "entry_type": "", "name": "", "aliases": [], "name_kana": "",
    "name_romaji": "", "date_of_birth": None, "birth_year": None, "nationality": "",
    "address": "", "listed_on": None, "remarks": "",
}  # fmt: skip


def _display(name: str, fields: Mapping[str, Any]) -> str:
    """Return a parsed value in the words of the template (個人 / 団体, 1970-03-01, 1970年)."""
    if name == "date_of_birth":
        if fields.get("date_of_birth"):
            return fields["date_of_birth"].isoformat()
        return f"{fields['birth_year']}年" if fields.get("birth_year") else ""
    value = fields.get(name)
    if value is None or value == "" or value == []:
        return ""
    if name == "entry_type":
        return TYPE_LABELS.get(value, value)
    if isinstance(value, list):
        return "、".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# Layouts: find the header, bind columns, build rows -----------------------------------------


def _synonym_index(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {_header_key(word): key for key, words in table.items() for word in words}


_INTERNAL_INDEX = {
    **_synonym_index({column.field: column.synonyms for column in COLUMNS}),
    **{_header_key(column.header): column.field for column in COLUMNS},
}
_MOF_INDEX = _synonym_index(_MOF_COLUMNS)


@dataclass
class _Binding:
    """The columns of one header row: index → (key, header as written)."""

    columns: dict[int, tuple[str, str]] = field(default_factory=dict)

    def header_of(self, key: str) -> str:
        return next((header for k, header in self.columns.values() if k == key), "")


class _Layout:
    """How one format finds its header row and turns a data row into an EntryRow."""

    all_sheets = False

    def is_header(self, cells: tuple[Any, ...]) -> bool:
        raise NotImplementedError

    def bind(self, cells: tuple[Any, ...], preview: WatchlistPreview, sheet: str) -> _Binding:
        raise NotImplementedError

    def build(
        self, number: int, sheet: str, cells: tuple[Any, ...], binding: _Binding, section: str
    ) -> EntryRow | None:
        raise NotImplementedError

    def missing_header(self) -> str:
        return _("The header row was not found: it needs a %(column)s column.") % {
            "column": FIELD_HEADERS["name"]
        }


def _cells_by_key(cells: tuple[Any, ...], binding: _Binding) -> dict[str, tuple[str, Any]]:
    """Return key → (header, first non-blank value) for one row."""
    found: dict[str, tuple[str, Any]] = {}
    for index, (key, header) in binding.columns.items():
        value = cells[index] if index < len(cells) else None
        if key not in found or (cell_text(found[key][1]) == "" and cell_text(value) != ""):
            found[key] = (header, value)
    return found


def _raw_cells(cells: tuple[Any, ...], binding: _Binding) -> dict[str, str]:
    return {
        header: cell_text(cells[index]) if index < len(cells) else ""
        for index, (_key, header) in binding.columns.items()
    }


class _FieldLayout(_Layout):
    """The internal template, and custom mappings: each column fills one entry field."""

    def __init__(
        self, resolve: Mapping[str, str], required: tuple[str, ...], default_type: str = ""
    ) -> None:
        self.resolve = resolve  # header key → field
        self.required = required
        self.default_type = default_type

    def is_header(self, cells: tuple[Any, ...]) -> bool:
        return any(self.resolve.get(_header_key(cell)) == "name" for cell in cells)

    def bind(self, cells: tuple[Any, ...], preview: WatchlistPreview, sheet: str) -> _Binding:
        binding = _Binding()
        seen: dict[str, str] = {}
        for index, cell in enumerate(cells):
            key, header = _header_key(cell), _header_text(cell)
            if not key:
                continue
            name = self.resolve.get(key)
            if name is None:
                preview.warnings.append(
                    _("The column %(column)s is not used and was ignored.") % {"column": header}
                )
                continue
            if name in seen:
                preview.file_errors.append(
                    RowError(0, "", _("Two columns hold %(field)s: %(first)s and %(second)s.") % {"field": FIELD_HEADERS[name], "first": seen[name], "second": header}, sheet)
                )  # fmt: skip
                continue
            seen[name] = header
            binding.columns[index] = (name, header)
        for name in self.required:
            if name not in seen:
                preview.file_errors.append(
                    RowError(0, "", _("The header row has no %(column)s column.") % {"column": FIELD_HEADERS[name]}, sheet)
                )  # fmt: skip
        return binding

    def build(
        self, number: int, sheet: str, cells: tuple[Any, ...], binding: _Binding, section: str
    ) -> EntryRow | None:
        row = EntryRow(row=number, sheet=sheet, cells=_raw_cells(cells, binding))
        row.fields = {**_EMPTY, "aliases": []}  # a list of its own
        present = _cells_by_key(cells, binding)
        for name, (header, value) in present.items():
            row.sources[name] = header
            row.provided.add(name)
            try:
                if name == "date_of_birth":
                    row.fields["date_of_birth"], row.fields["birth_year"] = _parse_birth(value)
                    row.sources["birth_year"] = header
                    row.provided.add("birth_year")
                elif name == "entry_type" and cell_text(value) == "" and self.default_type:
                    row.fields[name] = self.default_type
                else:
                    row.fields[name] = _PARSERS[name](value)
            except _CellError as error:
                row.add_error(header, str(error))
        if "entry_type" not in present:
            row.fields["entry_type"] = self.default_type
            row.provided.add("entry_type")
        if not row.fields["name"] and "name" in present:
            row.add_error(present["name"][0], _("Enter the name."))
        return row


class _MofLayout(_Layout):
    """The Ministry of Finance list: every sheet, sections, lenient cells (see the module doc)."""

    all_sheets = True

    def is_header(self, cells: tuple[Any, ...]) -> bool:
        roles = [_MOF_INDEX.get(_header_key(cell)) for cell in cells]
        known = [role for role in roles if role]
        return any(role in _MOF_NAME_ROLES for role in known) and len(known) >= 2

    def is_subheader(self, cells: tuple[Any, ...]) -> bool:
        roles = {_MOF_INDEX.get(_header_key(cell)) for cell in cells}
        return bool(roles & _MOF_NAME_ROLES) and "notice_date" not in roles

    def bind(self, cells: tuple[Any, ...], preview: WatchlistPreview, sheet: str) -> _Binding:
        binding = _Binding()
        for index, cell in enumerate(cells):
            key, header = _header_key(cell), _header_text(cell)
            if not key:
                continue
            role = _MOF_INDEX.get(key)
            if role is None:
                message = _("The column %(column)s is not used and was ignored.") % {
                    "column": header
                }
                if sheet:
                    message = _("Sheet %(sheet)s: %(text)s") % {"sheet": sheet, "text": message}
                if message not in preview.warnings:
                    preview.warnings.append(message)
                continue
            binding.columns[index] = (role, header)
        return binding

    def merge_subheader(self, binding: _Binding, cells: tuple[Any, ...]) -> None:
        for index, cell in enumerate(cells):
            role = _MOF_INDEX.get(_header_key(cell))
            if role:
                binding.columns[index] = (role, _header_text(cell))

    def build(
        self, number: int, sheet: str, cells: tuple[Any, ...], binding: _Binding, section: str
    ) -> EntryRow | None:
        values: dict[str, list[tuple[str, Any]]] = {}
        for index, (role, header) in binding.columns.items():
            value = cells[index] if index < len(cells) else None
            if cell_text(value) != "":
                values.setdefault(role, []).append((header, value))
        japanese = [line for _h, v in values.get("name_ja", []) for line in _lines(v)]
        english = [line for _h, v in values.get("name_en", []) for line in _lines(v)]
        if not japanese and not english:
            return None
        row = EntryRow(row=number, sheet=sheet, cells=_raw_cells(cells, binding))
        row.fields = {**_EMPTY, "aliases": []}  # a list of its own
        row.provided = set(IMPORT_FIELDS) - {"reference", "name_kana"}
        name_header = binding.header_of("name_ja") if japanese else binding.header_of("name_en")
        row.sources = {"name": name_header, "name_romaji": binding.header_of("name_en")}
        remarks = [f"制裁プログラム: {section}"] if section else []
        originals: list[str] = []  # cells not read exactly, kept whole after the other remarks
        name = japanese[0] if japanese else english[0]
        romaji = english[0] if japanese and english else ""
        aliases = [*japanese[1:], *english[1:]]
        for _header, value in values.get("alias", []):
            aliases.extend(piece for piece in _pieces(value) if piece)
        row.fields.update(
            name=_fit(name, "name", originals, name_header),
            name_romaji=_fit(romaji, "name_romaji", originals, binding.header_of("name_en")),
            aliases=[a for a in dict.fromkeys(aliases) if a not in (name, romaji)],
        )
        birth_values = values.get("birth_date", [])
        if birth_values:
            header, value = birth_values[0]
            row.sources["date_of_birth"] = row.sources["birth_year"] = header
            found, year, exact = _lenient_birth(value)
            row.fields["date_of_birth"], row.fields["birth_year"] = found, year
            if not exact:
                originals.append(f"{_header_key_label(header)}（原文）: {_joined(value)}")
        for role, target in (("nationality", "nationality"), ("address", "address")):
            parts = [piece for _h, v in values.get(role, []) for piece in _lines(v)]
            if parts:
                row.sources[target] = values[role][0][0]
                separator = "、" if role == "nationality" else " / "
                row.fields[target] = _fit(
                    separator.join(parts), target, originals, values[role][0][0]
                )
        for role in ("notice_date", "list_date"):
            if values.get(role) and row.fields["listed_on"] is None:
                row.sources["listed_on"] = values[role][0][0]
                row.fields["listed_on"] = _lenient_date(values[role][0][1])
        for role in _MOF_REMARK_ROLES:
            for header, value in values.get(role, []):
                remarks.append(f"{_header_key_label(header)}: {_joined(value)}")
        row.fields["remarks"] = "\n".join([*remarks, *originals])
        row.fields["entry_type"] = (
            _section_type(section)
            or _section_type(sheet)
            or (
                EntryType.INDIVIDUAL
                if values.keys() & {"birth_date", "birth_place", "passport", "nationality"}
                else EntryType.ENTITY
            )
        )
        return row


def _lines(value: Any) -> list[str]:
    """Return the non-blank lines of a cell (a MOF name cell stacks several names)."""
    lines = [collapse_spaces(line) for line in cell_text(value).splitlines()]
    return [line for line in lines if line and not _is_blank_word(line)]


def _joined(value: Any) -> str:
    return " / ".join(_lines(value)) or cell_text(value)


def _header_key_label(header: str) -> str:
    """Return a header without the spaces the MOF list puts between characters (告 示 番 号)."""
    return re.sub(r"(?<=[^\x00-\x7f])[\s\u3000]+(?=[^\x00-\x7f])", "", header)


def _fit(text: str, name: str, remarks: list[str], header: str) -> str:
    """Return ``text`` within the model field's length; an overflow is kept whole in remarks."""
    limit = WatchlistEntry._meta.get_field(name).max_length
    if len(text) <= limit:
        return text
    remarks.append(f"{_header_key_label(header) or FIELD_HEADERS.get(name, name)}（全文）: {text}")
    return text[: limit - 1] + "…"


def _section_type(title: str) -> str:
    """Return the entry type a MOF section (or sheet) title names, or "" when it does not say."""
    text = nfkc(title or "")
    if "(個人)" in text:
        return EntryType.INDIVIDUAL
    if re.search(
        r"\((?:団体|特定銀行)|特定銀行\)|団体及びその他のグループ|団体とその他のグループ", text
    ):
        return EntryType.ENTITY
    if "個人" in text and "団体" not in text:
        return EntryType.INDIVIDUAL
    if "団体" in text and "個人" not in text:
        return EntryType.ENTITY
    return ""


# Parsing ---------------------------------------------------------------------------------


def _is_blank(cells: Iterable[Any]) -> bool:
    return all(cell_text(cell) == "" for cell in cells)


def guess_mapping(headers: Iterable[str]) -> dict[str, str]:
    """Return {field: header} for the headers that look like an entry field (custom format)."""
    mapping: dict[str, str] = {}
    for header in headers:
        key = _header_key(header)
        name = _INTERNAL_INDEX.get(key)
        if name is None:
            role = _MOF_INDEX.get(key)
            name = {
                "name_ja": "name", "name_en": "name_romaji", "alias": "aliases",
                "birth_date": "date_of_birth", "nationality": "nationality", "address": "address",
                "notice_date": "listed_on", "other": "remarks",
            }.get(role or "")  # fmt: skip
        if name and name not in mapping:
            mapping[name] = header
    if "name" not in mapping and "name_romaji" in mapping:
        mapping["name"] = mapping.pop("name_romaji")
    return mapping


def _custom_layout(mapping: Mapping[str, str]) -> _FieldLayout:
    resolve = {
        _header_key(header): name
        for name, header in mapping.items()
        if name in MAPPABLE_FIELDS and header
    }
    default = mapping.get("default_entry_type") or EntryType.INDIVIDUAL
    if default not in EntryType.values:
        default = EntryType.INDIVIDUAL
    return _FieldLayout(resolve, required=("name",), default_type=default)


def file_headers(file: UploadedFile | BinaryIO | bytes, filename: str) -> list[str]:
    """Return the headers of a file's first non-blank row (what a custom mapping offers)."""
    data = read_bytes(file)
    kind = file_kind(data, filename)
    if not kind:
        return []
    try:
        return _first_header_row(data, kind)
    except FileUnreadable:
        return []


def _first_header_row(data: bytes, kind: str) -> list[str]:
    """Return the first non-blank row's cells as headers (what a custom mapping chooses from)."""
    for _title, rows in sheet_rows(data, kind, all_sheets=False):
        for cells in islice(rows, HEADER_SCAN_ROWS):
            if not _is_blank(cells):
                return [_header_text(cell) for cell in cells if _header_text(cell)]
    return []


def _read_sheet(
    preview: WatchlistPreview, layout: _Layout, sheet: str, rows: Iterator[tuple[Any, ...]]
) -> bool:
    """Parse one sheet into ``preview``; return False when it has no header row."""
    numbered = enumerate(rows, start=1)
    pending_title = ""
    binding: _Binding | None = None
    section = ""
    after_header = False
    for number, cells in numbered:
        if binding is None and number > HEADER_SCAN_ROWS:
            return False
        if _is_blank(cells):
            continue
        if after_header and isinstance(layout, _MofLayout) and layout.is_subheader(cells):
            assert binding is not None
            layout.merge_subheader(binding, cells)
            after_header = False
            continue
        after_header = False
        if layout.is_header(cells):
            binding = layout.bind(cells, preview, sheet)
            section = pending_title or sheet
            pending_title, after_header = "", True
            if preview.file_errors:
                return True
            continue
        if binding is None:
            # Title rows above the header: the first one names the section (MOF).
            if not pending_title:
                pending_title = " / ".join(
                    _header_text(cell) for cell in cells if _header_text(cell)
                )
            continue
        if len(preview.rows) >= MAX_ROWS:
            message = _("The file has more than %(max)s rows; split it.") % {"max": MAX_ROWS}
            preview.file_errors.append(RowError(0, "", message))
            return True
        parsed = layout.build(number, sheet, cells, binding, section)
        if parsed is None:
            filled = [_header_text(cell) for cell in cells if _header_text(cell)]
            if len(filled) == 1:
                pending_title = filled[0]  # a section title; the next header row uses it
            else:
                preview.warnings.append(
                    RowError(number, "", _("The row has no name and was skipped."), sheet).text
                )
            continue
        preview.rows.append(parsed)
    return binding is not None


def _validate(row: EntryRow) -> None:
    """Run the model's own validation (lengths, choices) and map errors to the file's headers."""
    values = {name: row.fields.get(name, _EMPTY[name]) for name in IMPORT_FIELDS}
    entry = WatchlistEntry(**values)
    try:
        entry.full_clean(
            exclude=("watchlist", "match_keys", "fingerprint"),
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        already = row.error_columns
        for name, messages in error.message_dict.items():
            column = "" if name == NON_FIELD_ERRORS else row.sources.get(name, "")
            if column and column in already:
                continue  # the cell could not be read; one message for it is enough
            if name == "entry_type" and not row.fields.get("entry_type"):
                messages = [_("Enter 個人 or 団体.")]
            for message in messages:
                row.add_error(column, message)


def identity_key(name: str, date_of_birth: date | None, birth_year: int | None) -> str:
    """Return the key a row without reference is matched by: normalised name + birth date or year."""
    born = date_of_birth.isoformat() if date_of_birth else str(birth_year or "")
    return f"{normalize_name(name)}|{born}"


def _row_key(row: EntryRow) -> str:
    return identity_key(row.fields["name"], row.fields["date_of_birth"], row.fields["birth_year"])


def _where(row: EntryRow) -> str:
    if row.sheet:
        return _("row %(row)s of sheet %(sheet)s") % {"row": row.row, "sheet": row.sheet}
    return _("row %(row)s") % {"row": row.row}


def _check_duplicates(preview: WatchlistPreview) -> None:
    """Flag a reference or a name + date of birth given twice; MOF rows of one party are merged."""
    by_reference: dict[str, EntryRow] = {}
    by_key: dict[str, EntryRow] = {}
    for row in preview.rows:
        if not row.is_valid:
            continue
        reference = row.fields.get("reference")
        if reference:
            first = by_reference.setdefault(reference, row)
            if first is not row:
                row.add_error(
                    row.sources["reference"],
                    _("The same reference as %(where)s.") % {"where": _where(first)},
                )
            continue
        key = _row_key(row)
        first = by_key.setdefault(key, row)
        if first is row:
            continue
        if preview.file_format == FORMAT_MOF:
            _merge(first, row)
        else:
            row.add_error(
                row.sources.get("name", ""),
                _("The same name and date of birth as %(where)s; give the entries a reference to tell them apart.") % {"where": _where(first)},
            )  # fmt: skip


def _merge(first: EntryRow, row: EntryRow) -> None:
    """Fold a second MOF row of the same party (another programme) into the first."""
    row.merged_into = first
    target = first.fields
    target["aliases"] = [
        alias
        for alias in dict.fromkeys([*target["aliases"], *row.fields["aliases"]])
        if alias not in (target["name"], target["name_romaji"])
    ]
    for name in ("name_romaji", "nationality", "address", "listed_on"):
        if not target[name] and row.fields[name]:
            target[name] = row.fields[name]
    if row.fields["remarks"] and row.fields["remarks"] not in target["remarks"]:
        target["remarks"] = f"{target['remarks']}\n\n{row.fields['remarks']}".strip()


def parse_watchlist(
    file: UploadedFile | BinaryIO | bytes,
    filename: str,
    *,
    file_format: str,
    mapping: Mapping[str, str] | None = None,
    watchlist: Watchlist | None = None,
    complete_list: bool = True,
) -> WatchlistPreview:
    """Read and validate every row of a list file; nothing is written.

    With ``watchlist`` the preview also carries the plan (new / changed / unchanged rows
    and the entries a complete-list import would delist). Row numbers are those Excel
    shows; blank rows are counted, then skipped.
    """
    data = read_bytes(file)
    preview = WatchlistPreview(
        filename=filename,
        file_format=file_format,
        sha256=hashlib.sha256(data).hexdigest(),
        complete_list=complete_list,
    )
    if file_format not in FORMATS:
        preview.file_errors.append(RowError(0, "", _("Choose a file format.")))
        return preview
    kind = file_kind(data, filename)
    if not kind:
        preview.file_errors.append(RowError(0, "", _("Upload an Excel (.xlsx) or CSV file.")))
        return preview
    try:
        _read_file(preview, data, kind, mapping)
    except FileUnreadable as error:
        preview.rows = []
        preview.file_errors.append(RowError(0, "", str(error)))
    if preview.file_errors:
        return preview
    for row in preview.rows:
        _validate(row)
    _check_duplicates(preview)
    order = {header: index for index, header in enumerate(HEADERS)}
    for row in preview.rows:
        row.errors.sort(key=lambda error: order.get(error.column, -1))
    if watchlist is not None:
        _check_not_repeated(preview, watchlist)
        if not preview.file_errors:
            preview.plan = plan_import(preview, watchlist, complete_list=complete_list)
    return preview


def _read_file(
    preview: WatchlistPreview, data: bytes, kind: str, mapping: Mapping[str, str] | None
) -> None:
    if preview.file_format == FORMAT_CUSTOM:
        preview.headers = _first_header_row(data, kind)
        preview.mapping = dict(mapping) if mapping else guess_mapping(preview.headers)
        if not preview.mapping.get("name"):
            preview.file_errors.append(RowError(0, "", _("Choose the column that holds the name.")))
            return
        headers = {_header_key(header) for header in preview.headers}
        for name, header in preview.mapping.items():
            if name in MAPPABLE_FIELDS and header and _header_key(header) not in headers:
                preview.file_errors.append(
                    RowError(0, "", _("The column %(column)s chosen for %(field)s is not in the file.") % {"column": header, "field": FIELD_HEADERS[name]})
                )  # fmt: skip
        if preview.file_errors:
            return
        layout: _Layout = _custom_layout(preview.mapping)
    elif preview.file_format == FORMAT_MOF:
        layout = _MofLayout()
    else:
        layout = _FieldLayout(
            _INTERNAL_INDEX, required=tuple(c.field for c in COLUMNS if c.required)
        )
    found_any = False
    for sheet, rows in sheet_rows(data, kind, all_sheets=layout.all_sheets):
        if _read_sheet(preview, layout, sheet, rows):
            found_any = True
            preview.sheets.append(sheet)
        elif layout.all_sheets and sheet:
            preview.warnings.append(
                _("The sheet %(sheet)s has no header row and was skipped.") % {"sheet": sheet}
            )
        if preview.file_errors:
            return
    if not found_any:
        preview.file_errors.append(RowError(0, "", layout.missing_header()))
    elif not preview.rows:
        preview.file_errors.append(RowError(0, "", _("The file has no data rows.")))


def _check_not_repeated(preview: WatchlistPreview, watchlist: Watchlist) -> None:
    """Refuse the very file the list's latest import read: it cannot change anything."""
    latest = watchlist.imports.order_by("-version").first() if watchlist.pk else None
    if latest is not None and latest.file_hash == preview.sha256:
        preview.file_errors.append(
            RowError(0, "", _("This file is identical to version %(version)s of %(list)s, imported on %(date)s: there is nothing to import.") % {
                "version": latest.version, "list": watchlist.name,
                "date": timezone.localtime(latest.imported_at).strftime("%Y-%m-%d %H:%M"),
            })
        )  # fmt: skip


# Planning --------------------------------------------------------------------------------


def _differences(row: EntryRow, entry: WatchlistEntry) -> list[str]:
    """Return the entry fields the row would change."""
    changes = [
        name
        for name in IMPORT_FIELDS
        if name in row.provided and name != "reference" and getattr(entry, name) != row.fields[name]
    ]
    if row.fields.get("reference") and not entry.reference:
        changes.append("reference")
    if not entry.is_active:
        changes.append("is_active")
    return changes


def plan_import(
    preview: WatchlistPreview, watchlist: Watchlist, *, complete_list: bool = True
) -> ImportPlan:
    """Match every valid row to the list's entries and say what an import would write.

    A row with a reference matches the entry with that reference, else an entry without
    reference of the same normalised name and date of birth; a row without reference
    matches any entry of that name and date of birth not matched already. Delisted
    entries are matched too, and listed again.
    """
    plan = ImportPlan()
    entries = list(watchlist.entries.order_by("-is_active", "id")) if watchlist.pk else []
    by_reference = {entry.reference: entry for entry in entries if entry.reference}
    by_key: dict[str, list[WatchlistEntry]] = {}
    for entry in entries:
        by_key.setdefault(
            identity_key(entry.name, entry.date_of_birth, entry.birth_year), []
        ).append(entry)
    claimed: set[int] = set()

    def take(row: EntryRow) -> WatchlistEntry | None:
        reference = row.fields.get("reference")
        if reference and reference in by_reference:
            found = by_reference[reference]
            return None if found.pk in claimed else found
        for candidate in by_key.get(_row_key(row), []):
            if candidate.pk not in claimed and not (reference and candidate.reference):
                return candidate
        return None

    # Rows with a reference first, so a name match can never take another row's entry.
    rows = preview.entry_rows
    for row in sorted(rows, key=lambda row: not row.fields.get("reference")):
        row.entry, row.changes = take(row), []
        if row.entry is None:
            row.status = "new"
            continue
        claimed.add(row.entry.pk)
        row.changes = _differences(row, row.entry)
        row.status = "changed" if row.changes else "unchanged"
    for row in rows:  # file order, for the preview
        {"new": plan.added, "changed": plan.changed, "unchanged": plan.unchanged}[
            row.status
        ].append(row)
    if complete_list:
        if preview.invalid_rows:
            plan.delisting_skipped = True
        else:
            plan.delisted = [
                entry for entry in entries if entry.is_active and entry.pk not in claimed
            ]
    return plan


# Writing ---------------------------------------------------------------------------------


def _new_entry(watchlist: Watchlist, row: EntryRow) -> WatchlistEntry:
    entry = WatchlistEntry(
        watchlist=watchlist, **{name: row.fields[name] for name in IMPORT_FIELDS}
    )
    refresh_entry_keys(entry)
    return entry


def _apply(row: EntryRow) -> WatchlistEntry:
    entry = row.entry
    assert entry is not None
    for name in IMPORT_FIELDS:
        if name in row.provided and name != "reference":
            setattr(entry, name, row.fields[name])
    if row.fields.get("reference") and not entry.reference:
        entry.reference = row.fields["reference"]
    entry.is_active = True
    refresh_entry_keys(entry)
    return entry


def _queue_rescreen() -> None:
    """Queue the re-screening check, if it is registered (it belongs to the screening work).

    Runs after the commit: the import stands whatever happens here, and the nightly run
    re-screens everything screened against an older list version anyway, so a failure to
    queue (broker down, or an eager run raising) is logged rather than shown as an error.
    """
    from core.jobs import registered_checks
    from core.tasks import run_nightly_check

    if not any(check.name == RESCREEN_CHECK for check in registered_checks()):
        return
    try:
        run_nightly_check.delay(RESCREEN_CHECK)
    except Exception:
        logger.exception("could not queue the %s check after a watchlist import", RESCREEN_CHECK)


def import_watchlist(
    *,
    watchlist: Watchlist,
    source: WatchlistPreview | UploadedFile | BinaryIO | bytes,
    actor: Any,
    file_format: str,
    filename: str = "",
    complete_list: bool = True,
    valid_rows_only: bool = False,
    mapping: Mapping[str, str] | None = None,
) -> WatchlistImport:
    """Import a list file into ``watchlist`` in one transaction and return the import record.

    With any error and ``valid_rows_only`` false, nothing is written and
    WatchlistImportRejected carries the errors (and the preview). The returned record has
    two extra attributes: ``skipped_rows`` (the rows left out, as the user reads them) and
    ``delisting_skipped`` (a complete-list import that left rows out delists nothing).
    """
    if isinstance(source, WatchlistPreview):
        preview = source
    else:
        preview = parse_watchlist(
            source, filename, file_format=file_format, mapping=mapping, watchlist=watchlist,
            complete_list=complete_list,
        )  # fmt: skip
    if preview.file_errors or (preview.has_errors and not valid_rows_only):
        raise WatchlistImportRejected(preview.errors, preview)
    if not preview.entry_rows:
        raise WatchlistImportRejected(
            preview.errors, preview, _("No row of the file can be imported.")
        )
    with transaction.atomic():
        locked = Watchlist.objects.select_for_update().get(pk=watchlist.pk)
        _check_not_repeated(preview, locked)
        if preview.file_errors:
            raise WatchlistImportRejected(preview.errors, preview, preview.file_errors[0].message)
        plan = plan_import(preview, locked, complete_list=complete_list)
        preview.plan, preview.complete_list = plan, complete_list
        added = [_new_entry(locked, row) for row in plan.added]
        bulk_create_with_history(added, WatchlistEntry, batch_size=BATCH_SIZE, default_user=actor)
        updated = [_apply(row) for row in plan.changed]
        if updated:
            bulk_update_with_history(
                updated, WatchlistEntry, [*IMPORT_FIELDS, "is_active", "match_keys", "fingerprint"],
                batch_size=BATCH_SIZE, default_user=actor,
            )  # fmt: skip
        for entry in plan.delisted:
            entry.is_active = False
        if plan.delisted:
            bulk_update_with_history(
                plan.delisted,
                WatchlistEntry,
                ["is_active"],
                batch_size=BATCH_SIZE,
                default_user=actor,
            )
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save(update_fields=["version", "updated_at"])
        record = WatchlistImport.objects.create(
            watchlist=locked,
            version=locked.version,
            file_name=(preview.filename or filename)[:255],
            file_hash=preview.sha256,
            file_format=preview.file_format,
            imported_by=actor,
            rows_total=len(preview.rows),
            rows_added=len(added),
            rows_updated=len(updated),
            rows_delisted=len(plan.delisted),
        )
        skipped = [
            f"{row.sheet}!{row.row}" if row.sheet else str(row.row) for row in preview.invalid_rows
        ]
        audit_log(
            actor=actor,
            action="compliance.watchlist_imported",
            subject=record,
            data={
                "watchlist_id": locked.pk,
                "watchlist": locked.name,
                "version": locked.version,
                "filename": record.file_name,
                "sha256": preview.sha256,
                "format": preview.file_format,
                "complete_list": complete_list,
                "valid_rows_only": valid_rows_only,
                "rows": len(preview.rows),
                "added": len(added),
                "updated": len(updated),
                "unchanged": len(plan.unchanged),
                "delisted": len(plan.delisted),
                "delisting_skipped": plan.delisting_skipped,
                "skipped_rows": skipped[:AUDIT_ROW_LIMIT],
            },
        )
        if added or updated or plan.delisted:
            transaction.on_commit(_queue_rescreen)
    watchlist.refresh_from_db(fields=["version", "updated_at"])
    record.skipped_rows = skipped
    record.delisting_skipped = plan.delisting_skipped
    return record


# The internal template -------------------------------------------------------------------


def internal_template() -> bytes:
    """Return the internal list template: 反社リスト (headers), 記入例 (examples), 説明 (guide)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    font, fill = Font(bold=True), PatternFill("solid", fgColor="DDE5F0")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "反社リスト"
    sheet.append(list(HEADERS))
    example = workbook.create_sheet("記入例")
    example.append(list(HEADERS))
    example.append([column.example for column in COLUMNS])
    example.append(["AS-0002", "団体", "架空興業株式会社", "架空興業", "カクウコウギョウ", "Kakuu Kogyo", "", "", "大阪府大阪市北区梅田1-1-1", "2024年4月2日", "警察照会"])  # fmt: skip
    for target in (sheet, example):
        for cell in target[1]:
            cell.font, cell.fill = font, fill
        for index, column in enumerate(COLUMNS, start=1):
            width = 24 if column.field in ("name", "aliases", "address", "remarks") else 14
            target.column_dimensions[get_column_letter(index)].width = width
            if column.field == "reference":  # AS-0001 or 0012 stays text in Excel
                target.column_dimensions[get_column_letter(index)].number_format = "@"
    guide = workbook.create_sheet("説明")
    guide.append([_("Column"), _("Required"), _("Description"), _("Example")])
    for column in COLUMNS:
        guide.append(
            [column.header, "○" if column.required else "", str(column.description), column.example]
        )
    guide.append([])
    guide.append(["", "", _("Keep the header row as it is; one entry per row.")])
    guide.append(["", "", _("CSV files may be saved as UTF-8 or Shift_JIS.")])
    for cell in guide[1]:
        cell.font, cell.fill = font, fill
    for letter, width in zip("ABCD", (14, 8, 70, 28), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
