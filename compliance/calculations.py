"""Pure rules of compliance: KYC expiry from the policy table."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by whole months, clamped to the month's last day (1/31 + 1 → 2/28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def kyc_expiry(verified_on: date, validity_months: int) -> date:
    """Return the last day a KYC verification is valid: the day before the anniversary."""
    return add_months(verified_on, validity_months) - timedelta(days=1)


def mask_document_number(number: str) -> str:
    """Keep only the last 4 characters of an identity document number."""
    number = "".join(number.split())
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]
