"""The shared kernel's own nightly check: the audit chain must still verify."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from .audit import verify_audit_chain
from .choices import AlertKind, AlertSeverity
from .jobs import CheckOutcome, nightly_check
from .services import alert_raise


@nightly_check("audit_chain", "Audit log hash chain verification")
def check_audit_chain(*, today: date) -> CheckOutcome:
    """Verify the whole chain; a broken link raises one critical alert for compliance."""
    checked, broken = verify_audit_chain()
    if broken is None:
        return CheckOutcome(processed=checked, raised=0)
    _alert, created = alert_raise(
        kind=AlertKind.AUDIT_CHAIN_BROKEN,
        dedup_key=f"audit_chain_broken:{broken.event_id}",
        title=_("Audit log chain broken at event #%(id)s") % {"id": broken.event_id},
        message=broken.reason,
        severity=AlertSeverity.CRITICAL,
        role="compliance",
        due_date=today,
        actor_label="job:audit_chain",
    )
    return CheckOutcome(processed=checked, raised=int(created))
