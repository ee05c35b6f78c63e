"""Set-based 消込 (a reconciliation run's writes): the same outcome as allocating line by
line — balances, statuses, exposure, deal stages, reserve — with each entry applied whole or
refused whole, and the audit chain intact."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from collection.models import (
    Allocation,
    CollectionStatus,
    EntryStatus,
    ExpectedCollection,
    ReserveSettlement,
)
from collection.services import allocate
from collection.services.batch import EntryPlan, PlannedLine, allocate_many, suspense_many
from core.audit import verify_audit_chain
from core.models import AuditEvent
from credit.models import Exposure, ExposureEntry
from deals.choices import Stage
from deals.models import Deal, StageChange

from .statements import deposit

pytestmark = pytest.mark.django_db
M = 1_000_000


def _rows(deal: Deal) -> list[ExpectedCollection]:
    return list(ExpectedCollection.objects.filter(deal=deal).order_by("expected_amount", "pk"))


def _outcome(deal: Deal) -> dict:
    """What a person sees after 消込, independent of which parties the desk created."""
    deal.refresh_from_db()
    exposure = Exposure.objects.get(pk=deal.client_id)
    settlement = ReserveSettlement.objects.filter(deal=deal).first()
    return {
        "stage": deal.stage,
        "rows": [(r.status, r.paid_amount, r.fee_amount, r.exposure_released) for r in _rows(deal)],
        "client_total": exposure.client_total,
        "reserve_back": settlement.amount if settlement else None,
        "moves": list(
            StageChange.objects.filter(deal=deal, to_stage__in=[Stage.COLLECTING, Stage.CLOSED])
            .order_by("pk")
            .values_list("to_stage", flat=True)
        ),
    }


def _ledger_matches_balances(party_id: int) -> bool:
    sums = ExposureEntry.objects.filter(counterparty_id=party_id).aggregate(
        r=Sum("reserved_change"), c=Sum("consumed_change")
    )
    row = Exposure.objects.get(pk=party_id)
    return (row.client_reserved, row.client_consumed) == (sums["r"] or 0, sums["c"] or 0)


class TestSameOutcomeAsOneByOne:
    @pytest.mark.parametrize("partial_only", [False, True])
    def test_batch_equals_line_by_line(self, desk, partial_only):
        """Two identical deals: one reconciled line by line, one in a batch."""
        one, batch = desk.executed([4 * M, 6 * M]), desk.executed([4 * M, 6 * M])
        small_paid = 4 * M - 880
        big_paid = 2 * M if partial_only else 6 * M
        a_small, a_big = _rows(one)
        entry = deposit(small_paid + big_paid)
        allocate(entry=entry, expected=a_small, amount=small_paid, fee=880, actor=None)
        allocate(entry=entry, expected=a_big, amount=big_paid, actor=None)
        b_small, b_big = _rows(batch)
        entry = deposit(small_paid + big_paid)
        plan = EntryPlan(entry.pk, (PlannedLine(b_small.pk, small_paid, 880),
                                    PlannedLine(b_big.pk, big_paid)))  # fmt: skip
        result = allocate_many([plan], actor=None, actor_label="job:reconcile")
        assert result.allocated == [entry.pk] and not result.refused
        assert _outcome(batch) == _outcome(one)
        entry.refresh_from_db()
        assert entry.status == EntryStatus.MATCHED
        assert _ledger_matches_balances(batch.client_id)
        if not partial_only:
            assert _outcome(batch)["stage"] == Stage.CLOSED
            assert _outcome(batch)["reserve_back"] == 3 * M - 880
            assert _outcome(batch)["client_total"] == 0
        assert verify_audit_chain()[1] is None

    def test_the_paid_on_date_is_the_bank_value_date(self, desk):
        deal = desk.executed([1 * M])
        (row,) = _rows(deal)
        entry = deposit(1 * M)
        allocate_many([EntryPlan(entry.pk, (PlannedLine(row.pk, 1 * M),))], actor=None)
        row.refresh_from_db()
        assert row.status == CollectionStatus.PAID and row.paid_on == entry.value_date


class TestWholeOrNothing:
    def test_an_entry_that_no_longer_fits_is_refused_whole_and_the_others_applied(self, desk):
        deal = desk.executed([1 * M, 2 * M])
        first, second = _rows(deal)
        fits, too_much, over_entry = deposit(1 * M), deposit(3 * M), deposit(500_000)
        result = allocate_many([
            EntryPlan(fits.pk, (PlannedLine(first.pk, 1 * M),)),
            # The first line would fit, the second is more than the receivable has left.
            EntryPlan(too_much.pk, (PlannedLine(second.pk, 1 * M),
                                    PlannedLine(first.pk, 2 * M))),
            EntryPlan(over_entry.pk, (PlannedLine(second.pk, 600_000),)),
        ], actor=None)  # fmt: skip
        assert result.allocated == [fits.pk]
        assert set(result.refused) == {too_much.pk, over_entry.pk}
        assert "still open" in result.refused[too_much.pk] or result.refused[too_much.pk]
        assert list(Allocation.objects.values_list("entry_id", flat=True)) == [fits.pk]
        second.refresh_from_db()
        assert second.paid_amount == 0 and second.status == CollectionStatus.OPEN
        too_much.refresh_from_db()
        assert too_much.status == EntryStatus.UNMATCHED

    def test_two_entries_in_one_batch_cannot_both_take_the_same_money(self, desk):
        deal = desk.executed([1 * M])
        (row,) = _rows(deal)
        a, b = deposit(1 * M), deposit(1 * M)
        result = allocate_many(
            [EntryPlan(a.pk, (PlannedLine(row.pk, 1 * M),)),
             EntryPlan(b.pk, (PlannedLine(row.pk, 1 * M),))],
            actor=None,
        )  # fmt: skip
        assert result.allocated == [a.pk] and list(result.refused) == [b.pk]
        row.refresh_from_db()
        assert row.paid_amount == 1 * M

    def test_a_matched_entry_is_not_applied_again(self, desk):
        deal = desk.executed([1 * M, 1 * M])
        first, second = _rows(deal)
        entry = deposit(1 * M)
        allocate(entry=entry, expected=first, amount=1 * M, actor=None)
        result = allocate_many([EntryPlan(entry.pk, (PlannedLine(second.pk, 1 * M),))], actor=None)
        assert list(result.refused) == [entry.pk]


class TestAuditAndSuspense:
    def test_one_event_per_entry_and_deal_and_the_chain_holds(self, desk):
        deals = [desk.executed([1 * M]) for _ in range(2)]
        rows = [_rows(deal)[0] for deal in deals]
        entry = deposit(2 * M)
        before = AuditEvent.objects.filter(action="collection.allocated").count()
        allocate_many([EntryPlan(entry.pk, tuple(PlannedLine(r.pk, 1 * M) for r in rows))],
                      actor=None, actor_label="job:reconcile")  # fmt: skip
        events = AuditEvent.objects.filter(action="collection.allocated")
        assert events.count() == before + 2
        assert {e.subject_id for e in events} == {str(deal.pk) for deal in deals}
        assert all(e.actor_label == "job:reconcile" for e in events)
        assert AuditEvent.objects.filter(action="credit.released").count() == 2
        assert verify_audit_chain()[1] is None

    def test_suspense_parks_only_entries_still_waiting(self, desk):
        waiting, matched = deposit(123_456), deposit(1 * M)
        deal = desk.executed([1 * M])
        allocate(entry=matched, expected=_rows(deal)[0], amount=1 * M, actor=None)
        assert suspense_many([waiting.pk, matched.pk], actor=None, note="test") == 1
        waiting.refresh_from_db()
        matched.refresh_from_db()
        assert (waiting.status, matched.status) == (EntryStatus.SUSPENSE, EntryStatus.MATCHED)
