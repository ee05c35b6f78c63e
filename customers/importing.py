"""Customer import from the Excel / CSV template: parse, validate every row, then write.

Bad input never corrupts data (DESIGN §7): every row is parsed and validated in full
before anything is written, each problem is reported with the row number the user sees
in Excel (the header is row 1) and the Japanese column header, and the import writes
nothing while any row has an error, unless the user asks for the valid rows only.

The file format is Japanese and fixed (headers, 種別 and 業種 values, ○ marks), whatever
the UI language, so that a file exported in one session re-imports in any other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_log
from core.exceptions import DomainError
from core.money import format_yen
from core.text import collapse_spaces, hiragana_to_katakana, nfkc, strip_punctuation
from core.uploads import (
    CellError,
    FileUnreadable,
    RowError,
    cell_plain,
    cell_text,
    file_kind,
    parse_yen,
    read_bytes,
    sheet_rows,
)

from .choices import PREFECTURES, CustomerKind, Industry
from .dedup import probe_keys, similar_customers, similar_customers_bulk
from .exceptions import DuplicateCustomerError
from .models import Customer, TransferName
from .services import customer_create

if TYPE_CHECKING:
    from .dedup import Candidate

MAX_ROWS = 10_000
CANDIDATE_LIMIT = 5
# From this many rows one pass of the batch 名寄せ engine beats a query per row.
BULK_MATCH_FROM = 40
_QUERY_CHUNK = 500  # keeps IN (...) lists under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Column:
    """One column of the template: its fixed Japanese header and the Customer field it fills."""

    header: str
    field: str
    description: Any  # lazy gettext: shown on the template's 説明 sheet
    example: str = ""
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("種別", "kind", gettext_lazy("法人 (corporation) or 個人事業主 (sole proprietor). Blank means 法人."), "法人"),
    Column("商号", "name", gettext_lazy("Legal name as registered, with its legal form."), "株式会社山田商事", required=True),
    Column("商号カナ", "name_kana", gettext_lazy("Reading in katakana (hiragana and half-width kana are converted)."), "ヤマダショウジ"),
    Column("英文名", "name_en", gettext_lazy("English name, if any."), "Yamada Shoji Co., Ltd."),
    Column("法人番号", "corporate_number", gettext_lazy("13-digit corporate number; the check digit is verified."), "4010001234567"),
    Column("インボイス登録番号", "invoice_number", gettext_lazy("T followed by 13 digits; for a corporation, T and its corporate number."), "T4010001234567"),
    Column("業種", "industry", gettext_lazy("JSIC major division: a letter A–T or its Japanese name."), "卸売業，小売業"),
    Column("設立年月", "established", gettext_lazy("Year and month of establishment, YYYY-MM or YYYY/MM."), "1998-04"),
    Column("資本金", "capital", gettext_lazy("Whole yen, e.g. 10,000,000 or 10000000円."), "10000000"),
    Column("従業員数", "employees", gettext_lazy("Number of employees."), "45"),
    Column("年商", "annual_sales", gettext_lazy("Annual sales in whole yen."), "850000000"),
    Column("純資産", "net_assets", gettext_lazy("Net assets in whole yen; negative as -1000 or △1000."), "120000000"),
    Column("決算月", "fiscal_year_end_month", gettext_lazy("Month of the fiscal year end, 1 to 12."), "3"),
    Column("郵便番号", "postal_code", gettext_lazy("Postal code, e.g. 100-0005."), "100-0005"),
    Column("都道府県", "prefecture", gettext_lazy("Prefecture, e.g. 東京都."), "東京都"),
    Column("市区町村", "city", gettext_lazy("City, ward, town or village."), "千代田区"),
    Column("番地", "street", gettext_lazy("Town and street number."), "丸の内1-1-1"),
    Column("建物", "building", gettext_lazy("Building name and floor."), "丸の内ビル5階"),
    Column("電話番号", "phone", gettext_lazy("Main phone number."), "03-1234-5678"),
    Column("利用会社", "is_client", gettext_lazy("○, 1, はい or TRUE if the customer sells us invoices; blank otherwise."), "○"),
    Column("売掛先", "is_debtor", gettext_lazy("○, 1, はい or TRUE if the customer owes invoices we buy; blank otherwise."), ""),
    Column("振込名義カナ", "transfer_names", gettext_lazy("Names its payments arrive under, separated by 、 or ;."), "カ)ヤマダシヨウジ、ヤマダシヨウジ(カ"),
)  # fmt: skip

HEADERS: tuple[str, ...] = tuple(column.header for column in COLUMNS)
HEADER_OF_FIELD: dict[str, str] = {column.field: column.header for column in COLUMNS}
# Columns the export adds; an import reads past them (it always registers new customers).
EXPORT_ONLY_HEADERS = ("ID", "状態")

KIND_LABELS = {CustomerKind.CORPORATION: "法人", CustomerKind.SOLE_PROPRIETOR: "個人事業主"}

# JSIC 大分類 names as the Statistics Bureau writes them.
INDUSTRY_LABELS: dict[str, str] = {
    "A": "農業，林業", "B": "漁業", "C": "鉱業，採石業，砂利採取業", "D": "建設業",
    "E": "製造業", "F": "電気・ガス・熱供給・水道業", "G": "情報通信業", "H": "運輸業，郵便業",
    "I": "卸売業，小売業", "J": "金融業，保険業", "K": "不動産業，物品賃貸業",
    "L": "学術研究，専門・技術サービス業", "M": "宿泊業，飲食サービス業",
    "N": "生活関連サービス業，娯楽業", "O": "教育，学習支援業", "P": "医療，福祉",
    "Q": "複合サービス事業", "R": "サービス業（他に分類されないもの）",
    "S": "公務（他に分類されるものを除く）", "T": "分類不能の産業",
}  # fmt: skip

TRUE_MARKS = {"○", "〇", "◯", "O", "1", "はい", "TRUE", "YES", "Y", "✓", "✔"}
FALSE_MARKS = {"", "×", "✕", "X", "0", "いいえ", "FALSE", "NO", "N", "-", "−"}
_TRANSFER_SEPARATORS = re.compile(r"[、;；,，\n]")


class ImportRejected(DomainError):
    """The file has errors and the user did not ask for the valid rows only: nothing was written."""

    default_message = gettext_lazy("The file has errors; nothing was imported.")

    def __init__(self, errors: list[RowError], preview: ImportPreview | None = None) -> None:
        """Keep the errors and the preview, so a view can show the rows again."""
        self.errors = errors
        self.preview = preview
        super().__init__()


@dataclass
class ParsedRow:
    """One data row: what the file says, the Customer fields read from it, and what is wrong."""

    row: int
    cells: dict[str, str]
    fields: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        """Return True when the row can be registered."""
        return not self.errors

    @property
    def error_columns(self) -> set[str]:
        """Return the headers with an error, to highlight their cells."""
        return {error.column for error in self.errors}

    def values(self) -> list[tuple[str, str, bool]]:
        """Return (header, text, has error) in template order, for the preview table.

        A readable cell shows the value as it will be registered (so a misread is visible
        before confirming); a cell in error shows what the file says.
        """
        bad = self.error_columns
        return [
            (
                column.header,
                self.cells.get(column.header, "")
                if column.header in bad
                else _display(column.field, self.fields.get(column.field)),
                column.header in bad,
            )
            for column in COLUMNS
        ]

    def add_error(self, column: str, message: str) -> None:
        """Record a problem in ``column`` of this row."""
        self.errors.append(RowError(self.row, column, str(message)))

    def add_validation_error(self, error: ValidationError) -> None:
        """Add a model ValidationError, each field under its Japanese header."""
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error("", message)
            return
        already = self.error_columns
        for name, messages in error.message_dict.items():
            column = "" if name == NON_FIELD_ERRORS else HEADER_OF_FIELD.get(name, "")
            if column and column in already:
                continue  # the cell could not be read; one message for it is enough
            for message in messages:
                self.add_error(column, message)


@dataclass
class ImportPreview:
    """Everything read from one file, before anything is written."""

    filename: str
    sha256: str = ""
    rows: list[ParsedRow] = field(default_factory=list)
    file_errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        """Return every error, file-level first, then by row."""
        return [*self.file_errors, *(error for row in self.rows for error in row.errors)]

    @property
    def has_errors(self) -> bool:
        """Return True when anything would stop an all-or-nothing import."""
        return bool(self.file_errors) or any(row.errors for row in self.rows)

    @property
    def valid_rows(self) -> list[ParsedRow]:
        """Return the rows an import with valid_rows_only would register."""
        return [row for row in self.rows if row.is_valid]

    @property
    def invalid_rows(self) -> list[ParsedRow]:
        """Return the rows that would be left out."""
        return [row for row in self.rows if not row.is_valid]

    @property
    def rows_with_candidates(self) -> list[ParsedRow]:
        """Return the rows that look like an existing customer (名寄せ warning)."""
        return [row for row in self.rows if row.candidates]


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: the new customers' ids and the rows left out."""

    created_ids: list[int]
    skipped_rows: list[int]
    errors: list[RowError]

    @property
    def created(self) -> int:
        """Return how many customers were registered."""
        return len(self.created_ids)


