"""Hooks later apps register to keep their own invariants through a merge or its undo.

Customers imports nothing from the apps to its right (DESIGN §3). A merge moves every
foreign key to the survivor generically; an app whose rows also carry per-customer state
(credit's exposure balances, its one-live-limit rule) registers here in AppConfig.ready().
Hooks run inside the merge's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Hook = Callable[..., None]
_before: dict[str, Hook] = {}
_after: dict[str, Hook] = {}


def register_merge_hooks(name: str, *, before: Hook | None = None, after: Hook | None = None):
    """``before(survivor=, merged=, actor=)`` runs before rows move; ``after(...)`` once they
    have moved (after a merge and after an undo)."""
    if before is not None:
        _before[name] = before
    if after is not None:
        _after[name] = after


def run_before(**kwargs: Any) -> None:
    for hook in _before.values():
        hook(**kwargs)


def run_after(**kwargs: Any) -> None:
    for hook in _after.values():
        hook(**kwargs)
