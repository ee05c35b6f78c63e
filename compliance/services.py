"""Compliance writes: KYC records, hit decisions, the connection lifecycle. Each audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core.audit import audit_log
from core.choices import AlertKind, AlertSeverity
from core.exceptions import InvalidStateError, PermissionDeniedError
from core.services import alert_raise
from customers.models import Customer, KeyPerson

from .calculations import kyc_expiry, mask_document_number
from .choices import HitStatus
from .models import ConnectionApproval, ConnectionReview, KycPolicy, KycRecord, ScreeningHit


@transaction.atomic
def kyc_record_create(
    *,
    customer: Customer,
    actor: Any,
    method: str,
    document_type: str,
    verified_on: date,
    result: str,
    risk: str,
    person: KeyPerson | None = None,
    document_number: str = "",
    document_copy: UploadedFile | None = None,
    beneficial_owners_identified: bool = False,
    notes: str = "",
) -> KycRecord:
    """Record a KYC verification; its expiry follows the policy table for its risk rating."""
    if person is not None and person.customer_id != customer.pk:
        raise ValidationError({"person": _("This person does not belong to the customer.")})
    policy = KycPolicy.objects.get(risk=risk)
    record = KycRecord(
        customer=customer,
        person=person,
        method=method,
        document_type=document_type,
        document_number_masked=mask_document_number(document_number),
        verified_on=verified_on,
        verified_by=actor,
        result=result,
        risk=risk,
        expires_on=kyc_expiry(verified_on, policy.validity_months),
        beneficial_owners_identified=beneficial_owners_identified,
        notes=notes,
    )
    if document_copy is not None:
        record.document_copy = document_copy
    record.full_clean()
    record.save()
    audit_log(
        actor=actor,
        action="compliance.kyc_recorded",
        subject=customer,
        data={
            "kyc_id": record.pk,
            "person_id": person.pk if person else None,
            "result": result,
            "risk": risk,
            "expires_on": record.expires_on,
        },
    )
    return record


@transaction.atomic
def hit_review(
    *, hit: ScreeningHit, actor: Any, decision: str, reason: str, evidence: str = ""
) -> ScreeningHit:
    """Decide a hit. A false positive is remembered; a true match alerts compliance and blocks."""
    if not actor.has_perm("compliance.review_screeninghit"):
        raise PermissionDeniedError(_("Only compliance staff review screening hits."))
    if decision not in (HitStatus.TRUE_MATCH, HitStatus.FALSE_POSITIVE):
        raise ValidationError({"decision": _("Choose true match or false positive.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the decision.")})
    hit = (
        ScreeningHit.objects.select_for_update().select_related("customer", "entry").get(pk=hit.pk)
    )
    if hit.status != HitStatus.OPEN:
        raise InvalidStateError(_("This hit has already been decided."))
    hit.status = decision
    hit.reviewed_by = actor
    hit.reviewed_at = timezone.now()
    hit.review_reason = reason
    hit.evidence = evidence
    hit.save()
    audit_log(
        actor=actor,
        action="compliance.hit_reviewed",
        subject=hit.customer,
        data={"hit_id": hit.pk, "decision": decision, "entry": hit.entry.name, "reason": reason},
    )
    if decision == HitStatus.TRUE_MATCH:
        alert_raise(
            kind=AlertKind.SCREENING_TRUE_MATCH,
            dedup_key=f"screening_true_match:{hit.pk}",
            title=_("True match on a watchlist: %(name)s") % {"name": hit.customer.name},
            message=_("%(subject)s matches %(entry)s. All deals of this customer are blocked.")
            % {"subject": hit.subject_name, "entry": hit.entry.name},
            severity=AlertSeverity.HIGH,
            subject=hit.customer,
            role="compliance",
            due_date=timezone.localdate(),
            actor=actor,
        )
    return hit


@transaction.atomic
def connection_create(*, actor: Any, **fields: Any) -> ConnectionApproval:
    """Register a connection request (申請中)."""
    connection = ConnectionApproval(**fields)
    # The status is protected (django-fsm): only transitions may set it, so clean the rest.
    connection.full_clean(exclude=["status"])
    connection.save()
    audit_log(
        actor=actor,
        action="compliance.connection_applied",
        subject=connection,
        data={"kind": connection.kind},
    )
    return connection


CONNECTION_TRANSITIONS = (
    "start_technical_review",
    "pass_technical_review",
    "confirm_connectivity",
    "approve_production",
    "start_renewal",
    "expire",
)


def available_connection_transitions(connection: ConnectionApproval) -> list[str]:
    """Return the lifecycle steps the connection can take now."""
    return [name for name in CONNECTION_TRANSITIONS if can_proceed(getattr(connection, name))]


@transaction.atomic
def connection_transition(
    *, connection: ConnectionApproval, actor: Any, transition: str, comment: str = ""
) -> ConnectionApproval:
    """Move a connection one step in its lifecycle and record who did it and why."""
    if not actor.has_perm("compliance.change_connectionapproval"):
        raise PermissionDeniedError()
    if transition not in CONNECTION_TRANSITIONS:
        raise ValidationError({"transition": _("Unknown step.")})
    connection = ConnectionApproval.objects.select_for_update().get(pk=connection.pk)
    method = getattr(connection, transition)
    if not can_proceed(method):
        if transition == "approve_production":
            raise InvalidStateError(
                _("Production approval needs an approval number and a valid-until date.")
            )
        raise InvalidStateError(_("This step is not possible from the current status."))
    before = connection.status
    method()
    connection.save()
    ConnectionReview.objects.create(
        connection=connection,
        from_status=before,
        to_status=connection.status,
        comment=comment,
        reviewed_by=actor,
    )
    audit_log(
        actor=actor,
        action="compliance.connection_transition",
        subject=connection,
        data={"from": before, "to": connection.status, "comment": comment},
    )
    return connection
