"""Shipped defaults of the editable deal tables: lost reasons, authority matrix, stall
thresholds. Restored after every migrate only where a row is missing; edits are kept."""

from __future__ import annotations

LOST_REASONS = (
    ("price", "価格", 10), ("speed", "スピード", 20), ("competitor", "他社採用", 30),
    ("terms", "条件不一致", 40), ("risk_ng", "リスクNG", 50), ("no_contact", "連絡途絶", 60),
    ("withdrawn", "顧客都合で取り下げ", 70), ("other", "その他", 90),
)  # fmt: skip

# (advance amount up to, risk tier) → approver level: ≤¥1M team manager, ≤¥5M head of credit,
# above ¥5M or any high-risk deal an executive.
AUTHORITY = (
    (1_000_000, "normal", 1), (1_000_000, "elevated", 2), (1_000_000, "high", 3),
    (5_000_000, "normal", 2), (5_000_000, "elevated", 2), (5_000_000, "high", 3),
    (None, "normal", 3), (None, "elevated", 3), (None, "high", 3),
)  # fmt: skip

STALL_DAYS = {"approval": 3}
DEFAULT_STALL_DAYS = 5


def ensure_defaults(LostReason, AuthorityRule, StallThreshold) -> None:
    from .choices import OPEN_STAGES

    for code, label, order in LOST_REASONS:
        LostReason.objects.get_or_create(code=code, defaults={"label": label, "order": order})
    if not AuthorityRule.objects.exists():
        AuthorityRule.objects.bulk_create(
            AuthorityRule(amount_upto=upto, risk=risk, required_level=level)
            for upto, risk, level in AUTHORITY
        )
    for stage in OPEN_STAGES:
        StallThreshold.objects.get_or_create(
            stage=stage, defaults={"business_days": STALL_DAYS.get(stage, DEFAULT_STALL_DAYS)}
        )
