"""Concurrent reservations on PostgreSQL: the row lock on the balances is what keeps twenty
simultaneous approvals from over-committing one limit.

Each thread has its own database connection and really commits, so the test needs a
transactional database and PostgreSQL's row locks (SQLite serialises every writer anyway).
Without ``select_for_update`` in ``credit.locks.lock_exposures`` this test fails: the threads
read the same balances, all pass the check, and more than ten reservations go through.
"""

import threading
import time

import pytest
from django.db import connections
from django.db.models import Sum

from credit.choices import LimitKind
from credit.exceptions import LimitExceeded
from credit.models import Exposure, ExposureEntry
from credit.services import reserve
from tests.factories import CreditLimitFactory, CustomerFactory, UserFactory

M = 1_000_000
THREADS = 20
ROUNDS = 3
LIMIT = 10 * M


def committed_totals(client_id: int, debtor_id: int) -> tuple[int, int, int]:
    """Return the client balance, the debtor balance and the ledger sum as committed now."""
    rows = {row.pk: row for row in Exposure.objects.filter(pk__in=[client_id, debtor_id])}
    ledger = ExposureEntry.objects.filter(counterparty_id=client_id).aggregate(
        total=Sum("reserved_change")
    )["total"]
    client, debtor = rows.get(client_id), rows.get(debtor_id)
    return (
        client.client_total if client else 0,
        debtor.debtor_total if debtor else 0,
        int(ledger or 0),
    )


def race(client, debtor, actor) -> tuple[list[str], list[int]]:
    """Start twenty reservations of 1M at once; return each outcome and the highest totals
    a watcher saw committed while they ran."""
    barrier = threading.Barrier(THREADS + 1)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    highest = [0, 0, 0]
    done = threading.Event()

    def buy(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            reserve(counterparty=client, amount=M, reference=f"D-{n}", actor=actor,
                    debtor=debtor)  # fmt: skip
            outcomes.append("reserved")
        except LimitExceeded:
            outcomes.append("refused")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def watch() -> None:
        try:
            barrier.wait(timeout=30)
            while not done.is_set():
                for i, value in enumerate(committed_totals(client.pk, debtor.pk)):
                    highest[i] = max(highest[i], value)
                time.sleep(0.001)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch)
    buyers = [threading.Thread(target=buy, args=(n,)) for n in range(THREADS)]
    watcher.start()
    for thread in buyers:
        thread.start()
    for thread in buyers:
        thread.join(timeout=60)
    done.set()
    watcher.join(timeout=10)
    assert not errors, errors
    return outcomes, highest


@pytest.mark.django_db(transaction=True)
class TestConcurrentReservations:
    def test_let_exactly_ten_of_twenty_simultaneous_reservations_through(self, requires_postgresql):
        actor = UserFactory(roles=["underwriter"])
        for _round in range(ROUNDS):
            client = CustomerFactory()
            debtor = CustomerFactory(is_debtor=True, is_client=False)
            CreditLimitFactory(counterparty=client, kind=LimitKind.CLIENT, amount=LIMIT)
            CreditLimitFactory(counterparty=debtor, kind=LimitKind.DEBTOR, amount=LIMIT)

            outcomes, highest = race(client, debtor, actor)

            client_total, debtor_total, ledger_total = committed_totals(client.pk, debtor.pk)
            assert (outcomes.count("reserved"), outcomes.count("refused")) == (10, 10), (
                f"{outcomes.count('reserved')} of {THREADS} reservations went through; "
                f"balance {client_total:,}, ledger {ledger_total:,}, limit {LIMIT:,}"
            )
            assert client_total == debtor_total == ledger_total == LIMIT
            assert ExposureEntry.objects.filter(counterparty=client).count() == 10
            # Never above the limit at any moment a watcher could see.
            assert max(highest) <= LIMIT
