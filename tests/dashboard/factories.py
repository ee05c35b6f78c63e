"""Dashboard test helpers: stage history and expected collections written as they would
be after the real services ran, with chosen dates (the dashboard only reads them)."""

from __future__ import annotations

from datetime import date, datetime

import factory

from collection.models import ExpectedCollection, RepurchaseRequest
from deals.milestones import refresh_milestones
from deals.models import StageChange
from tests.factories import CustomerFactory, ReceivableFactory
from tests.factories import at as at  # re-exported: the dashboard tests import it from here


class StageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageChange

    from_stage = "underwriting"
    to_stage = "quoted"


def history(deal, moves: list[tuple[str, datetime]]) -> list[StageChange]:
    """Write ``deal``'s moves [(to stage, when), …] from lead, seconds in stage included."""
    rows, previous, since = [], "lead", deal.created_at
    for stage, when in moves:
        rows.append(StageChangeFactory(
            deal=deal, from_stage=previous, to_stage=stage, at=when,
            seconds_in_stage=int((when - since).total_seconds()),
        ))  # fmt: skip
        previous, since = stage, when
    refresh_milestones([deal.pk])
    deal.refresh_from_db()
    return rows


class ExpectedCollectionFactory(factory.django.DjangoModelFactory):
    """An expected collection of a new receivable of ``deal`` owed by ``debtor``."""

    class Meta:
        model = ExpectedCollection
        exclude = ("issued",)

    debtor = factory.SubFactory(CustomerFactory, is_client=False, is_debtor=True)
    issued = date(2026, 1, 5)
    receivable = factory.LazyAttribute(
        lambda o: ReceivableFactory(deal=o.deal, debtor=o.debtor, face_amount=o.expected_amount,
                                    issue_date=o.issued, due_date=o.due_date)
    )  # fmt: skip
    payer = factory.LazyAttribute(lambda o: o.deal.client)
    expected_amount = 1_000_000


class RepurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepurchaseRequest

    client = factory.LazyAttribute(lambda o: o.expected.deal.client)
    amount = factory.LazyAttribute(lambda o: o.expected.expected_amount)
    opened_on = date(2026, 5, 20)
    days_overdue = 3
