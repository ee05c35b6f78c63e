"""Expected collections: one per receivable of an executed deal, with the due date moved to
the next bank business day and the party that actually pays."""

from __future__ import annotations

from core.calendar import next_business_day
from deals.choices import Stage
from deals.models import Deal, Receivable

from ..models import ExpectedCollection


def payer_of(deal: Deal, receivable: Receivable) -> int:
    """Return who pays: the debtor itself (3社間) or the client forwarding it (2社間)."""
    return receivable.debtor_id if deal.scheme == "three_party" else deal.client_id


def open_expectations(deal: Deal) -> list[ExpectedCollection]:
    """Create the expected collections of ``deal`` that do not exist yet; return them all."""
    receivables = list(deal.receivables.all())
    existing = set(
        ExpectedCollection.objects.filter(deal=deal).values_list("receivable_id", flat=True)
    )
    ExpectedCollection.objects.bulk_create(
        [
            ExpectedCollection(
                receivable=r,
                deal=deal,
                payer_id=payer_of(deal, r),
                debtor_id=r.debtor_id,
                due_date=next_business_day(r.due_date),
                expected_amount=r.face_amount,
            )
            for r in receivables
            if r.pk not in existing
        ]
    )
    return list(ExpectedCollection.objects.filter(deal=deal))


def on_deal_moved(sender, *, deal: Deal, to_stage: str, **kwargs) -> None:
    """Receiver of ``deals.signals.deal_moved``: execution opens the expected collections."""
    if to_stage == Stage.EXECUTED:
        open_expectations(deal)