def _display(name: str, value: Any) -> str:
    """Return a parsed value in the words of the template (法人, ○, 業種名, ¥1,000)."""
    if value is None or value == "" or value == []:
        return ""
    if name == "kind":
        return KIND_LABELS.get(value, value)
    if name == "industry":
        return f"{value} {INDUSTRY_LABELS.get(value, '')}".strip()
    if name == "established":
        return f"{value:%Y-%m}"
    if name in ("capital", "annual_sales", "net_assets"):
        return format_yen(value)
    if isinstance(value, bool):
        return "○" if value else ""
    if isinstance(value, list):
        return "、".join(value)
    return str(value)


# Reading the file ---------------------------------------------------------------------------


# Reading cells -----------------------------------------------------------------------------


def _parse_kind(value: Any) -> str:
    """Read 種別: the template's words, or the stored code from an API-made file."""
    text = cell_plain(value)
    if text in ("", "法人", CustomerKind.CORPORATION):
        return CustomerKind.CORPORATION
    if text in ("個人事業主", "個人", CustomerKind.SOLE_PROPRIETOR):
        return CustomerKind.SOLE_PROPRIETOR
    raise CellError(_("Enter 法人 or 個人事業主."))


def _parse_kana(value: Any) -> str:
    """Read 商号カナ as the register stores it: half-width kana and hiragana become katakana."""
    return hiragana_to_katakana(cell_plain(value))


