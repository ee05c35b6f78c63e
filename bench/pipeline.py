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

from harness import (
    Call,
    Result,
    explain,
    measure,
    scratch_database,
    serve_like_wsgi,
    setup_django,
    vacuum_analyze,
)

TARGET_P95_MS = 300.0
EXPLAIN_LINES = 40
LIST = "/deals/list/"
OPEN_FOR_TRANSITION = ("lead", "documents", "screening", "underwriting", "quoted", "approval",
                       "contracted")  # fmt: skip


HEADER = (
    f"  {'page':<38} {'median':>8} {'p95':>8} {'sql med':>8} {'queries':>9}  status\n"
    f"  {'':<38} {'ms':>8} {'ms':>8} {'ms':>8}"
)


def line(result: Result) -> str:
    """Return ``result`` as a row under ``HEADER``."""
    codes = ",".join(f"{code}×{n}" for code, n in sorted(result.statuses.items()))
    failed = f"  {result.failed} FAILED" if result.failed else ""
    return (
        f"  {result.name:<38} {result.median_ms:8.1f} {result.p95_ms:8.1f} {result.sql_ms:8.1f} "
        f"{result.query_range:>9}  {codes}{failed}"
    )


def add_seed_args(parser: argparse.ArgumentParser, *, customers: int) -> None:
    """Add the options ``seed`` reads: the deals of the two rounds, receivables per deal,
    customers through the services (``customers`` by default) and the random seed."""
    parser.add_argument("--deals", type=int, default=100_000, help="deals of the big round")
    parser.add_argument("--small-deals", type=int, default=1_000, help="deals of the first round")
    parser.add_argument("--receivables-per-deal", type=int, default=10)
    parser.add_argument(
        "--customers", type=int, default=customers,
        help="customers seeded through the services (KYC, screening, ratings, limits); the "
             "deals seeder adds more in bulk up to one per 20 deals",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=20261121)


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
        serve_like_wsgi()
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
            print(line(result))
        explained = {}
        if connection.vendor == "postgresql":
            for result in results:
                if args.explain or result.p95_ms >= TARGET_P95_MS:
                    explained[result.name] = explain(result.slowest[1])
        return {"deals": deals, "results": results, "seeded": seeded_s, "explained": explained}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    add_seed_args(parser, customers=100)
    parser.add_argument("--samples", type=int, default=20, help="loads of each list page")
    parser.add_argument("--details", type=int, default=50, help="deal pages (random deals)")
    parser.add_argument("--transitions", type=int, default=50, help="moves to lost")
    parser.add_argument(
        "--quick", action="store_true", help="1,000 then 10,000 deals, fewer samples"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN every page's slowest")
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
