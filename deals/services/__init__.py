"""Deal writes: records, pricing, transitions and approvals, each audited."""

from .approvals import approval_decide, approval_request_create, build_summary, may_decide
from .records import (
    deal_check_clearance,
    deal_check_credit,
    deal_create,
    deal_price,
    deal_update,
    exposure_split,
    next_deal_number,
    receivable_add,
    receivable_remove,
    receivable_update,
    refresh_funding,
)
from .transitions import available_transitions, deal_transition, move_many, next_stage

__all__ = [
    "approval_decide",
    "approval_request_create",
    "available_transitions",
    "build_summary",
    "deal_check_clearance",
    "deal_check_credit",
    "deal_create",
    "deal_price",
    "deal_transition",
    "deal_update",
    "exposure_split",
    "may_decide",
    "move_many",
    "next_deal_number",
    "next_stage",
    "receivable_add",
    "receivable_remove",
    "receivable_update",
    "refresh_funding",
]
