"""Spreadsheet uploads shared by every import: checks, cell reading, the preview stash.

An import is two requests: the upload is checked and previewed, then confirmed. Between
them the file waits in MEDIA_ROOT/imports/<uuid>; only the session that uploaded it can
name it, and abandoned uploads are removed after a day.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from zipfile import BadZipFile

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .text import collapse_spaces, nfkc

ALLOWED_SUFFIXES = (".xlsx", ".csv")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
STALE_AFTER_SECONDS = 24 * 60 * 60


def check_spreadsheet(upload: UploadedFile) -> UploadedFile:
    """Refuse other formats and oversized files before anything is stored."""
    if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError(_("Upload an Excel (.xlsx) or CSV file."))
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    return upload


def clean_token(value: str) -> str:
    """Return a preview token as a normalised uuid hex, so it can only name a stashed file."""
    try:
        return uuid.UUID(value).hex
    except ValueError:
        raise ValidationError(_("The uploaded file has expired; upload it again.")) from None


class ConfirmImportForm(forms.Form):
    """The token of the stashed upload (from the preview page) and the valid-rows-only choice."""

    token = forms.CharField(widget=forms.HiddenInput)
    valid_rows_only = forms.BooleanField(
        label=gettext_lazy("Import only the valid rows"), required=False
    )

    def clean_token(self) -> str:
        return clean_token(self.cleaned_data["token"])


def cell_text(value: Any) -> str:
    """Return a cell as the text the user typed (numbers without a trailing .0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def cell_plain(value: Any) -> str:
    """Return a cell's text width-folded (全角英数 → 半角), trimmed, spaces collapsed."""
    return collapse_spaces(nfkc(cell_text(value)))


class CellError(ValueError):
    """A cell that cannot be read; carries the message for the row's error list."""


def parse_yen(value: Any) -> int | None:
    """Return whole yen from 1000000, "1,000,000", "１０００円", "1000000円", "¥1,000,000" or
    "△1,000" (None for an empty cell): spreadsheets and bank CSVs write amounts alike.
    Raise ``CellError`` for anything else, a fraction of a yen included."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError(_("Enter an amount in whole yen, such as 1,000,000 or 1000000円."))
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if value != int(value):
            raise CellError(
                _("Amounts are in whole yen; %(value)s has a fraction of a yen.") % {"value": value}
            )
        return int(value)
    text = re.sub(r"[\s,]", "", cell_plain(value))
    text = re.sub(r"^[△▲]", "-", text)  # Japanese accounts write negatives with a triangle
    text = re.sub(r"^(-?)[¥\\]", r"\1", text)
    text = text.removesuffix("円")
    match = re.fullmatch(r"(-?\d+)(?:\.(\d+))?", text)
    if not match:
        raise CellError(_("Enter an amount in whole yen, such as 1,000,000 or 1000000円."))
    if match.group(2) and int(match.group(2)):
        raise CellError(
            _("Amounts are in whole yen; %(value)s has a fraction of a yen.")
            % {"value": cell_text(value)}
        )
    return int(match.group(1))


class UploadStash:
    """Uploads waiting between preview and confirmation, bound to the uploading session."""

    def __init__(self, session_key: str) -> None:
        self.session_key = session_key

    @staticmethod
    def directory() -> Path:
        return Path(settings.MEDIA_ROOT) / "imports"

    def _purge_stale(self) -> None:
        directory = self.directory()
        if not directory.is_dir():
            return
        limit = time.time() - STALE_AFTER_SECONDS
        for path in directory.iterdir():
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)

    def put(
        self, request: HttpRequest, upload: UploadedFile, info: dict[str, Any] | None = None
    ) -> str:
        """Keep the upload until it is confirmed; return the token the preview page carries."""
        self._purge_stale()
        token = uuid.uuid4().hex
        directory = self.directory()
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / token).open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        stashed = request.session.get(self.session_key, {})
        stashed[token] = {"filename": upload.name[:200], **(info or {})}
        request.session[self.session_key] = stashed
        return token

    def get(self, request: HttpRequest, token: str) -> tuple[Path, dict[str, Any]] | None:
        """Return the stashed file and what was stored with it, if this session uploaded it."""
        info = request.session.get(self.session_key, {}).get(token)
        path = self.directory() / token  # a normalised uuid hex: no path can be smuggled in
        if info is None or not path.is_file():
            return None
        return path, info

    def discard(self, request: HttpRequest, token: str) -> None:
        """Remove a confirmed upload and forget its token."""
        (self.directory() / token).unlink(missing_ok=True)
        stashed = request.session.get(self.session_key, {})
        stashed.pop(token, None)
        request.session[self.session_key] = stashed


# Reading spreadsheet files ---------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in a file: the row as Excel numbers it, the file's column header, the message.

    ``row`` 0 means the file as a whole; ``column`` "" the row as a whole; ``sheet`` is set
    when a workbook has several sheets read.
    """

    row: int
    column: str
    message: str
    sheet: str = ""

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """Return the message as the user reads it, naming sheet, row and column."""
        if self.row and self.column:
            text = _("Row %(row)s, %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        elif self.row:
            text = _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        else:
            text = self.message
        if self.sheet:
            return _("Sheet %(sheet)s: %(text)s") % {"sheet": self.sheet, "text": text}
        return text

    @property
    def anchor(self) -> str:
        """Return the id of the preview row this error belongs to."""
        return f"row-{sheet_slug(self.sheet)}{self.row}"


def sheet_slug(sheet: str) -> str:
    """Return a short id-safe key for a sheet name (empty for a single-sheet file)."""
    return f"{hashlib.sha1(sheet.encode()).hexdigest()[:6]}-" if sheet else ""


class FileUnreadable(Exception):
    """The file itself cannot be read (encoding, damaged workbook, broken CSV quoting)."""


def read_bytes(file: UploadedFile | BinaryIO | bytes) -> bytes:
    """Return the whole upload; the format is sniffed from its first bytes."""
    if isinstance(file, bytes | bytearray):
        return bytes(file)
    if hasattr(file, "chunks"):
        file.seek(0)
        return b"".join(file.chunks())
    if hasattr(file, "seek"):
        file.seek(0)
    return file.read()


def file_kind(data: bytes, filename: str) -> str:
    """Return "xlsx" or "csv" from the content first (a renamed file still opens), else the name."""
    lower = filename.lower()
    if data.startswith(b"PK\x03\x04") or lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if lower.endswith((".csv", ".txt")):
        return "csv"
    return ""


def decode_csv(data: bytes) -> str:
    """Return CSV text: UTF-8 with or without BOM, else cp932 (Shift_JIS as Windows writes it)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp932")


def _guarded(rows: Iterable[tuple[Any, ...]], kind: str) -> Iterator[tuple[Any, ...]]:
    """Turn the readers' own exceptions into one error the user can act on.

    Only exceptions raised while reading are caught, never those of the row parsing that
    consumes the rows, so a bug elsewhere is not reported as a damaged file.
    """
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        yield from rows
    except UnicodeDecodeError as error:
        raise FileUnreadable(_("The file could not be read as UTF-8 or Shift_JIS text.")) from error
    except csv.Error as error:
        raise FileUnreadable(
            _("The CSV file is malformed: %(error)s") % {"error": error}
        ) from error
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as error:
        if kind != "xlsx":
            raise
        raise FileUnreadable(_("The Excel file could not be opened.")) from error


def sheet_rows(
    data: bytes, kind: str, *, all_sheets: bool = False
) -> Iterator[tuple[str, Iterator[tuple[Any, ...]]]]:
    """Yield (sheet title, rows): one unnamed sheet for CSV, the first or every Excel sheet.

    Excel is streamed (read-only) so large files stay cheap; reading errors become
    FileUnreadable with a message the user can act on.
    """
    if kind == "csv":
        try:
            text = decode_csv(data)
        except UnicodeDecodeError as error:
            raise FileUnreadable(
                _("The file could not be read as UTF-8 or Shift_JIS text.")
            ) from error
        reader = csv.reader(io.StringIO(text, newline=""))
        yield "", _guarded((tuple(row) for row in reader), kind)
        return
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as error:
        raise FileUnreadable(_("The Excel file could not be opened.")) from error
    try:
        worksheets = workbook.worksheets if all_sheets else workbook.worksheets[:1]
        for sheet in worksheets:
            # Some writers store a wrong sheet size; read what is actually there.
            sheet.reset_dimensions()
            title = sheet.title if all_sheets and len(workbook.worksheets) > 1 else ""
            yield title, _guarded(sheet.iter_rows(values_only=True), kind)
    finally:
        workbook.close()
