"""Keep credit's invariants through a customer merge (registered as customers merge hooks).

Before rows move, the merged party's live limits are superseded (the survivor's limits
govern, and one live limit per kind stays true). After rows move — or move back on undo —
the balances of both parties and their group parents are rebuilt from the ledger.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Sum
from django.utils import timezone

from core.audit import audit_log
from customers.models import Customer

from ..checks import LIVE_STATUSES, ancestors_of
from ..choices import LimitStatus
from ..locks import lock_exposures
from ..models import CreditLimit, Exposure, ExposureEntry


def supersede_merged_limits(*, survivor: Customer, merged: Customer, actor: Any) -> None:
    limits = list(CreditLimit.objects.filter(counterparty=merged, status__in=LIVE_STATUSES))
    if not limits:
        return
    CreditLimit.objects.filter(pk__in=[limit.pk for limit in limits]).update(
        status=LimitStatus.SUPERSEDED,
        decision_comment=f"merged into customer {survivor.pk}",
        decided_at=timezone.now(),
    )
    audit_log(actor=actor, action="credit.limits_superseded_by_merge", subject=survivor,
              data={"merged": merged.pk, "limit_ids": [limit.pk for limit in limits]})  # fmt: skip


def _sums(**filters: Any) -> tuple[int, int]:
    row = ExposureEntry.objects.filter(**filters).aggregate(
        r=Sum("reserved_change"), c=Sum("consumed_change")
    )
    return int(row["r"] or 0), int(row["c"] or 0)


def exposure_rebuild(counterparty_ids: list[int]) -> None:
    """Recompute the balances of these parties and of their group parents from the ledger."""
    from ..selectors import descendant_rows

    ids = set(counterparty_ids)
    for parents in ancestors_of(ids).values():
        ids.update(parents)
    lock_exposures(ids)
    for pk in sorted(ids):
        client_r, client_c = _sums(counterparty_id=pk)
        debtor_r, debtor_c = _sums(debtor_id=pk)
        below = [row[0] for row in descendant_rows(pk)][1:]
        group_r, group_c = _sums(counterparty_id__in=below) if below else (0, 0)
        Exposure.objects.filter(pk=pk).update(
            client_reserved=client_r, client_consumed=client_c, debtor_reserved=debtor_r,
            debtor_consumed=debtor_c, group_reserved=group_r, group_consumed=group_c,
        )  # fmt: skip


def rebuild_after_merge(*, survivor: Customer, merged: Customer, actor: Any) -> None:
    exposure_rebuild([survivor.pk, merged.pk])
