"""Nightly pipeline check: no deal silently stalls (DESIGN §1)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApprovalLevel, User
from core.choices import AlertKind, AlertSeverity
from core.jobs import CheckOutcome, nightly_check
from core.models import Alert
from core.services import alert_raise

from .selectors import stalled_days, stalled_deals


def manager_of(owner: Any, managers: list[Any]) -> Any | None:
    """Return the owner's manager: an approver of the owner's department (else any)."""
    same = [m for m in managers if m.department and m.department == owner.department]
    return (same or [None])[0]


@nightly_check("deal_stalled", "Deals stalled in a stage beyond its threshold")
def check_stalled_deals(*, today: date) -> CheckOutcome:
    """Alert the owner once per deal and stage entry when the stage's threshold is passed,
    and the owner's manager once more at twice the threshold (bank business days)."""
    first = list(stalled_deals(today=today, multiple=1))
    twice = {deal.pk for deal in stalled_deals(today=today, multiple=2)}
    keys = {deal.pk: timezone.localdate(deal.stage_entered_at).isoformat() for deal in first}
    wanted = [f"deal_stalled:{d.pk}:{d.stage}:{keys[d.pk]}" for d in first] + [
        f"deal_stalled_manager:{d.pk}:{d.stage}:{keys[d.pk]}" for d in first if d.pk in twice
    ]
    existing = set(Alert.objects.filter(dedup_key__in=wanted).values_list("dedup_key", flat=True))
    managers = list(
        User.objects.filter(is_active=True, approval_level__gte=ApprovalLevel.TEAM_MANAGER)
        .filter(Q(groups__name="approver") | Q(groups__name="manager"))
        .distinct()
        .order_by("pk")
    )
    raised = 0
    for deal in first:
        days = stalled_days(deal, today)
        base = f"{deal.pk}:{deal.stage}:{keys[deal.pk]}"
        common = {
            "kind": AlertKind.DEAL_STALLED,
            "subject": deal,
            "message": _("%(number)s has been in %(stage)s for %(days)s business days.")
            % {"number": deal.number, "stage": deal.get_stage_display(), "days": days},
            "actor_label": "job:deal_stalled",
        }
        if f"deal_stalled:{base}" not in existing:
            alert_raise(dedup_key=f"deal_stalled:{base}", severity=AlertSeverity.WARNING,
                        title=_("Deal stalled: %(number)s %(name)s")
                        % {"number": deal.number, "name": deal.name},
                        assignee=deal.owner, **common)  # fmt: skip
            raised += 1
        if deal.pk in twice and f"deal_stalled_manager:{base}" not in existing:
            manager = manager_of(deal.owner, managers)
            alert_raise(dedup_key=f"deal_stalled_manager:{base}", severity=AlertSeverity.HIGH,
                        title=_("Deal stalled twice the threshold: %(number)s (owner %(owner)s)")
                        % {"number": deal.number, "owner": deal.owner},
                        assignee=manager, role=None if manager else "manager", **common)  # fmt: skip
            raised += 1
    return CheckOutcome(processed=len(first), raised=raised)
