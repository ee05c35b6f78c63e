"""Compliance screens: home queue, hit review, KYC, watchlists, connection ledger."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.feedback import show_error
from customers.models import Customer

from .forms import ConnectionForm, HitReviewForm, KycForm, TransitionForm
from .models import ConnectionApproval, ScreeningHit, Watchlist
from .screening import screen_customer, subjects_of
from .selectors import (
    clearance,
    connections_expiring,
    hit_list,
    kyc_expiring,
    latest_kyc_records,
    open_hits,
)
from .services import (
    available_connection_transitions,
    connection_create,
    connection_transition,
    hit_review,
    kyc_record_create,
)

PAGE_SIZE = 50


@permission_required("compliance.review_screeninghit", raise_exception=True)
def compliance_home_view(request):
    """The compliance queue: open hits, KYC about to lapse, connections about to lapse."""
    today = timezone.localdate()
    context = {
        "hits": open_hits()[:20],
        "hit_count": open_hits().count(),
        "kyc": kyc_expiring(today=today, within_days=30)[:20],
        "connections": connections_expiring(today=today, within_days=30)[:20],
        "today": today,
    }
    return render(request, "compliance/home.html", context)


@permission_required("compliance.view_screeninghit", raise_exception=True)
def hit_list_view(request):
    status = request.GET.get("status", "open")
    page = Paginator(hit_list(status=status or None), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "compliance/hit_list.html", {"page_obj": page, "status": status})


@permission_required("compliance.review_screeninghit", raise_exception=True)
def hit_review_view(request, pk: int):
    """Side by side: the screened person or company and the list entry; decide with a reason."""
    hit = get_object_or_404(
        ScreeningHit.objects.select_related(
            "customer", "person", "entry", "entry__watchlist", "run", "reviewed_by"
        ),
        pk=pk,
    )
    form = HitReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hit_review(hit=hit, actor=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as error:
            show_error(request, error)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("compliance:hits")
    context = {"hit": hit, "form": form, "clearance": clearance(hit.customer)}
    return render(request, "compliance/hit_review.html", context)


@permission_required("compliance.add_kycrecord", raise_exception=True)
def kyc_create_view(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    form = KycForm(request.POST or None, request.FILES or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            kyc_record_create(customer=customer, actor=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as error:
            show_error(request, error)
        else:
            messages.success(request, _("KYC recorded."))
            return redirect(customer)
    return render(request, "compliance/kyc_form.html", {"form": form, "customer": customer})


@permission_required("compliance.view_kycrecord", raise_exception=True)
def kyc_list_view(request):
    records = latest_kyc_records().order_by("expires_on")
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "compliance/kyc_list.html", {"page_obj": page, "today": timezone.localdate()}
    )


@require_POST
@permission_required("compliance.add_screeningrun", raise_exception=True)
def screen_now_view(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    run = screen_customer(customer=customer, actor=request.user)
    messages.info(
        request,
        _("Screened %(n)s names: %(hits)s new hit(s).")
        % {"n": run.subjects, "hits": run.hits_opened},
    )
    return redirect(customer)


@permission_required("compliance.view_kycrecord", raise_exception=True)
def clearance_view(request, customer_pk: int):
    """htmx panel on the customer page: cleared or not, and why."""
    customer = get_object_or_404(Customer, pk=customer_pk)
    context = {
        "customer": customer,
        "clearance": clearance(customer),
        "names": len(subjects_of(customer)),
    }
    return render(request, "compliance/partials/_clearance.html", context)


@permission_required("compliance.view_watchlist", raise_exception=True)
def watchlist_list_view(request):
    lists = Watchlist.objects.annotate(entry_count=Count("entries")).prefetch_related("imports")
    return render(request, "compliance/watchlist_list.html", {"watchlists": lists})


@permission_required("compliance.view_connectionapproval", raise_exception=True)
def connection_list_view(request):
    connections = ConnectionApproval.objects.select_related("responsible").order_by(
        "status", "name"
    )
    return render(
        request,
        "compliance/connection_list.html",
        {"connections": connections, "today": timezone.localdate()},
    )


@permission_required("compliance.add_connectionapproval", raise_exception=True)
def connection_create_view(request):
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = connection_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("compliance:connection_detail", pk=connection.pk)
    return render(request, "compliance/connection_form.html", {"form": form})


@permission_required("compliance.view_connectionapproval", raise_exception=True)
def connection_detail_view(request, pk: int):
    connection = get_object_or_404(ConnectionApproval.objects.select_related("responsible"), pk=pk)
    context = {
        "connection": connection,
        "reviews": connection.reviews.select_related("reviewed_by"),
        "transitions": available_connection_transitions(connection),
    }
    return render(request, "compliance/connection_detail.html", context)


@require_POST
@permission_required("compliance.change_connectionapproval", raise_exception=True)
def connection_transition_view(request, pk: int):
    connection = get_object_or_404(ConnectionApproval, pk=pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            connection_transition(connection=connection, actor=request.user, **form.cleaned_data)
        except (ValidationError, DomainError) as error:
            show_error(request, error)
        else:
            messages.success(request, _("Status updated."))
    return redirect("compliance:connection_detail", pk=pk)
