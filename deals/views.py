"""Pipeline screens: kanban, list with saved filters, deal page, stage-appropriate edit,
receivables, pricing, moves with what is missing, the approval inbox and decision, tasks.
Views parse input, call one service or selector, and render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.downloads import xlsx_response
from core.exceptions import DomainError
from core.feedback import show_error
from core.htmx import is_htmx
from customers.models import Customer

from .choices import Stage
from .exceptions import DoubleSale, TransitionBlocked
from .facts import checklist
from .filters import DealFilter
from .forms import (
    DealCreateForm,
    DealStageForm,
    DecisionForm,
    PriceForm,
    ReceivableForm,
    SavedFilterForm,
    TransitionForm,
    rate_percent_initial,
)
from .models import ApprovalRequest, Deal, Receivable, SavedFilter
from .selectors import (
    approval_inbox,
    customer_deals,
    deal_get,
    deal_list,
    kanban,
    my_tasks,
    page_of,
    stalled_days,
)
from .services import (
    approval_decide,
    available_transitions,
    deal_check_clearance,
    deal_check_credit,
    deal_create,
    deal_price,
    deal_transition,
    deal_update,
    may_decide,
    receivable_add,
    receivable_remove,
    receivable_update,
)

PAGE_SIZE = 50


def _deal(number: str) -> Deal:
    return get_object_or_404(Deal.objects.select_related("client"), number=number)


# ----------------------------------------------------------------- board and list


@permission_required("deals.view_deal", raise_exception=True)
def kanban_view(request):
    """The pipeline by stage: count and amount per column, the longest-waiting cards."""
    columns = kanban(user=request.user, filters=request.GET)
    context = {"columns": columns, "filter": DealFilter(request.GET)}
    return render(request, "deals/kanban.html", context)


@permission_required("deals.view_deal", raise_exception=True)
def deal_list_view(request):
    queryset = deal_list(user=request.user, filters=request.GET)
    page = page_of(queryset, request.GET.get("page"), PAGE_SIZE)
    today = timezone.localdate()
    for deal in page:
        deal.days_in_stage = stalled_days(deal, today)
    context = {
        "filter": DealFilter(request.GET),
        "page_obj": page,
        "saved": SavedFilter.objects.filter(user=request.user),
        "save_form": SavedFilterForm(initial={"query": _list_query(request.GET)}),
    }
    if is_htmx(request):
        return render(request, "deals/partials/_deal_table.html", context)
    return render(request, "deals/deal_list.html", context)


def _list_query(params: QueryDict) -> str:
    kept = params.copy()
    kept.pop("page", None)
    return kept.urlencode()


@require_POST
@permission_required("deals.add_savedfilter", raise_exception=True)
def saved_filter_save_view(request):
    form = SavedFilterForm(request.POST)
    if form.is_valid():
        SavedFilter.objects.update_or_create(
            user=request.user, name=form.cleaned_data["name"],
            defaults={"query": form.cleaned_data["query"]},
        )  # fmt: skip
        messages.success(request, _("The filter was saved."))
    return redirect(f"{reverse('deals:list')}?{form.data.get('query', '')}")


@require_POST
@permission_required("deals.delete_savedfilter", raise_exception=True)
def saved_filter_delete_view(request, pk: int):
    SavedFilter.objects.filter(user=request.user, pk=pk).delete()
    return redirect("deals:list")


@permission_required("deals.export_deal", raise_exception=True)
def export_view(request):
    """Download the 案件台帳 of the filtered list (every export is logged)."""
    from .exporting import export_deals_logged

    queryset = deal_list(user=request.user, filters=request.GET)
    data = export_deals_logged(actor=request.user, queryset=queryset, filters=request.GET)
    return xlsx_response(data, f"deal-register-{timezone.localtime():%Y%m%d-%H%M}.xlsx")


@permission_required("deals.view_deal", raise_exception=True)
def tasks_view(request):
    """My next actions, the most urgent first."""
    deals = list(my_tasks(user=request.user)[:200])
    return render(request, "deals/tasks.html", {"deals": deals, "today": timezone.localdate()})


# ------------------------------------------------------------------------ a deal


@permission_required("deals.add_deal", raise_exception=True)
def deal_create_view(request):
    initial = {"client": request.GET.get("client"), "next_action_owner": request.user}
    form = DealCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            deal = deal_create(actor=request.user, **data)
        except (ValidationError, DomainError) as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("Deal %(number)s was opened.") % {"number": deal.number})
            return redirect(deal)
    return render(request, "deals/deal_form.html", {"form": form, "title": _("New deal")})


@permission_required("deals.view_deal", raise_exception=True)
def deal_detail_view(request, number: str):
    """The deal page: checklist of the stage, funding, receivables, compliance and credit,
    approvals and the timeline."""
    try:
        deal = deal_get(number=number)
    except Deal.DoesNotExist:
        raise Http404 from None
    checks = checklist(deal)
    context = {
        "deal": deal,
        "checks": checks,
        "moves": available_transitions(deal, request.user),
        "move_form": TransitionForm(),
        "days_in_stage": stalled_days(deal),
        "pending": next((a for a in deal.approvals.all() if a.status == "pending"), None),
        "stages": _progress(deal),
    }
    return render(request, "deals/deal_detail.html", context)


def _progress(deal: Deal) -> list[dict]:
    from .choices import PIPELINE

    reached = deal.stage in PIPELINE and PIPELINE.index(deal.stage)
    return [
        {"stage": stage, "label": stage.label, "done": deal.stage in PIPELINE and i < reached,
         "current": stage == deal.stage}
        for i, stage in enumerate(PIPELINE)
    ]  # fmt: skip


@permission_required("deals.change_deal", raise_exception=True)
def deal_edit_view(request, number: str):
    """Only the fields the deal's current and next stage need."""
    deal = _deal(number)
    form = DealStageForm(request.POST or None, instance=deal)
    if request.method == "POST" and form.is_valid():
        try:
            deal_update(deal=deal, actor=request.user, **form.changes())
        except (ValidationError, DomainError) as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("The deal was updated."))
            return redirect(deal)
    title = _("Edit %(number)s — %(stage)s") % {"number": deal.number,
                                                 "stage": Stage(deal.stage).label}  # fmt: skip
    return render(request, "deals/deal_form.html", {"form": form, "deal": deal, "title": title})


