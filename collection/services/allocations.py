"""消込: applying bank money to expected collections, reversing it, and what follows a full
payment — exposure released, the deal collecting, then closed with its reserve to return."""

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

from ..models import Allocation, BankEntry, CollectionStatus, EntryStatus, ExpectedCollection
from .settlement import advance_deal, exposure_share, release_receivable


def entry_remaining(entry: BankEntry) -> int:
    """Return the part of the entry not yet applied."""
    used = entry.allocations.filter(reversed_at__isnull=True).aggregate(s=Sum("amount"))["s"]
    return entry.amount - int(used or 0)


def derive_status(expected: ExpectedCollection, today: date) -> str:
    """Return the status the allocations and the calendar give (never typed by hand)."""
    if expected.status in (CollectionStatus.REPURCHASED, CollectionStatus.WRITTEN_OFF):
        return expected.status
    if expected.outstanding == 0:
        return CollectionStatus.PAID
    if expected.due_date < today:
        return CollectionStatus.OVERDUE
    return CollectionStatus.PARTIAL if expected.paid_amount else CollectionStatus.OPEN


def _refresh(expected: ExpectedCollection, today: date) -> None:
    sums = expected.allocations.filter(reversed_at__isnull=True).aggregate(
        paid=Sum("amount"), fee=Sum("fee")
    )
    expected.paid_amount = int(sums["paid"] or 0)
    expected.fee_amount = int(sums["fee"] or 0)
    expected.status = derive_status(expected, today)
    # Paid on the bank's value date of the last money applied, not the day it was matched.
    last = expected.allocations.filter(reversed_at__isnull=True).aggregate(
        d=Max("entry__value_date")
    )["d"]
    expected.paid_on = (last or today) if expected.status == CollectionStatus.PAID else None


def _after_payment(expected: ExpectedCollection, deal: Deal, actor: Any, actor_label: str) -> None:
    """Release a fully paid receivable's exposure, then move or close the deal."""
    if expected.status == CollectionStatus.PAID and not expected.exposure_released:
        note = _("Collected %(invoice)s") % {"invoice": expected.receivable.invoice_number}
        release_receivable(expected, deal, actor=actor, note=note, actor_label=actor_label)
        expected.exposure_released = True
        expected.save(update_fields=["exposure_released"])
    advance_deal(deal, actor=actor, comment=_("First payment received"))


@transaction.atomic
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
    expected collection. Several calls split an entry or pay one receivable in parts."""
    entry = BankEntry.objects.select_for_update().get(pk=entry.pk)
    expected = (
        ExpectedCollection.objects.select_for_update(of=("self",))
        .select_related("receivable__debtor")
        .get(pk=expected.pk)
    )
    if amount <= 0 or fee < 0:
        raise ValidationError({"amount": _("Enter a positive amount of yen.")})
    if entry.direction != "in" or entry.cancelled:
        raise InvalidStateError(_("Only deposits can be applied to receivables."))
    if amount > entry_remaining(entry):
        raise ValidationError({"amount": _("More than is left of this bank entry.")})
    if amount + fee > expected.outstanding:
        raise ValidationError({"amount": _("More than is still open on this receivable.")})
    allocation = Allocation.objects.create(
        entry=entry, expected=expected, amount=amount, fee=fee, automatic=automatic,
        confidence=Decimal(str(confidence)).quantize(Decimal("0.001")), reasons=reasons or [],
        created_by=actor,
    )  # fmt: skip
    today = timezone.localdate()
    _refresh(expected, today)
    expected.save(update_fields=["paid_amount", "fee_amount", "status", "paid_on"])
    entry.status = EntryStatus.MATCHED if entry_remaining(entry) == 0 else EntryStatus.UNMATCHED
    entry.save(update_fields=["status"])
    deal = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=expected.deal_id)
    )
    audit_log(actor=actor, actor_label=actor_label, action="collection.allocated", subject=deal,
              data={"entry": entry.pk, "receivable": expected.pk, "amount": amount, "fee": fee,
                    "automatic": automatic, "reasons": reasons or []})  # fmt: skip
    _after_payment(expected, deal, actor, actor_label)
    return allocation


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
