"""Ratings: record a grade with its sources; a downgrade is an event, and D or E suspends."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_log
from customers.models import Customer

from ..models import Rating
from ..signals import rating_downgraded
from .limits import suspend_limits_of

SUSPENDING_GRADES = ("D", "E")


@transaction.atomic
def rating_record(
    *,
    counterparty: Customer,
    grade: str,
    rationale: str,
    actor: Any,
    internal_score: int | None = None,
    agency: str = "",
    agency_score: int | None = None,
    agency_scored_on: date | None = None,
) -> Rating:
    """Record ``counterparty``'s new grade; the previous one stays in its history."""
    previous = Rating.objects.filter(counterparty=counterparty).order_by("-rated_at", "-pk").first()
    rating = Rating(
        counterparty=counterparty,
        grade=grade,
        previous_grade=previous.grade if previous else "",
        internal_score=internal_score,
        agency=agency,
        agency_score=agency_score,
        agency_scored_on=agency_scored_on,
        rationale=rationale,
        rated_by=actor,
    )
    rating.full_clean()
    rating.save()
    audit_log(
        actor=actor,
        action="credit.rated",
        subject=counterparty,
        data={"rating_id": rating.pk, "grade": grade, "previous": rating.previous_grade},
    )
    if rating.is_downgrade:
        if grade in SUSPENDING_GRADES:
            suspend_limits_of(
                counterparty,
                reason=_("Rating downgraded from %(old)s to %(new)s.")
                % {"old": rating.previous_grade, "new": grade},
                actor=actor,
            )
        transaction.on_commit(
            lambda: rating_downgraded.send(
                sender=Rating, rating=rating, previous=rating.previous_grade, actor=actor
            )
        )
    return rating
