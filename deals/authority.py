"""The authority matrix: which approver level a deal needs, from its amount and its risk."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import ApprovalLevel

from .choices import RiskTier

GRADE_TIER = {"A": RiskTier.NORMAL, "B": RiskTier.NORMAL, "C": RiskTier.ELEVATED,
              "D": RiskTier.HIGH, "E": RiskTier.HIGH}  # fmt: skip
LIGHT_TIER = {"green": RiskTier.NORMAL, "yellow": RiskTier.ELEVATED, "red": RiskTier.HIGH}
_ORDER = [RiskTier.NORMAL, RiskTier.ELEVATED, RiskTier.HIGH]


def risk_tier(grades: Iterable[str], limit_status: str) -> str:
    """Return the worst tier of the parties' grades (missing = high) and the limit light."""
    tiers = [GRADE_TIER.get(grade, RiskTier.HIGH) for grade in grades]
    tiers.append(LIGHT_TIER.get(limit_status, RiskTier.HIGH))
    return max(tiers, key=_ORDER.index).value


def required_level(amount: int, risk: str, limit_status: str, rules: Iterable) -> int:
    """Return the level the matrix asks for; a red limit status always needs an executive."""
    if limit_status == "red":
        return int(ApprovalLevel.EXECUTIVE)
    cells = sorted(
        (rule for rule in rules if rule.risk == risk),
        key=lambda rule: (rule.amount_upto is None, rule.amount_upto or 0),
    )
    for rule in cells:
        if rule.amount_upto is None or amount <= rule.amount_upto:
            return int(rule.required_level)
    return int(ApprovalLevel.EXECUTIVE)
