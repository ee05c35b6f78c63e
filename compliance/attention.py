"""Compliance work waiting: screening hits to review."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from core.attention import AttentionItem, attention_provider

from .selectors import open_hits


@attention_provider
def compliance_attention(user: Any) -> list[AttentionItem]:
    if not user.has_perm("compliance.review_screeninghit"):
        return []
    return [
        AttentionItem(
            _("Screening hits to review"),
            open_hits().count(),
            reverse("compliance:hits"),
            "shield-exclamation",
        )
    ]
