"""Moving deals through the pipeline. The requirements table decides what may move; the
gates (clearance, credit) are evaluated here; exposure is reserved, consumed or released
at the stages DESIGN §5 names; every move is logged with the time spent in the stage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core.audit import AuditRecord, audit_log, audit_log_many
from core.exceptions import InvalidStateError, PermissionDeniedError
from credit.services import consume, release

from ..choices import OPEN_STAGES, RESERVED_STAGES, ApprovalStatus, Stage, next_stage
from ..exceptions import TransitionBlocked
from ..facts import missing
from ..milestones import advance, stage_position
from ..models import ApprovalRequest, Deal, LostReason, StageChange
from ..signals import deal_moved
from .records import exposure_split, snapshot_clearance

# target stage → the FSM method that moves there (from the deal's current stage).
FORWARD = {
    Stage.DOCUMENTS: "to_documents",
    Stage.SCREENING: "to_screening",
    Stage.UNDERWRITING: "to_underwriting",
    Stage.QUOTED: "to_quoted",
    Stage.APPROVAL: "to_approval",
    Stage.CONTRACTED: "to_contracted",
    Stage.EXECUTED: "to_executed",
    Stage.COLLECTING: "to_collecting",
    Stage.CLOSED: "to_closed",
}
SEND_BACK = {Stage.UNDERWRITING: "send_back_to_underwriting", Stage.QUOTED: "send_back_to_quoted"}
EXITS = {Stage.LOST: "to_lost", Stage.CANCELLED: "to_cancelled"}
# Only an approval decision moves a deal out of approval (other than lost / cancelled).
DECISION_ONLY = {Stage.CONTRACTED, *SEND_BACK}


def _method(deal: Deal, to: str) -> str:
    if to in EXITS:
        return EXITS[to]
    if deal.stage == Stage.APPROVAL and to in SEND_BACK:
        return SEND_BACK[to]
    if FORWARD.get(to) and next_stage(deal.stage) == to:
        return FORWARD[to]
    raise InvalidStateError(
        _("A deal cannot move from %(from)s to %(to)s.")
        % {"from": Stage(deal.stage).label, "to": Stage(to).label}
    )


def available_transitions(deal: Deal, user: Any | None = None) -> list[dict[str, Any]]:
    """Return the moves the FSM allows from here, each with what is still missing.

    The forward move carries the stage's unmet requirements; lost and cancelled need only
    their own inputs; moves that only an approval decision makes are left out.
    """
    result = []
    may = user is None or user.has_perm("deals.transition_deal")
    upcoming = next_stage(deal.stage)
    if upcoming and deal.stage != Stage.APPROVAL:
        gaps = missing(deal)
        result.append({"to": upcoming, "label": str(Stage(upcoming).label), "missing": gaps,
                       "allowed": not gaps and may})  # fmt: skip
    if deal.stage in OPEN_STAGES:
        for to in (Stage.LOST, Stage.CANCELLED):
            result.append({"to": to, "label": str(Stage(to).label), "missing": [],
                           "allowed": may})  # fmt: skip
    return result


def record_stage_change(deal: Deal, *, from_stage: str, actor: Any, comment: str) -> StageChange:
    """Log the move and restart the stage clock (the time spent feeds the KPIs)."""
    now = timezone.now()
    change = StageChange.objects.create(
        deal=deal, from_stage=from_stage, to_stage=deal.stage, actor=actor, at=now,
        comment=comment, seconds_in_stage=max(int((now - deal.stage_entered_at).total_seconds()), 0),
    )  # fmt: skip
    deal.stage_entered_at = now
    advance(deal, deal.stage, now)
    deal.save()
    deal_moved.send(sender=Deal, deal=deal, from_stage=from_stage, to_stage=deal.stage,
                    actor=actor)  # fmt: skip
    audit_log(actor=actor, action="deal.transitioned", subject=deal,
              data={"deal": deal.number, "from": from_stage, "to": deal.stage, "comment": comment})  # fmt: skip
    return change


def _lost_reasons(codes: Iterable[str], *, chosen_by_system: bool = False) -> list[LostReason]:
    """Return the reasons for ``codes``; users pick from the active list, while a reason the
    system sets (リスクNG on rejection) applies even if it was retired from the picker."""
    codes = [code for code in dict.fromkeys(codes) if code]
    if not 1 <= len(codes) <= 3:
        raise ValidationError({"lost_reasons": _("Choose one to three lost reasons.")})
    reasons = LostReason.objects.filter(code__in=codes)
    if not chosen_by_system:
        reasons = reasons.filter(is_active=True)
    reasons = list(reasons)
    if len(reasons) != len(codes):
        raise ValidationError({"lost_reasons": _("Unknown lost reason.")})
    return reasons


def apply_transition(
    deal: Deal,
    *,
    to: str,
    actor: Any,
    comment: str = "",
    lost_reasons: Iterable[str] = (),
    reasons_by_system: bool = False,
) -> Deal:
    """Move a locked deal, with the side effects of the target stage (inside a transaction)."""
    method = _method(deal, to)
    if not can_proceed(getattr(deal, method)):
        raise InvalidStateError(_("This move is not possible from the deal's stage."))
    from_stage = deal.stage
    reasons: list[LostReason] = []
    if to == Stage.LOST:
        reasons = _lost_reasons(lost_reasons, chosen_by_system=reasons_by_system)
        deal.lost_note = comment or deal.lost_note
    if to == Stage.CANCELLED and not comment.strip():
        raise ValidationError({"comment": _("Say why the deal is cancelled.")})
    if to in EXITS:
        if from_stage in RESERVED_STAGES:
            release(counterparty=deal.client, reference=deal.number, actor=actor,
                    note=_("Deal %(to)s") % {"to": Stage(to).label})  # fmt: skip
        ApprovalRequest.objects.filter(deal=deal, status=ApprovalStatus.PENDING).update(
            status=ApprovalStatus.WITHDRAWN, decided_at=timezone.now()
        )
    if to == Stage.EXECUTED:
        consume(counterparty=deal.client, amount=deal.advance_amount, reference=deal.number,
                actor=actor, debtor_split=exposure_split(deal) or None)  # fmt: skip
    getattr(deal, method)()
    if reasons:
        deal.lost_reasons.set(reasons)
    record_stage_change(deal, from_stage=from_stage, actor=actor, comment=comment)
    if to == Stage.APPROVAL:
        from .approvals import approval_request_create

        approval_request_create(deal=deal, actor=actor)
    return deal


# Moves a reconciliation run makes in bulk: nothing happens at the target but the log.
QUIET_MOVES = {Stage.COLLECTING: Stage.EXECUTED, Stage.CLOSED: Stage.COLLECTING}


@transaction.atomic
def move_many(
    deal_ids: Iterable[int], *, to: str, actor: Any, comment: str, actor_label: str = ""
) -> list[Deal]:
    """Move many deals on to collecting or closed at once (money came in for all of them).

    Only deals still in the source stage move (locked, in pk order); each gets its stage
    change with the time spent, its ``deal_moved`` signal and audit event, as one move does,
    in one insert each instead of one round trip per deal. Return the deals moved."""
    if to not in QUIET_MOVES:
        raise InvalidStateError(_("Only collecting and closed are moved in bulk."))
    source = QUIET_MOVES[to]
    locked = list(
        Deal.objects.select_for_update(of=("self",))
        .filter(pk__in=set(deal_ids), stage=source)
        .order_by("pk")
        .only("pk", "number", "stage_entered_at")
    )
    if not locked:
        return []
    now = timezone.now()
    changes = [
        StageChange(deal=deal, from_stage=source, to_stage=to, actor=actor, at=now,
                    comment=comment,
                    seconds_in_stage=max(int((now - deal.stage_entered_at).total_seconds()), 0))
        for deal in locked
    ]  # fmt: skip
    for change in changes:
        change.set_business_days()
    StageChange.objects.bulk_create(changes, batch_size=1000)
    moved = Deal.objects.filter(pk__in=[deal.pk for deal in locked])
    moved.update(stage=to, stage_entered_at=now, updated_at=now,
                 furthest_stage=Greatest("furthest_stage", Value(stage_position(to))))  # fmt: skip
    deals = list(moved.select_related("client").order_by("pk"))
    for deal in deals:
        deal_moved.send(sender=Deal, deal=deal, from_stage=source, to_stage=to, actor=actor)
    audit_log_many([
        AuditRecord(actor=actor, actor_label=actor_label, action="deal.transitioned",
                    subject=deal,
                    data={"deal": deal.number, "from": source, "to": to, "comment": comment})
        for deal in deals
    ])  # fmt: skip
    return deals


@transaction.atomic
def deal_transition(
    *,
    deal: Deal,
    actor: Any,
    to: str,
    comment: str = "",
    lost_reasons: Iterable[str] = (),
) -> Deal:
    """Move ``deal`` to ``to`` if every requirement of its stage is met, else raise
    ``TransitionBlocked`` naming exactly what is missing."""
    if not actor.has_perm("deals.transition_deal"):
        raise PermissionDeniedError()
    deal = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("client", "remittance_account")
        .get(pk=deal.pk)
    )
    if deal.stage == Stage.APPROVAL and to in DECISION_ONLY:
        raise InvalidStateError(_("Only an approval decision moves a deal out of approval."))
    # A skip or a backward move is refused as such, before any requirement is weighed.
    _method(deal, to)
    if to not in EXITS:
        gaps = missing(deal)
        if gaps:
            raise TransitionBlocked(gaps)
    if deal.stage == Stage.SCREENING or to == Stage.EXECUTED:
        snapshot_clearance(deal)  # the evidence of the re-check, kept with the deal
    return apply_transition(deal, to=to, actor=actor, comment=comment, lost_reasons=lost_reasons)
