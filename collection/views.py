"""Collection screens: statement import (upload, preview, confirm) and the statements list.
Views parse input, call one service or selector, and render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.feedback import show_error
from core.uploads import ConfirmImportForm, UploadStash
from deals.services.records import invoice_key

from .bank_csv import parse_bank_csv
from .models import (
    BankEntry,
    CollectionStatus,
    CsvMapping,
    DunningLog,
    ExpectedCollection,
    RepurchaseRequest,
    ReserveSettlement,
    StatementImport,
)
from .selectors import (
    bucket_totals,
    overdue_list,
    receivable_ledger,
    repurchases,
    reserve_settlements,
)
from .services import (
    allocate,
    dunning_record,
    entry_to_suspense,
    repurchase_settle,
    repurchase_waive,
    reserve_settlement_pay,
    statement_import,
)
from .services.batch import allocate_many
from .zengin import StatementError, parse_statement

PREVIEW_ROWS = 500
STASH = UploadStash("statement_imports")


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Statement file"))
    mapping = forms.ModelChoiceField(
        label=gettext_lazy("Layout"), queryset=CsvMapping.objects.all(), required=False,
        empty_label=gettext_lazy("全銀 format (入出金取引明細 / 振込入金通知)"),
        help_text=gettext_lazy("For a bank's own CSV, choose the layout saved for that account."),
    )  # fmt: skip


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
        mapping = form.cleaned_data.get("mapping")
        data = upload.read()
        try:
            statement = parse_bank_csv(data, mapping) if mapping else parse_statement(data)
        except StatementError as error:
            return _problems_page(request, form, error)
        upload.seek(0)
        token = STASH.put(request, upload, {"mapping": mapping.pk if mapping else None})
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
    mapping = (
        CsvMapping.objects.filter(pk=info.get("mapping")).first() if info.get("mapping") else None
    )
    try:
        result = statement_import(data=path.read_bytes(), file_name=info["filename"],
                                  actor=request.user, mapping=mapping)  # fmt: skip
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


# ------------------------------------------------------------- ledger and overdue


class DunningForm(forms.ModelForm):
    class Meta:
        model = DunningLog
        fields = ["contacted_on", "method", "person", "agreed", "promise_date", "promise_amount"]
        widgets = {
            "contacted_on": forms.DateInput(attrs={"type": "date"}),
            "promise_date": forms.DateInput(attrs={"type": "date"}),
            "agreed": forms.Textarea(attrs={"rows": 2}),
        }


@permission_required("collection.view_expectedcollection", raise_exception=True)
def ledger_view(request: HttpRequest) -> HttpResponse:
    """債権台帳: every expected collection with its status, derived from allocations."""
    rows = receivable_ledger(request.GET)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "collection/ledger.html",
                  {"page_obj": page, "statuses": CollectionStatus.choices})  # fmt: skip


@permission_required("collection.view_expectedcollection", raise_exception=True)
def overdue_view(request: HttpRequest) -> HttpResponse:
    """Overdue by bucket (bank business days), with the dunning history and a form to log a
    call or a promise to pay."""
    today = timezone.localdate()
    bucket = request.GET.get("bucket") or None
    rows = list(overdue_list(today, bucket)[:200])
    return render(request, "collection/overdue.html", {
        "rows": rows, "buckets": bucket_totals(today), "bucket": bucket,
        "form": DunningForm(initial={"contacted_on": today}), "today": today,
    })  # fmt: skip


@require_POST
@permission_required("collection.add_dunninglog", raise_exception=True)
def dunning_view(request: HttpRequest, pk: int) -> HttpResponse:
    expected = get_object_or_404(ExpectedCollection, pk=pk)
    form = DunningForm(request.POST)
    if form.is_valid():
        try:
            dunning_record(expected=expected, actor=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as error:
            show_error(request, error)
        else:
            messages.success(request, _("The contact was logged."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(request.POST.get("next") or "collection:overdue")


@permission_required("collection.view_repurchaserequest", raise_exception=True)
def repurchase_list_view(request: HttpRequest) -> HttpResponse:
    rows = repurchases(request.GET.get("status") or None)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "collection/repurchases.html",
                  {"page_obj": page, "today": timezone.localdate()})  # fmt: skip


@require_POST
@permission_required("collection.change_repurchaserequest", raise_exception=True)
def repurchase_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    repurchase = get_object_or_404(RepurchaseRequest, pk=pk)
    try:
        if request.POST.get("action") == "waive":
            repurchase_waive(request=repurchase, actor=request.user,
                             reason=request.POST.get("reason", ""))  # fmt: skip
        else:
            settled_on = _date(request.POST.get("settled_on")) or timezone.localdate()
            repurchase_settle(request=repurchase, actor=request.user, settled_on=settled_on)
    except (ValidationError, DomainError) as error:
        show_error(request, error)
    else:
        messages.success(request, _("The repurchase was updated."))
    return redirect("collection:repurchases")


@permission_required("collection.view_reservesettlement", raise_exception=True)
def reserve_list_view(request: HttpRequest) -> HttpResponse:
    rows = reserve_settlements(unpaid_only=request.GET.get("unpaid") == "1")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "collection/reserves.html",
                  {"page_obj": page, "today": timezone.localdate()})  # fmt: skip


@require_POST
@permission_required("collection.change_reservesettlement", raise_exception=True)
def reserve_pay_view(request: HttpRequest, pk: int) -> HttpResponse:
    settlement = get_object_or_404(ReserveSettlement, pk=pk)
    try:
        reserve_settlement_pay(settlement=settlement, actor=request.user,
                               paid_on=_date(request.POST.get("paid_on")) or timezone.localdate())  # fmt: skip
    except (ValidationError, DomainError) as error:
        show_error(request, error)
    else:
        messages.success(request, _("The reserve was recorded as returned."))
    return redirect("collection:reserves")


def _date(value: str | None):
    from datetime import date

    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


# ------------------------------------------------------------- reconciliation queue


@permission_required("collection.view_bankentry", raise_exception=True)
def queue_view(request: HttpRequest) -> HttpResponse:
    """照合中: deposits waiting for a person, each with ranked suggestions and their reasons."""
    from customers.models import Customer

    from .reconcile import queue, suggestions_for_entries

    page = Paginator(queue(), 25).get_page(request.GET.get("page"))
    entries = list(page.object_list)
    suggestions = suggestions_for_entries(entries)
    expected_ids = {line.expected_id for found in suggestions.values() for s in found
                    for line in s.lines}  # fmt: skip
    expected = ExpectedCollection.objects.select_related("receivable", "deal").in_bulk(
        list(expected_ids)
    )
    payers = Customer.objects.in_bulk(
        list({s.payer_id for found in suggestions.values() for s in found})
    )
    rows = [
        {"entry": entry, "remaining": entry.amount - entry.applied,
         "suggestions": [{"s": s, "payer": payers.get(s.payer_id),
                          "lines": [(expected.get(line.expected_id), line) for line in s.lines]}
                         for s in suggestions.get(entry.pk, [])]}
        for entry in entries
    ]  # fmt: skip
    return render(request, "collection/queue.html", {"page_obj": page, "rows": rows})


@require_POST
@permission_required("collection.add_allocation", raise_exception=True)
def queue_action_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept a suggestion, apply part of the entry to one invoice by hand, or park the entry
    in suspense."""
    from .reconcile import plan_of, suggestions_for

    entry = get_object_or_404(BankEntry, pk=pk)
    action = request.POST.get("action")
    try:
        if action == "suspense":
            entry_to_suspense(entry=entry, actor=request.user)
        elif action == "manual":
            target = ExpectedCollection.objects.get(
                receivable__invoice_key=invoice_key(request.POST.get("invoice", "")),
                deal__number=request.POST.get("deal", "").strip(),
            )
            allocate(entry=entry, expected=target, amount=int(request.POST.get("amount") or 0),
                     fee=int(request.POST.get("fee") or 0), actor=request.user,
                     reasons=["manual"])  # fmt: skip
        else:
            rank = int(request.POST.get("rank") or 1)
            chosen = next(s for s in suggestions_for(entry) if s.rank == rank)
            # The suggestion's lines as one plan: all applied, or the refusal shown.
            allocate_many([plan_of(entry.pk, chosen)], actor=request.user, automatic=False,
                          strict=True)  # fmt: skip
    except (ValidationError, DomainError) as error:
        show_error(request, error)
    except (ExpectedCollection.DoesNotExist, StopIteration, ValueError):
        messages.error(request, _("That invoice or suggestion was not found."))
    else:
        messages.success(request, _("The entry was updated."))
    return redirect(request.POST.get("next") or "collection:queue")


@require_POST
@permission_required("collection.add_allocation", raise_exception=True)
def reconcile_run_view(request: HttpRequest) -> HttpResponse:
    """Start automatic matching over every waiting deposit, off the web request (a book of
    thousands of entries takes minutes)."""
    from .tasks import reconcile_task

    user_id = request.user.pk
    transaction.on_commit(lambda: reconcile_task.delay(user_id))
    messages.success(request, _("Automatic matching has started; refresh the queue shortly."))
    return redirect("collection:queue")
