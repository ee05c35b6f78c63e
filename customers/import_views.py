"""Customer import (upload, preview, confirm), the import template and the register export.

The uploaded file is kept between preview and confirmation under
``MEDIA_ROOT/imports/<uuid>``; the page carries only the uuid, and the session lists the
uuids this user uploaded, so nobody can confirm (or probe for) another user's file.
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.downloads import xlsx_response
from core.uploads import ConfirmImportForm, UploadStash, check_spreadsheet

from .exporting import export_customers_logged, import_template
from .importing import ImportPreview, ImportRejected, import_customers, parse_customers
from .selectors import customer_list

SESSION_KEY = "customer_imports"
PREVIEW_ROWS = 500  # rows shown in the table; every error is listed above it regardless


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
        return check_spreadsheet(self.cleaned_data["file"])


ImportConfirmForm = ConfirmImportForm


STASH = UploadStash(SESSION_KEY)


def _stash(request: HttpRequest, upload: UploadedFile) -> str:
    return STASH.put(request, upload)


def _stashed(request: HttpRequest, token: str) -> tuple[Path, str] | None:
    """Return the stashed file and its original name, if this session uploaded it."""
    found = STASH.get(request, token)
    return (found[0], found[1]["filename"]) if found else None


def _discard(request: HttpRequest, token: str) -> None:
    STASH.discard(request, token)


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


@permission_required("customers.view_customer", raise_exception=True)
def customer_import_template(request: HttpRequest) -> HttpResponse:
    """Download the empty import template (with an example sheet and column guide)."""
    return xlsx_response(import_template(), "顧客取込テンプレート.xlsx")


@permission_required("customers.view_customer", raise_exception=True)
def customer_export(request: HttpRequest) -> HttpResponse:
    """Download the register as filtered on the list page; the export is audit-logged."""
    queryset = customer_list(user=request.user, filters=request.GET)
    data = export_customers_logged(actor=request.user, queryset=queryset, filters=request.GET)
    return xlsx_response(data, f"顧客一覧_{timezone.localdate():%Y%m%d}.xlsx")
