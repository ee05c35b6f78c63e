"""案件 pipeline pages at scale: kanban, list, deal detail and a transition, 1k vs 100k deals.

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ../.venv/bin/python pipeline.py
    cd bench && ../.venv/bin/python pipeline.py --quick      # 1,000 then 10,000 deals

Two rounds, each in a scratch database of its own (migrated, then dropped): seed_demo's
seeders (``core.demo.run_seeders``) with ``--customers`` customers through the services and
first ``--small-deals`` (1,000), then ``--deals`` (100,000) deals of ``--receivables-per-deal``
(10) receivables — the deals seeder writes them in bulk in a real pipeline's proportions and
tops the register up to one customer per 20 deals —, VACUUM ANALYZE, then as the demo
``sales`` user (``django.test.Client.force_login``) with ``CaptureQueriesContext``:

  GET  /deals/                                          kanban board
  GET  /deals/list/?page=1 and ?page=500                list (50 a page; page 500 is the
                                                        last page at 1,000 deals)
  GET  /deals/list/?stage=quoted&scheme=two_party       a filtered list
  GET  /deals/<number>/                                 detail of 50 deals, every stage
  POST /deals/<number>/transition/ to=lost              50 open deals, lead … contracted

Prints median and p95 of each with its query count, the seeding time, and the two sizes side
by side: the time ratio and whether each page's query count stayed the same. The detail and
the transition are compared per (stage, number of parties): a deal's gates ask compliance per
party, so their count follows the deal, never the size of the book. PASS/FAIL for
"p95 < 300 ms" and "query count constant"; the slowest query of every page on the big round,
and EXPLAIN (ANALYZE, BUFFERS) of it for a page that misses the target or with ``--explain``.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from harness import percentiles, scratch_database, setup_django

TARGET_P95_MS = 300.0
EXPLAIN_LINES = 40
LIST = "/deals/list/"
OPEN_FOR_TRANSITION = ("lead", "documents", "screening", "underwriting", "quoted", "approval",
                       "contracted")  # fmt: skip


@dataclass
class Result:
    """Timings and query counts of one page at one size."""

    name: str
    samples: list[float] = field(default_factory=list)  # seconds
    queries: list[int] = field(default_factory=list)
    sql_seconds: list[float] = field(default_factory=list)
    by_key: dict[str, int] = field(default_factory=dict)  # key → most queries seen
    statuses: Counter = field(default_factory=Counter)
    failed: int = 0
    slowest: tuple[float, str] = (-1.0, "")

    @property
    def median_ms(self) -> float:
        return percentiles(self.samples)[0] * 1000

    @property
    def p95_ms(self) -> float:
        return percentiles(self.samples)[1] * 1000

    @property
    def sql_ms(self) -> float:
        return percentiles(self.sql_seconds)[0] * 1000

    @property
    def query_range(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}–{high}"

    def line(self) -> str:
        codes = ",".join(f"{code}×{n}" for code, n in sorted(self.statuses.items()))
        failed = f"  {self.failed} FAILED" if self.failed else ""
        return (
            f"  {self.name:<38} {self.median_ms:8.1f} {self.p95_ms:8.1f} {self.sql_ms:8.1f} "
            f"{self.query_range:>9}  {codes}{failed}"
        )


HEADER = (
    f"  {'page':<38} {'median':>8} {'p95':>8} {'sql med':>8} {'queries':>9}  status\n"
    f"  {'':<38} {'ms':>8} {'ms':>8} {'ms':>8}"
)


@dataclass
class Call:
    key: str  # what the query count may depend on (the page, or the deal's stage and parties)
    run: Callable[[], object]  # returns the response
    ok: Callable[[object], bool]


def measure(name: str, calls: list[Call], warmup: list[Call]) -> Result:
    """Make each call once after the untimed warm-up calls, timing it and counting queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for call in warmup:
        call.run()
    result = Result(name)
    for call in calls:
        connection.queries_log.clear()  # the log keeps 9,000 queries; a full one counts 0
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = call.run()
            result.samples.append(time.perf_counter() - started)
        count = len(captured)
        result.queries.append(count)
        result.by_key[call.key] = max(result.by_key.get(call.key, 0), count)
        result.sql_seconds.append(sum(float(q["time"]) for q in captured.captured_queries))
        result.statuses[response.status_code] += 1
        if not call.ok(response):
            result.failed += 1
        for query in captured.captured_queries:
            if float(query["time"]) > result.slowest[0]:
                result.slowest = (float(query["time"]), query["sql"])
    return result


def seed(args, deals: int) -> float:
    """Run seed_demo's seeders as the command does (one transaction); return the seconds."""
    from django.db import transaction
    from django.utils.module_loading import autodiscover_modules

    from core.demo import DemoOptions, run_seeders

    autodiscover_modules("demo")
    options = DemoOptions(
        customers=args.customers, deals=deals, receivables_per_deal=args.receivables_per_deal,
        seed=args.seed,
    )  # fmt: skip
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"    [{time.perf_counter() - started:6.1f} s] {message}", flush=True)

    with transaction.atomic():
        run_seeders(options, log)
    return time.perf_counter() - started


