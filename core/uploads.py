"""Spreadsheet uploads shared by every import: checks, cell reading, the preview stash.

An import is two requests: the upload is checked and previewed, then confirmed. Between
them the file waits in MEDIA_ROOT/imports/<uuid>; only the session that uploaded it can
name it, and abandoned uploads are removed after a day.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