def _parse_corporate_number(value: Any) -> str | None:
    """Read 法人番号 without spaces or hyphens; the model checks the digits."""
    text = re.sub(r"[\s\-]", "", cell_plain(value))
    return text or None


def _parse_invoice_number(value: Any) -> str | None:
    """Read インボイス番号; 13 bare digits get their T, as people often drop it."""
    text = re.sub(r"[\s\-]", "", cell_plain(value)).upper()
    if re.fullmatch(r"\d{13}", text):
        text = f"T{text}"
    return text or None


def _industry_key(text: str) -> str:
    """Return a label folded so 「卸売業、小売業」 and 「卸売業，小売業」 compare equal."""
    return strip_punctuation(nfkc(text)).upper()


def _industry_lookup() -> dict[str, str]:
    """Return folded label → letter for the JSIC names and the UI's own labels."""
    lookup: dict[str, str] = {}
    for letter, label in INDUSTRY_LABELS.items():
        lookup[_industry_key(label)] = letter
        # Users often drop the bracketed note: サービス業（他に分類されないもの） → サービス業.
        lookup.setdefault(_industry_key(re.sub(r"（.*?）", "", label)), letter)
    for choice in Industry:
        lookup.setdefault(_industry_key(str(choice.label)), choice.value)
    return lookup


def _parse_industry(value: Any) -> str:
    """Read 業種 as a JSIC letter, "I 卸売業…", or the Japanese (or UI) name."""
    text = cell_plain(value)
    if not text:
        return ""
    letter = re.fullmatch(r"([A-Ta-t])(?:[\s:.)、]+.*)?", text)
    if letter:
        return letter.group(1).upper()
    found = _industry_lookup().get(_industry_key(text))
    if found is None:
        raise CellError(_("Enter an industry as a JSIC letter (A–T) or its Japanese name."))
    return found


def _parse_year_month(value: Any) -> date | None:
    """Read 設立年月 from text or an Excel date; the register keeps the month only."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    text = cell_plain(value)
    match = re.fullmatch(
        r"(\d{4})\s*(?:[-/.年])\s*(\d{1,2})(?:\s*月)?(?:[-/.]\d{1,2}(?:日)?)?", text
    )
    if not match:
        raise CellError(_("Enter the year and month as YYYY-MM or YYYY/MM."))
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1800:
        raise CellError(_("Enter the year and month as YYYY-MM or YYYY/MM."))
    return date(year, month, 1)


def _parse_count(value: Any) -> int | None:
    """Read a head count, allowing "120人" and separators."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = re.sub(r"[\s,]", "", cell_plain(value))
    text = re.sub(r"[人名]$", "", text)
    if not re.fullmatch(r"\d+", text):
        raise CellError(_("Enter a whole number."))
    return int(text)


