"""Deal numbers stay gap-free and invoices are sold once, also when users act at the same
moment.

The threaded tests run on PostgreSQL with a transactional database: every thread has its
own connection and really commits, so only the row lock on ``DealSequence`` (and the advisory
lock of the double-sale guard) keeps them apart. A creation that rolls back gives its number
back, so a failure leaves no gap either.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from deals.exceptions import DoubleSale
from deals.models import Deal, DealSequence, Receivable
from deals.services import deal_create, receivable_add
from tests.factories import CustomerFactory, UserFactory

THREADS = 20


class Boom(Exception):
    """A failure after the deal was created, inside the same transaction."""


def create(actor, client, n: int) -> str:
    return deal_create(actor=actor, client=client, name=f"同時作成 {n}", channel="web",
                       scheme="two_party").number  # fmt: skip


def create_then_fail(actor, client, n: int) -> str:
    with transaction.atomic():
        number = create(actor, client, n)
        raise Boom(number)


def run_at_once(jobs) -> tuple[list, list[BaseException]]:
    """Start every job at the same moment on its own thread and connection; return results
    and errors."""
    barrier = threading.Barrier(len(jobs))
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(job) -> None:
        try:
            barrier.wait(timeout=30)
            outcome = job()
        except BaseException as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def expected_numbers(count: int) -> list[str]:
    year = timezone.localdate().year
    return [f"{year}-{n:04d}" for n in range(1, count + 1)]


class TestGapFreeNumbers:
    @pytest.mark.django_db
    def test_a_rolled_back_creation_gives_its_number_back(self):
        actor, client = UserFactory(roles=["sales"]), CustomerFactory()
        first = create(actor, client, 1)
        with pytest.raises(Boom):
            create_then_fail(actor, client, 2)
        assert create(actor, client, 3) == expected_numbers(2)[1]
        assert [first] == expected_numbers(1)
        assert Deal.objects.count() == 2

    @pytest.mark.django_db(transaction=True)
    def test_twenty_simultaneous_creations_take_numbers_1_to_20(self, requires_postgresql):
        actor, client = UserFactory(roles=["sales"]), CustomerFactory()
        jobs = [lambda n=n: create(actor, client, n) for n in range(THREADS)]

        numbers, errors = run_at_once(jobs)

        assert not errors, errors
        assert sorted(numbers) == expected_numbers(THREADS)
        assert sorted(Deal.objects.values_list("number", flat=True)) == expected_numbers(THREADS)
        assert DealSequence.objects.get(year=timezone.localdate().year).last == THREADS

    @pytest.mark.django_db(transaction=True)
    def test_failed_creations_among_simultaneous_ones_leave_no_gap(self, requires_postgresql):
        actor, client = UserFactory(roles=["sales"]), CustomerFactory()
        failing = {3, 8, 11, 17, 22}
        jobs = [
            (lambda n=n: create_then_fail(actor, client, n)) if n in failing
            else (lambda n=n: create(actor, client, n))
            for n in range(THREADS + len(failing))
        ]  # fmt: skip

        numbers, errors = run_at_once(jobs)

        assert len(errors) == len(failing) and all(isinstance(e, Boom) for e in errors), errors
        assert sorted(numbers) == expected_numbers(THREADS)
        assert sorted(Deal.objects.values_list("number", flat=True)) == expected_numbers(THREADS)
        assert DealSequence.objects.get(year=timezone.localdate().year).last == THREADS


class TestDoubleSaleRace:
    @pytest.mark.django_db(transaction=True)
    def test_sells_an_invoice_once_when_deals_add_it_at_the_same_moment(self, requires_postgresql):
        actor = UserFactory(roles=["sales"])
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        deals = [deal_create(actor=actor, client=CustomerFactory(), name=f"競合 {n}",
                             channel="web", scheme="two_party") for n in range(8)]  # fmt: skip
        today = timezone.localdate()
        # The same invoice, written the way each client's staff typed it.
        spellings = ["INV-777", "inv-777", "ＩＮＶ－７７７", " INV - 777 "]

        def add(deal, n):
            return receivable_add(
                deal=deal, actor=actor, debtor=debtor, invoice_number=spellings[n % 4],
                issue_date=today - timedelta(days=5), due_date=today + timedelta(days=55),
                face_amount=1_000_000,
            )  # fmt: skip

        added, errors = run_at_once([lambda d=d, n=n: add(d, n) for n, d in enumerate(deals)])

        assert len(added) == 1
        assert len(errors) == len(deals) - 1 and all(isinstance(e, DoubleSale) for e in errors)
        assert {e.other_deal.pk for e in errors} == {added[0].deal_id}
        assert Receivable.objects.filter(debtor=debtor, invoice_key="INV-777").count() == 1
