"""消込 for a whole reconciliation run at once.

``allocate`` applies one line with its own locks, checks, audit event, exposure release and
deal move — right for a person at the queue, but ~30 ms a line, minutes for a month's
statement. ``allocate_many`` applies the same rules to many entries set-wise: the entries and
receivables are locked once (pk order), every entry is checked against what is left of it
and of each receivable, the allocations, balances and statuses are written in a few
statements, one audit event per entry and deal, the exposure of every receivable paid in
full is released in one ledger call and deals move to collecting or closed in bulk. An entry
is applied whole or refused whole (named in the result, left in the queue).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import AuditRecord, audit_log_many
from core.bulk import update_rows
from credit.services import ReleaseRequest, release_many
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
from .allocations import derive_status
from .settlement import SETTLED, exposure_share, reserve_to_return

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
    allocations: int = 0
    paid: int = 0  # receivables paid in full
    closed: int = 0  # deals closed


def _refusal(entry: BankEntry | None, plan: EntryPlan, left: int,
             outstanding: dict[int, int]) -> str | None:  # fmt: skip
    """Return why ``plan`` cannot be applied as it stands, or None."""
    if entry is None or entry.direction != "in" or entry.cancelled:
        return _("Only deposits can be applied to receivables.")
    if entry.status != EntryStatus.UNMATCHED:
        return _("The entry is no longer waiting for reconciliation.")
    if any(line.amount <= 0 or line.fee < 0 for line in plan.lines) or not plan.lines:
        return _("Enter a positive amount of yen.")
    if sum(line.amount for line in plan.lines) > left:
        return _("More than is left of this bank entry.")
    wanted: dict[int, int] = defaultdict(int)
    for line in plan.lines:
        wanted[line.expected_id] += line.amount + line.fee
    if any(amount > outstanding.get(pk, 0) for pk, amount in wanted.items()):
        return _("More than is still open on this receivable.")
    return None


def _applied(entry_ids: list[int]) -> dict[int, int]:
    rows = (
        Allocation.objects.filter(entry_id__in=entry_ids, reversed_at__isnull=True)
        .values("entry_id")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    return {row["entry_id"]: int(row["s"]) for row in rows}


@transaction.atomic
def allocate_many(
    plans: Sequence[EntryPlan], *, actor: Any | None, automatic: bool = True,
    actor_label: str = "",
) -> BatchResult:  # fmt: skip
    """Apply every plan that still fits the book, each entry whole or not at all."""
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
    applied = _applied(entry_ids)
    outstanding = {pk: row.outstanding for pk, row in expected.items()
                   if row.status not in SETTLED}  # fmt: skip
    rows: list[Allocation] = []
    per_deal: dict[tuple[int, int], list[dict[str, int]]] = defaultdict(list)
    for plan in plans:
        entry = entries.get(plan.entry_id)
        left = entry.amount - applied.get(entry.pk, 0) if entry else 0
        refusal = _refusal(entry, plan, left, outstanding)
        if refusal:
            result.refused[plan.entry_id] = refusal
            continue
        confidence = Decimal(str(plan.confidence)).quantize(Decimal("0.001"))
        for line in plan.lines:
            target = expected[line.expected_id]
            outstanding[target.pk] -= line.amount + line.fee
            target.paid_amount += line.amount
            target.fee_amount += line.fee
            rows.append(Allocation(
                entry=entry, expected=target, amount=line.amount, fee=line.fee,
                automatic=automatic, confidence=confidence, reasons=list(plan.reasons),
                created_by=actor,
            ))  # fmt: skip
            per_deal[(entry.pk, target.deal_id)].append(
                {"receivable": target.pk, "amount": line.amount, "fee": line.fee}
            )
        applied[entry.pk] = applied.get(entry.pk, 0) + sum(line.amount for line in plan.lines)
        result.allocated.append(entry.pk)
    if not rows:
        return result
    Allocation.objects.bulk_create(rows, batch_size=1000)
    result.allocations = len(rows)
    touched = {row.expected_id: expected[row.expected_id] for row in rows}
    _update_expected(touched)
    BankEntry.objects.filter(
        pk__in=[pk for pk in result.allocated if applied[pk] >= entries[pk].amount]
    ).update(status=EntryStatus.MATCHED)
    deals = Deal.objects.in_bulk({row.deal_id for row in touched.values()})
    audit_log_many([
        AuditRecord(actor=actor, actor_label=actor_label, action="collection.allocated",
                    subject=deals[deal_id],
                    data={"entry": entry_id, "lines": lines, "automatic": automatic})
        for (entry_id, deal_id), lines in per_deal.items()
    ])  # fmt: skip
    result.paid = _release_paid(touched, deals, actor, actor_label)
    result.closed = _advance_deals(deals, actor, actor_label)
    return result


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
        row.paid_on = (last.get(pk) or today) if row.status == CollectionStatus.PAID else None
    update_rows(ExpectedCollection, list(touched.values()), _EXPECTED_FIELDS)


def _open_counts(deal_ids: set[int]) -> dict[int, int]:
    rows = (
        ExpectedCollection.objects.filter(deal_id__in=deal_ids)
        .exclude(status__in=SETTLED)
        .values("deal_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["deal_id"]: row["n"] for row in rows}


def _release_paid(touched: dict[int, ExpectedCollection], deals: dict[int, Deal],
                  actor: Any, actor_label: str) -> int:  # fmt: skip
    """Release the exposure of every receivable now paid in full: its share while others of
    its deal are open, else all that is left for its debtor (as ``release_receivable``)."""
    paid = [row for row in touched.values()
            if row.status == CollectionStatus.PAID and not row.exposure_released]  # fmt: skip
    if not paid:
        return 0
    still_open = _open_counts({row.deal_id for row in paid})
    requests = []
    for row in paid:
        deal = deals[row.deal_id]
        share = exposure_share(row, deal) if still_open.get(deal.pk) else None
        requests.append(ReleaseRequest(counterparty_id=deal.client_id, reference=deal.number,
                                       debtor_id=row.receivable.debtor_id, amount=share))  # fmt: skip
    release_many(requests, actor=actor, actor_label=actor_label, note=_("Collected"))
    ExpectedCollection.objects.filter(pk__in=[row.pk for row in paid]).update(
        exposure_released=True
    )
    return len(paid)


def _advance_deals(deals: dict[int, Deal], actor: Any, actor_label: str) -> int:
    """Move deals with their first money to collecting; close those with nothing left to
    collect, with the reserve to return (reserve less the bank fees absorbed)."""
    move_many([pk for pk, deal in deals.items() if deal.stage == Stage.EXECUTED],
              to=Stage.COLLECTING, actor=actor, actor_label=actor_label,
              comment=_("First payment received"))  # fmt: skip
    still_open = _open_counts(set(deals))
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
    closed = move_many([deal.pk for deal in candidates], to=Stage.CLOSED, actor=actor,
                       actor_label=actor_label, comment=_("Fully collected"))  # fmt: skip
    return len(closed)


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
