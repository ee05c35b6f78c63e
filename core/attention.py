"""What needs a user's attention, contributed by each app for the role home pages.

An app registers a provider in ``<app>/attention.py``; a provider returns the items a
user should act on (pending approvals, candidates to review, tasks due), each with a
count and the page that lists them. Providers must cost one query each at most.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class AttentionItem:
    label: str
    count: int
    url: str
    icon: str = "exclamation-circle"


_providers: list[Callable[[Any], list[AttentionItem]]] = []


def attention_provider(func: Callable[[Any], list[AttentionItem]]) -> Callable:
    """Register ``func(user) -> list[AttentionItem]`` as a source of the home page's to-do list."""
    if func not in _providers:
        _providers.append(func)
    return func


def attention_items(user: Any) -> list[AttentionItem]:
    """Return every provider's items for ``user`` that have something waiting."""
    autodiscover_modules("attention")
    items: list[AttentionItem] = []
    for provider in _providers:
        items.extend(item for item in provider(user) if item.count)
    return items
