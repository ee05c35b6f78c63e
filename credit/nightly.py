"""Nightly credit checks: reviews coming due, reviews passed (suspend), validity ended."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils.translation import gettext as _

from core.choices import AlertKind, AlertSeverity
from core.jobs import CheckOutcome, nightly_check
from core.services import alert_raise

from .selectors import reviews_due
from .services import limit_suspend, limits_expire


@nightly_check("credit_review", "Credit limits: reviews due within 30 days, passed, or expired")
def check_credit_reviews(*, today: date) -> CheckOutcome:
    """Expire lapsed limits, suspend those past their review date, and alert once per limit
    and review date about reviews due within the warning window."""
    limits_expire(today=today)
    due = list(reviews_due(today=today, within_days=settings.CREDIT_REVIEW_WARNING_DAYS))
    raised = 0
    for limit in due:
        passed = limit.review_date < today
        if passed:
            limit_suspend(
                limit=limit,
                reason=_("Review date %(date)s has passed.") % {"date": limit.review_date},
                actor_label="job:credit_review",
            )
        _alert, created = alert_raise(
            kind=AlertKind.CREDIT_REVIEW_DUE,
            dedup_key=f"credit_review:{limit.pk}:{limit.review_date.isoformat()}",
            title=_("Credit review due: %(name)s") % {"name": limit.counterparty.name},
            message=_("%(kind)s of %(amount)s yen, review by %(date)s.")
            % {
                "kind": limit.get_kind_display(),
                "amount": f"{limit.amount:,}",
                "date": limit.review_date.isoformat(),
            },
            severity=AlertSeverity.HIGH if passed else AlertSeverity.WARNING,
            subject=limit.counterparty,
            due_date=limit.review_date,
            role="underwriter",
            actor_label="job:credit_review",
        )
        raised += int(created)
    return CheckOutcome(processed=len(due), raised=raised)