def _parse_month(value: Any) -> int | None:
    """Read 決算月 as 1–12, allowing "3月"."""
    if value is None or value == "":
        return None
    text = re.sub(r"月$", "", cell_plain(value))
    if not re.fullmatch(r"\d{1,2}", text) or not 1 <= int(text) <= 12:
        raise CellError(_("Enter a month from 1 to 12."))
    return int(text)


def _parse_postal_code(value: Any) -> str:
    """Read 郵便番号 and write it as 123-4567."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Excel drops the leading zero of a postal code stored as a number (060-0001 → 600001).
        text = f"{int(value):07d}"
    else:
        text = re.sub(r"[\s〒]", "", cell_plain(value))
    if re.fullmatch(r"\d{7}", text):
        return f"{text[:3]}-{text[3:]}"
    return text


def _parse_prefecture(value: Any) -> str:
    """Read 都道府県, completing "東京" to "東京都" when that is unambiguous."""
    text = cell_plain(value)
    if not text or text in PREFECTURES:
        return text
    for suffix in ("都", "道", "府", "県"):
        if f"{text}{suffix}" in PREFECTURES:
            return f"{text}{suffix}"
    raise CellError(_("Enter a prefecture such as 東京都."))


def _parse_phone(value: Any) -> str:
    """Read 電話番号 with full-width digits folded."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A phone number stored as a number has lost its leading 0.
        return f"0{int(value)}"
    return cell_plain(value)


def _parse_flag(value: Any) -> bool:
    """Read 利用会社 / 売掛先: the marks people use in Japanese sheets for yes and no."""
    if isinstance(value, bool):
        return value
    text = cell_plain(value).upper()
    if text in TRUE_MARKS:
        return True
    if text in FALSE_MARKS:
        return False
    raise CellError(
        _("Enter ○, 1, はい or TRUE for yes; leave blank, or enter 0, いいえ or FALSE, for no.")
    )


def _parse_transfer_names(value: Any) -> list[str]:
    """Read 振込名義カナ: several names in one cell, de-duplicated, each within the model's length."""
    names = [collapse_spaces(nfkc(part)) for part in _TRANSFER_SEPARATORS.split(cell_text(value))]
    names = [name for name in names if name]
    limit = TransferName._meta.get_field("name").max_length
    if any(len(name) > limit for name in names):
        raise CellError(_("A transfer name is at most %(max)s characters.") % {"max": limit})
    return list(dict.fromkeys(names))


def _parse_as_typed(value: Any) -> str:
    """Read a name or address as typed (㈱, 全角英字 kept): 名寄せ folds them when comparing."""
    return collapse_spaces(cell_text(value))


_PARSERS = {
    "kind": _parse_kind,
    "name_kana": _parse_kana,
    "corporate_number": _parse_corporate_number,
    "invoice_number": _parse_invoice_number,
    "industry": _parse_industry,
    "established": _parse_year_month,
    "capital": parse_yen,
    "employees": _parse_count,
    "annual_sales": parse_yen,
    "net_assets": parse_yen,
    "fiscal_year_end_month": _parse_month,
    "postal_code": _parse_postal_code,
    "prefecture": _parse_prefecture,
    "phone": _parse_phone,
    "is_client": _parse_flag,
    "is_debtor": _parse_flag,
    "transfer_names": _parse_transfer_names,
}
# A cell that cannot be read still needs a value so the rest of the row can be checked.
_FALLBACK = {
    "kind": CustomerKind.CORPORATION,
    "is_client": False,
    "is_debtor": False,
    "transfer_names": [],
}


# Header and rows ----------------------------------------------------------------------------


def _header_key(value: Any) -> str:
    """Return a header folded so "商号 *" or full-width variants still match."""
    text = cell_plain(value).replace(" ", "")
    return re.sub(r"(\*|※|\(必須\))$", "", text)


