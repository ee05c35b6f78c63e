from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.calendar import (
    add_business_days,
    bank_holidays,
    business_days_between,
    is_bank_business_day,
    next_business_day,
)


class TestIsBankBusinessDay:
    @pytest.mark.parametrize(
        "day",
        [
            date(2026, 12, 31),  # year-end closure, a Thursday
            date(2027, 1, 1),  # 元日
            date(2027, 1, 2),  # closure, a Saturday anyway
            date(2026, 1, 2),  # closure, a Friday
            date(2025, 1, 3),  # closure, a Friday
        ],
    )
    def test_is_closed_over_the_year_end_and_new_year(self, day):
        assert not is_bank_business_day(day)

    def test_is_closed_on_weekends(self):
        assert not is_bank_business_day(date(2026, 11, 21))  # Saturday
        assert not is_bank_business_day(date(2026, 11, 22))  # Sunday

    def test_is_open_on_an_ordinary_weekday(self):
        assert is_bank_business_day(date(2026, 11, 20))
        assert is_bank_business_day(date(2026, 12, 30))  # last business day of the year

    def test_is_closed_on_a_substitute_holiday(self):
        # 2026-05-06: 振替休日 because 憲法記念日 (5/3) fell on a Sunday.
        assert not is_bank_business_day(date(2026, 5, 6))

    def test_is_closed_on_a_citizens_holiday(self):
        # 2026-09-22: 国民の休日, sandwiched between 敬老の日 (9/21) and 秋分の日 (9/23).
        assert not is_bank_business_day(date(2026, 9, 22))

    def test_is_closed_on_national_holidays(self):
        assert not is_bank_business_day(date(2026, 11, 3))  # 文化の日
        assert not is_bank_business_day(date(2026, 11, 23))  # 勤労感謝の日 (Monday)


class TestAddBusinessDays:
    def test_skips_the_weekend(self):
        assert add_business_days(date(2026, 11, 20), 1) == date(
            2026, 11, 24
        )  # Fri → Tue (23rd is a holiday)

    def test_skips_the_year_end_closure(self):
        assert add_business_days(date(2026, 12, 30), 1) == date(2027, 1, 4)

    def test_three_business_days_after_a_due_date_before_golden_week(self):
        # 4/30 Thu → 5/1 Fri (1), 5/7 Thu (2), 5/8 Fri (3); 5/2–5/6 closed.
        assert add_business_days(date(2026, 4, 30), 3) == date(2026, 5, 8)

    def test_counts_backwards_with_a_negative_number(self):
        assert add_business_days(date(2027, 1, 4), -1) == date(2026, 12, 30)

    def test_zero_returns_the_same_day(self):
        assert add_business_days(date(2026, 11, 21), 0) == date(2026, 11, 21)

    def test_next_business_day_rolls_a_closed_day_forward(self):
        assert next_business_day(date(2026, 12, 31)) == date(2027, 1, 4)
        assert next_business_day(date(2026, 11, 20)) == date(2026, 11, 20)


class TestBusinessDaysBetween:
    def test_counts_days_after_start_up_to_and_including_end(self):
        assert business_days_between(date(2026, 11, 20), date(2026, 11, 24)) == 1
        assert business_days_between(date(2026, 11, 16), date(2026, 11, 20)) == 4

    def test_is_zero_for_the_same_day(self):
        assert business_days_between(date(2026, 11, 20), date(2026, 11, 20)) == 0

    def test_over_the_year_end(self):
        assert business_days_between(date(2026, 12, 28), date(2027, 1, 5)) == 4  # 29, 30, 4, 5

    def test_is_negative_when_end_is_before_start(self):
        assert business_days_between(date(2026, 11, 24), date(2026, 11, 20)) == -1

    @given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 60))
    def test_is_the_inverse_of_add_business_days(self, start, n):
        assert business_days_between(start, add_business_days(start, n)) == n

    def test_bank_holidays_lists_closed_weekdays_only(self):
        closed = bank_holidays(date(2026, 12, 28), date(2027, 1, 8))
        assert closed == [date(2026, 12, 31), date(2027, 1, 1)]
