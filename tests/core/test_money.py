from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import apply_rate, format_yen, to_rate


class TestApplyRate:
    def test_rounds_down_to_the_yen(self):
        assert apply_rate(1_000_001, Decimal("0.7000")) == 700_000  # 700,000.7 → 700,000
        assert apply_rate(333, Decimal("0.1000")) == 33

    def test_reference_values_of_the_funding_article(self):
        assert apply_rate(10_000_000, Decimal("0.7000")) == 7_000_000
        assert apply_rate(7_000_000, Decimal("0.1000")) == 700_000

    def test_rounds_toward_zero_for_negative_amounts(self):
        assert apply_rate(-1_000_001, Decimal("0.7000")) == -700_000

    def test_refuses_floats(self):
        with pytest.raises(TypeError):
            apply_rate(1000, 0.7)
        with pytest.raises(TypeError):
            apply_rate(1000.0, Decimal("0.7"))

    def test_refuses_rates_with_more_than_four_places(self):
        with pytest.raises(ValueError):
            apply_rate(1000, Decimal("0.12345"))

    @given(st.integers(0, 10**12), st.decimals(min_value=0, max_value=1, places=4))
    def test_never_exceeds_the_exact_product(self, amount, rate):
        result = apply_rate(amount, rate)
        assert result <= amount * rate < result + 1


class TestFormatting:
    def test_formats_with_yen_sign_and_commas(self):
        assert format_yen(6_300_000) == "¥6,300,000"
        assert format_yen(-7_500) == "-¥7,500"
        assert format_yen(None) == ""

    def test_to_rate_keeps_four_places(self):
        assert to_rate("0.8") == Decimal("0.8000")
        assert str(to_rate(1)) == "1.0000"
