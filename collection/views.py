"""Collection screens: statement import (upload, preview, confirm) and the statements list.
Views parse input, call one service or selector, and render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.uploads import ConfirmImportForm, UploadStash

from .models import BankEntry, StatementImport
from .services import statement_import
from .zengin import StatementError, parse_statement

PREVIEW_ROWS = 500
STASH = UploadStash("statement_imports")


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Statement file (全銀 format)"))


def _problems_page(request, form, error: StatementError) -> HttpResponse:
    return render(request, "collection/statement_import.html",
                  {"form": form, "problems": error.problems})  # fmt: skip


@permission_required("collection.add_statementimport", raise_exception=True)
def statement_import_view(request: HttpRequest) -> HttpResponse:
    """Upload a statement, see every entry (and which are new) before anything is stored."""
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request)
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            statement = parse_statement(data)
        except StatementError as error:
            return _problems_page(request, form, error)
        upload.seek(0)
        token = STASH.put(request, upload)
        known = set(
            BankEntry.objects.filter(
                fingerprint__in=[e.fingerprint for e in statement.entries]
            ).values_list("fingerprint", flat=True)
        )
        entries = statement.entries
        context = {
            "statement": statement,
            "entries": entries[:PREVIEW_ROWS],
            "known": known,
            "new_count": sum(1 for e in entries if e.fingerprint not in known),
            "deposit_total": sum(e.amount for e in entries if str(e.direction) == "in"),
            "form": ConfirmImportForm(initial={"token": token}),
            "file_name": upload.name,
            "preview_limit": PREVIEW_ROWS,
        }
        return render(request, "collection/statement_preview.html", context)
    return render(request, "collection/statement_import.html", {"form": form})


def _confirm(request: HttpRequest) -> HttpResponse:
    form = ConfirmImportForm(request.POST)
    found = STASH.get(request, form.cleaned_data["token"]) if form.is_valid() else None
    if found is None:
        messages.error(request, _("The uploaded file has expired; upload it again."))
        return redirect("collection:import")
    path, info = found
    try:
        result = statement_import(data=path.read_bytes(), file_name=info["filename"],
                                  actor=request.user)  # fmt: skip
    except StatementError as error:
        return _problems_page(request, StatementUploadForm(), error)
    STASH.discard(request, form.cleaned_data["token"])
    if result.already_imported:
        messages.warning(request, _("This file was imported before; nothing was added."))
    else:
        messages.success(request, _("%(added)s of %(total)s entries were added.")
                         % {"added": result.entries_added, "total": result.entries_in_file})  # fmt: skip
    return redirect("collection:statements")


@permission_required("collection.view_statementimport", raise_exception=True)
def statement_list_view(request: HttpRequest) -> HttpResponse:
    imports = StatementImport.objects.select_related("imported_by")
    page = Paginator(imports, 50).get_page(request.GET.get("page"))
    return render(request, "collection/statement_list.html", {"page_obj": page})
