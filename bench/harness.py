"""Shared set-up for benchmarks: Django on a throw-away test database, and timing helpers."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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


def quantile(samples: list[float], q: float) -> float:
    """Return the ``q`` quantile of ``samples``, rounded to a sample."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Return the median and the 95th percentile of ``samples``."""
    return statistics.median(samples), quantile(samples, 0.95)


def serve_like_wsgi() -> None:
    """Collect the seeding's garbage and freeze what is left, as ``config/wsgi.py`` freezes
    the loaded app: a full collection then walks only what requests create, as in a
    worker."""
    import gc

    gc.collect()
    gc.freeze()


def vacuum_analyze() -> float:
    """Refresh the planner's statistics (VACUUM ANALYZE; ANALYZE on SQLite); return the
    seconds it took."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def explain(sql: str, *, analyze: bool | None = None) -> str:
    """Return the plan of ``sql``, indented. With ``analyze`` None, EXPLAIN ANALYZE a read and
    only EXPLAIN a write (it would run)."""
    from django.db import connection

    if analyze is None:
        analyze = sql.lstrip().upper().startswith("SELECT")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({'ANALYZE, BUFFERS' if analyze else 'COSTS'}) {sql}")
        return "\n".join(f"      {row[0]}" for row in cursor.fetchall())


# --------------------------------------------------------------------------- measurement


@dataclass
class Call:
    """One timed call: ``run`` returns the response, ``ok`` says whether it did its job."""

    key: str  # what the query count may depend on (the page, or the deal's stage and parties)
    run: Callable[[], object]
    ok: Callable[[object], bool] = lambda response: True


@dataclass
class Result:
    """Timings and query counts of repeated calls of one operation at one size."""

    name: str
    size: int = 0  # of the data measured (e.g. ledger entries), for the bench to print
    samples: list[float] = field(default_factory=list)  # seconds
    queries: list[int] = field(default_factory=list)
    sql_seconds: list[float] = field(default_factory=list)
    by_key: dict[str, int] = field(default_factory=dict)  # key → most queries seen
    statuses: Counter = field(default_factory=Counter)  # HTTP status → calls
    failed: int = 0
    slowest: tuple[float, str] = (-1.0, "")

    @property
    def median_ms(self) -> float:
        return percentiles(self.samples)[0] * 1000

    @property
    def p95_ms(self) -> float:
        return percentiles(self.samples)[1] * 1000

    @property
    def p99_ms(self) -> float:
        return quantile(self.samples, 0.99) * 1000

    @property
    def sql_ms(self) -> float:
        return percentiles(self.sql_seconds)[0] * 1000

    @property
    def query_range(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"


def measure(
    name: str,
    calls: Sequence[Call | Callable[[], object]],
    warmup: Sequence[Call | Callable[[], object]] = (),
    *,
    size: int = 0,
) -> Result:
    """Make each call once after the untimed ``warmup`` calls, timing it and counting queries.

    A plain callable is a call keyed by ``name`` that always does its job."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def as_call(call: Call | Callable[[], object]) -> Call:
        return call if isinstance(call, Call) else Call(name, call)

    for call in warmup:
        as_call(call).run()
    result = Result(name, size)
    for call in map(as_call, calls):
        connection.queries_log.clear()  # the log keeps 9,000 queries; a full one counts 0
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = call.run()
            result.samples.append(time.perf_counter() - started)
        count = len(captured)
        result.queries.append(count)
        result.by_key[call.key] = max(result.by_key.get(call.key, 0), count)
        result.sql_seconds.append(sum(float(q["time"]) for q in captured.captured_queries))
        status = getattr(response, "status_code", None)
        if status is not None:
            result.statuses[status] += 1
        if not call.ok(response):
            result.failed += 1
        for query in captured.captured_queries:
            if float(query["time"]) > result.slowest[0]:
                result.slowest = (float(query["time"]), query["sql"])
    return result
