"""Reads of the shared kernel, scoped to what the user may see; constant query count."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from .choices import AlertStatus
from .filters import AlertFilter, AuditEventFilter
from .models import Alert, AuditEvent


def _visible_alerts(user: Any) -> QuerySet[Alert]:
    alerts = Alert.objects.all()
    if user.has_perm("core.view_all_alerts"):
        return alerts
    return alerts.filter(Q(assignee=user) | Q(assigned_role__in=user.groups.all()))


def alert_list(*, user: Any, filters: dict | None = None, request: Any = None) -> QuerySet[Alert]:
    """Return the alerts ``user`` may see, filtered by the inbox's FilterSet."""
    queryset = _visible_alerts(user).select_related(
        "assignee", "assigned_role", "subject_type", "acknowledged_by", "resolved_by"
    )
    return AlertFilter(filters or {}, queryset=queryset, request=request).qs


def alert_get(*, user: Any, pk: int) -> Alert:
    """Return one alert ``user`` may see (Alert.DoesNotExist otherwise)."""
    return _visible_alerts(user).get(pk=pk)


def attention_summary(*, user: Any) -> dict[str, int]:
    """Return counts of the user's unresolved alerts by severity, in one query."""
    counts = (
        _visible_alerts(user)
        .exclude(status=AlertStatus.RESOLVED)
        .aggregate(
            total=Count("id"),
            critical=Count("id", filter=Q(severity="critical")),
            high=Count("id", filter=Q(severity="high")),
            warning=Count("id", filter=Q(severity="warning")),
            open=Count("id", filter=Q(status=AlertStatus.OPEN)),
        )
    )
    return counts


def attention_alerts(*, user: Any, limit: int = 10) -> list[Alert]:
    """Return the most urgent unresolved alerts for the home page."""
    return list(
        _visible_alerts(user)
        .exclude(status=AlertStatus.RESOLVED)
        .select_related("assignee", "assigned_role")
        .order_by("due_date", "-created_at")[:limit]
    )


def audit_event_list(*, filters: dict | None = None) -> QuerySet[AuditEvent]:
    """Return audit events, newest first, filtered by the audit log's FilterSet."""
    queryset = AuditEvent.objects.select_related("actor", "subject_type").order_by("-id")
    return AuditEventFilter(filters or {}, queryset=queryset).qs
