"""Registry of demo-data seeders. Each app declares its seeder in ``<app>/demo.py``.

``seed_demo`` runs them in app order (DESIGN §3 dependency order), so a later app can
rely on what an earlier one created. Every seeder must be idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps


@dataclass
class DemoOptions:
    """Sizes asked for on the command line; seeders read what concerns them."""

    customers: int = 50
    deals: int = 100
    receivables_per_deal: int = 3
    seed: int = 20261121
    extra: dict = field(default_factory=dict)


_seeders: dict[str, Callable[[DemoOptions, Callable[[str], None]], None]] = {}


def demo_seeder(app_label: str) -> Callable:
    """Register the decorated function as ``app_label``'s demo seeder."""

    def register(func):
        _seeders[app_label] = func
        return func

    return register


def run_seeders(options: DemoOptions, log: Callable[[str], None]) -> None:
    """Run every registered seeder in INSTALLED_APPS order."""
    for config in apps.get_app_configs():
        seeder = _seeders.get(config.label)
        if seeder is not None:
            seeder(options, log)
