"""消込 and what follows: expected collections opened at execution, allocation (split,
partial, bank fee), exposure released, the deal collecting then closed with its reserve."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from collection.models import (
    Allocation,
    CollectionStatus,
    EntryStatus,
    ExpectedCollection,
    ReserveSettlement,
)
from collection.services import allocate, allocation_reverse
from core.calendar import next_business_day
from credit.models import Exposure
from deals.choices import Stage

from .statements import deposit

pytestmark = pytest.mark.django_db
M = 1_000_000


class TestExpectations:
    def test_execution_opens_one_expectation_per_receivable_on_a_business_day(self, desk):
        deal = desk.executed([10 * M, 5 * M])
        rows = list(ExpectedCollection.objects.filter(deal=deal).select_related("receivable"))
        assert len(rows) == 2
        for row in rows:
            assert row.due_date == next_business_day(row.receivable.due_date)
            assert row.payer_id == deal.client_id  # 2社間: the client forwards the money
            assert row.status == CollectionStatus.OPEN

    def test_in_three_party_the_debtor_pays(self, desk):
        deal = desk.executed([10 * M], scheme="three_party")
        row = ExpectedCollection.objects.get(deal=deal)
        assert row.payer_id == row.receivable.debtor_id


class TestAllocation:
    def test_full_payment_releases_exposure_and_closes_the_deal_with_its_reserve(self, desk):
        deal = desk.executed([10 * M])
        assert Exposure.objects.get(pk=deal.client_id).client_consumed == 7 * M
        expected = ExpectedCollection.objects.get(deal=deal)
        allocate(entry=deposit(10 * M - 880), expected=expected, amount=10 * M - 880, fee=880,
                 actor=desk.operations)  # fmt: skip
        expected.refresh_from_db()
        deal.refresh_from_db()
        assert expected.status == CollectionStatus.PAID and expected.fee_amount == 880
        assert Exposure.objects.get(pk=deal.client_id).client_total == 0
        assert deal.stage == Stage.CLOSED
        assert ReserveSettlement.objects.get(deal=deal).amount == 3 * M - 880

    def test_one_entry_can_pay_two_receivables_and_one_receivable_two_entries(self, desk):
        deal = desk.executed([4 * M, 6 * M])
        first, second = ExpectedCollection.objects.filter(deal=deal).order_by("expected_amount")
        entry = deposit(7 * M)
        allocate(entry=entry, expected=first, amount=4 * M, actor=desk.operations)
        allocate(entry=entry, expected=second, amount=3 * M, actor=desk.operations)
        entry.refresh_from_db()
        second.refresh_from_db()
        deal.refresh_from_db()
        assert entry.status == EntryStatus.MATCHED
        assert second.status == CollectionStatus.PARTIAL and second.outstanding == 3 * M
        assert deal.stage == Stage.COLLECTING
        allocate(entry=deposit(3 * M), expected=second, amount=3 * M, actor=desk.operations)
        deal.refresh_from_db()
        assert deal.stage == Stage.CLOSED
        assert Exposure.objects.get(pk=deal.client_id).client_total == 0

    def test_more_than_the_entry_or_the_receivable_is_refused(self, desk):
        deal = desk.executed([1 * M])
        expected = ExpectedCollection.objects.get(deal=deal)
        with pytest.raises(ValidationError):
            allocate(entry=deposit(500_000), expected=expected, amount=600_000,
                     actor=desk.operations)  # fmt: skip
        with pytest.raises(ValidationError):
            allocate(entry=deposit(2 * M), expected=expected, amount=2 * M, actor=desk.operations)
        assert not Allocation.objects.exists()

    def test_a_reversal_reopens_the_receivable_and_its_exposure(self, desk):
        deal = desk.executed([4 * M, 6 * M])
        first = ExpectedCollection.objects.filter(deal=deal).order_by("expected_amount").first()
        allocation = allocate(entry=deposit(4 * M), expected=first, amount=4 * M,
                              actor=desk.operations)  # fmt: skip
        released = Exposure.objects.get(pk=deal.client_id).client_consumed
        allocation_reverse(allocation=allocation, actor=desk.operations, reason="別会社の入金")
        first.refresh_from_db()
        assert first.status == CollectionStatus.OPEN and first.paid_amount == 0
        assert Exposure.objects.get(pk=deal.client_id).client_consumed == released + 2_800_000
        with pytest.raises(ValidationError):
            allocation_reverse(allocation=allocation, actor=desk.operations, reason="")

    def test_status_is_overdue_once_the_due_date_has_passed(self, desk):
        from collection.services import derive_status

        deal = desk.executed([1 * M])
        expected = ExpectedCollection.objects.get(deal=deal)
        later = expected.due_date + timedelta(days=1)
        assert derive_status(expected, later) == CollectionStatus.OVERDUE
        assert derive_status(expected, date(2000, 1, 1)) == CollectionStatus.OPEN
