"""与信 exposure at scale: check_limit, the credit page and the credit list over a big ledger.

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ../.venv/bin/python exposure.py
    cd bench && ../.venv/bin/python exposure.py --small      # 100 groups, 100,000 entries

Builds 1,000 groups of ten counterparties (a parent and nine children): the parent and seven
children are clients, two children are debtors, so 8,000 clients + 2,000 debtors = 10,000
counterparties, every one in a group. Limits: a live client limit per client, a debtor limit
per debtor, a group limit on each parent (some suspended, a tenth of the group limits with a
cap on the share of the book), older superseded limits and open proposals; one to three
ratings per party. The ledger is a history of deals over two years (reserve at approval →
consume at execution, the unexecuted rest released → released on collection, sometimes in
two instalments; or cancelled), debtors drawn Zipf-like so a few large debtors appear on many
invoices; it is loaded with COPY (bulk_create on SQLite), and then every Exposure row is set
to exactly the sums of the entries by one INSERT … SELECT … GROUP BY statement (``group_*``
summed onto every ancestor).

Measures ``check_limit``, ``counterparty_credit`` (the credit page), the ledger pane of that
page and ``counterparty_list`` page 1, first on a small ledger, then on the full one, to show
that the query counts do not grow with the ledger; then ``reserve`` (row locks, ledger append,
audit event), and checks that the balances still equal the ledger sums. ``--explain`` prints
EXPLAIN ANALYZE of the slowest query of each read (PostgreSQL).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from harness import (
    Result,
    explain,
    measure,
    scratch_database,
    setup_django,
    timed,
    vacuum_analyze,
)

DAY = 86400.0
TARGET_P95_MS = 20.0
EXPLAIN_LINES = 45
PLACES = (
    "東日本", "関東", "関西", "中部", "九州", "北海道", "東北", "北陸", "四国", "湘南", "阪神",
    "東海", "京浜", "札幌", "仙台", "横浜", "名古屋", "京都", "大阪", "神戸", "広島", "博多",
)  # fmt: skip
CLIENT_TRADES = ("商事", "工業", "物産", "製作所", "運輸", "食品", "電機", "化学", "印刷", "物流")
DEBTOR_TRADES = ("建設", "総合開発", "電力", "自動車", "重工業", "百貨店", "鉄道", "製鉄")
GRADES = ("A", "B", "C", "D", "E")
GRADE_WEIGHTS = (15, 40, 30, 10, 5)


# --------------------------------------------------------------------------- generation


@dataclass
class Parties:
    """The generated counterparties by role, with each one's group parent."""

    parents: list[int]
    clients: list[int]  # parents included
    debtors: list[int]
    parent_of: dict[int, int]


def create_parties(groups: int, actor_id: int) -> Parties:
    """Insert ``groups`` × (parent + 7 client children + 2 debtor children)."""
    from customers.models import Customer

    def customer(name: str, *, client: bool, debtor: bool, parent_id: int | None = None):
        row = Customer(
            name=name,
            is_client=client,
            is_debtor=debtor,
            parent_id=parent_id,
            created_by_id=actor_id,
        )
        row.refresh_keys()
        return row

    parents = Customer.objects.bulk_create(
        [
            customer(
                f"{PLACES[g % len(PLACES)]}{g + 1:04d}ホールディングス株式会社",
                client=True,
                debtor=False,
            )
            for g in range(groups)
        ],
        batch_size=2000,
    )
    children = []
    for g, parent in enumerate(parents):
        stem = f"{PLACES[g % len(PLACES)]}{g + 1:04d}"
        for j in range(7):
            name = f"株式会社{stem}{CLIENT_TRADES[(g + j) % len(CLIENT_TRADES)]}{j + 1}"
            children.append(customer(name, client=True, debtor=False, parent_id=parent.pk))
        for j in range(2):
            name = f"{stem}{DEBTOR_TRADES[(g + j) % len(DEBTOR_TRADES)]}株式会社"
            children.append(customer(name, client=False, debtor=True, parent_id=parent.pk))
    children = Customer.objects.bulk_create(children, batch_size=2000)
    return Parties(
        parents=[p.pk for p in parents],
        clients=[p.pk for p in parents] + [c.pk for c in children if c.is_client],
        debtors=[c.pk for c in children if c.is_debtor],
        parent_of={c.pk: c.parent_id for c in children},
    )


