"""Credit work waiting: limit proposals within the user's authority."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from core.attention import AttentionItem, attention_provider

from .selectors import pending_limits


@attention_provider
def credit_attention(user: Any) -> list[AttentionItem]:
    if not user.has_perm("credit.approve_creditlimit"):
        return []
    return [
        AttentionItem(
            _("Credit limits to decide"),
            pending_limits(user=user).count(),
            reverse("credit:inbox"),
            "patch-check",
        )
    ]
