"""消込: the one implementation of applying bank money to expected collections.

``allocate_many`` applies many entries set-wise, for a reconciliation run: the entries and
receivables are locked once (pk order), every entry is checked against what is left of it
and of each receivable, the allocations, balances and statuses are written in a few
statements, one audit event per entry and deal, the exposure of every receivable paid in
full is released in one ledger call and deals move to collecting or closed in bulk. An entry
is applied whole or refused whole (named in the result, left in the queue). A person's
allocation (``allocations.allocate``, the queue's accept) is the same call with one plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditRecord, audit_log_many
from core.bulk import update_rows
from core.exceptions import InvalidStateError
from credit.services import release_many
from deals.choices import Stage
from deals.models import Deal
from deals.services.transitions import move_many

from ..models import (
    Allocation,
    BankEntry,
    CollectionStatus,
    EntryStatus,
    ExpectedCollection,
    ReserveSettlement,
)
from ..selectors import SETTLED_STATUSES
from .settlement import release_request, reserve_to_return

_EXPECTED_FIELDS = ["paid_amount", "fee_amount", "status", "paid_on"]


@dataclass(frozen=True)
class PlannedLine:
    expected_id: int
    amount: int
    fee: int = 0


@dataclass(frozen=True)
class EntryPlan:
    """What to apply of one bank entry: its lines, with the engine's confidence and reasons."""

    entry_id: int
    lines: tuple[PlannedLine, ...]
    confidence: Decimal = Decimal(1)
    reasons: tuple[str, ...] = ()


@dataclass
class BatchResult:
    allocated: list[int] = field(default_factory=list)  # entry pks applied
    refused: dict[int, str] = field(default_factory=dict)  # entry pk → why not
    allocations: list[Allocation] = field(default_factory=list)  # the rows written


def derive_status(expected: ExpectedCollection, today: date) -> str:
    """Return the status the allocations and the calendar give (never typed by hand)."""
    if expected.status in (CollectionStatus.REPURCHASED, CollectionStatus.WRITTEN_OFF):
        return expected.status
    if expected.outstanding == 0:
        return CollectionStatus.PAID
    if expected.due_date < today:
        return CollectionStatus.OVERDUE
    return CollectionStatus.PARTIAL if expected.paid_amount else CollectionStatus.OPEN


def paid_on(expected: ExpectedCollection, last_value_date: date | None, today: date) -> date | None:
    """Return when a receivable paid in full was paid: the bank's value date of the last money
    applied, not the day it was matched (None while anything is open)."""
    if expected.status != CollectionStatus.PAID:
        return None
    return last_value_date or today


def applied_by_entry(entries: Iterable[int] | QuerySet) -> dict[int, int]:
    """Return ``{entry pk: yen applied and not reversed}`` for the entries (pks or a queryset
    of them), in one grouped query."""
    rows = (
        Allocation.objects.filter(entry__in=entries, reversed_at__isnull=True)
        .values("entry_id")
        .annotate(total=Sum("amount"))
        .values_list("entry_id", "total")
        .order_by()
    )
    return {entry_id: int(total or 0) for entry_id, total in rows}


def _refusal(entry: BankEntry | None, plan: EntryPlan, left: int, outstanding: dict[int, int],
             *, automatic: bool) -> Exception | None:  # fmt: skip
    """Return why ``plan`` cannot be applied as it stands, as the error one allocation by hand
    raises, or None. An automatic run only takes entries still waiting (the book may have
    moved since it decided); a person may also apply an entry parked in suspense."""
    if entry is None or entry.direction != "in" or entry.cancelled:
        return InvalidStateError(_("Only deposits can be applied to receivables."))
    if automatic and entry.status != EntryStatus.UNMATCHED:
        return InvalidStateError(_("The entry is no longer waiting for reconciliation."))
    if any(line.amount <= 0 or line.fee < 0 for line in plan.lines) or not plan.lines:
        return ValidationError({"amount": _("Enter a positive amount of yen.")})
    if sum(line.amount for line in plan.lines) > left:
        return ValidationError({"amount": _("More than is left of this bank entry.")})
    wanted: dict[int, int] = defaultdict(int)
    for line in plan.lines:
        wanted[line.expected_id] += line.amount + line.fee
    if any(amount > outstanding.get(pk, 0) for pk, amount in wanted.items()):
        return ValidationError({"amount": _("More than is still open on this receivable.")})
    return None


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return error.messages[0]
    return str(error)


