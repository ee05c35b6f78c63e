"""Decisions on 名寄せ candidate pairs."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.exceptions import InvalidStateError

from ..models import DuplicateCandidate


@transaction.atomic
def candidate_dismiss(*, candidate: DuplicateCandidate, actor: Any) -> DuplicateCandidate:
    """Record that a candidate pair are different parties; the pair is never proposed again."""
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.OPEN:
        raise InvalidStateError(_("This pair has already been decided."))
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.decided_by = actor
    candidate.decided_at = timezone.now()
    candidate.save()
    audit_log(
        actor=actor,
        action="customer.duplicate_dismissed",
        subject=candidate.first,
        data={
            "first_id": candidate.first_id,
            "second_id": candidate.second_id,
            "score": candidate.score,
        },
    )
    return candidate
