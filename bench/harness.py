"""Shared set-up for benchmarks: Django on a throw-away test database, and timing helpers."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Configure Django with the test settings (DATABASE_URL picks PostgreSQL)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


@contextmanager
def scratch_database(tag: str = "") -> Iterator[str]:
    """Create a fresh test database, migrated, and drop it afterwards; yield its name.

    The name is the benchmark's own (``bench_<tag>_…``), so a test run or another benchmark
    on the same server never drops it mid-run."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    prefix = f"bench_{tag}" if tag else "bench"
    if connection.vendor == "sqlite":
        bench_name = str(Path(old_name).with_name(f"{prefix}.sqlite3"))
    else:
        bench_name = f"{prefix}_{old_name}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = bench_name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield bench_name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Return the median and the 95th percentile of ``samples``."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95
