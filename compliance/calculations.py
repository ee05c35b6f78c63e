"""Pure rules of compliance: KYC expiry from the policy table."""

from __future__ import annotations

from datetime import date, timedelta

from core.calendar import add_months


def kyc_expiry(verified_on: date, validity_months: int) -> date:
    """Return the last day a KYC verification is valid: the day before the anniversary."""
    return add_months(verified_on, validity_months) - timedelta(days=1)


def mask_document_number(number: str) -> str:
    """Keep only the last 4 characters of an identity document number."""
    number = "".join(number.split())
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]