# An entry: (timestamp, client, debtor or None, reference, kind, amount, Δreserved, Δconsumed).
Entry = tuple[float, int, int | None, str, str, int, int, int]


def deal_entries(
    rng: random.Random, number: int, client: int, debtor: int | None, now: float
) -> list[Entry]:
    """One deal's ledger lines, as the services would have posted them, up to ``now``."""
    ref = f"D{number:07d}"
    amount = int(round(math.exp(rng.uniform(math.log(300_000), math.log(30_000_000))), -3))
    start = now - rng.uniform(0, 730) * DAY
    out: list[Entry] = [(start, client, debtor, ref, "reserve", amount, amount, 0)]
    if rng.random() < 0.05:  # lost after approval
        cancelled = start + rng.uniform(1, 10) * DAY
        if cancelled < now:
            out.append((cancelled, client, debtor, ref, "release", amount, -amount, 0))
        return out
    executed = start + rng.uniform(0.5, 5) * DAY
    if executed >= now:
        return out
    bought = amount if rng.random() < 0.8 else int(round(amount * rng.uniform(0.7, 0.99), -3))
    out.append((executed, client, debtor, ref, "consume", bought, -bought, bought))
    if bought < amount:
        rest = amount - bought
        out.append((executed + 1, client, debtor, ref, "release", rest, -rest, 0))
    if rng.random() < 0.02:  # overdue, never collected yet
        return out
    collected = executed + rng.uniform(30, 90) * DAY
    if collected >= now:
        return out
    if rng.random() < 0.15:  # two instalments
        first = int(round(bought * rng.uniform(0.3, 0.7), -3))
        out.append((collected, client, debtor, ref, "release", first, 0, -first))
        second = collected + rng.uniform(1, 20) * DAY
        if second < now:
            out.append((second, client, debtor, ref, "release", bought - first, 0, first - bought))
        return out
    out.append((collected, client, debtor, ref, "release", bought, 0, -bought))
    return out


def generate_ledger(
    rng: random.Random, parties: Parties, small: int, total: int, now: float
) -> tuple[list[Entry], list[Entry]]:
    """Return the entries of the small ledger and of the rest, each sorted by time.

    Deals come in random order, so the small ledger is a random sample of deals; a deal cut
    at a phase boundary keeps a prefix of its lines, which is still a consistent history.
    """
    clients = parties.clients
    debtors = list(parties.debtors)
    rng.shuffle(debtors)
    client_cum, debtor_cum, acc = [], [], 0.0
    for _ in clients:
        acc += rng.lognormvariate(0, 0.8)
        client_cum.append(acc)
    acc = 0.0
    for rank in range(len(debtors)):
        acc += 1 / (rank + 1) ** 0.6
        debtor_cum.append(acc)
    phases: list[list[Entry]] = [[], []]
    number, produced = 0, 0
    while produced < total:
        batch = 10_000
        picked_clients = rng.choices(clients, cum_weights=client_cum, k=batch)
        picked_debtors = rng.choices(debtors, cum_weights=debtor_cum, k=batch)
        for client, debtor in zip(picked_clients, picked_debtors, strict=True):
            number += 1
            lines = deal_entries(rng, number, client, debtor if rng.random() > 0.03 else None, now)
            for line in lines:
                if produced >= total:
                    break
                phases[0 if produced < small else 1].append(line)
                produced += 1
            if produced >= total:
                break
    for phase in phases:
        phase.sort(key=lambda e: e[0])
    return phases[0], phases[1]


def open_balances(entries: Iterable[Entry], parties: Parties) -> tuple[dict, dict, dict]:
    """Return open exposure by client, by debtor and by group parent (own + descendants)."""
    by_client: dict[int, int] = defaultdict(int)
    by_debtor: dict[int, int] = defaultdict(int)
    for _ts, client, debtor, _ref, _kind, _amount, d_res, d_con in entries:
        by_client[client] += d_res + d_con
        if debtor is not None:
            by_debtor[debtor] += d_res + d_con
    by_group: dict[int, int] = defaultdict(int)
    for client, amount in by_client.items():
        by_group[parties.parent_of.get(client, client)] += amount
    return by_client, by_debtor, by_group


