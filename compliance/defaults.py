"""Default KYC validity by risk and the two standard watchlists, in one place.

The data migration creates them; every ``migrate`` (and a test database flush, which
sends post_migrate) restores any that are missing, without touching edited values.
"""

from __future__ import annotations

from typing import Any

KYC_VALIDITY_MONTHS = {"high": 12, "normal": 24, "low": 36}
STANDARD_WATCHLISTS = (
    ("社内反社リスト", "antisocial", "社内調査・警察照会・報道"),
    (
        "財務省 経済制裁対象者リスト",
        "sanctions",
        "財務省 外国為替及び外国貿易法に基づく資産凍結等の措置の対象者",
    ),
)


def ensure_defaults(policy_model: Any, watchlist_model: Any) -> None:
    """Create the missing policy rows and standard lists (models passed for migrations)."""
    for risk, months in KYC_VALIDITY_MONTHS.items():
        policy_model.objects.get_or_create(risk=risk, defaults={"validity_months": months})
    for name, kind, source in STANDARD_WATCHLISTS:
        watchlist_model.objects.get_or_create(name=name, defaults={"kind": kind, "source": source})
