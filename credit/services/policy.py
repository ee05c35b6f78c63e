"""Advance-rate policy versions: draft a new version from an existing one, activate it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.exceptions import InvalidStateError

from ..choices import PolicyStatus
from ..models import AdvanceRatePolicy

_META_FIELDS = ("id", "version", "status", "created_by", "created_at", "activated_at", "note")


@transaction.atomic
def policy_draft_from(
    *, policy: AdvanceRatePolicy, actor: Any, note: str = ""
) -> AdvanceRatePolicy:
    """Copy ``policy``'s table into a new draft version that can be edited."""
    values = {k: v for k, v in model_to_dict(policy).items() if k not in _META_FIELDS}
    version = (AdvanceRatePolicy.objects.aggregate(top=Max("version"))["top"] or 0) + 1
    draft = AdvanceRatePolicy.objects.create(
        version=version, status=PolicyStatus.DRAFT, created_by=actor, note=note, **values
    )
    audit_log(actor=actor, action="credit.policy_drafted", subject=draft,
              data={"from_version": policy.version})  # fmt: skip
    return draft


@transaction.atomic
def policy_activate(*, policy: AdvanceRatePolicy, actor: Any) -> AdvanceRatePolicy:
    """Make a draft the active version; the previous active one retires and stays readable."""
    policy = AdvanceRatePolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.status != PolicyStatus.DRAFT:
        raise InvalidStateError(_("Only a draft policy can be activated."))
    policy.full_clean()
    retired = list(
        AdvanceRatePolicy.objects.filter(status=PolicyStatus.ACTIVE).values_list(
            "version", flat=True
        )
    )
    AdvanceRatePolicy.objects.filter(status=PolicyStatus.ACTIVE).update(status=PolicyStatus.RETIRED)
    policy.status = PolicyStatus.ACTIVE
    policy.activated_at = timezone.now()
    policy.save(update_fields=["status", "activated_at"])
    audit_log(actor=actor, action="credit.policy_activated", subject=policy,
              data={"version": policy.version, "retired": retired})  # fmt: skip
    return policy


def ensure_default_policy() -> None:
    """Create and activate version 1 (the shipped defaults) when no version is active."""
    if AdvanceRatePolicy.objects.filter(status=PolicyStatus.ACTIVE).exists():
        return
    version = (AdvanceRatePolicy.objects.aggregate(top=Max("version"))["top"] or 0) + 1
    AdvanceRatePolicy.objects.create(
        version=version,
        status=PolicyStatus.ACTIVE,
        activated_at=timezone.now(),
        note=_("Shipped default table"),
    )