def load_entries(entries: list[Entry], user_id: int) -> None:
    """Append ``entries`` to the ledger: COPY on PostgreSQL, bulk_create elsewhere."""
    from django.db import connection

    from credit.models import ExposureEntry

    if connection.vendor != "postgresql":
        for start in range(0, len(entries), 20_000):
            ExposureEntry.objects.bulk_create(
                [
                    ExposureEntry(
                        counterparty_id=client,
                        debtor_id=debtor,
                        reference=ref,
                        kind=kind,
                        amount=amount,
                        reserved_change=d_res,
                        consumed_change=d_con,
                        created_by_id=user_id,
                        created_at=datetime.fromtimestamp(ts, UTC),
                    )
                    for ts, client, debtor, ref, kind, amount, d_res, d_con in entries[
                        start : start + 20_000
                    ]
                ],
                batch_size=2000,
            )
        return
    table = connection.ops.quote_name(ExposureEntry._meta.db_table)
    sql = (
        f"COPY {table} (counterparty_id, debtor_id, reference, kind, amount, reserved_change,"
        " consumed_change, note, created_by_id, actor_label, created_at) FROM STDIN"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(entries), 100_000):
            buffer = io.StringIO()
            buffer.writelines(
                f"{client}\t{debtor if debtor is not None else chr(92) + 'N'}\t{ref}\t{kind}\t"
                f"{amount}\t{d_res}\t{d_con}\t\t{user_id}\t\t"
                f"{datetime.fromtimestamp(ts, UTC).isoformat(sep=' ')}\n"
                for ts, client, debtor, ref, kind, amount, d_res, d_con in entries[
                    start : start + 100_000
                ]
            )
            buffer.seek(0)
            cursor.copy_expert(sql, buffer)


