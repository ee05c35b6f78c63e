"""Recovering late money: the dunning log with promises, repurchase by the client (opened once,
settled releasing the exposure, or waived), and the reserve returned to the client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from collection.models import (
    CollectionStatus,
    ExpectedCollection,
    RepurchaseStatus,
    ReserveSettlement,
)
from collection.services import allocate
from collection.services.recovery import (
    dunning_record,
    repurchase_open,
    repurchase_settle,
    repurchase_waive,
    reserve_settlement_pay,
)
from core.choices import AlertKind
from core.exceptions import InvalidStateError
from core.models import Alert, AuditEvent
from credit.models import Exposure
from deals.choices import Stage

from .statements import deposit, make_late

pytestmark = pytest.mark.django_db
M = 1_000_000


def _pay(desk, row, amount):
    entry = deposit(amount, value_date=timezone.localdate())
    return allocate(entry=entry, expected=row, amount=amount, actor=desk.operations)


def _fresh(row):
    return ExpectedCollection.objects.get(pk=row.pk)


class TestDunning:
    def test_records_the_contact_and_the_promise(self, desk, today):
        row = ExpectedCollection.objects.get(deal=desk.executed([1 * M]))
        entry = dunning_record(
            expected=row, actor=desk.operations, contacted_on=today, method="phone",
            person=" 経理部 山田様 ", agreed="月末に半額", promise_date=today + timedelta(days=7),
            promise_amount=500_000,
        )  # fmt: skip
        assert entry.person == "経理部 山田様" and entry.promise_amount == 500_000
        assert entry.recorded_by == desk.operations
        assert AuditEvent.objects.filter(action="collection.dunning_recorded").count() == 1

    def test_a_promised_date_without_an_amount_promises_everything_outstanding(self, desk, today):
        row = ExpectedCollection.objects.get(deal=desk.executed([1 * M]))
        _pay(desk, row, 400_000)
        entry = dunning_record(expected=row, actor=desk.operations, contacted_on=today,
                               method="email", person="経理", promise_date=today)  # fmt: skip
        assert entry.promise_amount == 600_000

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"person": " "}, "person"),
            ({"method": "fax"}, "method"),
            ({"contacted_on": 1}, "contacted_on"),
            ({"promise_amount": 100}, "promise_date"),
            ({"promise_date": -1}, "promise_date"),
            ({"promise_date": 3, "promise_amount": 0}, "promise_amount"),
            ({"promise_date": 3, "promise_amount": 2 * M}, "promise_amount"),
        ],
    )
    def test_refuses_an_incomplete_or_impossible_entry(self, desk, today, changes, field):
        row = ExpectedCollection.objects.get(deal=desk.executed([1 * M]))
        values = {"contacted_on": today, "method": "phone", "person": "山田"}
        for key in ("contacted_on", "promise_date"):
            if key in changes:
                changes[key] = today + timedelta(days=changes[key])
        with pytest.raises(ValidationError) as error:
            dunning_record(expected=row, actor=desk.operations, **{**values, **changes})
        assert field in error.value.message_dict

    def test_refuses_a_receivable_with_nothing_outstanding(self, desk, today):
        row = ExpectedCollection.objects.get(deal=desk.executed([1 * M]))
        _pay(desk, row, 1 * M)
        with pytest.raises(InvalidStateError):
            dunning_record(expected=row, actor=desk.operations, contacted_on=today,
                           method="phone", person="山田")  # fmt: skip


class TestRepurchaseOpen:
    def test_asks_the_client_for_what_is_outstanding_once(self, desk, today):
        deal = desk.executed([1 * M])
        row = ExpectedCollection.objects.get(deal=deal)
        _pay(desk, row, 250_000)
        make_late([row], 31, today)
        request, created = repurchase_open(expected=row, today=today, actor=desk.operations)
        again, created_again = repurchase_open(expected=row, today=today, actor=desk.operations)
        assert (created, created_again) == (True, False) and again == request
        assert request.amount == 750_000 and request.client == deal.client
        assert request.days_overdue == 31 and request.status == RepurchaseStatus.OPEN
        assert _fresh(row).status != CollectionStatus.REPURCHASED
        alert = Alert.objects.get(dedup_key=f"collection_repurchase:{row.pk}")
        assert alert.assignee == deal.owner and alert.assigned_role.name == "collections"
        assert alert.kind == AlertKind.REPURCHASE_OPENED

    def test_refuses_a_receivable_that_is_not_overdue(self, desk, today):
        row = ExpectedCollection.objects.get(deal=desk.executed([1 * M]))
        with pytest.raises(InvalidStateError):
            repurchase_open(expected=row, today=today, actor=desk.operations)


class TestRepurchaseSettle:
    def test_the_last_open_receivable_repurchased_releases_everything_and_closes_the_deal(
        self, desk, today
    ):
        deal = desk.executed([1 * M])
        row = ExpectedCollection.objects.get(deal=deal)
        make_late([row], 31, today)
        request, _created = repurchase_open(expected=row, today=today)
        repurchase_settle(request=request, actor=desk.operations, settled_on=today)
        request.refresh_from_db()
        deal.refresh_from_db()
        assert request.status == RepurchaseStatus.SETTLED and request.settled_on == today
        assert _fresh(row).status == CollectionStatus.REPURCHASED
        assert _fresh(row).exposure_released
        assert Exposure.objects.get(pk=deal.client_id).client_total == 0
        assert deal.stage == Stage.CLOSED
        assert ReserveSettlement.objects.get(deal=deal).amount == deal.reserve

    def test_releases_only_the_receivables_share_while_others_are_open(self, desk, today):
        deal = desk.executed([4 * M, 6 * M])
        small = ExpectedCollection.objects.filter(deal=deal).order_by("expected_amount").first()
        before = Exposure.objects.get(pk=deal.client_id).client_consumed
        make_late([small], 31, today)
        request, _created = repurchase_open(expected=small, today=today)
        repurchase_settle(request=request, actor=desk.operations, settled_on=today)
        deal.refresh_from_db()
        assert Exposure.objects.get(pk=deal.client_id).client_consumed == before - 2_800_000
        assert deal.stage == Stage.COLLECTING

    def test_the_client_pays_what_is_outstanding_when_it_settles(self, desk, today):
        deal = desk.executed([1 * M, 2 * M])
        row = ExpectedCollection.objects.filter(deal=deal).order_by("expected_amount").first()
        make_late([row], 31, today)
        request, _created = repurchase_open(expected=row, today=today)
        _pay(desk, row, 300_000)
        repurchase_settle(request=request, actor=desk.operations, settled_on=today)
        request.refresh_from_db()
        assert request.amount == 700_000

    def test_refuses_to_settle_twice_or_in_the_future(self, desk, today):
        row = ExpectedCollection.objects.get(deal=desk.executed([1 * M]))
        make_late([row], 31, today)
        request, _created = repurchase_open(expected=row, today=today)
        with pytest.raises(ValidationError):
            repurchase_settle(request=request, actor=desk.operations,
                              settled_on=today + timedelta(days=1))  # fmt: skip
        repurchase_settle(request=request, actor=desk.operations, settled_on=today)
        with pytest.raises(InvalidStateError):
            repurchase_settle(request=request, actor=desk.operations, settled_on=today)

    def test_a_waived_request_cannot_be_settled(self, desk, today):
        row = ExpectedCollection.objects.get(deal=desk.executed([1 * M]))
        make_late([row], 31, today)
        request, _created = repurchase_open(expected=row, today=today)
        with pytest.raises(ValidationError):
            repurchase_waive(request=request, actor=desk.operations, reason=" ")
        repurchase_waive(request=request, actor=desk.operations, reason="売掛先が入金を約束")
        request.refresh_from_db()
        assert request.status == RepurchaseStatus.WAIVED
        with pytest.raises(InvalidStateError):
            repurchase_settle(request=request, actor=desk.operations, settled_on=today)
        assert repurchase_open(expected=row, today=today) == (request, False)


class TestReserveSettlement:
    def test_the_reserve_is_tracked_until_paid_back_once(self, desk, today):
        deal = desk.executed([10 * M])
        _pay(desk, ExpectedCollection.objects.get(deal=deal), 10 * M)
        settlement = ReserveSettlement.objects.get(deal=deal)
        assert settlement.paid_on is None and settlement.amount == 3 * M
        with pytest.raises(ValidationError):
            reserve_settlement_pay(settlement=settlement, actor=desk.operations,
                                   paid_on=today + timedelta(days=1))  # fmt: skip
        reserve_settlement_pay(settlement=settlement, actor=desk.operations, paid_on=today)
        settlement.refresh_from_db()
        assert settlement.paid_on == today and settlement.paid_by == desk.operations
        assert AuditEvent.objects.filter(action="collection.reserve_returned").count() == 1
        with pytest.raises(InvalidStateError):
            reserve_settlement_pay(settlement=settlement, actor=desk.operations, paid_on=today)
