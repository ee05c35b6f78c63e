"""Credit-limit lifecycle: propose, approve (maker-checker within authority), reject,
suspend (delay, downgrade, review passed), reinstate, expire. Each audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.choices import AlertKind, AlertSeverity
from core.exceptions import InvalidStateError, PermissionDeniedError
from core.services import alert_raise
from customers.models import Customer

from ..calculations import RecommendedLimit, limit_approval_level
from ..choices import LimitKind, LimitStatus
from ..locks import lock_exposures
from ..models import CreditLimit, Exposure


def required_level_for(amount: int) -> int:
    """Return the approver level whose authority covers a limit of ``amount``."""
    return limit_approval_level(amount, settings.CREDIT_LIMIT_AUTHORITY)


def _check_party(counterparty: Customer, kind: str) -> None:
    if kind == LimitKind.CLIENT and not counterparty.is_client:
        raise ValidationError({"kind": _("A client limit needs a customer marked as client.")})
    if kind == LimitKind.DEBTOR and not counterparty.is_debtor:
        raise ValidationError({"kind": _("A debtor limit needs a customer marked as debtor.")})
    if kind == LimitKind.GROUP and not counterparty.children.exists():
        raise ValidationError({"kind": _("A group limit needs a parent with group companies.")})


@transaction.atomic
def limit_propose(
    *,
    counterparty: Customer,
    kind: str,
    amount: int,
    valid_from: date,
    valid_until: date,
    review_date: date,
    rationale: str,
    actor: Any,
    max_share: Decimal | None = None,
    recommendation: RecommendedLimit | None = None,
) -> CreditLimit:
    """Propose a limit; it binds nothing until another user with enough authority approves."""
    _check_party(counterparty, kind)
    if review_date > valid_until:
        raise ValidationError({"review_date": _("The review date must fall within the validity.")})
    limit = CreditLimit(
        counterparty=counterparty,
        kind=kind,
        amount=amount,
        max_share=max_share,
        valid_from=valid_from,
        valid_until=valid_until,
        review_date=review_date,
        rationale=rationale,
        required_level=required_level_for(amount),
        recommended_amount=recommendation.amount if recommendation else None,
        recommended_by_method=recommendation.bound_by if recommendation else "",
        proposed_by=actor,
    )
    limit.full_clean()
    limit.save()
    audit_log(
        actor=actor,
        action="credit.limit_proposed",
        subject=counterparty,
        data={"limit_id": limit.pk, "kind": kind, "amount": amount,
              "required_level": limit.required_level},
    )  # fmt: skip
    return limit


def _lock_limit(limit: CreditLimit) -> CreditLimit:
    """Lock the party's balances first (the credit lock order), then the limit row."""
    lock_exposures([limit.counterparty_id])
    return CreditLimit.objects.select_for_update(of=("self",)).get(pk=limit.pk)


def _decider_may(limit: CreditLimit, actor: Any) -> None:
    if actor.pk == limit.proposed_by_id:
        raise PermissionDeniedError(_("The proposer of a limit cannot decide on it."))
    if not actor.has_perm("credit.approve_creditlimit"):
        raise PermissionDeniedError()
    if getattr(actor, "approval_level", 0) < limit.required_level:
        raise PermissionDeniedError(
            _("This limit needs approver level %(level)s or higher.")
            % {"level": limit.required_level}
        )


@transaction.atomic
def limit_approve(*, limit: CreditLimit, actor: Any, comment: str = "") -> CreditLimit:
    """Activate a proposed limit; the party's previous live limit of that kind is superseded."""
    limit = _lock_limit(limit)
    if limit.status != LimitStatus.PROPOSED:
        raise InvalidStateError(_("Only a proposed limit can be approved."))
    _decider_may(limit, actor)
    previous = list(
        CreditLimit.objects.select_for_update(of=("self",)).filter(
            counterparty_id=limit.counterparty_id,
            kind=limit.kind,
            status__in=[LimitStatus.ACTIVE, LimitStatus.SUSPENDED],
        )
    )
    for old in previous:
        old.status = LimitStatus.SUPERSEDED
        old.save(update_fields=["status"])
    limit.status = LimitStatus.ACTIVE
    limit.decided_by = actor
    limit.decided_at = timezone.now()
    limit.decision_comment = comment
    limit.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    audit_log(
        actor=actor,
        action="credit.limit_approved",
        subject=limit.counterparty,
        data={"limit_id": limit.pk, "amount": limit.amount, "kind": limit.kind,
              "superseded": [old.pk for old in previous]},
    )  # fmt: skip
    return limit


