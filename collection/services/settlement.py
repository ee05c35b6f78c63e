"""What follows a receivable being settled (paid in full or bought back): its exposure is
released and, once nothing is left to collect, the deal closes with its reserve to return.
Shared by allocations and repurchases so both follow the same rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import apply_rate
from credit.services import ReleaseRequest, release_many
from deals.choices import Stage
from deals.models import Deal
from deals.services.transitions import apply_transition

from ..models import ExpectedCollection, ReserveSettlement
from ..selectors import SETTLED_STATUSES


def exposure_share(expected: ExpectedCollection, deal: Deal) -> int:
    """Return the exposure one receivable carried: its face × the deal's advance rate."""
    return apply_rate(expected.expected_amount, deal.advance_rate or Decimal(0))


def others_open(expected: ExpectedCollection, deal: Deal) -> bool:
    return (
        ExpectedCollection.objects.filter(deal=deal)
        .exclude(pk=expected.pk)
        .exclude(status__in=SETTLED_STATUSES)
        .exists()
    )


def release_request(expected: ExpectedCollection, deal: Deal, *, others_open: bool,
                    note: str = "") -> ReleaseRequest:  # fmt: skip
    """Return what settling the receivable releases: its share of the client's exposure for
    its debtor while others of its deal are open, else all that is left for the debtor
    under the deal (never more than is open)."""
    share = exposure_share(expected, deal) if others_open else None
    return ReleaseRequest(counterparty_id=deal.client_id, reference=deal.number,
                          debtor_id=expected.receivable.debtor_id, amount=share, note=note)  # fmt: skip


def release_receivable(
    expected: ExpectedCollection, deal: Deal, *, actor: Any, note: str, actor_label: str = ""
) -> None:
    """Release what settling the receivable frees (``release_request``); a deal loaded
    without ledger rows has nothing to release."""
    request = release_request(expected, deal, others_open=others_open(expected, deal))
    release_many([request], actor=actor, note=note, actor_label=actor_label)


def reserve_to_return(deal: Deal, fees: int) -> int:
    """返還額: the deal's reserve less the bank fees its receivables absorbed."""
    return max(deal.reserve - fees, 0)


def advance_deal(deal: Deal, *, actor: Any, comment: str) -> None:
    """Move the deal to collecting, and close it with its reserve settlement (reserve less the
    bank fees absorbed) once nothing is left to collect."""
    if deal.stage == Stage.EXECUTED:
        apply_transition(deal, to=Stage.COLLECTING, actor=actor, comment=comment)
    if deal.stage != Stage.COLLECTING:
        return
    if ExpectedCollection.objects.filter(deal=deal).exclude(status__in=SETTLED_STATUSES).exists():
        return
    fees = ExpectedCollection.objects.filter(deal=deal).aggregate(f=Sum("fee_amount"))["f"]
    ReserveSettlement.objects.get_or_create(
        deal=deal,
        defaults={"amount": reserve_to_return(deal, int(fees or 0)),
                  "computed_on": timezone.localdate()},
    )  # fmt: skip
    apply_transition(deal, to=Stage.CLOSED, actor=actor, comment=_("Fully collected"))
