"""稟議: the approval request with its generated summary, and the decision on it.

Maker-checker: nobody decides on a deal they own, created or sent for approval. The matrix
sets the level; red utilisation always needs an executive signing with conditions. Proxy
and after-the-fact approvals exist only as recorded exceptions with their reason.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApprovalLevel
from core.audit import audit_log
from core.exceptions import InvalidStateError, PermissionDeniedError
from credit.selectors import current_grades
from credit.services import Escalation, check_limit, reserve

from ..authority import required_level, risk_tier
from ..choices import ApprovalException, ApprovalStatus, Decision, Stage
from ..models import ApprovalRequest, AuthorityRule, Deal
from .records import exposure_split
from .transitions import apply_transition


def build_summary(deal: Deal, check: Any, grades: dict[int, str]) -> dict[str, Any]:
    """Return the 稟議 summary: parties, amounts and breakdown, ratings, limits, screening,
    risks and conditions — frozen as it was when approval was asked for."""
    receivables = list(deal.receivables.select_related("debtor"))
    debtors: dict[int, dict[str, Any]] = {}
    for r in receivables:
        entry = debtors.setdefault(r.debtor_id, {"name": r.debtor.name, "face": 0, "invoices": 0,
                                                 "grade": grades.get(r.debtor_id, "")})  # fmt: skip
        entry["face"] += r.face_amount
        entry["invoices"] += 1
    risks = []
    if deal.advance_override_reason:
        risks.append(
            _("Advance rate overridden: %(reason)s") % {"reason": deal.advance_override_reason}
        )
    if check.status != "green":
        risks.append(_("Limit utilisation is %(status)s.") % {"status": check.status})
    risks.extend(str(reason) for reason in check.blocked_reasons)
    return {
        "deal": deal.number,
        "name": deal.name,
        "client": {"id": deal.client_id, "name": deal.client.name,
                   "grade": grades.get(deal.client_id, "")},
        "debtors": [{"id": pk, **values} for pk, values in sorted(debtors.items())],
        "scheme": deal.scheme,
        "registration_required": deal.registration_required,
        "notice_required": deal.notice_required,
        "funding": {
            "face_value": deal.face_value, "advance_rate": str(deal.advance_rate),
            "policy_rate": str(deal.policy_rate), "policy_version": deal.policy_version,
            "fee_rate": str(deal.fee_rate), "advance_amount": deal.advance_amount,
            "fee": deal.fee, "other_costs": deal.other_costs,
            "upfront_payment": deal.upfront_payment, "reserve": deal.reserve,
            "total_to_client": deal.total_to_client,
        },
        "limit_check": check.as_dict(),
        "clearance": deal.clearance_snapshot,
        "memo": {"background": deal.memo_background, "judgement": deal.memo_judgement,
                 "next": deal.memo_next},
        "expected_payment_date": str(deal.expected_payment_date or ""),
        "expected_collection_date": str(deal.expected_collection_date or ""),
        "risks": risks,
    }  # fmt: skip


def approval_request_create(*, deal: Deal, actor: Any) -> ApprovalRequest:
    """Open the 稟議 for a deal entering approval, with the level the matrix requires."""
    split = exposure_split(deal)
    check = check_limit(deal.client, deal.advance_amount, debtor_split=split or None)
    parties = [deal.client_id, *sorted(d.pk for d in split)]
    grades = current_grades(parties)
    # A party without a rating (e.g. a debtor added after underwriting) counts as high risk.
    risk = risk_tier([grades.get(party, "") for party in parties], check.status)
    level = required_level(deal.advance_amount, risk, check.status, AuthorityRule.objects.all())
    request = ApprovalRequest.objects.create(
        deal=deal, summary=build_summary(deal, check, grades), amount=deal.advance_amount,
        risk=risk, limit_status=check.status, required_level=level, requested_by=actor,
    )  # fmt: skip
    audit_log(actor=actor, action="deal.approval_requested", subject=deal,
              data={"deal": deal.number, "approval": request.pk, "level": level, "risk": risk,
                    "limit_status": check.status})  # fmt: skip
    return request


def _makers(approval: ApprovalRequest) -> set[int]:
    deal = approval.deal
    return {deal.owner_id, deal.created_by_id, approval.requested_by_id}


def may_decide(approval: ApprovalRequest, user: Any) -> bool:
    """Return True when ``user`` could decide ``approval`` without an exception."""
    return (
        user.has_perm("deals.decide_approval")
        and user.pk not in _makers(approval)
        and getattr(user, "approval_level", 0) >= approval.required_level
    )


def _two_factor_passed(user: Any) -> bool:
    if not settings.OTP_REQUIRED:
        return True
    verified = getattr(user, "is_verified", None)
    return bool(verified and verified())


def _authorise(approval, actor, exception, exception_reason, on_behalf_of) -> Any:
    """Return the approver whose authority the decision uses, or refuse."""
    if not actor.has_perm("deals.decide_approval"):
        raise PermissionDeniedError()
    if not _two_factor_passed(actor):
        raise PermissionDeniedError(_("Approvers must pass two-factor authentication first."))
    if exception not in ApprovalException.values:
        # Django's own message (already translated): no new string for the catalogue.
        message = Field.default_error_messages["invalid_choice"] % {"value": exception}
        raise ValidationError({"exception": message})
    makers = _makers(approval)
    if actor.pk in makers:
        raise PermissionDeniedError(_("You cannot decide on a deal you own, created or submitted."))
    if exception and not exception_reason.strip():
        raise ValidationError({"exception_reason": _("A recorded exception needs its reason.")})
    authority = actor
    if exception == ApprovalException.PROXY:
        if on_behalf_of is None or on_behalf_of.pk in makers or on_behalf_of.pk == actor.pk:
            raise ValidationError({"on_behalf_of": _("Name the approver you decide for.")})
        if not on_behalf_of.has_perm("deals.decide_approval"):
            raise PermissionDeniedError(_("The absent approver holds no approval authority."))
        authority = on_behalf_of
    if getattr(authority, "approval_level", 0) < approval.required_level:
        raise PermissionDeniedError(
            _("This deal needs approver level %(level)s or higher.")
            % {"level": approval.required_level}
        )
    return authority


@transaction.atomic
def approval_decide(
    *,
    approval: ApprovalRequest,
    actor: Any,
    decision: str,
    comment: str = "",
    conditions: str = "",
    send_back_to: str = "",
    exception: str = "",
    exception_reason: str = "",
    on_behalf_of: Any | None = None,
) -> ApprovalRequest:
    """Decide a pending 稟議: approve (reserves exposure), approve with conditions, send back
    to underwriting or quoted, or reject (the deal is lost with リスクNG)."""
    deal = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=approval.deal_id)
    )
    approval = ApprovalRequest.objects.select_for_update(of=("self",)).get(pk=approval.pk)
    approval.deal = deal
    if approval.status != ApprovalStatus.PENDING or deal.stage != Stage.APPROVAL:
        raise InvalidStateError(_("This approval request has already been decided."))
    authority = _authorise(approval, actor, exception, exception_reason, on_behalf_of)
    if decision in (Decision.SEND_BACK, Decision.REJECT) and not comment.strip():
        raise ValidationError({"comment": _("Give the reason for this decision.")})
    if decision == Decision.APPROVE_WITH_CONDITIONS and not conditions.strip():
        raise ValidationError({"conditions": _("State the conditions of the approval.")})

    if decision in (Decision.APPROVE, Decision.APPROVE_WITH_CONDITIONS):
        escalation = None
        if decision == Decision.APPROVE_WITH_CONDITIONS and (
            getattr(authority, "approval_level", 0) >= ApprovalLevel.EXECUTIVE
        ):
            escalation = Escalation(approver=authority, conditions=conditions)
        reserve(counterparty=deal.client, amount=deal.advance_amount, reference=deal.number,
                actor=actor, debtor_split=exposure_split(deal) or None, escalation=escalation,
                note=_("Approval of %(deal)s") % {"deal": deal.number})  # fmt: skip
        approval.status = (ApprovalStatus.CONDITIONAL if decision == Decision.APPROVE_WITH_CONDITIONS
                           else ApprovalStatus.APPROVED)  # fmt: skip
        target, reasons = Stage.CONTRACTED, ()
    elif decision == Decision.SEND_BACK:
        if send_back_to not in (Stage.UNDERWRITING, Stage.QUOTED):
            raise ValidationError({"send_back_to": _("Send back to underwriting or quoted.")})
        approval.status = ApprovalStatus.SENT_BACK
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        deal.send_back_reasons = f"{deal.send_back_reasons}\n[{stamp} {actor}] {comment}".strip()
        target, reasons = send_back_to, ()
    elif decision == Decision.REJECT:
        approval.status = ApprovalStatus.REJECTED
        target, reasons = Stage.LOST, ("risk_ng",)
    else:
        raise ValidationError({"decision": _("Unknown decision.")})

    approval.decision = decision
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.comment = comment
    approval.conditions = conditions
    approval.send_back_to = send_back_to if decision == Decision.SEND_BACK else ""
    approval.exception = exception
    approval.exception_reason = exception_reason
    approval.on_behalf_of = on_behalf_of if exception == ApprovalException.PROXY else None
    approval.save()
    audit_log(actor=actor, action="deal.approval_decided", subject=deal,
              data={"deal": deal.number, "approval": approval.pk, "decision": decision,
                    "exception": exception, "on_behalf_of": getattr(on_behalf_of, "pk", None)})  # fmt: skip
    apply_transition(deal, to=target, actor=actor, comment=comment or conditions,
                     lost_reasons=reasons, reasons_by_system=True)  # fmt: skip
    return approval