def _read_header(cells: tuple[Any, ...], preview: ImportPreview) -> dict[int, str]:
    """Return column index → template header; unknown columns become warnings."""
    known = {_header_key(header): header for header in (*HEADERS, *EXPORT_ONLY_HEADERS)}
    positions: dict[int, str] = {}
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        key = _header_key(cell)
        if not key:
            continue
        header = known.get(key)
        if header is None:
            preview.warnings.append(
                _("The column %(column)s is not in the template and was ignored.")
                % {"column": cell_text(cell)}
            )
            continue
        if header in seen:
            preview.file_errors.append(
                RowError(
                    1,
                    header,
                    _("The column %(column)s appears twice in the header row.")
                    % {"column": header},
                )
            )
            continue
        seen.add(header)
        positions[index] = header
    for column in COLUMNS:
        if column.required and column.header not in seen:
            preview.file_errors.append(
                RowError(
                    1,
                    column.header,
                    _("The header row has no %(column)s column.") % {"column": column.header},
                )
            )
    if seen & set(EXPORT_ONLY_HEADERS):
        preview.warnings.append(
            _("The ID and 状態 columns are ignored: an import always registers new customers.")
        )
    return positions


def _parse_row(number: int, raw: dict[str, Any]) -> ParsedRow:
    """Read one row's cells into Customer fields, collecting an error per unreadable cell."""
    parsed = ParsedRow(row=number, cells={header: cell_text(raw.get(header)) for header in HEADERS})
    for column in COLUMNS:
        parser = _PARSERS.get(column.field, _parse_as_typed)
        try:
            parsed.fields[column.field] = parser(raw.get(column.header))
        except CellError as error:
            parsed.add_error(column.header, str(error))
            parsed.fields[column.field] = _FALLBACK.get(column.field)
    return parsed


def _validate(parsed: ParsedRow) -> None:
    """Run the model's own validation on an unsaved Customer and map errors to headers."""
    values = {key: value for key, value in parsed.fields.items() if key != "transfer_names"}
    for key in ("kind", "name_kana", "industry", "postal_code", "prefecture", "phone"):
        values[key] = values[key] if values[key] is not None else ""
    customer = Customer(**values)
    try:
        # Uniqueness is checked for the whole file at once in _check_duplicates.
        customer.full_clean(exclude=("created_by",), validate_unique=False)
    except ValidationError as error:
        parsed.add_validation_error(error)


def _chunks(values: list[str]) -> Iterator[list[str]]:
    """Yield slices small enough for one IN (...) query on every database."""
    for start in range(0, len(values), _QUERY_CHUNK):
        yield values[start : start + _QUERY_CHUNK]


def _check_duplicates(rows: list[ParsedRow]) -> None:
    """Flag a 法人番号 / インボイス番号 repeated in the file or already in the register."""
    for key, message in (
        ("corporate_number", gettext_lazy("Same corporate number as row %(row)s.")),
        ("invoice_number", gettext_lazy("Same invoice registration number as row %(row)s.")),
    ):
        first_row: dict[str, int] = {}
        for parsed in rows:
            value = parsed.fields.get(key)
            if not value:
                continue
            if value in first_row:
                parsed.add_error(HEADER_OF_FIELD[key], str(message) % {"row": first_row[value]})
            else:
                first_row[value] = parsed.row
        existing: dict[str, Customer] = {}
        for chunk in _chunks(list(first_row)):
            for customer in Customer.objects.filter(**{f"{key}__in": chunk}).only(
                "id", "name", key
            ):
                existing[getattr(customer, key)] = customer
        for parsed in rows:
            found = existing.get(parsed.fields.get(key) or "")
            if found is not None and HEADER_OF_FIELD[key] not in parsed.error_columns:
                parsed.add_error(
                    HEADER_OF_FIELD[key],
                    _("Already registered to %(name)s (ID %(id)s).")
                    % {"name": found.name, "id": found.pk},
                )


def _probe_fields(fields: dict[str, Any]) -> dict[str, str]:
    return {
        key: fields.get(key) or ""
        for key in (
            "name", "name_kana", "corporate_number", "invoice_number", "phone", "prefecture",
            "city", "street",
        )
    }  # fmt: skip


def _find_candidates(rows: list[ParsedRow]) -> None:
    """Attach existing customers that look like each row (名寄せ): a warning, not an error."""
    named = [parsed for parsed in rows if parsed.fields.get("name")]
    if len(named) >= BULK_MATCH_FROM:
        probes = [probe_keys(**_probe_fields(parsed.fields)) for parsed in named]
        for parsed, candidates in zip(
            named, similar_customers_bulk(probes, limit=CANDIDATE_LIMIT), strict=True
        ):
            parsed.candidates = candidates
        return
    for parsed in named:
        parsed.candidates = similar_customers(**_probe_fields(parsed.fields), limit=CANDIDATE_LIMIT)


def _is_blank(cells: Iterable[Any]) -> bool:
    """Return True for a row with nothing in it (skipped, but still counted in numbering)."""
    return all(cell_text(cell) == "" for cell in cells)


