"""Alert inbox and audit log screens; thin views over selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .audit import audit_log, verify_audit_chain
from .exceptions import DomainError
from .filters import AlertFilter, AuditEventFilter
from .forms import ResolveAlertForm
from .htmx import is_htmx
from .models import Alert
from .selectors import alert_get, alert_list, audit_event_list
from .services import alert_acknowledge, alert_resolve

PAGE_SIZE = 50


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@permission_required("core.view_alert", raise_exception=True)
def alert_list_view(request):
    """The alert inbox; open alerts first. htmx requests get only the table."""
    params = request.GET.copy()
    if "status" not in params:
        params["status"] = "open"
    filterset = AlertFilter(params, request=request)
    page = _page(request, alert_list(user=request.user, filters=params, request=request))
    context = {"filter": filterset, "page_obj": page, "resolve_form": ResolveAlertForm()}
    template = "core/partials/_alert_table.html" if is_htmx(request) else "core/alert_list.html"
    return render(request, template, context)


def _alert_action(request, pk, action):
    alert = _visible_alert_or_404(request, pk)
    try:
        alert = action(alert)
    except DomainError as error:
        messages.error(request, error.message)
    if is_htmx(request):
        return render(
            request,
            "core/partials/_alert_row.html",
            {"alert": alert, "resolve_form": ResolveAlertForm()},
        )
    return redirect("core:alert_list")


def _visible_alert_or_404(request, pk) -> Alert:
    try:
        return alert_get(user=request.user, pk=pk)
    except Alert.DoesNotExist:
        raise Http404 from None


@require_POST
@permission_required("core.change_alert", raise_exception=True)
def alert_acknowledge_view(request, pk: int):
    return _alert_action(
        request, pk, lambda alert: alert_acknowledge(alert=alert, actor=request.user)
    )


@require_POST
@permission_required("core.change_alert", raise_exception=True)
def alert_resolve_view(request, pk: int):
    form = ResolveAlertForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _alert_action(
        request, pk, lambda alert: alert_resolve(alert=alert, actor=request.user, note=note)
    )


@permission_required("core.view_auditevent", raise_exception=True)
def audit_list_view(request):
    """The audit log, newest first, filterable by action, actor, subject and date."""
    filterset = AuditEventFilter(request.GET)
    page = _page(request, audit_event_list(filters=request.GET))
    return render(request, "core/audit_list.html", {"filter": filterset, "page_obj": page})


@require_POST
@permission_required("core.view_auditevent", raise_exception=True)
def audit_verify_view(request):
    """Verify the whole chain now and say where it breaks, if it does."""
    checked, broken = verify_audit_chain()
    if broken is None:
        messages.success(
            request, _("The audit log is intact (%(n)s events verified).") % {"n": checked}
        )
    else:
        messages.error(
            request,
            _("Tampering detected at event #%(id)s: %(reason)s")
            % {"id": broken.event_id, "reason": broken.reason},
        )
    audit_log(
        actor=request.user,
        action="audit.verified",
        data={"checked": checked, "intact": broken is None},
    )
    return redirect("core:audit_list")