@transaction.atomic
def allocate_many(
    plans: Sequence[EntryPlan], *, actor: Any | None, automatic: bool = True,
    actor_label: str = "", strict: bool = False,
) -> BatchResult:  # fmt: skip
    """Apply every plan that still fits the book, each entry whole or not at all.

    An automatic run applies only entries still waiting and money to receivables still open;
    a person (``automatic=False``) may also apply a parked entry, or money that arrives for a
    receivable bought back or written off. ``strict`` raises the first refusal (a person's
    action: everything or nothing) instead of naming it in the result."""
    result = BatchResult()
    entry_ids = sorted({plan.entry_id for plan in plans})
    expected_ids = sorted({line.expected_id for plan in plans for line in plan.lines})
    entries = BankEntry.objects.select_for_update().filter(pk__in=entry_ids).order_by("pk")
    entries = {entry.pk: entry for entry in entries}
    expected = (
        ExpectedCollection.objects.select_for_update(of=("self",))
        .select_related("receivable")
        .filter(pk__in=expected_ids)
        .order_by("pk")
    )
    expected = {row.pk: row for row in expected}
    applied = applied_by_entry(entry_ids)
    outstanding = {pk: row.outstanding for pk, row in expected.items()
                   if not automatic or row.status not in SETTLED_STATUSES}  # fmt: skip
    per_deal: dict[tuple[int, int], list[dict[str, int]]] = defaultdict(list)
    reasons: dict[int, list[str]] = {}
    for plan in plans:
        entry = entries.get(plan.entry_id)
        left = entry.amount - applied.get(entry.pk, 0) if entry else 0
        refusal = _refusal(entry, plan, left, outstanding, automatic=automatic)
        if refusal is not None:
            if strict:
                raise refusal
            result.refused[plan.entry_id] = _message(refusal)
            continue
        confidence = Decimal(str(plan.confidence)).quantize(Decimal("0.001"))
        for line in plan.lines:
            target = expected[line.expected_id]
            outstanding[target.pk] -= line.amount + line.fee
            target.paid_amount += line.amount
            target.fee_amount += line.fee
            result.allocations.append(Allocation(
                entry=entry, expected=target, amount=line.amount, fee=line.fee,
                automatic=automatic, confidence=confidence, reasons=list(plan.reasons),
                created_by=actor,
            ))  # fmt: skip
            per_deal[(entry.pk, target.deal_id)].append(
                {"receivable": target.pk, "amount": line.amount, "fee": line.fee}
            )
        applied[entry.pk] = applied.get(entry.pk, 0) + sum(line.amount for line in plan.lines)
        reasons[entry.pk] = list(plan.reasons)
        result.allocated.append(entry.pk)
    if not result.allocations:
        return result
    Allocation.objects.bulk_create(result.allocations, batch_size=1000)
    touched = {row.expected_id: expected[row.expected_id] for row in result.allocations}
    _update_expected(touched)
    _update_entries([entries[pk] for pk in result.allocated], applied)
    deals = Deal.objects.in_bulk({row.deal_id for row in touched.values()})
    audit_log_many([
        AuditRecord(actor=actor, actor_label=actor_label, action="collection.allocated",
                    subject=deals[deal_id],
                    data={"entry": entry_id, "lines": lines, "automatic": automatic,
                          "reasons": reasons[entry_id]})
        for (entry_id, deal_id), lines in per_deal.items()
    ])  # fmt: skip
    still_open = _open_counts(set(deals))  # the releases and moves below leave it as it is
    _release_paid(touched, deals, still_open, actor, actor_label)
    _advance_deals(deals, still_open, actor, actor_label)
    return result


def _update_entries(entries: list[BankEntry], applied: dict[int, int]) -> None:
    """Mark the entries applied in full matched; what a person applied of a parked entry
    puts the rest of it back in the queue."""
    full = [entry for entry in entries if applied[entry.pk] >= entry.amount]
    rest = [entry for entry in entries
            if applied[entry.pk] < entry.amount and entry.status != EntryStatus.UNMATCHED]  # fmt: skip
    for rows, status in ((full, EntryStatus.MATCHED), (rest, EntryStatus.UNMATCHED)):
        if rows:
            BankEntry.objects.filter(pk__in=[entry.pk for entry in rows]).update(status=status)
            for entry in rows:
                entry.status = status