def _read_rows(preview: ImportPreview, data: bytes, kind: str) -> None:
    """Parse the header and every non-blank row of the first sheet into ``preview``."""
    for _title, rows in sheet_rows(data, kind):
        _read_sheet(preview, rows)


def _read_sheet(preview: ImportPreview, rows: Iterator[tuple[Any, ...]]) -> None:
    """Parse one sheet (no database access)."""
    header = next(rows, None)
    if header is None:
        preview.file_errors.append(RowError(0, "", _("The file has no data rows.")))
        return
    positions = _read_header(header, preview)
    if preview.file_errors:
        return
    for number, cells in enumerate(rows, start=2):
        if _is_blank(cells):
            continue
        if len(preview.rows) >= MAX_ROWS:
            message = _("The file has more than %(max)s rows; split it.") % {"max": MAX_ROWS}
            preview.file_errors.append(RowError(0, "", message))
            return
        raw = {positions[i]: cell for i, cell in enumerate(cells) if i in positions}
        preview.rows.append(_parse_row(number, raw))
    if not preview.rows:
        preview.file_errors.append(RowError(0, "", _("The file has no data rows.")))


def parse_customers(file: UploadedFile | BinaryIO, filename: str) -> ImportPreview:
    """Read and validate every row of an import file; nothing is written.

    Row numbers are those Excel shows (header = row 1; blank rows are counted, then skipped).
    """
    data = read_bytes(file)
    preview = ImportPreview(filename=filename, sha256=hashlib.sha256(data).hexdigest())
    kind = file_kind(data, filename)
    if not kind:
        preview.file_errors.append(RowError(0, "", _("Upload an Excel (.xlsx) or CSV file.")))
        return preview
    try:
        _read_rows(preview, data, kind)
    except FileUnreadable as error:
        preview.rows = []
        preview.file_errors.append(RowError(0, "", str(error)))
    if preview.file_errors:
        return preview
    for parsed in preview.rows:
        _validate(parsed)
    _check_duplicates(preview.rows)
    order = {header: index for index, header in enumerate(HEADERS)}
    for parsed in preview.rows:
        parsed.errors.sort(key=lambda error: order.get(error.column, -1))
    _find_candidates(preview.rows)
    return preview


# Writing ------------------------------------------------------------------------------------


def _create(parsed: ParsedRow, actor: Any) -> Customer | None:
    """Register one row through customer_create; a late conflict becomes the row's error."""
    try:
        return customer_create(actor=actor, **parsed.fields)
    except DuplicateCustomerError as error:
        parsed.add_error(HEADER_OF_FIELD.get(error.field, ""), str(error.message))
    except ValidationError as error:
        parsed.add_validation_error(error)
    except IntegrityError:
        # Another user registered the same number between the check and the insert.
        parsed.add_error("", _("This customer was registered by someone else meanwhile."))
    return None


def import_customers(
    *,
    source: ImportPreview | UploadedFile | BinaryIO,
    actor: Any,
    filename: str = "",
    valid_rows_only: bool = False,
) -> ImportResult:
    """Register the customers of a file (or of its preview) in one transaction.

    With any error and ``valid_rows_only`` false, nothing is written and ImportRejected
    carries the errors; with it true, only the rows without errors are registered.
    Each customer goes through customer_create (its own audit event); one
    ``customer.imported`` event records the file and the counts.
    """
    preview = source if isinstance(source, ImportPreview) else parse_customers(source, filename)
    if preview.file_errors or (preview.has_errors and not valid_rows_only):
        raise ImportRejected(preview.errors, preview)
    with transaction.atomic():
        created: list[int] = []
        for parsed in preview.rows:
            if not parsed.is_valid:
                continue
            customer = _create(parsed, actor)
            if customer is not None:
                created.append(customer.pk)
            elif not valid_rows_only:
                raise ImportRejected(preview.errors, preview)  # rolls back the rows written so far
        skipped = [parsed.row for parsed in preview.invalid_rows]
        audit_log(
            actor=actor,
            action="customer.imported",
            data={
                "filename": preview.filename,
                "sha256": preview.sha256,
                "rows": len(preview.rows),
                "created": len(created),
                "skipped_rows": skipped,
                "valid_rows_only": valid_rows_only,
                "customer_ids": created,
            },
        )
    return ImportResult(created_ids=created, skipped_rows=skipped, errors=preview.errors)
