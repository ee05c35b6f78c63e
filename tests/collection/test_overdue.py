"""Days overdue count bank business days; buckets and the cutoffs the SQL filters use agree
with them (pure, no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collection.overdue import (
    BUCKET_CODES,
    bucket,
    bucket_cutoffs,
    days_overdue,
    overdue_cutoff,
)

dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


class TestDaysOverdue:
    def test_is_zero_on_and_before_the_due_date(self):
        assert days_overdue(date(2026, 3, 10), date(2026, 3, 10)) == 0
        assert days_overdue(date(2026, 3, 10), date(2026, 3, 1)) == 0

    def test_counts_the_next_business_day_as_one(self):
        assert days_overdue(date(2026, 3, 10), date(2026, 3, 11)) == 1

    def test_does_not_count_a_weekend(self):
        friday = date(2026, 3, 13)
        assert days_overdue(friday, friday + timedelta(days=1)) == 0  # Saturday
        assert days_overdue(friday, friday + timedelta(days=2)) == 0  # Sunday
        assert days_overdue(friday, friday + timedelta(days=3)) == 1  # Monday

    def test_skips_the_year_end_closure_from_december_31_to_january_3(self):
        due = date(2025, 12, 30)
        assert days_overdue(due, date(2025, 12, 31)) == 0
        assert days_overdue(due, date(2026, 1, 2)) == 0
        assert days_overdue(due, date(2026, 1, 4)) == 0
        assert days_overdue(due, date(2026, 1, 5)) == 1
        assert days_overdue(due, date(2026, 1, 7)) == 3

    def test_skips_golden_week_2026(self):
        # 4/29 Shōwa Day; 5/3–5/5 holidays and 5/6 the substitute holiday for 5/3 (a Sunday).
        assert days_overdue(date(2026, 4, 28), date(2026, 4, 29)) == 0
        assert days_overdue(date(2026, 4, 28), date(2026, 4, 30)) == 1
        assert days_overdue(date(2026, 5, 1), date(2026, 5, 6)) == 0
        assert days_overdue(date(2026, 5, 1), date(2026, 5, 7)) == 1
        # Due before Shōwa Day: the third business day late falls after the long weekend.
        assert days_overdue(date(2026, 4, 28), date(2026, 5, 1)) == 2
        assert days_overdue(date(2026, 4, 28), date(2026, 5, 7)) == 3


class TestBucket:
    @pytest.mark.parametrize(
        ("days", "code"),
        [
            (-1, ""), (0, ""), (1, "1-3"), (3, "1-3"), (4, "4-30"), (30, "4-30"),
            (31, "31-60"), (60, "31-60"), (61, "61+"), (1000, "61+"),
        ],
    )  # fmt: skip
    def test_puts_each_boundary_in_the_right_bucket(self, days, code):
        assert bucket(days) == code


class TestCutoffs:
    def test_refuses_a_count_below_one(self):
        with pytest.raises(ValueError):
            overdue_cutoff(date(2026, 3, 10), 0)

    def test_is_the_nth_open_day_counting_back_from_today(self):
        # Thursday 5/7/2026 after Golden Week: 3 business days back are 5/7, 5/1, 4/30.
        assert overdue_cutoff(date(2026, 5, 7), 1) == date(2026, 5, 7)
        assert overdue_cutoff(date(2026, 5, 7), 3) == date(2026, 4, 30)
        # On a closed day the count starts at the last open day.
        assert overdue_cutoff(date(2026, 1, 3), 1) == date(2025, 12, 30)

    @given(due=dates, today=dates, n=st.integers(min_value=1, max_value=70))
    def test_a_due_date_before_the_cutoff_is_exactly_n_or_more_days_late(self, due, today, n):
        assert (due < overdue_cutoff(today, n)) == (days_overdue(due, today) >= n)

    @given(due=dates, today=dates)
    def test_bucket_ranges_match_the_bucket_of_the_days_overdue(self, due, today):
        ranges = bucket_cutoffs(today)
        inside = [
            code
            for code in BUCKET_CODES
            if (ranges[code][0] is None or ranges[code][0] <= due) and due < ranges[code][1]
        ]
        assert inside == ([bucket(days_overdue(due, today))] if days_overdue(due, today) else [])
