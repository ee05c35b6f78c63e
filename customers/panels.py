"""Panels that later apps add to the customer page, loaded with htmx from their own URLs.

Customers imports nothing from the apps to its right (DESIGN §3); compliance, credit and
deals register a panel here in their AppConfig.ready() instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CustomerPanel:
    name: str
    permission: str
    url: Callable[[Any], str]


_panels: dict[str, CustomerPanel] = {}


def register_customer_panel(panel: CustomerPanel) -> None:
    _panels[panel.name] = panel


def panels_for(user: Any, customer: Any) -> list[dict[str, str]]:
    """Return the panels ``user`` may see on ``customer``'s page, with their URLs."""
    return [
        {"name": panel.name, "url": panel.url(customer)}
        for panel in _panels.values()
        if user.has_perm(panel.permission)
    ]