@transaction.atomic
def limit_reject(*, limit: CreditLimit, actor: Any, comment: str) -> CreditLimit:
    """Reject a proposal with the reason the proposer will read."""
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the limit is rejected.")})
    limit = _lock_limit(limit)
    if limit.status != LimitStatus.PROPOSED:
        raise InvalidStateError(_("Only a proposed limit can be rejected."))
    _decider_may(limit, actor)
    limit.status = LimitStatus.REJECTED
    limit.decided_by = actor
    limit.decided_at = timezone.now()
    limit.decision_comment = comment
    limit.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    audit_log(actor=actor, action="credit.limit_rejected", subject=limit.counterparty,
              data={"limit_id": limit.pk, "comment": comment})  # fmt: skip
    return limit


@transaction.atomic
def limit_suspend(
    *, limit: CreditLimit, reason: str, actor: Any | None = None, actor_label: str = ""
) -> CreditLimit:
    """Suspend a live limit (nothing new may be bought under it) and alert the credit team."""
    limit = _lock_limit(limit)
    if limit.status != LimitStatus.ACTIVE:
        return limit
    limit.status = LimitStatus.SUSPENDED
    limit.suspended_at = timezone.now()
    limit.suspension_reason = reason[:300]
    limit.save(update_fields=["status", "suspended_at", "suspension_reason"])
    audit_log(actor=actor, actor_label=actor_label, action="credit.limit_suspended",
              subject=limit.counterparty, data={"limit_id": limit.pk, "reason": reason})  # fmt: skip
    alert_raise(
        kind=AlertKind.CREDIT_LIMIT_SUSPENDED,
        dedup_key=f"credit_limit_suspended:{limit.pk}:{limit.suspended_at:%Y%m%d%H%M%S}",
        title=_("Credit limit suspended: %(name)s") % {"name": limit.counterparty.name},
        message=reason,
        severity=AlertSeverity.HIGH,
        subject=limit.counterparty,
        role="underwriter",
        actor=actor,
        actor_label=actor_label,
    )
    return limit


@transaction.atomic
def limit_reinstate(*, limit: CreditLimit, actor: Any, comment: str) -> CreditLimit:
    """Lift a suspension after review; needs the same authority as approving the limit."""
    if not comment.strip():
        raise ValidationError({"comment": _("Say why the suspension is lifted.")})
    limit = _lock_limit(limit)
    if limit.status != LimitStatus.SUSPENDED:
        raise InvalidStateError(_("Only a suspended limit can be reinstated."))
    if not actor.has_perm("credit.approve_creditlimit") or (
        getattr(actor, "approval_level", 0) < limit.required_level
    ):
        raise PermissionDeniedError(
            _("This limit needs approver level %(level)s or higher.")
            % {"level": limit.required_level}
        )
    limit.status = LimitStatus.ACTIVE
    limit.suspended_at = None
    limit.decision_comment = comment
    limit.save(update_fields=["status", "suspended_at", "decision_comment"])
    audit_log(actor=actor, action="credit.limit_reinstated", subject=limit.counterparty,
              data={"limit_id": limit.pk, "comment": comment})  # fmt: skip
    return limit


def suspend_limits_of(
    counterparty: Customer, *, reason: str, actor: Any | None = None, actor_label: str = ""
) -> list[CreditLimit]:
    """Suspend every active limit of ``counterparty``; return those suspended now."""
    active = CreditLimit.objects.filter(counterparty=counterparty, status=LimitStatus.ACTIVE)
    return [
        limit_suspend(limit=limit, reason=reason, actor=actor, actor_label=actor_label)
        for limit in active
    ]


@transaction.atomic
def payment_delay_report(
    *, counterparty: Customer, days: int, actor: Any | None = None, actor_label: str = ""
) -> list[CreditLimit]:
    """Record the party's worst current payment delay (collection reports it; 0 when cleared).

    A delay over ``CREDIT_SUSPEND_DELAY_DAYS`` suspends the party's active limits.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    lock_exposures([counterparty.pk])
    Exposure.objects.filter(pk=counterparty.pk).update(worst_delay_days=days)
    if days <= settings.CREDIT_SUSPEND_DELAY_DAYS:
        return []
    reason = _("Payment delayed %(days)s days (more than %(limit)s).") % {
        "days": days,
        "limit": settings.CREDIT_SUSPEND_DELAY_DAYS,
    }
    return suspend_limits_of(counterparty, reason=reason, actor=actor, actor_label=actor_label)


@transaction.atomic
def limits_expire(*, today: date) -> int:
    """Mark limits whose validity has ended as expired (set-based); return how many."""
    expired = CreditLimit.objects.filter(
        status__in=[LimitStatus.ACTIVE, LimitStatus.SUSPENDED], valid_until__lt=today
    )
    ids = list(expired.values_list("pk", flat=True))
    if ids:
        CreditLimit.objects.filter(pk__in=ids).update(status=LimitStatus.EXPIRED)
        audit_log(actor=None, actor_label="job:credit_review", action="credit.limits_expired",
                  data={"limit_ids": ids, "today": today})  # fmt: skip
    return len(ids)
