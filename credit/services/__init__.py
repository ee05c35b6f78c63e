"""Credit writes. Deals and collection move exposure only through these services."""

from ..checks import LimitCheck
from .ledger import (
    Escalation,
    ReleaseRequest,
    adjust,
    check_limit,
    consume,
    release,
    release_many,
    reserve,
)
from .limits import (
    limit_approve,
    limit_propose,
    limit_reinstate,
    limit_reject,
    limit_suspend,
    limits_expire,
    payment_delay_report,
    required_level_for,
    suspend_limits_of,
)
from .policy import ensure_default_policy, policy_activate, policy_draft_from
from .ratings import rating_record

__all__ = [
    "Escalation",
    "LimitCheck",
    "ReleaseRequest",
    "adjust",
    "check_limit",
    "consume",
    "ensure_default_policy",
    "limit_approve",
    "limit_propose",
    "limit_reinstate",
    "limit_reject",
    "limit_suspend",
    "limits_expire",
    "payment_delay_report",
    "policy_activate",
    "policy_draft_from",
    "rating_record",
    "release",
    "release_many",
    "required_level_for",
    "reserve",
    "suspend_limits_of",
]
