"""Watchlist import (upload, preview, column mapping, confirm) and the internal list template.

The uploaded file waits between preview and confirmation under ``MEDIA_ROOT/imports/<uuid>``
(as the customer import keeps its uploads); the page carries only the uuid, and the session
maps the uuids this user uploaded to the file name, the watchlist, the format and the
complete-list choice, so nobody can confirm (or probe for) another user's file, nor switch
the list between preview and confirmation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.downloads import xlsx_response
from core.uploads import UploadStash, check_spreadsheet, clean_token

from .choices import EntryType
from .models import Watchlist
from .watchlist_import import (
    COLUMNS,
    FIELD_HEADERS,
    FORMAT_CHOICES,
    FORMAT_CUSTOM,
    FORMAT_INTERNAL,
    FORMAT_MOF,
    MAPPABLE_FIELDS,
    WatchlistImportRejected,
    WatchlistPreview,
    file_headers,
    import_watchlist,
    internal_template,
    parse_watchlist,
)

SESSION_KEY = "watchlist_imports"
PREVIEW_ROWS = 500  # rows shown in the table; every error is listed above it regardless
DELISTED_SHOWN = 200


class WatchlistUploadForm(forms.Form):
    """The list to update, the file and its layout, and how to treat it."""

    watchlist = forms.ModelChoiceField(
        label=gettext_lazy("Watchlist"), queryset=Watchlist.objects.all(), empty_label=None
    )
    file_format = forms.ChoiceField(
        label=gettext_lazy("File format"), choices=FORMAT_CHOICES, initial=FORMAT_INTERNAL
    )
    file = forms.FileField(label=gettext_lazy("File (.xlsx or .csv)"))
    complete_list = forms.BooleanField(
        label=gettext_lazy("This file is the complete list"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "Entries of the list that are not in the file are marked as delisted (never deleted)."
        ),
    )
    valid_rows_only = forms.BooleanField(
        label=gettext_lazy("Import only the valid rows"),
        required=False,
        help_text=gettext_lazy(
            "Rows with errors are left out; otherwise one error stops the import."
        ),
    )

    def clean_file(self) -> UploadedFile:
        return check_spreadsheet(self.cleaned_data["file"])


class WatchlistConfirmForm(forms.Form):
    """The uuid of the stashed upload, the valid-rows-only choice and the mapping previewed."""

    token = forms.CharField(widget=forms.HiddenInput)
    valid_rows_only = forms.BooleanField(
        label=gettext_lazy("Import only the valid rows"), required=False
    )
    previewed_mapping = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_token(self) -> str:
        return clean_token(self.cleaned_data["token"])


class ColumnMappingForm(forms.Form):
    """Which header of the file fills each entry field (custom layout)."""

    prefix = "map"

    def __init__(self, *args: Any, headers: list[str], **kwargs: Any) -> None:
        """Offer the file's own headers for every field; only the name is required."""
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((header, header) for header in dict.fromkeys(headers))]
        for name in MAPPABLE_FIELDS:
            self.fields[name] = forms.ChoiceField(
                label=FIELD_HEADERS[name], choices=choices, required=name == "name"
            )
        self.fields["default_entry_type"] = forms.ChoiceField(
            label=gettext_lazy("Type when 種別 is not mapped or blank"),
            choices=EntryType.choices,
            initial=EntryType.INDIVIDUAL,
        )

    def mapping(self) -> dict[str, str]:
        """Return {field: header} of the mapped fields, plus the default type."""
        return {name: value for name, value in self.cleaned_data.items() if value}


STASH = UploadStash(SESSION_KEY)


def _stash(request: HttpRequest, upload: UploadedFile, choices: dict[str, Any]) -> str:
    return STASH.put(request, upload, choices)


def _stashed(request: HttpRequest, token: str) -> tuple[Path, dict[str, Any]] | None:
    return STASH.get(request, token)


def _discard(request: HttpRequest, token: str) -> None:
    STASH.discard(request, token)


def _parse(
    path: Path, info: dict[str, Any], watchlist: Watchlist, mapping: dict[str, str] | None
) -> WatchlistPreview:
    with path.open("rb") as file:
        return parse_watchlist(
            file,
            info["filename"],
            file_format=info["format"],
            mapping=mapping,
            watchlist=watchlist,
            complete_list=info["complete_list"],
        )


def _mapping_json(mapping: dict[str, str]) -> str:
    return json.dumps(mapping, ensure_ascii=False, sort_keys=True)


def _preview_page(
    request: HttpRequest,
    preview: WatchlistPreview,
    *,
    token: str,
    info: dict[str, Any],
    watchlist: Watchlist,
    valid_rows_only: bool,
    mapping_form: ColumnMappingForm | None = None,
) -> HttpResponse:
    """Render the counts, errors, rows and delistings with the confirm (and mapping) form."""
    confirm = WatchlistConfirmForm(
        initial={
            "token": token,
            "valid_rows_only": valid_rows_only,
            "previewed_mapping": _mapping_json(preview.mapping),
        }
    )
    if info["format"] == FORMAT_CUSTOM and mapping_form is None:
        initial = {"default_entry_type": EntryType.INDIVIDUAL, **preview.mapping}
        mapping_form = ColumnMappingForm(headers=preview.headers, initial=initial)
    plan = preview.plan
    context = {
        "preview": preview,
        "plan": plan,
        "form": confirm,
        "mapping_form": mapping_form,
        "watchlist": watchlist,
        "format_label": dict(FORMAT_CHOICES).get(info["format"], info["format"]),
        "complete_list": info["complete_list"],
        "shown_rows": preview.rows[:PREVIEW_ROWS],
        "preview_limit": PREVIEW_ROWS,
        "delisted_shown": plan.delisted[:DELISTED_SHOWN] if plan else [],
        "field_headers": list(FIELD_HEADERS.values()),
        "can_import": not preview.file_errors and bool(preview.entry_rows),
    }
    return render(request, "compliance/watchlist_import_preview.html", context)