def vacuum_analyze() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def book() -> str:
    from django.db import connection

    from credit.models import ExposureEntry
    from customers.models import Customer
    from deals.models import ApprovalRequest, Deal, Receivable, StageChange

    counts = ", ".join(
        f"{model.objects.count():,} {label}"
        for model, label in (
            (Deal, "deals"), (Receivable, "receivables"), (StageChange, "stage changes"),
            (ApprovalRequest, "approvals"), (ExposureEntry, "ledger entries"),
            (Customer, "customers"),
        )
    )  # fmt: skip
    if connection.vendor != "postgresql":
        return counts
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('deals_deal')),"
            " pg_size_pretty(pg_total_relation_size('deals_receivable'))"
        )
        deal_size, receivable_size = cursor.fetchone()
    return f"{counts}; deals table {deal_size}, receivables {receivable_size}"


def sample_deals(rng: random.Random, stages, per_stage: int, total: int) -> list[tuple]:
    """Return ``total`` deals spread over ``stages``: (number, stage, parties)."""
    from django.db.models import Count

    from deals.models import Deal

    chosen: list[int] = []
    for stage in stages:
        ids = list(Deal.objects.filter(stage=stage).values_list("pk", flat=True))
        chosen.extend(rng.sample(ids, min(per_stage, len(ids))))
    rng.shuffle(chosen)
    rows = (
        Deal.objects.filter(pk__in=chosen[:total])
        .annotate(debtors=Count("receivables__debtor", distinct=True))
        .values_list("number", "stage", "debtors")
    )
    return [(number, stage, 1 + debtors) for number, stage, debtors in rows]