@permission_required("deals.change_deal", raise_exception=True)
def price_view(request, number: str):
    deal = _deal(number)
    form = PriceForm(
        request.POST or None,
        initial={"fee_rate": rate_percent_initial(deal.fee_rate),
                 "override_reason": deal.advance_override_reason},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            deal_price(deal=deal, actor=request.user, **form.rates())
        except (ValidationError, DomainError) as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("The deal was priced."))
            return redirect(deal)
    return render(request, "deals/price_form.html", {"form": form, "deal": deal})


@require_POST
@permission_required("deals.change_deal", raise_exception=True)
def check_view(request, number: str, what: str):
    deal = _deal(number)
    service = {"credit": deal_check_credit, "clearance": deal_check_clearance}.get(what)
    if service is None:
        raise Http404
    try:
        service(deal=deal, actor=request.user)
    except (ValidationError, DomainError) as error:
        show_error(request, error)
    else:
        messages.success(request, _("The check was recorded on the deal."))
    return redirect(deal)


@permission_required("deals.add_receivable", raise_exception=True)
def receivable_create_view(request, number: str):
    deal = _deal(number)
    form = ReceivableForm(request.POST or None)
    other_deal = None
    if request.method == "POST" and form.is_valid():
        try:
            receivable_add(deal=deal, actor=request.user, **form.cleaned_data)
        except DoubleSale as error:
            form.add_error("invoice_number", error.message)
            other_deal = error.other_deal
        except (ValidationError, DomainError) as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("The receivable was added."))
            return redirect(deal)
    return render(request, "deals/receivable_form.html",
                  {"form": form, "deal": deal, "other_deal": other_deal})  # fmt: skip


