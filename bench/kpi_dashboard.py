"""KPI dashboard at scale: the page and its JSON, small book vs ``seed_demo --deals 100000``.

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ../.venv/bin/python kpi_dashboard.py
    cd bench && ../.venv/bin/python kpi_dashboard.py --quick      # 1,000 then 10,000 deals

Two rounds, each in a scratch database of its own (migrated, then dropped): seed_demo's
seeders with ``--small-deals`` (1,000) then ``--deals`` (100,000) deals in bulk (as
bench/pipeline.py), then one expected collection per receivable of every executed,
collecting or closed deal written by one INSERT … SELECT (the demo has no collections at
this scale): closed ones paid (a tenth late), open ones unpaid, a few repurchased or written
off — so the delay figures read real rows. VACUUM ANALYZE, then as the demo ``manager``:

  GET /dashboard/                     the page (this month)
  GET /dashboard/?period=fiscal_year  the page over a fiscal year
  GET /api/dashboard/                 the JSON (this month)
  GET /api/dashboard/?period=quarter&group_by=channel   the JSON, grouped over a quarter

Each URL is loaded cold (the cache cleared first: every figure computed in the database) and
warm (the figures cached under the newest audit event's id, as a manager reloading or
coming back finds them). Prints median and p95 with the query count of each, side by side
for the two sizes, and PASS/FAIL for "p95 < 500 ms" and "query count the same at both
sizes".
"""

from __future__ import annotations

import argparse
import time

from harness import (
    Call,
    Result,
    measure,
    scratch_database,
    serve_like_wsgi,
    setup_django,
    vacuum_analyze,
)
from pipeline import HEADER, add_seed_args, line, seed

TARGET_P95_MS = 500.0
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PAGES = (
    ("page    /dashboard/", "/dashboard/"),
    ("page    fiscal year", "/dashboard/?period=fiscal_year"),
    ("json    /api/dashboard/", "/api/dashboard/"),
    ("json    quarter by channel", "/api/dashboard/?period=quarter&group_by=channel"),
)


COLLECTIONS_SQL = """
INSERT INTO collection_expectedcollection
    (receivable_id, deal_id, payer_id, debtor_id, due_date, expected_amount, paid_amount, fee_amount,
     status, paid_on, exposure_released)
SELECT r.id, r.deal_id,
       CASE WHEN d.scheme = 'three_party' THEN r.debtor_id ELSE d.client_id END, r.debtor_id,
       r.due_date, r.face_amount,
       CASE WHEN d.stage = 'closed' OR (r.due_date < %(today)s AND r.id %% 5 <> 0)
            THEN r.face_amount ELSE 0 END,
       0,
       CASE WHEN d.stage = 'closed' OR (r.due_date < %(today)s AND r.id %% 5 <> 0) THEN 'paid'
            WHEN r.due_date < %(today)s AND r.id %% 53 = 0 THEN 'written_off'
            WHEN r.due_date < %(today)s THEN 'overdue'
            ELSE 'open' END,
       CASE WHEN d.stage = 'closed' OR (r.due_date < %(today)s AND r.id %% 5 <> 0)
            THEN r.due_date + (CASE WHEN r.id %% 10 = 0 THEN 6 ELSE 0 END) END,
       false
FROM deals_receivable r JOIN deals_deal d ON d.id = r.deal_id
WHERE d.stage IN ('executed', 'collecting', 'closed')
"""


def seed_collections() -> tuple[int, float]:
    """Write the expected collections of executed deals in one statement (PostgreSQL)."""
    from django.db import connection
    from django.utils import timezone

    started = time.perf_counter()
    if connection.vendor != "postgresql":
        return 0, 0.0
    with connection.cursor() as cursor:
        cursor.execute(COLLECTIONS_SQL, {"today": timezone.localdate()})
        count = cursor.rowcount
    return count, time.perf_counter() - started


def run_round(args, deals: int) -> dict[str, Result]:
    from django.core.cache import cache
    from django.test import Client, override_settings

    from accounts.models import User

    with scratch_database("dashboard") as name:
        print(f"\n## {deals:,} deals × {args.receivables_per_deal} receivables ({name})")
        seeded_s = seed(args, deals)
        collections, collections_s = seed_collections()
        analyze_s = vacuum_analyze()
        serve_like_wsgi()
        print(f"  seeding: {seeded_s:.1f} s; {collections:,} expected collections "
              f"{collections_s:.1f} s; vacuum analyze {analyze_s:.1f} s")  # fmt: skip
        client = Client()
        client.force_login(User.objects.get(username="manager"))

        def get(url: str, *, cold: bool) -> Call:
            def run():
                if cold:  # every figure computed from the database
                    cache.clear()
                return client.get(url)

            return Call(url, run, lambda r: r.status_code == 200)

        results = {}
        print(HEADER)
        with override_settings(CACHES=LOCMEM):
            for label, url in PAGES:
                for cold in (True, False):
                    name = f"{label} {'cold' if cold else 'warm'}"
                    calls = [get(url, cold=cold)] * args.samples
                    result = measure(name, calls, [get(url, cold=cold)] * 3)
                    results[name] = result
                    print(line(result), flush=True)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    add_seed_args(parser, customers=60)
    parser.add_argument("--samples", type=int, default=20, help="loads of each page")
    parser.add_argument("--quick", action="store_true", help="1,000 then 10,000 deals")
    args = parser.parse_args()
    if args.quick:
        args.deals = 10_000
    setup_django()
    small = run_round(args, args.small_deals)
    big = run_round(args, args.deals)
    print(f"\n## {args.small_deals:,} → {args.deals:,} deals")
    passed = True
    for label, result in big.items():
        before = small.get(label)
        same = before is not None and before.query_range == result.query_range
        fast = result.p95_ms < TARGET_P95_MS
        passed &= same and fast and not result.failed
        print(
            f"  {label:<30} p95 {result.p95_ms:7.1f} ms {'PASS' if fast else 'FAIL'}"
            f" (< {TARGET_P95_MS:.0f} ms); queries {before.query_range if before else '?'}"
            f" → {result.query_range} {'PASS' if same else 'FAIL'}"
        )
        if not fast:
            print(
                f"    slowest query ({result.slowest[0] * 1000:.0f} ms): {result.slowest[1][:600]}"
            )
    print("\nPASS" if passed else "\nFAIL")


if __name__ == "__main__":
    main()
