"""Customer import (upload, preview, confirm), the import template and the register export.

The uploaded file is kept between preview and confirmation under
``MEDIA_ROOT/imports/<uuid>``; the page carries only the uuid, and the session lists the
uuids this user uploaded, so nobody can confirm (or probe for) another user's file.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .exporting import XLSX_CONTENT_TYPE, export_customers_logged, import_template
from .importing import ImportPreview, ImportRejected, import_customers, parse_customers
from .selectors import customer_list

SESSION_KEY = "customer_imports"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
STALE_AFTER_SECONDS = 24 * 60 * 60  # an unconfirmed upload is removed after a day
PREVIEW_ROWS = 500  # rows shown in the table; every error is listed above it regardless
ALLOWED_SUFFIXES = (".xlsx", ".csv")


class ImportUploadForm(forms.Form):
    """The file to check, and whether rows with errors may be left out."""

    file = forms.FileField(label=gettext_lazy("File (.xlsx or .csv)"))
    valid_rows_only = forms.BooleanField(
        label=gettext_lazy("Import only the valid rows"),
        required=False,
        help_text=gettext_lazy(
            "Rows with errors are left out; otherwise one error stops the import."
        ),
    )

    def clean_file(self) -> UploadedFile:
        """Refuse other formats and oversized files before anything is stored."""
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise ValidationError(_("Upload an Excel (.xlsx) or CSV file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(size)s MB.")
                % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class ImportConfirmForm(forms.Form):
    """The uuid of the stashed upload (from the preview page) and the valid-rows-only choice."""

    token = forms.CharField(widget=forms.HiddenInput)
    valid_rows_only = forms.BooleanField(
        label=gettext_lazy("Import only the valid rows"), required=False
    )

    def clean_token(self) -> str:
        """Return the token as a normalised uuid hex, so it can only name a stashed file."""
        try:
            return uuid.UUID(self.cleaned_data["token"]).hex
        except ValueError:
            raise ValidationError(_("The uploaded file has expired; upload it again.")) from None


def _stash_dir() -> Path:
    """Return where uploads wait between preview and confirmation."""
    return Path(settings.MEDIA_ROOT) / "imports"


def _purge_stale() -> None:
    """Remove uploads nobody confirmed within a day (abandoned previews)."""
    directory = _stash_dir()
    if not directory.is_dir():
        return
    limit = time.time() - STALE_AFTER_SECONDS
    for path in directory.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _stash(request: HttpRequest, upload: UploadedFile) -> str:
    """Keep the upload until it is confirmed; return the uuid the preview page carries."""
    _purge_stale()
    token = uuid.uuid4().hex
    directory = _stash_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / token).open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    stashed = request.session.get(SESSION_KEY, {})
    stashed[token] = upload.name[:200]
    request.session[SESSION_KEY] = stashed
    return token


def _stashed(request: HttpRequest, token: str) -> tuple[Path, str] | None:
    """Return the stashed file and its original name, if this session uploaded it."""
    filename = request.session.get(SESSION_KEY, {}).get(token)
    path = _stash_dir() / token  # token is a normalised uuid hex: no path can be smuggled in
    if filename is None or not path.is_file():
        return None
    return path, filename


def _discard(request: HttpRequest, token: str) -> None:
    """Remove a confirmed upload and forget its uuid."""
    (_stash_dir() / token).unlink(missing_ok=True)
    stashed = request.session.get(SESSION_KEY, {})
    stashed.pop(token, None)
    request.session[SESSION_KEY] = stashed


def _preview_page(
    request: HttpRequest, preview: ImportPreview, token: str, valid_rows_only: bool
) -> HttpResponse:
    """Render the rows, errors and candidates with the confirm form."""
    confirm = ImportConfirmForm(initial={"token": token, "valid_rows_only": valid_rows_only})
    context = {
        "preview": preview,
        "form": confirm,
        "shown_rows": preview.rows[:PREVIEW_ROWS],
        "preview_limit": PREVIEW_ROWS,
        "can_import": not preview.file_errors and bool(preview.valid_rows),
    }
    return render(request, "customers/import_preview.html", context)


def _confirm(request: HttpRequest) -> HttpResponse:
    """Import the stashed file; on errors show the preview again, nothing written."""
    form = ImportConfirmForm(request.POST)
    stashed = _stashed(request, form.cleaned_data["token"]) if form.is_valid() else None
    if stashed is None:
        messages.error(request, _("The uploaded file has expired; upload it again."))
        return redirect("customers:import")
    token, valid_rows_only = form.cleaned_data["token"], form.cleaned_data["valid_rows_only"]
    path, filename = stashed
    try:
        with path.open("rb") as file:
            result = import_customers(
                source=file, filename=filename, actor=request.user, valid_rows_only=valid_rows_only
            )
    except ImportRejected as error:
        messages.error(request, str(error.message))
        return _preview_page(request, error.preview, token, valid_rows_only)
    _discard(request, token)
    messages.success(
        request,
        _("Imported %(count)s customers from %(filename)s.")
        % {"count": result.created, "filename": filename},
    )
    if result.skipped_rows:
        rows = ", ".join(str(row) for row in result.skipped_rows)
        messages.warning(request, _("Rows left out because of errors: %(rows)s") % {"rows": rows})
    return redirect("customers:list")


@permission_required("customers.add_customer", raise_exception=True)
def customer_import(request: HttpRequest) -> HttpResponse:
    """Upload a file and preview every row with its errors; confirm to register the customers."""
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token = _stash(request, upload)
        preview = parse_customers(upload, upload.name)
        return _preview_page(request, preview, token, form.cleaned_data["valid_rows_only"])
    return render(request, "customers/import.html", {"form": form})


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    """Return ``data`` as a download; the filename may be Japanese (RFC 6266)."""
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@permission_required("customers.view_customer", raise_exception=True)
def customer_import_template(request: HttpRequest) -> HttpResponse:
    """Download the empty import template (with an example sheet and column guide)."""
    return _xlsx_response(import_template(), "顧客取込テンプレート.xlsx")


@permission_required("customers.view_customer", raise_exception=True)
def customer_export(request: HttpRequest) -> HttpResponse:
    """Download the register as filtered on the list page; the export is audit-logged."""
    queryset = customer_list(user=request.user, filters=request.GET)
    data = export_customers_logged(actor=request.user, queryset=queryset, filters=request.GET)
    return _xlsx_response(data, f"顧客一覧_{timezone.localdate():%Y%m%d}.xlsx")
