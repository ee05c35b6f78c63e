"""Audit chain: cost of a chained append against a plain insert, and verification speed.

    python bench/audit_chain.py --events 100000

Prints appends per second for ``audit_log`` (advisory lock + previous-hash read + SHA-256)
and for a plain INSERT of the same row, their ratio, and how fast ``verify_audit_chain``
walks the whole chain.
"""

from __future__ import annotations

import argparse

from harness import scratch_database, setup_django, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    setup_django()

    from django.db import connection, transaction

    from core.audit import GENESIS_HASH, audit_log, verify_audit_chain
    from core.models import AuditEvent

    n = args.events
    with scratch_database():
        print(f"database: {connection.vendor}, events: {n:,}")

        def chained() -> None:
            for start in range(0, n, 1000):
                with transaction.atomic():
                    for i in range(start, min(n, start + 1000)):
                        audit_log(
                            actor=None, actor_label="bench", action="bench.event", data={"i": i}
                        )

        def plain() -> None:
            for start in range(0, n, 1000):
                with transaction.atomic():
                    for i in range(start, min(n, start + 1000)):
                        AuditEvent(
                            actor_label="bench", action="bench.plain", data={"i": i},
                            prev_hash=GENESIS_HASH, hash=f"{i:064x}",
                        ).save()  # fmt: skip

        chained_s = timed(chained)
        verify_result: list = []
        verify_s = timed(lambda: verify_result.append(verify_audit_chain()))
        checked, broken = verify_result[0]
        assert broken is None and checked == n
        plain_s = timed(plain)

        print(
            f"chained append : {n / chained_s:10,.0f} events/s ({chained_s * 1e6 / n:7.1f} µs each)"
        )
        print(f"plain insert   : {n / plain_s:10,.0f} rows/s   ({plain_s * 1e6 / n:7.1f} µs each)")
        print(f"ratio chained/plain: {chained_s / plain_s:.2f}x")
        rate = checked / verify_s
        print(f"verify chain   : {rate:10,.0f} events/s ({verify_s:.2f} s for {checked:,})")


if __name__ == "__main__":
    main()
