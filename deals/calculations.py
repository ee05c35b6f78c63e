"""Pure deal maths: splitting an amount across debtors without losing a yen."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from core.money import apply_rate


def split_by_debtor(face_by_debtor: Mapping[int, int], rate: Decimal, total: int) -> dict[int, int]:
    """Return ``total`` split over debtors in proportion to their face values.

    Each part is face × rate rounded down (the one rounding rule); the yen lost to rounding
    go to the debtor with the largest face value, so the parts always add up to ``total``.
    """
    if not face_by_debtor:
        return {}
    parts = {debtor: apply_rate(face, rate) for debtor, face in face_by_debtor.items()}
    largest = max(face_by_debtor, key=lambda debtor: (face_by_debtor[debtor], -debtor))
    parts[largest] += total - sum(parts.values())
    return parts