def _upload(request: HttpRequest) -> HttpResponse:
    """Check the uploaded file and show its preview; nothing is written."""
    form = WatchlistUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "compliance/watchlist_import.html", _upload_context(form))
    upload, watchlist = form.cleaned_data["file"], form.cleaned_data["watchlist"]
    info = {
        "watchlist": watchlist.pk,
        "format": form.cleaned_data["file_format"],
        "complete_list": form.cleaned_data["complete_list"],
    }
    token = _stash(request, upload, info)
    path, info = _stashed(request, token)
    preview = _parse(path, info, watchlist, None)
    return _preview_page(
        request,
        preview,
        token=token,
        info=info,
        watchlist=watchlist,
        valid_rows_only=form.cleaned_data["valid_rows_only"],
    )


def _after_upload(request: HttpRequest) -> HttpResponse:
    """Apply a column mapping (custom layout) or confirm the import of the stashed file."""
    form = WatchlistConfirmForm(request.POST)
    stashed = _stashed(request, form.cleaned_data["token"]) if form.is_valid() else None
    watchlist = Watchlist.objects.filter(pk=stashed[1]["watchlist"]).first() if stashed else None
    if stashed is None or watchlist is None:
        messages.error(request, _("The uploaded file has expired; upload it again."))
        return redirect("compliance:watchlist_import")
    path, info = stashed
    token, valid_rows_only = form.cleaned_data["token"], form.cleaned_data["valid_rows_only"]
    page = {
        "token": token,
        "info": info,
        "watchlist": watchlist,
        "valid_rows_only": valid_rows_only,
    }

    mapping: dict[str, str] | None = None
    if info["format"] == FORMAT_CUSTOM:
        with path.open("rb") as file:
            headers = file_headers(file, info["filename"])
        mapping_form = ColumnMappingForm(request.POST, headers=headers)
        if not mapping_form.is_valid():
            preview = _parse(path, info, watchlist, None)
            return _preview_page(request, preview, mapping_form=mapping_form, **page)
        mapping = mapping_form.mapping()
        changed = _mapping_json(mapping) != form.cleaned_data["previewed_mapping"]
        if request.POST.get("action") == "remap" or changed:
            if changed and request.POST.get("action") != "remap":
                messages.warning(
                    request, _("The column mapping changed: check the preview again, then import.")
                )
            preview = _parse(path, info, watchlist, mapping)
            return _preview_page(request, preview, mapping_form=mapping_form, **page)

    try:
        with path.open("rb") as file:
            record = import_watchlist(
                watchlist=watchlist,
                source=file,
                actor=request.user,
                file_format=info["format"],
                filename=info["filename"],
                complete_list=info["complete_list"],
                valid_rows_only=valid_rows_only,
                mapping=mapping,
            )
    except WatchlistImportRejected as error:
        messages.error(request, str(error.message))
        preview = error.preview or _parse(path, info, watchlist, mapping)
        return _preview_page(request, preview, **page)
    _discard(request, token)
    messages.success(
        request,
        _(
            "%(list)s is now version %(version)s: %(added)s added, %(updated)s updated, "
            "%(delisted)s delisted."
        )
        % {
            "list": watchlist.name,
            "version": record.version,
            "added": record.rows_added,
            "updated": record.rows_updated,
            "delisted": record.rows_delisted,
        },
    )
    if record.skipped_rows:
        messages.warning(
            request,
            _("Rows left out because of errors: %(rows)s")
            % {"rows": ", ".join(record.skipped_rows)},
        )
    if record.delisting_skipped:
        messages.warning(
            request,
            _(
                "Nothing was delisted because rows were left out; import the corrected complete list to delist."
            ),
        )
    return redirect("compliance:watchlists")


def _upload_context(form: WatchlistUploadForm) -> dict[str, Any]:
    return {
        "form": form,
        "columns": COLUMNS,
    }


@permission_required("compliance.add_watchlistentry", raise_exception=True)
def watchlist_import(request: HttpRequest) -> HttpResponse:
    """Upload a list file, preview every row and what changes; confirm to import it."""
    if request.method == "POST" and "token" in request.POST:
        return _after_upload(request)
    if request.method == "POST":
        return _upload(request)
    initial: dict[str, Any] = {}
    wanted = request.GET.get("watchlist", "")
    watchlist = Watchlist.objects.filter(pk=wanted).first() if wanted.isdigit() else None
    if watchlist is not None:
        initial = {
            "watchlist": watchlist,
            "file_format": FORMAT_MOF if watchlist.kind == "sanctions" else FORMAT_INTERNAL,
        }
    form = WatchlistUploadForm(initial=initial)
    return render(request, "compliance/watchlist_import.html", _upload_context(form))


@permission_required("compliance.add_watchlistentry", raise_exception=True)
def watchlist_template(request: HttpRequest) -> HttpResponse:
    """Download the empty internal list template (with examples and a column guide)."""
    return xlsx_response(internal_template(), "反社リスト取込テンプレート.xlsx")
