"""Credit screens: funding calculator, counterparty list and credit page, limit proposals and
decisions, ratings, the monthly credit management sheet. Views parse, call one service or
selector, and render."""

from __future__ import annotations

from calendar import monthrange
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.audit import audit_log
from core.downloads import xlsx_response
from core.exceptions import DomainError
from core.feedback import show_error
from core.htmx import is_htmx
from customers.models import Customer

from .calculations import explain_advance_rate, funding_breakdown, recommended_limit
from .checks import book_total
from .filters import CounterpartyFilter
from .forms import (
    DecisionForm,
    FundingCalculatorForm,
    LimitCheckForm,
    LimitProposalForm,
    RatingForm,
    RecommendationForm,
    percent_to_rate,
)
from .models import CreditLimit
from .selectors import (
    active_policy,
    counterparty_credit,
    counterparty_list,
    ledger_entries,
    pending_limits,
)
from .services import (
    check_limit,
    limit_approve,
    limit_propose,
    limit_reinstate,
    limit_reject,
    rating_record,
)

PAGE_SIZE = 50


# ---------------------------------------------------------------- funding calculator


def _calculate(form: FundingCalculatorForm) -> dict:
    data = form.cleaned_data
    policy = active_policy()
    explanation = explain_advance_rate(
        scheme=data["scheme"],
        registered=data["registered"],
        debtor_rating=data["debtor_rating"],
        client_size=data["client_size"],
        prior_deals=data["prior_deals"],
        policy=policy.as_policy(),
    )
    override = percent_to_rate(data.get("advance_override"))
    costs = form.costs()
    breakdown = funding_breakdown(
        data["face_value"],
        override if override is not None else explanation.rate,
        percent_to_rate(data["fee_rate"]),
        sum(amount for _label, amount in costs),
    )
    return {"explanation": explanation, "breakdown": breakdown, "costs": costs,
            "override": override, "policy": policy}  # fmt: skip


@permission_required("credit.view_advanceratepolicy", raise_exception=True)
def calculator_view(request):
    """Recalculates as the user types (htmx posts the form on every change)."""
    if "face_value" in request.GET:
        params = request.GET
    else:
        fields = FundingCalculatorForm.base_fields.items()
        params = {name: field.initial for name, field in fields if field.initial is not None}
    form = FundingCalculatorForm(params)
    result = _calculate(form) if form.is_valid() else None
    context = {"form": form, "result": result}
    if is_htmx(request):
        return render(request, "credit/partials/_funding_result.html", context)
    return render(request, "credit/calculator.html", context)


# ------------------------------------------------------------------ counterparties


@permission_required("credit.view_creditlimit", raise_exception=True)
def counterparty_list_view(request):
    queryset = counterparty_list(filters=request.GET)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filter": CounterpartyFilter(request.GET), "page_obj": page}
    if is_htmx(request):
        return render(request, "credit/partials/_counterparty_table.html", context)
    return render(request, "credit/counterparty_list.html", context)


@permission_required("credit.view_creditlimit", raise_exception=True)
def counterparty_view(request, pk: int):
    """The counterparty credit page: rating, limits, exposure, group, concentration, ledger."""
    customer = get_object_or_404(Customer, pk=pk)
    credit = counterparty_credit(customer)
    ledger = Paginator(ledger_entries(customer), 25).get_page(request.GET.get("page"))
    context = {"customer": customer, "credit": credit, "ledger": ledger,
               "check_form": LimitCheckForm()}  # fmt: skip
    if is_htmx(request) and request.GET.get("page"):
        return render(request, "credit/partials/_ledger.html", context)
    return render(request, "credit/counterparty.html", context)


@permission_required("credit.view_creditlimit", raise_exception=True)
def panel_view(request, pk: int):
    """The credit summary on the customer page (customers does not import credit)."""
    customer = get_object_or_404(Customer, pk=pk)
    return render(
        request,
        "credit/partials/_panel.html",
        {"customer": customer, "credit": counterparty_credit(customer)},
    )


@permission_required("credit.view_creditlimit", raise_exception=True)
def check_view(request, pk: int):
    """Answer "do we have room" for an amount, with each limit it touches."""
    customer = get_object_or_404(Customer, pk=pk)
    form = LimitCheckForm(request.GET)
    check = None
    if form.is_valid():
        check = check_limit(customer, form.cleaned_data["amount"], form.cleaned_data["debtor"])
    return render(request, "credit/partials/_check_result.html", {"form": form, "check": check})


# ------------------------------------------------------------------------ limits