def rebuild_balances() -> None:
    """Set every Exposure row to exactly the sums of the ledger, in one statement."""
    from django.db import connection

    from credit.models import Exposure, ExposureEntry
    from customers.models import Customer

    q = connection.ops.quote_name
    customers, entries = q(Customer._meta.db_table), q(ExposureEntry._meta.db_table)
    sql = f"""
        WITH RECURSIVE
        tree(ancestor, descendant, depth) AS (
            SELECT parent_id, id, 1 FROM {customers} WHERE parent_id IS NOT NULL
            UNION ALL
            SELECT c.parent_id, t.descendant, t.depth + 1
            FROM {customers} c JOIN tree t ON c.id = t.ancestor
            WHERE c.parent_id IS NOT NULL AND t.depth < 20
        ),
        cl(id, r, k) AS (
            SELECT counterparty_id, SUM(reserved_change), SUM(consumed_change)
            FROM {entries} GROUP BY counterparty_id
        ),
        db(id, r, k) AS (
            SELECT debtor_id, SUM(reserved_change), SUM(consumed_change)
            FROM {entries} WHERE debtor_id IS NOT NULL GROUP BY debtor_id
        ),
        gr(id, r, k) AS (
            SELECT t.ancestor, SUM(cl.r), SUM(cl.k)
            FROM tree t JOIN cl ON cl.id = t.descendant GROUP BY t.ancestor
        )
        INSERT INTO {q(Exposure._meta.db_table)} (counterparty_id, client_reserved,
            client_consumed, debtor_reserved, debtor_consumed, group_reserved, group_consumed,
            worst_delay_days, updated_at)
        SELECT c.id, COALESCE(cl.r, 0), COALESCE(cl.k, 0), COALESCE(db.r, 0), COALESCE(db.k, 0),
            COALESCE(gr.r, 0), COALESCE(gr.k, 0),
            CASE WHEN c.is_debtor AND c.id % 23 = 0 THEN c.id % 61 ELSE 0 END, CURRENT_TIMESTAMP
        FROM {customers} c
        LEFT JOIN cl ON cl.id = c.id LEFT JOIN db ON db.id = c.id LEFT JOIN gr ON gr.id = c.id
        WHERE true
        ON CONFLICT (counterparty_id) DO UPDATE SET
            client_reserved = excluded.client_reserved, client_consumed = excluded.client_consumed,
            debtor_reserved = excluded.debtor_reserved, debtor_consumed = excluded.debtor_consumed,
            group_reserved = excluded.group_reserved, group_consumed = excluded.group_consumed,
            worst_delay_days = excluded.worst_delay_days, updated_at = excluded.updated_at
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)


def balance_mismatches() -> int:
    """Count Exposure rows whose balances differ from the ledger sums (one query)."""
    from django.db import connection

    from credit.models import Exposure, ExposureEntry

    q = connection.ops.quote_name
    exposure, entries = q(Exposure._meta.db_table), q(ExposureEntry._meta.db_table)
    sql = f"""
        WITH cl AS (SELECT counterparty_id id, SUM(reserved_change) r, SUM(consumed_change) k
                    FROM {entries} GROUP BY counterparty_id),
             db AS (SELECT debtor_id id, SUM(reserved_change) r, SUM(consumed_change) k
                    FROM {entries} WHERE debtor_id IS NOT NULL GROUP BY debtor_id)
        SELECT COUNT(*) FROM {exposure} e
        LEFT JOIN cl ON cl.id = e.counterparty_id LEFT JOIN db ON db.id = e.counterparty_id
        WHERE e.client_reserved <> COALESCE(cl.r, 0) OR e.client_consumed <> COALESCE(cl.k, 0)
           OR e.debtor_reserved <> COALESCE(db.r, 0) OR e.debtor_consumed <> COALESCE(db.k, 0)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def create_limits(
    rng: random.Random,
    parties: Parties,
    planned: tuple[dict, dict, dict],
    maker_id: int,
    checker_id: int,
) -> dict[str, int]:
    """Live limits sized on the final balances (most green, some yellow, a few over), older
    superseded limits, open proposals and a few suspensions. Return counts by status."""
    from django.utils import timezone

    from credit.choices import LimitKind, LimitStatus
    from credit.models import CreditLimit

    by_client, by_debtor, by_group = planned
    today = timezone.localdate()
    now = timezone.now()

    def amount_for(exposure: int) -> int:
        if exposure <= 0:
            return rng.choice((10, 20, 30, 50, 100)) * 1_000_000
        draw = rng.random()
        if draw < 0.75:
            used = rng.uniform(0.15, 0.8)
        elif draw < 0.95:
            used = rng.uniform(0.8, 1.0)
        else:
            used = rng.uniform(1.0, 1.1)
        return max(1_000_000, math.ceil(exposure / used / 1_000_000) * 1_000_000)

    rows: list[CreditLimit] = []

    def add(party: int, kind: str, exposure: int, share: Decimal | None = None) -> None:
        start = today - timedelta(days=rng.randint(10, 300))
        common = dict(counterparty_id=party, kind=kind, rationale="bench", proposed_by_id=maker_id)
        if rng.random() < 0.5:
            old_start = start - timedelta(days=365)
            rows.append(
                CreditLimit(
                    **common,
                    amount=amount_for(exposure // 2),
                    valid_from=old_start,
                    valid_until=start - timedelta(days=1),
                    review_date=start - timedelta(days=30),
                    status=LimitStatus.SUPERSEDED,
                    decided_by_id=checker_id,
                    decided_at=now - timedelta(days=(today - old_start).days),
                )
            )
        suspended = rng.random() < 0.01
        rows.append(
            CreditLimit(
                **common,
                amount=amount_for(exposure),
                max_share=share,
                valid_from=start,
                valid_until=start + timedelta(days=365),
                review_date=start + timedelta(days=335),
                status=LimitStatus.SUSPENDED if suspended else LimitStatus.ACTIVE,
                decided_by_id=checker_id,
                decided_at=now - timedelta(days=(today - start).days),
                suspended_at=now if suspended else None,
                suspension_reason="bench: 支払遅延" if suspended else "",
            )
        )
        if rng.random() < 0.03:
            rows.append(
                CreditLimit(
                    **common,
                    amount=amount_for(exposure) * 2,
                    valid_from=today,
                    valid_until=today + timedelta(days=365),
                    review_date=today + timedelta(days=335),
                    status=LimitStatus.PROPOSED,
                )
            )

    for client in parties.clients:
        add(client, LimitKind.CLIENT, by_client.get(client, 0))
    for debtor in parties.debtors:
        add(debtor, LimitKind.DEBTOR, by_debtor.get(debtor, 0))
    for parent in parties.parents:
        share = Decimal("0.0500") if rng.random() < 0.1 else None
        add(parent, LimitKind.GROUP, by_group.get(parent, 0), share)
    CreditLimit.objects.bulk_create(rows, batch_size=2000)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[str(row.status)] += 1
    counts["with max_share"] = sum(1 for row in rows if row.max_share)
    return dict(counts)


def create_ratings(rng: random.Random, parties: Parties, rater_id: int) -> int:
    from django.utils import timezone

    from credit.models import Rating

    now = timezone.now()
    rows = []
    for party in [*parties.clients, *parties.debtors]:
        previous = ""
        for n in range(rng.randint(1, 3), 0, -1):
            grade = rng.choices(GRADES, weights=GRADE_WEIGHTS)[0]
            rows.append(
                Rating(
                    counterparty_id=party,
                    grade=grade,
                    previous_grade=previous,
                    internal_score=rng.randint(20, 95),
                    rationale="bench",
                    rated_by_id=rater_id,
                    rated_at=now - timedelta(days=n * 180 + rng.randint(0, 90)),
                )
            )
            previous = grade
    Rating.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# --------------------------------------------------------------------------- measurement


HEADER = (
    f"  {'operation':<34} {'entries':>9} {'calls':>6} {'median':>8} {'p95':>8} {'p99':>8} "
    f"{'max':>8} {'queries':>7}\n  {'':<34} {'':>9} {'':>6} {'ms':>8} {'ms':>8} {'ms':>8} "
    f"{'ms':>8} {'/call':>7}"
)


def line(result: Result) -> str:
    """Return ``result`` as a row under ``HEADER`` (its size is the ledger's entries)."""
    return (
        f"  {result.name:<34} {result.size:>9,} {len(result.samples):>6,} "
        f"{result.median_ms:>8.2f} {result.p95_ms:>8.2f} {result.p99_ms:>8.2f} "
        f"{max(result.samples) * 1000:>8.1f} {result.query_range:>7}"
    )


def read_operations(
    rng: random.Random,
    parties: Parties,
    customers: dict,
    calls: int,
    pages: int,
    ledger: int,
    heavy: tuple[int, int],
) -> list[Result]:
    """check_limit, the credit page, its ledger pane and the list's page 1 at this size; the
    credit page and its ledger pane also for ``heavy`` = (the debtor on most entries, count)."""
    from django.core.paginator import Paginator

    from credit.selectors import counterparty_credit, counterparty_list, ledger_entries
    from credit.services.ledger import check_limit

    clients = [customers[pk] for pk in parties.clients]
    debtors = [customers[pk] for pk in parties.debtors]
    everyone = list(customers.values())

    def limit_call(client, debtor, amount):
        return lambda: check_limit(client, amount, debtor)

    checks = [
        limit_call(rng.choice(clients), rng.choice(debtors), rng.randrange(100, 20_000) * 1000)
        for _ in range(calls)
    ]
    sampled = rng.sample(everyone, min(200, len(everyone)))

    def credit_call(customer):
        return lambda: counterparty_credit(customer)

    def ledger_call(customer):
        def run():
            page = Paginator(ledger_entries(customer), 25).get_page(1)
            return list(page.object_list)

        return run

    def list_page():
        return list(counterparty_list(filters={})[:50])

    def list_paginated():
        page = Paginator(counterparty_list(filters={}), 50).get_page(1)
        return list(page.object_list)

    top, top_entries = customers[heavy[0]], heavy[1]

    def timed_calls(name: str, calls: list[Callable[[], object]], warmup: int = 10) -> Result:
        """Measure ``calls`` after running the first ``warmup`` of them untimed."""
        return measure(name, calls, calls[:warmup], size=ledger)

    credits, panes = [credit_call(c) for c in sampled], [ledger_call(c) for c in sampled]
    return [
        timed_calls("check_limit", checks),
        timed_calls("counterparty_credit (credit page)", credits),
        timed_calls(f"  …largest debtor ({top_entries:,} entries)", [credit_call(top)] * 20, 2),
        timed_calls("ledger pane (count + 25 rows)", panes),
        timed_calls(f"  …largest debtor ({top_entries:,} entries)", [ledger_call(top)] * 20, 2),
        timed_calls("counterparty_list page 1 (50 rows)", [list_page] * pages, 2),
        timed_calls("  …via Paginator (count + rows)", [list_paginated] * pages, 2),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--groups", type=int, default=1000, help="groups of 10 counterparties")
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger entries in all")
    parser.add_argument(
        "--small-entries", type=int, default=10_000, help="ledger entries of the first round"
    )
    parser.add_argument("--calls", type=int, default=1000, help="check_limit calls per round")
    parser.add_argument("--pages", type=int, default=20, help="list page-1 loads per round")
    parser.add_argument("--reserves", type=int, default=200, help="reserve calls")
    parser.add_argument(
        "--small", action="store_true", help="quick run: 100 groups, 100,000 entries, 200 calls"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow queries")
    parser.add_argument("--seed", type=int, default=20260401)
    args = parser.parse_args()
    if args.small:
        args.groups, args.entries, args.calls = 100, 100_000, 200
    args.small_entries = min(args.small_entries, args.entries)
    setup_django()
    run_started = time.perf_counter()

    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import ApprovalLevel, User
    from credit.exceptions import LimitExceeded
    from credit.models import CreditLimit, Exposure, ExposureEntry
    from credit.services.ledger import reserve
    from customers.models import Customer

    rng = random.Random(args.seed)
    with scratch_database():
        print(
            f"database: {connection.vendor}; {args.groups * 10:,} counterparties in "
            f"{args.groups:,} groups (each a parent and 9 children: parent + 7 children are "
            f"clients, 2 children are debtors = {args.groups * 8:,} clients + "
            f"{args.groups * 2:,} debtors); ledger {args.small_entries:,} then "
            f"{args.entries:,} entries; load average {os.getloadavg()[0]:.2f} on "
            f"{os.cpu_count()} CPUs"
        )
        maker = User.objects.create(username="bench-maker", approval_level=ApprovalLevel.EXECUTIVE)
        checker = User.objects.create(
            username="bench-checker", approval_level=ApprovalLevel.EXECUTIVE
        )
        started = time.perf_counter()
        parties = create_parties(args.groups, maker.pk)
        now = timezone.now().timestamp() - 60
        small, rest = generate_ledger(rng, parties, args.small_entries, args.entries, now)
        generated_s = time.perf_counter() - started
        planned = open_balances([*small, *rest], parties)
        limits = create_limits(rng, parties, planned, maker.pk, checker.pk)
        ratings = create_ratings(rng, parties, checker.pk)
        print(
            f"set-up: customers + ledger generated in {generated_s:.1f} s; "
            f"{CreditLimit.objects.count():,} limits ({', '.join(f'{v:,} {k}' for k, v in sorted(limits.items()))}); "
            f"{ratings:,} ratings"
        )
        customers = Customer.objects.in_bulk()
        results: list[Result] = []
        for round_no, entries in enumerate((small, rest)):
            load_s = timed(lambda entries=entries: load_entries(entries, maker.pk))
            balance_s = timed(rebuild_balances)
            analyze_s = vacuum_analyze()
            count = ExposureEntry.objects.count()
            open_total = sum(e.client_total for e in Exposure.objects.all())
            expected = sum(e[6] + e[7] for e in (small if round_no == 0 else [*small, *rest]))
            assert open_total == expected, (open_total, expected)
            print(
                f"\nledger: {count:,} entries (+{len(entries):,} loaded in {load_s:.1f} s), "
                f"balances rebuilt in {balance_s:.2f} s, vacuum/analyze {analyze_s:.1f} s; "
                f"open client exposure ¥{open_total:,}"
            )
            per_debtor = Counter(e[2] for e in entries if e[2] is not None)
            if round_no:
                per_debtor.update(e[2] for e in small if e[2] is not None)
            heavy = per_debtor.most_common(1)[0]
            round_results = read_operations(
                rng, parties, customers, args.calls, args.pages, count, heavy
            )
            print(HEADER)
            for result in round_results:
                print(line(result))
            results.extend(round_results)

        # Writes: reserve with row locks, limit re-check, ledger append and audit event.
        clients = [customers[pk] for pk in parties.clients]
        debtors = [customers[pk] for pk in parties.debtors]
        outcomes: dict[str, int] = defaultdict(int)

        def reserve_call(n: int, client, debtor, amount):
            def run():
                try:
                    check = reserve(
                        counterparty=client,
                        amount=amount,
                        reference=f"BENCH{n:05d}",
                        actor=maker,
                        debtor=debtor,
                    )
                    outcomes[check.status] += 1
                except LimitExceeded:
                    outcomes["refused (red)"] += 1

            return run

        count = ExposureEntry.objects.count()
        calls = [
            reserve_call(
                n, rng.choice(clients), rng.choice(debtors), rng.randrange(100, 5000) * 1000
            )
            for n in range(args.reserves)
        ]
        with transaction.atomic():  # warm-up, rolled back
            for call in calls[:5]:
                call()
            transaction.set_rollback(True)
        outcomes.clear()
        reserve_result = measure("reserve (row locks + append)", calls, size=count)
        mismatches = balance_mismatches()
        print(HEADER)
        print(line(reserve_result))
        print(
            f"  outcomes: {', '.join(f'{v} {k}' for k, v in sorted(outcomes.items()))}; "
            f"balances differing from ledger sums afterwards: {mismatches}"
        )

        half = len(results) // 2
        print("\nsummary on the full ledger")
        print(HEADER)
        for result in [*results[half:], reserve_result]:
            print(line(result))
        print(
            f"\n  {'operation':<34} {'queries/call small → full (max)':>31} "
            f"{'median full/small':>18}"
        )
        for first, full in zip(results[:half], results[half:], strict=True):
            name = full.name
            same = "same" if max(first.queries) >= max(full.queries) else "GROWS"
            print(
                f"  {name:<34} {first.query_range:>8} → {full.query_range:<7} ({same:<9})"
                f"{full.median_ms / first.median_ms:>8.2f}×"
            )
        grows = [
            f.name.strip()
            for s_, f in zip(results[:half], results[half:], strict=True)
            if max(f.queries) > max(s_.queries)
        ]
        print(
            "  (the ledger pane runs 1 query for a party without entries: the paginator skips "
            "the rows; a refused reserve runs fewer)\n"
            f"  query counts per call constant from {results[0].size:,} to "
            f"{results[half].size:,} entries: {'NO: ' + ', '.join(grows) if grows else 'yes'}"
        )
        check = results[half]
        verdict = "PASS" if check.p95_ms < TARGET_P95_MS else "FAIL"
        print(
            f"\n  check_limit p95 < {TARGET_P95_MS:.0f} ms: {verdict} "
            f"(p95 {check.p95_ms:.2f} ms over {len(check.samples):,} calls, "
            f"{check.size:,} entries)"
        )
        print("\nslowest single query of each operation on the full ledger:")
        for result in [*results[half:], reserve_result]:
            seconds, sql = result.slowest
            print(f"  {result.name:<34} {seconds * 1000:6.1f} ms  {sql[:120]}")
        if args.explain and connection.vendor == "postgresql":
            parent = ""
            for result in results[half:]:
                if not result.name.startswith(" "):
                    parent = result.name
                label = parent if parent == result.name else f"{parent} {result.name.strip()}"
                print(f"\n  EXPLAIN ANALYZE, slowest query of {label}:")
                print(f"    {result.slowest[1]}")
                plan = explain(result.slowest[1], analyze=True).splitlines()
                print("\n".join(plan[:EXPLAIN_LINES]))
                if len(plan) > EXPLAIN_LINES:
                    print(f"      … {len(plan) - EXPLAIN_LINES} more lines")
    print(f"\ntotal run time: {time.perf_counter() - run_started:.0f} s")


if __name__ == "__main__":
    main()
