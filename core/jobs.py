"""Registry of nightly checks. Each app declares its checks in ``<app>/nightly.py``.

A check is a function ``check(*, today: date) -> CheckOutcome`` that must be idempotent:
running it twice on the same day raises nothing twice (alerts carry dedup keys).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone


@dataclass(frozen=True)
class CheckOutcome:
    """What one run of a check did: rows examined and alerts newly raised."""

    processed: int = 0
    raised: int = 0


@dataclass(frozen=True)
class NightlyCheck:
    name: str
    label: str
    func: Callable[..., CheckOutcome]


@dataclass(frozen=True)
class CheckRun:
    name: str
    outcome: CheckOutcome
    seconds: float


_registry: dict[str, NightlyCheck] = {}


def nightly_check(name: str, label: str) -> Callable:
    """Register the decorated function as the nightly check ``name``."""

    def register(func: Callable[..., CheckOutcome]) -> Callable[..., CheckOutcome]:
        if name in _registry and _registry[name].func is not func:
            raise ValueError(f"nightly check {name!r} is registered twice")
        _registry[name] = NightlyCheck(name=name, label=label, func=func)
        return func

    return register


def registered_checks() -> list[NightlyCheck]:
    """Return every registered check, in name order."""
    return [_registry[name] for name in sorted(_registry)]


def get_check(name: str) -> NightlyCheck:
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"no nightly check named {name!r}") from None


def run_check(name: str, *, today: date | None = None) -> CheckRun:
    """Run one check now and record the run in the audit log."""
    from .audit import audit_log

    check = get_check(name)
    started = time.monotonic()
    outcome = check.func(today=today or timezone.localdate())
    seconds = time.monotonic() - started
    audit_log(
        actor=None,
        actor_label=f"job:{name}",
        action="nightly_check.run",
        data={"check": name, "processed": outcome.processed, "raised": outcome.raised},
    )
    return CheckRun(name=name, outcome=outcome, seconds=seconds)


def run_all_checks(*, today: date | None = None) -> list[CheckRun]:
    """Run every registered check now, synchronously."""
    return [run_check(check.name, today=today) for check in registered_checks()]
