"""Customer work waiting for someone: double-checked changes and 名寄せ candidates."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from core.attention import AttentionItem, attention_provider

from .selectors import open_duplicate_candidates, pending_changes


@attention_provider
def customer_attention(user: Any) -> list[AttentionItem]:
    items = []
    if user.has_perm("customers.approve_change"):
        waiting = pending_changes().exclude(maker=user).count()
        items.append(
            AttentionItem(
                _("Changes awaiting your approval"),
                waiting,
                reverse("customers:changes"),
                "check2-square",
            )
        )
    if user.has_perm("customers.merge_customer"):
        items.append(
            AttentionItem(
                _("Duplicate candidates to review"),
                open_duplicate_candidates().count(),
                reverse("customers:duplicates"),
                "intersect",
            )
        )
    return items