@permission_required("deals.change_receivable", raise_exception=True)
def receivable_edit_view(request, number: str, pk: int):
    deal = _deal(number)
    receivable = get_object_or_404(Receivable, pk=pk, deal=deal)
    form = ReceivableForm(request.POST or None, instance=receivable)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            receivable_update(receivable=receivable, actor=request.user,
                              **changed)  # fmt: skip
        except DomainError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("The receivable was updated."))
            return redirect(deal)
    return render(request, "deals/receivable_form.html",
                  {"form": form, "deal": deal, "receivable": receivable})  # fmt: skip


@require_POST
@permission_required("deals.delete_receivable", raise_exception=True)
def receivable_delete_view(request, number: str, pk: int):
    deal = _deal(number)
    receivable = get_object_or_404(Receivable, pk=pk, deal=deal)
    try:
        receivable_remove(receivable=receivable, actor=request.user)
    except (ValidationError, DomainError) as error:
        show_error(request, error)
    return redirect(deal)


@permission_required("deals.transition_deal", raise_exception=True)
def transition_view(request, number: str):
    """GET (htmx): what a move needs; POST: make the move or show exactly what is missing."""
    deal = _deal(number)
    if request.method == "GET":
        to = request.GET.get("to", "")
        move = next((m for m in available_transitions(deal, request.user) if m["to"] == to), None)
        return render(request, "deals/partials/_move.html",
                      {"deal": deal, "move": move, "move_form": TransitionForm(initial={"to": to})})  # fmt: skip
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            deal_transition(deal=deal, actor=request.user, to=form.cleaned_data["to"],
                            comment=form.cleaned_data["comment"],
                            lost_reasons=form.reason_codes())  # fmt: skip
        except TransitionBlocked as error:
            messages.error(request, error.message)
        except (ValidationError, DomainError) as error:
            show_error(request, error)
        else:
            messages.success(request, _("The deal moved to %(stage)s.")
                             % {"stage": Stage(form.cleaned_data["to"]).label})  # fmt: skip
    else:
        messages.error(request, _("Choose where to move the deal."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = deal.get_absolute_url()
    return redirect(target or deal.get_absolute_url())


# ------------------------------------------------------------------- approvals


@permission_required("deals.decide_approval", raise_exception=True)
def approval_inbox_view(request):
    """稟議 this approver may decide: within their level, never their own deals."""
    return render(request, "deals/approval_inbox.html",
                  {"approvals": list(approval_inbox(user=request.user)[:200])})  # fmt: skip


@permission_required("deals.view_approvalrequest", raise_exception=True)
def approval_detail_view(request, pk: int):
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("deal", "deal__client", "deal__owner",
                                               "requested_by", "decided_by", "on_behalf_of"),
        pk=pk,
    )  # fmt: skip
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("deals.decide_approval"):
            return render(request, "403.html", status=403)
        if form.is_valid():
            data = form.cleaned_data
            try:
                approval_decide(approval=approval, actor=request.user, **data)
            except (ValidationError, DomainError) as error:
                show_error(request, error, form)
            else:
                messages.success(request, _("The decision was recorded."))
                return redirect("deals:approvals")
    context = {"approval": approval, "form": form, "summary": approval.summary,
               "can_decide": may_decide(approval, request.user)
               and approval.status == "pending"}  # fmt: skip
    return render(request, "deals/approval_detail.html", context)


# --------------------------------------------------------- the customer's deals


@permission_required("deals.view_deal", raise_exception=True)
def customer_panel_view(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    deals = list(customer_deals(customer_id=pk)[:20])
    new_url = f"{reverse('deals:create')}?{urlencode({'client': pk})}" if customer.is_client else ""
    return render(request, "deals/partials/_customer_panel.html",
                  {"customer": customer, "deals": deals, "new_url": new_url})  # fmt: skip
