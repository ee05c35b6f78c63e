"""Collection reads on a small known dataset: the overdue list and its buckets, the ledger,
repurchases, reserves, and the dashboard's delay rate, days late, repurchase rate and money
collected by period — each in a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from collection.models import CollectionStatus, ExpectedCollection, RepurchaseStatus
from collection.nightly import check_collection_overdue
from collection.overdue import overdue_cutoff
from collection.selectors import (
    average_days_late,
    bucket_totals,
    collected_by_period,
    delay_rate,
    overdue_list,
    receivable_ledger,
    repurchase_rate,
    repurchases,
    reserve_settlements,
)
from collection.services import allocate
from collection.services.recovery import repurchase_open, repurchase_settle
from core.calendar import add_business_days

from .statements import deposit, due_on, make_late

pytestmark = pytest.mark.django_db
M = 1_000_000


def _pay(desk, row, amount, *, value_date, paid_on=None):
    entry = deposit(amount, value_date=value_date)
    allocate(entry=entry, expected=row, amount=amount, actor=desk.operations)
    if paid_on is not None:
        ExpectedCollection.objects.filter(pk=row.pk).update(paid_on=paid_on)


@pytest.fixture
def ageing(desk, today):
    """Five receivables of one deal: not due yet, and 2, 4, 31 and 61 business days late (the
    31-day one half paid)."""
    deal = desk.executed([1 * M, 2 * M, 3 * M, 4 * M, 5 * M])
    rows = list(ExpectedCollection.objects.filter(deal=deal).order_by("expected_amount"))
    for row, days in zip(rows[1:], (2, 4, 31, 61), strict=True):
        make_late([row], days, today)
    _pay(desk, rows[3], 2 * M, value_date=today)
    return deal, rows


class TestOverdueList:
    def test_lists_the_unpaid_late_rows_with_days_and_bucket_in_one_query(
        self, ageing, today, django_assert_num_queries
    ):
        _deal, rows = ageing
        with django_assert_num_queries(1):
            listed = [
                (r.pk, r.days_overdue, r.overdue_bucket, r.outstanding_amount, r.deal.owner.pk)
                for r in overdue_list(today)
            ]
        assert [(pk, days, code, owed) for pk, days, code, owed, _owner in listed] == [
            (rows[4].pk, 61, "61+", 5 * M),
            (rows[3].pk, 31, "31-60", 2 * M),
            (rows[2].pk, 4, "4-30", 3 * M),
            (rows[1].pk, 2, "1-3", 2 * M),
        ]

    def test_keeps_one_bucket_and_survives_pagination(self, ageing, today):
        _deal, rows = ageing
        assert [r.pk for r in overdue_list(today, bucket="4-30")] == [rows[2].pk]
        page = overdue_list(today).filter(expected_amount__gte=4 * M)[1:2]
        assert [(r.pk, r.days_overdue) for r in page] == [(rows[3].pk, 31)]


class TestBucketTotals:
    def test_counts_and_sums_what_is_outstanding_per_bucket(
        self, ageing, today, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            totals = bucket_totals(today)
        assert [(t.code, t.count, t.outstanding) for t in totals] == [
            ("1-3", 1, 2 * M),
            ("4-30", 1, 3 * M),
            ("31-60", 1, 2 * M),
            ("61+", 1, 5 * M),
        ]


class TestLedgerAndLists:
    def test_the_ledger_filters_by_status_deal_unpaid_and_text(self, ageing, today):
        deal, rows = ageing
        check_collection_overdue(today=today)
        assert receivable_ledger().count() == 5
        assert receivable_ledger({"status": CollectionStatus.OVERDUE, "q": ""}).count() == 4
        assert receivable_ledger({"deal": deal.number, "unpaid": True}).count() == 5
        assert receivable_ledger({"due_to": today.isoformat()}).count() == 4
        invoice = rows[0].receivable.invoice_number
        assert [r.pk for r in receivable_ledger({"q": invoice})] == [rows[0].pk]

    @pytest.mark.usefixtures("ageing")
    def test_repurchases_and_reserves_list_by_status(self, desk, today):
        check_collection_overdue(today=today)  # opens the two past the 30-day trigger
        assert repurchases().count() == 2
        assert repurchases(status=RepurchaseStatus.SETTLED).count() == 0
        closed = desk.executed([1 * M])
        _pay(desk, ExpectedCollection.objects.get(deal=closed), 1 * M, value_date=today)
        assert [s.deal_id for s in reserve_settlements(unpaid_only=True)] == [closed.pk]


class TestDashboard:
    @pytest.fixture
    def history(self, desk, today):
        """Four receivables due in the period: paid on its due date (1M), paid 2 business
        days late (2M), repurchased 5 business days late (3M), and one not due yet."""
        deal = desk.executed([1 * M, 2 * M, 3 * M, 4 * M])
        on_time, late, repurchased, future = ExpectedCollection.objects.filter(deal=deal).order_by(
            "expected_amount"
        )
        due = {
            on_time: overdue_cutoff(today, 10),
            late: overdue_cutoff(today, 8),
            repurchased: overdue_cutoff(today, 6),
            future: today + timedelta(days=10),
        }
        for row, day in due.items():
            due_on([row], day)
        _pay(desk, on_time, 1 * M, value_date=due[on_time], paid_on=due[on_time])
        paid_late = add_business_days(due[late], 2)
        _pay(desk, late, 2 * M, value_date=paid_late, paid_on=paid_late)
        request, _created = repurchase_open(expected=repurchased, today=today)
        repurchase_settle(request=request, actor=desk.operations, settled_on=today)
        dates = {"on_time": due[on_time], "late": due[late], "paid_late": paid_late}
        return min(due.values()), max(due.values()), dates

    def test_delay_rate_counts_late_unpaid_and_repurchased_rows_already_due(
        self, history, today, django_assert_num_queries
    ):
        start, end, _due_dates = history
        with django_assert_num_queries(1):
            assert delay_rate(start, end, today=today) == Decimal("0.6667")
        assert delay_rate(date(2000, 1, 1), date(2000, 12, 31), today=today) == Decimal("0")

    def test_average_days_late_is_in_bank_business_days(self, history, today):
        start, end, _due_dates = history
        assert average_days_late(start, end, today=today) == Decimal("3.5")  # (2 + 5) / 2

    def test_repurchase_rate_is_by_count_of_rows_already_due(self, history, today):
        start, end, _due_dates = history
        assert repurchase_rate(start, end, today=today) == Decimal("0.3333")

    def test_collected_by_period_sums_bank_money_and_repurchases_with_empty_periods(
        self, history, today, django_assert_num_queries
    ):
        start, _end, dates = history
        with django_assert_num_queries(2):
            days = collected_by_period(start, today, period="day")
        assert [p.start for p in days] == [
            start + timedelta(days=n) for n in range((today - start).days + 1)
        ]
        by_day = {
            p.start: (p.collected, p.repurchased) for p in days if p.collected or p.repurchased
        }
        assert by_day[dates["on_time"]] == (1 * M, 0)
        assert by_day[dates["paid_late"]] == (2 * M, 0)
        assert by_day[today][1] == 3 * M
        months = collected_by_period(start, today, period="month")
        assert months[0].start == start.replace(day=1)
        assert sum(p.collected for p in months) == 3 * M
        assert sum(p.repurchased for p in months) == 3 * M
        with pytest.raises(ValueError):
            collected_by_period(start, today, period="fortnight")