def run_round(args, deals: int, rng: random.Random) -> dict[str, object]:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from deals.choices import Stage
    from deals.models import Deal

    with scratch_database("pipeline") as name:
        print(f"\n## {deals:,} deals × {args.receivables_per_deal} receivables ({name})")
        seeded_s = seed(args, deals)
        analyze_s = vacuum_analyze()
        print(f"  seeding: {seeded_s:.1f} s; vacuum analyze {analyze_s:.1f} s")
        print(f"  book: {book()}")
        reverse("deals:kanban")  # the pages exist (NoReverseMatch otherwise)

        client = Client()
        client.force_login(User.objects.get(username="sales"))

        def get(url: str) -> Call:
            return Call(url, lambda: client.get(url), lambda r: r.status_code == 200)

        def gets(url: str) -> list[Call]:
            return [get(url) for _ in range(args.samples)]

        results = [
            measure("kanban  /deals/", gets("/deals/"), [get("/deals/")] * 3),
            measure("list    page 1", gets(f"{LIST}?page=1"), [get(f"{LIST}?page=1")] * 3),
            measure("list    page 500", gets(f"{LIST}?page=500"), [get(f"{LIST}?page=500")] * 3),
        ]
        filtered = f"{LIST}?stage=quoted&scheme=two_party&page=1"
        results.append(measure("list    quoted + two_party", gets(filtered), [get(filtered)] * 3))

        def detail(number: str, stage: str, parties: int) -> Call:
            url = reverse("deals:detail", args=[number])
            return Call(f"{stage}/{parties}", lambda: client.get(url),
                        lambda r: r.status_code == 200)  # fmt: skip

        details = sample_deals(rng, Stage.values, -(-args.details // len(Stage.values)) + 1,
                               args.details + 2)  # fmt: skip
        calls = [detail(*row) for row in details]
        results.append(measure("detail  /deals/<number>/", calls[2:], calls[:2]))

        def move(number: str, stage: str, parties: int) -> Call:
            url = reverse("deals:transition", args=[number])
            data = {"to": "lost", "lost_reasons": "price", "comment": "bench"}

            def ok(response) -> bool:
                return (response.status_code == 302
                        and Deal.objects.filter(number=number, stage=Stage.LOST).exists())  # fmt: skip

            return Call(f"{stage}/{parties}", lambda: client.post(url, data), ok)

        movable = sample_deals(rng, OPEN_FOR_TRANSITION,
                               -(-args.transitions // len(OPEN_FOR_TRANSITION)) + 1,
                               args.transitions + 2)  # fmt: skip
        calls = [move(*row) for row in movable]
        results.append(measure("transition → lost (POST)", calls[2:], calls[:2]))

        print(HEADER)
        for result in results:
            print(result.line())
        explained = {}
        if connection.vendor == "postgresql":
            for result in results:
                if args.explain or result.p95_ms >= TARGET_P95_MS:
                    explained[result.name] = explain(result.slowest[1])
        return {"deals": deals, "results": results, "seeded": seeded_s, "explained": explained}


def explain(sql: str) -> str:
    """EXPLAIN ANALYZE a read; only EXPLAIN a write (it would run)."""
    from django.db import connection

    analyze = sql.lstrip().upper().startswith("SELECT")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({'ANALYZE, BUFFERS' if analyze else 'COSTS'}) {sql}")
        return "\n".join(f"      {row[0]}" for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=100_000, help="deals of the big round")
    parser.add_argument("--small-deals", type=int, default=1_000, help="deals of the first round")
    parser.add_argument("--receivables-per-deal", type=int, default=10)
    parser.add_argument(
        "--customers", type=int, default=100,
        help="customers seeded through the services (KYC, screening, ratings, limits); the "
             "deals seeder adds more in bulk up to one per 20 deals",
    )  # fmt: skip
    parser.add_argument("--samples", type=int, default=20, help="loads of each list page")
    parser.add_argument("--details", type=int, default=50, help="deal pages (random deals)")
    parser.add_argument("--transitions", type=int, default=50, help="moves to lost")
    parser.add_argument(
        "--quick", action="store_true", help="1,000 then 10,000 deals, fewer samples"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN every page's slowest")
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args()
    if args.quick:
        args.deals = min(args.deals, 10_000)
        args.samples, args.details, args.transitions = 10, 24, 21
    setup_django()
    from django.db import connection

    run_started = time.perf_counter()
    print(
        f"database: {connection.vendor}; deals {args.small_deals:,} then {args.deals:,} × "
        f"{args.receivables_per_deal} receivables; load average {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} CPUs"
    )
    rounds = [run_round(args, n, random.Random(args.seed)) for n in (args.small_deals, args.deals)]
    small, big = rounds
    print(f"\n## summary: {small['deals']:,} → {big['deals']:,} deals")
    print(f"  seeding {big['deals']:,} deals: {big['seeded']:.1f} s "
          f"({small['deals']:,}: {small['seeded']:.1f} s)")  # fmt: skip
    print(
        f"  {'page':<30} {'median ms':>17} {'p95 ms':>17} {'ratio':>6} "
        f"{'queries (max per kind)':>26}"
    )
    grows, slow = [], []
    for first, last in zip(small["results"], big["results"], strict=True):
        shared = sorted(set(first.by_key) & set(last.by_key))
        differ = [k for k in shared if first.by_key[k] != last.by_key[k]]
        if differ:
            grows.append(f"{last.name} ({', '.join(differ)})")
        if last.p95_ms >= TARGET_P95_MS or last.failed:
            slow.append(last.name)
        same = "same" if not differ else "DIFFERS"
        counts = (f"{max(first.queries)} → {max(last.queries)}" if len(shared) == 1
                  else f"{len(shared)} kinds, {len(shared) - len(differ)} equal")  # fmt: skip
        print(
            f"  {last.name:<30} {first.median_ms:7.1f} → {last.median_ms:7.1f} "
            f"{first.p95_ms:7.1f} → {last.p95_ms:7.1f} {last.median_ms / first.median_ms:5.1f}× "
            f"{counts:>17} {same}"
        )
    detail = {r.name: r for r in big["results"]}
    print("\n  queries per kind of deal, big round (stage/parties: count):")
    for name in ("detail  /deals/<number>/", "transition → lost (POST)"):
        kinds = detail[name].by_key
        line = ", ".join(f"{key} {n}" for key, n in sorted(kinds.items()))
        print(f"    {name.split()[0]:<11} {line}")
    failed = [r.name for r in big["results"] if r.failed]
    print(
        f"\n  p95 < {TARGET_P95_MS:.0f} ms at {big['deals']:,} deals: "
        f"{'PASS' if not slow else 'FAIL (' + ', '.join(slow) + ')'}"
    )
    print(
        f"  query count constant from {small['deals']:,} to {big['deals']:,} deals: "
        f"{'PASS' if not grows else 'FAIL (' + '; '.join(grows) + ')'}"
    )
    if failed:
        print(f"  requests that did not do their job: {', '.join(failed)}")
    print("\nslowest single query of each page at the big size:")
    for result in big["results"]:
        seconds, sql = result.slowest
        print(f"  {result.name:<30} {seconds * 1000:7.1f} ms  {' '.join(sql.split())[:150]}")
    for name, plan in big["explained"].items():
        result = detail[name]
        print(f"\n  EXPLAIN, slowest query of {name.strip()} ({result.slowest[0] * 1000:.1f} ms):")
        print(f"    {' '.join(result.slowest[1].split())}")
        lines = plan.splitlines()
        print("\n".join(lines[:EXPLAIN_LINES]))
        if len(lines) > EXPLAIN_LINES:
            print(f"      … {len(lines) - EXPLAIN_LINES} more lines")
    print(f"\ntotal run time: {time.perf_counter() - run_started:.0f} s")


if __name__ == "__main__":
    main()
