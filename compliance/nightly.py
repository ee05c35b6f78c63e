"""Nightly compliance checks: KYC expiry, re-screening, connection expiry. Each idempotent."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils.translation import gettext as _

from core.choices import AlertKind, AlertSeverity
from core.jobs import CheckOutcome, nightly_check
from core.services import alert_raise

from .screening import current_versions_key, screen_customers
from .selectors import connections_expiring, customers_due_for_screening, kyc_expiring


@nightly_check("kyc_expiry", "KYC expiring within 30 days or expired")
def check_kyc_expiry(*, today: date) -> CheckOutcome:
    """Raise one alert per KYC record about to expire, and one more once it has expired."""
    records = list(kyc_expiring(today=today, within_days=settings.KYC_EXPIRY_WARNING_DAYS))
    raised = 0
    for record in records:
        expired = record.expires_on < today
        subject = record.person.name if record.person_id else record.customer.name
        _alert, created = alert_raise(
            kind=AlertKind.KYC_EXPIRED if expired else AlertKind.KYC_EXPIRING,
            dedup_key=f"{'kyc_expired' if expired else 'kyc_expiring'}:{record.pk}",
            title=(_("KYC expired: %(name)s") if expired else _("KYC expiring: %(name)s"))
            % {"name": subject},
            message=_("Expires on %(date)s.") % {"date": record.expires_on.isoformat()},
            severity=AlertSeverity.HIGH if expired else AlertSeverity.WARNING,
            subject=record.customer,
            due_date=record.expires_on,
            role="compliance",
            actor_label="job:kyc_expiry",
        )
        raised += int(created)
    return CheckOutcome(processed=len(records), raised=raised)


@nightly_check("rescreening", "反社・制裁 re-screening of customers that are due")
def check_rescreening(*, today: date) -> CheckOutcome:
    """Screen only the customers that are due: never screened, too old, or before a list import."""
    due = customers_due_for_screening(today=today, versions_key=current_versions_key())
    summary = screen_customers(due.values_list("pk", flat=True).iterator(), job="rescreening")
    return CheckOutcome(processed=summary.customers, raised=summary.hits_opened)


@nightly_check("connection_expiry", "Connection approvals and certificates expiring within 30 days")
def check_connection_expiry(*, today: date) -> CheckOutcome:
    """Alert compliance once per connection and date that is about to lapse."""
    connections = list(
        connections_expiring(today=today, within_days=settings.CONNECTION_EXPIRY_WARNING_DAYS)
    )
    raised = 0
    for connection in connections:
        dates = [d for d in (connection.valid_until, connection.certificate_expires_on) if d]
        first = min(dates)
        _alert, created = alert_raise(
            kind=AlertKind.CONNECTION_CERT_EXPIRING,
            dedup_key=f"connection_expiring:{connection.pk}:{first.isoformat()}",
            title=_("Connection approval or certificate expiring: %(name)s")
            % {"name": connection.name},
            message=_("Ends on %(date)s.") % {"date": first.isoformat()},
            severity=AlertSeverity.HIGH if first < today else AlertSeverity.WARNING,
            subject=connection,
            due_date=first,
            assignee=connection.responsible,
            role="compliance",
            actor_label="job:connection_expiry",
        )
        raised += int(created)
    return CheckOutcome(processed=len(connections), raised=raised)