def _update_expected(touched: dict[int, ExpectedCollection]) -> None:
    """Derive each receivable's status and, when paid, the value date of its last money."""
    today = timezone.localdate()
    for row in touched.values():
        row.status = derive_status(row, today)
    paid = [pk for pk, row in touched.items() if row.status == CollectionStatus.PAID]
    last = dict(
        Allocation.objects.filter(expected_id__in=paid, reversed_at__isnull=True)
        .values("expected_id")
        .annotate(d=Max("entry__value_date"))
        .order_by()
        .values_list("expected_id", "d")
    )
    for pk, row in touched.items():
        row.paid_on = paid_on(row, last.get(pk), today)
    update_rows(ExpectedCollection, list(touched.values()), _EXPECTED_FIELDS)


def _open_counts(deal_ids: set[int]) -> dict[int, int]:
    rows = (
        ExpectedCollection.objects.filter(deal_id__in=deal_ids)
        .exclude(status__in=SETTLED_STATUSES)
        .values("deal_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["deal_id"]: row["n"] for row in rows}


def _release_paid(touched: dict[int, ExpectedCollection], deals: dict[int, Deal],
                  still_open: dict[int, int], actor: Any, actor_label: str) -> None:  # fmt: skip
    """Release the exposure of every receivable now paid in full, in one ledger call."""
    paid = [row for row in touched.values()
            if row.status == CollectionStatus.PAID and not row.exposure_released]  # fmt: skip
    if not paid:
        return
    requests = [
        release_request(row, deals[row.deal_id], others_open=bool(still_open.get(row.deal_id)),
                        note=_("Collected %(invoice)s") % {"invoice": row.receivable.invoice_number})
        for row in paid
    ]  # fmt: skip
    release_many(requests, actor=actor, actor_label=actor_label, note=_("Collected"))
    ExpectedCollection.objects.filter(pk__in=[row.pk for row in paid]).update(
        exposure_released=True
    )
    for row in paid:
        row.exposure_released = True


def _advance_deals(deals: dict[int, Deal], still_open: dict[int, int], actor: Any,
                   actor_label: str) -> None:  # fmt: skip
    """Move deals with their first money to collecting; close those with nothing left to
    collect, with the reserve to return (reserve less the bank fees absorbed)."""
    move_many([pk for pk, deal in deals.items() if deal.stage == Stage.EXECUTED],
              to=Stage.COLLECTING, actor=actor, actor_label=actor_label,
              comment=_("First payment received"))  # fmt: skip
    done = [pk for pk in deals if not still_open.get(pk)]
    candidates = Deal.objects.filter(pk__in=done, stage=Stage.COLLECTING).only("pk", "reserve")
    fees = dict(
        ExpectedCollection.objects.filter(deal_id__in=done)
        .values("deal_id")
        .annotate(f=Sum("fee_amount"))
        .order_by()
        .values_list("deal_id", "f")
    )
    today = timezone.localdate()
    ReserveSettlement.objects.bulk_create(
        [
            ReserveSettlement(deal_id=deal.pk, computed_on=today,
                              amount=reserve_to_return(deal, int(fees.get(deal.pk) or 0)))
            for deal in candidates
        ],
        ignore_conflicts=True,
    )  # fmt: skip
    move_many([deal.pk for deal in candidates], to=Stage.CLOSED, actor=actor,
              actor_label=actor_label, comment=_("Fully collected"))  # fmt: skip


@transaction.atomic
def suspense_many(entry_ids: Sequence[int], *, actor: Any | None, note: str,
                  actor_label: str = "") -> int:  # fmt: skip
    """Park many unrecognised deposits in suspense (仮受), those still waiting; one audit
    event each. Return how many were parked."""
    waiting = (
        BankEntry.objects.select_for_update()
        .filter(pk__in=entry_ids, status=EntryStatus.UNMATCHED)
        .order_by("pk")
    )
    parked = list(waiting)
    BankEntry.objects.filter(pk__in=[entry.pk for entry in parked]).update(
        status=EntryStatus.SUSPENSE
    )
    audit_log_many([
        AuditRecord(actor=actor, actor_label=actor_label, action="collection.suspense",
                    subject=entry, data={"entry": entry.pk, "note": note})
        for entry in parked
    ])  # fmt: skip
    return len(parked)
