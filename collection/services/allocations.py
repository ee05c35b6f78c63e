"""消込 by a person: one allocation (the batch path with one plan, so the same rules as a
run), taking one back — which re-opens the receivable and its exposure — and parking an
entry in suspense."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.exceptions import InvalidStateError
from credit.services import adjust
from deals.choices import Stage
from deals.models import Deal

from ..models import Allocation, BankEntry, EntryStatus, ExpectedCollection
from .batch import EntryPlan, PlannedLine, allocate_many, applied_by_entry, derive_status, paid_on
from .settlement import exposure_share


def entry_remaining(entry: BankEntry) -> int:
    """Return the part of the entry not yet applied."""
    return entry.amount - applied_by_entry([entry.pk]).get(entry.pk, 0)


def _refresh(expected: ExpectedCollection, today: date) -> None:
    """Re-read the balances from the allocations left standing, then status and paid date."""
    sums = expected.allocations.filter(reversed_at__isnull=True).aggregate(
        paid=Sum("amount"), fee=Sum("fee"), last=Max("entry__value_date")
    )
    expected.paid_amount = int(sums["paid"] or 0)
    expected.fee_amount = int(sums["fee"] or 0)
    expected.status = derive_status(expected, today)
    expected.paid_on = paid_on(expected, sums["last"], today)


def allocate(
    *,
    entry: BankEntry,
    expected: ExpectedCollection,
    amount: int,
    actor: Any | None,
    fee: int = 0,
    automatic: bool = False,
    confidence: Decimal | float = 1,
    reasons: list[str] | None = None,
    actor_label: str = "",
) -> Allocation:
    """Apply ``amount`` of the entry (plus a bank ``fee`` the payer was short by) to one
    expected collection. Several calls split an entry or pay one receivable in parts.

    One plan of one line through ``allocate_many``, so a person's allocation follows the
    same rules as a run; a refusal raises (``ValidationError`` for the amounts)."""
    plan = EntryPlan(entry.pk, (PlannedLine(expected.pk, amount, fee),),
                     confidence=Decimal(str(confidence)), reasons=tuple(reasons or ()))  # fmt: skip
    result = allocate_many([plan], actor=actor, automatic=automatic, actor_label=actor_label,
                           strict=True)  # fmt: skip
    return result.allocations[0]


@transaction.atomic
def allocation_reverse(*, allocation: Allocation, actor: Any, reason: str) -> Allocation:
    """Take an allocation back (with the reason); re-opens the receivable and its exposure."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the allocation is reversed.")})
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.reversed_at is not None:
        raise InvalidStateError(_("This allocation was already reversed."))
    expected = ExpectedCollection.objects.select_for_update(of=("self",)).get(
        pk=allocation.expected_id
    )
    deal = Deal.objects.select_related("client").get(pk=expected.deal_id)
    if deal.stage == Stage.CLOSED:
        raise InvalidStateError(_("The deal is closed; correct it by hand with the reserve."))
    allocation.reversed_at = timezone.now()
    allocation.reversed_by = actor
    allocation.reversal_reason = reason.strip()
    allocation.save(update_fields=["reversed_at", "reversed_by", "reversal_reason"])
    if expected.exposure_released:
        share = exposure_share(expected, deal)
        if share:
            adjust(counterparty=deal.client, amount=share, reference=deal.number, actor=actor,
                   note=_("Allocation reversed: %(reason)s") % {"reason": reason},
                   debtor=expected.receivable.debtor)  # fmt: skip
        expected.exposure_released = False
    _refresh(expected, timezone.localdate())
    expected.save(update_fields=["paid_amount", "fee_amount", "status", "paid_on",
                                 "exposure_released"])  # fmt: skip
    entry = allocation.entry
    entry.status = EntryStatus.UNMATCHED
    entry.save(update_fields=["status"])
    audit_log(actor=actor, action="collection.allocation_reversed", subject=deal,
              data={"allocation": allocation.pk, "reason": reason})  # fmt: skip
    return allocation


@transaction.atomic
def entry_to_suspense(*, entry: BankEntry, actor: Any, note: str = "") -> BankEntry:
    """Park unidentified money in suspense (仮受) until someone recognises it."""
    entry = BankEntry.objects.select_for_update().get(pk=entry.pk)
    if entry_remaining(entry) == 0:
        raise InvalidStateError(_("This entry is fully applied."))
    entry.status = EntryStatus.SUSPENSE
    entry.save(update_fields=["status"])
    audit_log(actor=actor, action="collection.suspense", subject=entry,
              data={"entry": entry.pk, "note": note})  # fmt: skip
    return entry