@permission_required("credit.add_creditlimit", raise_exception=True)
def limit_propose_view(request, pk: int):
    """Propose a limit next to the recommended one, which says which method bound it."""
    customer = get_object_or_404(Customer, pk=pk)
    today = timezone.localdate()
    prefix = "rec"
    recommendation_form = RecommendationForm(
        request.POST or None,
        prefix=prefix,
        initial={
            "rating": _initial_grade(customer),
            "net_assets": customer.net_assets,
            "annual_sales": customer.annual_sales,
        },
    )
    form = LimitProposalForm(request.POST or None, customer=customer, today=today)
    recommendation = _recommend(recommendation_form)
    if is_htmx(request):
        return render(request, "credit/partials/_recommendation.html",
                      {"recommendation": recommendation, "rec_form": recommendation_form})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            limit_propose(
                counterparty=customer,
                kind=data["kind"],
                amount=data["amount"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                review_date=data["review_date"],
                rationale=data["rationale"],
                max_share=percent_to_rate(data.get("max_share")),
                recommendation=recommendation,
                actor=request.user,
            )
        except (ValidationError, DomainError) as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("The limit was proposed; it applies once approved."))
            return redirect("credit:counterparty", pk=customer.pk)
    return render(request, "credit/limit_form.html", {
        "customer": customer, "form": form, "rec_form": recommendation_form,
        "recommendation": recommendation,
    })  # fmt: skip


def _initial_grade(customer: Customer) -> str:
    rating = customer.ratings.order_by("-rated_at", "-pk").first()
    return rating.grade if rating else "B"


def _recommend(form: RecommendationForm):
    if not form.is_bound or not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return recommended_limit(
            rating=data["rating"],
            monthly_sales=data.get("monthly_sales"),
            monthly_trade=data.get("monthly_trade"),
            collection_days=data.get("collection_days"),
            net_assets=data.get("net_assets"),
            annual_sales=data.get("annual_sales"),
            total_exposure=book_total() if data.get("max_share") else None,
            max_share=percent_to_rate(data.get("max_share")),
            loss_allocation=data.get("loss_allocation"),
        )
    except ValueError:
        return None


@permission_required("credit.approve_creditlimit", raise_exception=True)
def limit_inbox_view(request):
    """Proposals this approver may decide: within their authority, never their own."""
    return render(request, "credit/limit_inbox.html", {"limits": pending_limits(user=request.user)})


@require_POST
@permission_required("credit.approve_creditlimit", raise_exception=True)
def limit_decide_view(request, pk: int):
    limit = get_object_or_404(CreditLimit, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        service = limit_approve if form.cleaned_data["decision"] == "approve" else limit_reject
        try:
            service(limit=limit, actor=request.user, comment=form.cleaned_data["comment"])
        except (ValidationError, DomainError) as error:
            show_error(request, error)
        else:
            messages.success(request, _("The decision was recorded."))
    return redirect(request.POST.get("next") or "credit:inbox")


@require_POST
@permission_required("credit.approve_creditlimit", raise_exception=True)
def limit_reinstate_view(request, pk: int):
    limit = get_object_or_404(CreditLimit, pk=pk)
    try:
        limit_reinstate(limit=limit, actor=request.user, comment=request.POST.get("comment", ""))
    except (ValidationError, DomainError) as error:
        show_error(request, error)
    else:
        messages.success(request, _("The limit applies again."))
    return redirect("credit:counterparty", pk=limit.counterparty_id)


# ------------------------------------------------------------------------ ratings


@permission_required("credit.add_rating", raise_exception=True)
def rating_create_view(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rating_record(counterparty=customer, actor=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("The rating was recorded."))
            return redirect("credit:counterparty", pk=customer.pk)
    return render(request, "credit/rating_form.html", {"customer": customer, "form": form})


# ------------------------------------------------------------- monthly credit sheet


def _month_end(value: str | None, today: date) -> date:
    """Return the last day of ``YYYY-MM`` (the previous month when absent or malformed)."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        date(year, month, 1)
    except ValueError:
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return date(year, month, monthrange(year, month)[1])


@permission_required("credit.export_creditsheet", raise_exception=True)
def sheet_view(request):
    """Download the 月次与信管理表 for a month; every export is logged."""
    from .sheet import monthly_sheet

    month_end = _month_end(request.GET.get("month"), timezone.localdate())
    data = monthly_sheet(month_end=month_end)
    audit_log(actor=request.user, action="credit.sheet_exported",
              data={"month_end": month_end.isoformat()})  # fmt: skip
    return xlsx_response(data, f"credit-sheet-{month_end:%Y-%m}.xlsx")
