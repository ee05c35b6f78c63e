"""KPI dashboard screens (管理職): the dashboard, its drill-down lists, the assumptions form and
the Excel export. Views parse the filters, call one selector and render; every figure is
computed by ``dashboard.selectors``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collection.overdue import BUCKETS, days_overdue
from collection.selectors import outstanding_expression
from core.audit import audit_log
from core.downloads import xlsx_response
from core.money import format_yen
from customers.models import Customer
from deals.choices import Channel, Stage
from deals.models import LostReason
from deals.selectors import page_of

from .assumptions import Assumptions, AssumptionsForm
from .definitions import DAY_CODES, KPI_DEFINITIONS, RATE_CODES, YEN_CODES
from .export import dashboard_workbook
from .filters import GROUP_BY_CHOICES, DashboardFilterForm, DashboardFilters
from .kpis.segments import amount_paid_out
from .selectors import (
    cached_dashboard_data,
    drill_deals,
    drill_receivables,
    is_receivable_drill,
)

PERMISSION = "accounts.view_kpi_dashboard"
SESSION_KEY = "dashboard_assumptions"
PAGE_SIZE = 50

# The headline figures that are better when they go down.
LOWER_IS_BETTER = {"delay_rate", "lead_time_days", "delay_days_avg", "repurchase_rate",
                   "expected_loss"}  # fmt: skip


# ---------------------------------------------------------------------- inputs


def as_of() -> date:
    """Return the date the figures are counted to (one place, so tests can fix it)."""
    return timezone.localdate()


def _filters(request) -> tuple[DashboardFilterForm, DashboardFilters]:
    """Return the filter form and the filters it means (invalid fields take their default,
    so a hand-edited URL still shows a dashboard; the form shows the errors)."""
    today = as_of()
    params = request.GET.copy()
    for name in ("key", "page"):
        params.pop(name, None)
    if params:
        form = DashboardFilterForm(params)
        return form, form.to_filters(today)
    filters = DashboardFilterForm().to_filters(today)
    return DashboardFilterForm(initial=filters.params()), filters


def session_assumptions(session: Any) -> tuple[Assumptions, bool]:
    """Return the assumptions in force (the user's, kept in the session, else the defaults)
    and whether the user changed them; the JSON API reads the same."""
    stored = session.get(SESSION_KEY) if session is not None else None
    return Assumptions.from_session(stored), bool(stored)


def _assumptions(request) -> tuple[AssumptionsForm, Assumptions, bool]:
    """Return the assumptions form, the assumptions in force and whether they are the
    user's own."""
    assumptions, customised = session_assumptions(request.session)
    return AssumptionsForm(initial_assumptions=assumptions), assumptions, customised


# ---------------------------------------------------------------------- presentation


@dataclass
class Card:
    """One KGI as the dashboard shows it."""

    code: str
    label: Any
    definition: Any
    value: Any
    display: str
    previous_display: str
    arrow: str
    delta: str
    tone: str
    drill: str


def _show(code: str, value: Any) -> str:
    if value is None:
        return "—"
    if code in RATE_CODES:
        percent = (Decimal(value) * 100).quantize(Decimal("0.1"))
        return f"{percent}%"
    if code in DAY_CODES:
        return _("%(days)s business days") % {"days": Decimal(value).quantize(Decimal("0.1"))}
    if code in YEN_CODES:
        return format_yen(int(value))
    return str(value)


def _change(figure: Any) -> str:
    """Return the change against the previous period: points for rates, days for days,
    a relative change for amounts."""
    if figure.value is None or figure.previous is None:
        return ""
    diff = Decimal(figure.value) - Decimal(figure.previous)
    if figure.code in RATE_CODES:
        return _("%(points)s pt") % {"points": f"{diff * 100:+.1f}"}
    if figure.code in DAY_CODES:
        return f"{diff:+.1f}"
    if figure.change is not None:
        return f"{figure.change * 100:+.1f}%"
    return ""


def _card(figure: Any) -> Card:
    value, previous = figure.value, figure.previous
    arrow, tone = "", "secondary"
    if value is not None and previous is not None and value != previous:
        up = value > previous
        arrow = "▲" if up else "▼"
        good = up != (figure.code in LOWER_IS_BETTER)
        tone = "success" if good else "danger"
    return Card(
        code=figure.code,
        label=figure.label,
        definition=figure.definition,
        value=value,
        display=_show(figure.code, value),
        previous_display=_show(figure.code, previous),
        arrow=arrow,
        delta=_change(figure),
        tone=tone,
        drill=figure.drill,
    )


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


def _charts(data: Any) -> dict[str, Any]:
    """Return the numbers of every chart, for ``json_script`` (the tables show the same)."""
    return {
        "funnel": {
            "labels": [str(row.label) for row in data.funnel],
            "counts": [row.count for row in data.funnel],
            "label": _("Deals"),
        },
        "stages": {
            "labels": [str(row.label) for row in data.stages],
            "counts": [row.count for row in data.stages],
            "amounts": [row.amount for row in data.stages],
            "count_label": _("Deals"),
            "amount_label": _("Amount (yen)"),
        },
        "trend": {
            "labels": [str(point.label) for point in data.delay_trend],
            "delay_rate": [
                _number(point.delay_rate * 100) if point.delay_rate is not None else None
                for point in data.delay_trend
            ],
            "executed": [point.executed_amount for point in data.delay_trend],
            "fees": [point.fee_revenue for point in data.delay_trend],
            "delay_label": _("Delay rate (%)"),
            "executed_label": _("Executed amount (yen)"),
            "fees_label": _("Fee revenue (yen)"),
        },
        "lost": {
            "labels": [str(row.label) for row in data.lost_reasons],
            "counts": [row.count for row in data.lost_reasons],
            "label": _("Lost deals"),
        },
    }


def _top3(data: Any) -> list[str]:
    """Return the codes of the three most given lost reasons (highlighted in the table)."""
    return [row.code for row in data.top3]


# ---------------------------------------------------------------------- screens


@permission_required(PERMISSION, raise_exception=True)
def dashboard_view(request, assumptions_form: AssumptionsForm | None = None):
    """The dashboard: KGIs against the previous period, the three panels (bottleneck, this
    month's expected execution, delay risk), then every KPI with its chart and table."""
    form, filters = _filters(request)
    stored_form, assumptions, customised = _assumptions(request)
    today = as_of()
    data = cached_dashboard_data(filters, assumptions, today=today)
    context = {
        "form": form,
        "filters": filters,
        "previous_period": filters.period.previous(),
        "data": data,
        "cards": [_card(figure) for figure in data.kgi],
        "charts": _charts(data),
        "top3": _top3(data),
        "lead_time": _card(data.lead_time),
        "assumptions_form": assumptions_form or stored_form,
        "assumptions_open": assumptions_form is not None,
        "customised": customised,
        "definitions": KPI_DEFINITIONS,
        "query": filters.query_string(),
        "drill_url": reverse("dashboard:drill"),
        "group_by_label": dict(GROUP_BY_CHOICES).get(filters.group_by, ""),
    }
    return render(request, "dashboard/dashboard.html", context)


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def assumptions_view(request):
    """Keep the user's PD, LGD and stage probabilities in the session (or drop them), then
    show the dashboard again with the same filters."""
    query = request.POST.get("query", "")
    if "reset" in request.POST:
        request.session.pop(SESSION_KEY, None)
        messages.success(request, _("The assumptions were reset to the defaults."))
    else:
        form = AssumptionsForm(request.POST)
        if not form.is_valid():
            request.GET = QueryDict(query)
            request.method = "GET"
            return dashboard_view(request, assumptions_form=form)
        request.session[SESSION_KEY] = form.to_assumptions().to_session()
        messages.success(request, _("The assumptions were applied for this session."))
    return redirect(f"{reverse('dashboard:home')}?{query}" if query else "dashboard:home")


@permission_required(PERMISSION, raise_exception=True)
def drill_view(request):
    """The deals or receivables one figure counted, with their total count and amount."""
    _form, filters = _filters(request)
    key = request.GET.get("key", "")
    today = as_of()
    try:
        receivables = is_receivable_drill(key)
        if receivables:
            queryset = drill_receivables(filters, key, today=today)
        else:
            queryset = drill_deals(filters, key, today=today)
    except (KeyError, ValueError, LookupError) as error:
        raise Http404(str(error)) from None
    if receivables:
        totals = queryset.aggregate(
            count=Count("pk"),
            expected=Sum("expected_amount"),
            outstanding=Sum(outstanding_expression()),
        )
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        for row in page:
            row.days_late = days_overdue(row.due_date, today)
    else:
        totals = queryset.aggregate(
            count=Count("pk"),
            face_value=Sum("face_value"),
            paid_out=Sum(amount_paid_out()),
            fee=Sum("fee"),
        )
        page = page_of(queryset, request.GET.get("page"), PAGE_SIZE)
        for deal in page:
            paid = deal.executed_amount
            deal.paid_out = paid if paid is not None else deal.upfront_payment
    context = {
        "key": key,
        "title": _drill_title(key),
        "filters": filters,
        "receivables": receivables,
        "page_obj": page,
        "totals": {name: value or 0 for name, value in totals.items()},
        "main": _drill_main_column(key),
        "today": today,
        "back_url": f"{reverse('dashboard:home')}?{filters.query_string()}",
    }
    return render(request, "dashboard/drill.html", context)


def _drill_main_column(key: str) -> str:
    """Return the total of the drill-down that equals the figure ``key`` came from."""
    kind = key.partition(":")[0]
    if kind in ("bucket", "debtor", "exposure"):
        return "outstanding"
    if kind in ("delayed", "due", "repurchased"):
        return "expected"
    if kind == "fees":
        return "fee"
    if kind in ("executed", "lead_time", "won", "forecast"):
        return "paid_out"
    return "face_value"


def _drill_title(key: str) -> str:
    """Return a heading naming what the drill-down ``key`` lists."""
    kind, _sep, arg = key.partition(":")
    fixed = {
        "executed": _("Executed deals"),
        "fees": _("Executed deals (fee revenue)"),
        "quoted": _("Quoted deals"),
        "won": _("Won deals"),
        "lost": _("Lost deals"),
        "lead_time": _("Executed deals (lead time)"),
        "new": _("New deals"),
        "delayed": _("Collections due in the period, paid late or still unpaid"),
        "due": _("Collections due in the period"),
        "repurchased": _("Collections due in the period with a repurchase"),
        "exposure": _("Unpaid collections (expected loss exposure)"),
    }
    if kind in fixed and not arg:
        return fixed[kind]
    stage = _choice_label(Stage, arg)
    if kind == "stage":
        return _("Pipeline in stage %(stage)s") % {"stage": stage}
    if kind == "stalled":
        return _("Stalled deals in %(stage)s") % {"stage": stage}
    if kind == "reached":
        return _("New deals that reached %(stage)s") % {"stage": stage}
    if kind == "forecast":
        return _("Expected to execute this month from %(stage)s") % {"stage": stage}
    if kind == "channel":
        return _("Deals from channel %(channel)s") % {"channel": _choice_label(Channel, arg)}
    if kind == "segment":
        return _("Deals in segment %(segment)s") % {"segment": arg}
    if kind == "lost_reason":
        label = LostReason.objects.filter(code=arg).values_list("label", flat=True).first()
        return _("Deals lost for %(reason)s") % {"reason": label or arg}
    if kind == "bucket":
        label = next((str(b.label) for b in BUCKETS if b.code == arg), arg)
        return _("Overdue receivables, %(bucket)s") % {"bucket": label}
    if kind == "debtor":
        found = Customer.objects.filter(pk=arg) if arg.isdigit() else Customer.objects.none()
        name = found.values_list("name", flat=True).first()
        return _("Overdue receivables of %(debtor)s") % {"debtor": name or arg}
    return key


def _choice_label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@permission_required(PERMISSION, raise_exception=True)
def export_view(request):
    """Download the dashboard's tables as an Excel workbook (one sheet per panel)."""
    _form, filters = _filters(request)
    _stored, assumptions, _customised = _assumptions(request)
    data = cached_dashboard_data(filters, assumptions, today=as_of())
    content = dashboard_workbook(data)
    audit_log(actor=request.user, action="dashboard.exported",
              data={"filters": filters.query_string()})  # fmt: skip
    return xlsx_response(content, f"kpi-dashboard-{timezone.localtime():%Y%m%d-%H%M}.xlsx")
