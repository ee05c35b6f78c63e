"""Money is integer yen; rates are Decimal. The one rounding rule lives here.

Every multiplication of an amount by a rate goes through :func:`apply_rate`, which
rounds down to the yen (切り捨て). No other module rounds money.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

Yen = int
RATE_PLACES = Decimal("0.0001")


def to_rate(value: Decimal | str | int) -> Decimal:
    """Return ``value`` as a Decimal rate with 4 places; floats are refused (binary fractions)."""
    if isinstance(value, float):
        raise TypeError("rates must be Decimal or str, never float")
    rate = Decimal(value)
    if rate != rate.quantize(RATE_PLACES):
        raise ValueError(f"rate {value} has more than 4 decimal places")
    return rate.quantize(RATE_PLACES)


def apply_rate(amount: Yen, rate: Decimal | str) -> Yen:
    """Return ``amount × rate`` rounded down to the yen (toward zero: 切り捨て)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amounts must be integer yen")
    product = Decimal(amount) * to_rate(rate)
    return int(product.quantize(Decimal(1), rounding=ROUND_DOWN))


def ratio(part: int | Decimal | None, whole: int | Decimal | None,
          places: Decimal = RATE_PLACES) -> Decimal | None:  # fmt: skip
    """Return part ÷ whole rounded half-up to ``places`` (None when ``whole`` is 0 / None):
    the one rule for reported shares and averages (a rate is not money; nothing rounds down)."""
    if not whole or part is None:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(places, rounding=ROUND_HALF_UP)


def format_yen(amount: Yen | None) -> str:
    """Return ``amount`` as ``¥1,234,567`` (``-¥1,234`` when negative; ``""`` for None)."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(int(amount)):,}"


class YenField(models.BigIntegerField):
    """An amount of money in integer yen."""

    description = _("Amount in yen")

    def to_python(self, value):
        if isinstance(value, float):
            raise ValidationError(_("Enter a whole number of yen."), code="invalid")
        return super().to_python(value)


class RateField(models.DecimalField):
    """A rate such as an advance rate or fee rate: Decimal with 4 places (0.8000)."""

    description = _("Rate")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault("decimal_places", 4)
        super().__init__(*args, **kwargs)
