"""Load what the requirements table reads, asking compliance and credit only when the
stage being left has a gate that needs them."""

from __future__ import annotations

from typing import Any

from compliance.selectors import clearances
from credit.selectors import current_grades
from credit.services import check_limit
from customers.models import Customer

from .choices import ApprovalStatus, Stage
from .models import Deal
from .requirements import Check, Facts, evaluate, requirements_for


def load_facts(deal: Deal, *, stage: str | None = None, gates: bool = True) -> Facts:
    """Return the facts for leaving ``stage`` (the deal's own by default)."""
    stage = stage or deal.stage
    receivables = list(deal.receivables.all())
    facts = Facts(deal=deal, receivables=receivables)
    codes = {r.code for r in requirements_for(stage, deal) if r.gate}
    if not gates:
        return facts
    if codes & {"client_cleared", "debtors_cleared", "clearance_recheck"}:
        parties = list(Customer.objects.filter(pk__in=[deal.client_id, *facts.debtor_ids]))
        facts.cleared = {pk: result.cleared for pk, result in clearances(parties).items()}
    if "limits_in_force" in codes:
        # Amount 0: only whether each limit touched still stands, not the headroom (the
        # approval already reserved it).
        split = {debtor: 0 for debtor in facts.debtor_ids}
        check = check_limit(deal.client, 0, debtor_split=split or None)
        facts.limits_in_force = not any(line.hard_block for line in check.lines)
    if "ratings" in codes:
        facts.grades = current_grades([deal.client_id, *facts.debtor_ids])
    if stage == Stage.APPROVAL:
        facts.approved = deal.approvals.filter(
            status__in=[ApprovalStatus.APPROVED, ApprovalStatus.CONDITIONAL]
        ).exists()
    return facts


def checklist(deal: Deal, *, stage: str | None = None, gates: bool = True) -> list[Check]:
    """Return the requirements for leaving ``stage`` with whether each is met."""
    stage = stage or deal.stage
    return evaluate(stage, load_facts(deal, stage=stage, gates=gates))


def missing(deal: Deal, *, stage: str | None = None) -> list[dict[str, Any]]:
    """Return the unmet requirements as ``{code, label, stage}`` (the API's shape)."""
    stage = stage or deal.stage
    return [
        {"code": check.code, "label": check.label, "stage": stage}
        for check in checklist(deal, stage=stage)
        if not check.met
    ]
