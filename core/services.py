"""Writes of the shared kernel: raising and working alerts. Each leaves an audit event."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import audit_log
from .choices import AlertKind, AlertSeverity, AlertStatus
from .exceptions import InvalidStateError
from .models import Alert


@transaction.atomic
def alert_raise(
    *,
    kind: AlertKind | str,
    dedup_key: str,
    title: str,
    severity: AlertSeverity | str = AlertSeverity.WARNING,
    message: str = "",
    subject: models.Model | None = None,
    due_date: date | None = None,
    assignee: Any | None = None,
    role: str | None = None,
    actor: Any | None = None,
    actor_label: str = "",
) -> tuple[Alert, bool]:
    """Raise an alert once per ``dedup_key``; return it and whether it was created now.

    A job that runs twice, or two workers racing, raise one alert: the key is unique in
    the database and a second raise returns the existing row untouched.
    """
    defaults = {
        "kind": kind,
        "severity": severity,
        "title": title[:200],
        "message": message,
        "due_date": due_date,
        "assignee": assignee,
        "assigned_role": Group.objects.get(name=role) if role else None,
    }
    if subject is not None:
        defaults["subject_type"] = ContentType.objects.get_for_model(subject)
        defaults["subject_id"] = str(subject.pk)
    alert, created = Alert.objects.get_or_create(dedup_key=dedup_key, defaults=defaults)
    if created:
        audit_log(
            actor=actor,
            actor_label=actor_label,
            action="alert.raised",
            subject=alert,
            data={"kind": str(kind), "severity": str(severity), "dedup_key": dedup_key},
        )
    return alert, created


def _lock(alert: Alert) -> Alert:
    return Alert.objects.select_for_update(of=("self",)).get(pk=alert.pk)


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: Any) -> Alert:
    """Mark an open alert as seen and being handled by ``actor``."""
    alert = _lock(alert)
    if alert.status != AlertStatus.OPEN:
        raise InvalidStateError(_("Only an open alert can be acknowledged."))
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    audit_log(actor=actor, action="alert.acknowledged", subject=alert)
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, actor: Any, note: str = "") -> Alert:
    """Close an alert with what was done about it."""
    alert = _lock(alert)
    if alert.status == AlertStatus.RESOLVED:
        raise InvalidStateError(_("This alert is already resolved."))
    now = timezone.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, actor
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = now
    alert.resolved_by = actor
    alert.resolution_note = note
    alert.save()
    audit_log(actor=actor, action="alert.resolved", subject=alert, data={"note": note})
    return alert
