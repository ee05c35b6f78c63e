"""Deal work waiting: 稟議 to decide, and the user's overdue next actions."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.attention import AttentionItem, attention_provider

from .selectors import approval_inbox, my_tasks


@attention_provider
def deal_attention(user: Any) -> list[AttentionItem]:
    items = []
    if user.has_perm("deals.decide_approval"):
        items.append(AttentionItem(_("Approval requests (稟議) to decide"),
                                   approval_inbox(user=user).count(),
                                   reverse("deals:approvals"), "inboxes"))  # fmt: skip
    if user.has_perm("deals.change_deal"):
        overdue = my_tasks(user=user).filter(next_action_due__lte=timezone.localdate()).count()
        items.append(AttentionItem(_("Next actions due or overdue"), overdue,
                                   reverse("deals:tasks"), "check2-circle"))  # fmt: skip
    return items
