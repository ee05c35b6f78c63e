"""The nightly collection check: overdue statuses, one alert 3 business days late to the owner
and collections, payment delays to credit, repurchase at the deal's trigger, broken promises —
each once, with a query count that does not grow with the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collection.models import (
    CollectionStatus,
    ExpectedCollection,
    RepurchaseRequest,
    RepurchaseStatus,
)
from collection.nightly import check_collection_overdue
from collection.services import allocate
from collection.services.recovery import dunning_record
from core.choices import AlertKind
from core.models import Alert
from core.selectors import alert_list
from credit.choices import LimitStatus
from credit.models import CreditLimit, Exposure

from .statements import deposit, make_late

pytestmark = pytest.mark.django_db
M = 1_000_000


def _collection(deal):
    return ExpectedCollection.objects.get(deal=deal)


class TestStatuses:
    def test_marks_unpaid_collections_past_their_due_date_overdue(self, desk, today):
        late, on_time = desk.executed([1 * M]), desk.executed([1 * M])
        make_late([_collection(late)], 1, today)
        check_collection_overdue(today=today)
        assert _collection(late).status == CollectionStatus.OVERDUE
        assert _collection(on_time).status == CollectionStatus.OPEN


class TestOverdueAlert:
    def test_waits_until_three_business_days_after_the_due_date(self, desk, today):
        row = _collection(desk.executed([1 * M]))
        make_late([row], 2, today)
        assert check_collection_overdue(today=today).raised == 0
        assert not Alert.objects.filter(dedup_key__startswith="collection_overdue:").exists()

    def test_alerts_once_to_the_deal_owner_and_the_collections_role(self, desk, make_user, today):
        deal = desk.executed([1 * M])
        row = _collection(deal)
        make_late([row], 3, today)
        first = check_collection_overdue(today=today)
        second = check_collection_overdue(today=today)
        alert = Alert.objects.get(dedup_key=f"collection_overdue:{row.pk}")
        assert (first.raised, second.raised) == (1, 0)
        assert first.processed == 1
        assert alert.assignee == deal.owner and alert.assigned_role.name == "collections"
        assert alert.subject == deal and deal.number in alert.title
        collector, stranger = make_user("collections"), make_user("sales")
        assert alert_list(user=collector).filter(pk=alert.pk).exists()
        assert alert_list(user=deal.owner).filter(pk=alert.pk).exists()
        assert not alert_list(user=stranger).filter(pk=alert.pk).exists()

    def test_a_paid_collection_raises_nothing(self, desk, today):
        row = _collection(desk.executed([1 * M]))
        paid = deposit(1 * M, value_date=today)
        allocate(entry=paid, expected=row, amount=1 * M, actor=desk.operations)
        make_late([row], 10, today)
        assert check_collection_overdue(today=today).raised == 0
        assert not Alert.objects.filter(dedup_key__startswith="collection_overdue:").exists()


class TestPaymentDelay:
    @pytest.mark.parametrize("scheme", ["two_party", "three_party"])
    def test_a_delay_over_the_limit_suspends_the_payers_credit_limits(self, desk, today, scheme):
        row = _collection(desk.executed([1 * M], scheme=scheme))
        payer = row.payer_id  # the client in 2社間, the debtor in 3社間
        make_late([row], settings.CREDIT_SUSPEND_DELAY_DAYS, today)
        check_collection_overdue(today=today)
        assert Exposure.objects.get(pk=payer).worst_delay_days == 15
        assert CreditLimit.objects.get(counterparty_id=payer).status == LimitStatus.ACTIVE
        make_late([row], settings.CREDIT_SUSPEND_DELAY_DAYS + 1, today)
        outcome = check_collection_overdue(today=today)
        assert Exposure.objects.get(pk=payer).worst_delay_days == 16
        assert CreditLimit.objects.get(counterparty_id=payer).status == LimitStatus.SUSPENDED
        assert outcome.raised == 1  # credit's suspension alert

    def test_reports_the_worst_delay_per_payer_and_zero_once_paid(self, desk, today):
        deal = desk.executed([1 * M, 2 * M])
        small, large = ExpectedCollection.objects.filter(deal=deal).order_by("expected_amount")
        make_late([small], 4, today)
        make_late([large], 9, today)
        check_collection_overdue(today=today)
        assert Exposure.objects.get(pk=deal.client_id).worst_delay_days == 9
        paid = deposit(2 * M, value_date=today)
        allocate(entry=paid, expected=large, amount=2 * M, actor=desk.operations)
        check_collection_overdue(today=today)
        assert Exposure.objects.get(pk=deal.client_id).worst_delay_days == 4
        paid = deposit(1 * M, value_date=today)
        allocate(entry=paid, expected=small, amount=1 * M, actor=desk.operations)
        check_collection_overdue(today=today)
        assert Exposure.objects.get(pk=deal.client_id).worst_delay_days == 0


class TestRepurchase:
    def test_opens_one_request_once_the_deal_trigger_is_passed(self, desk, today):
        deal = desk.executed([1 * M])
        row = _collection(deal)
        make_late([row], 30, today)
        check_collection_overdue(today=today)
        assert not RepurchaseRequest.objects.exists()
        make_late([row], 31, today)
        check_collection_overdue(today=today)
        check_collection_overdue(today=today)
        request = RepurchaseRequest.objects.get()
        assert request.expected_id == row.pk and request.client_id == deal.client_id
        assert request.amount == 1 * M and request.status == RepurchaseStatus.OPEN
        assert request.days_overdue == 31 and request.opened_on == today
        assert _collection(deal).status == CollectionStatus.OVERDUE
        assert Alert.objects.filter(dedup_key=f"collection_repurchase:{row.pk}").count() == 1

    def test_follows_each_deals_own_trigger(self, desk, today):
        quick = desk.executed([1 * M], repurchase_trigger_days=10)
        usual = desk.executed([1 * M])
        make_late([_collection(quick), _collection(usual)], 11, today)
        check_collection_overdue(today=today)
        assert list(RepurchaseRequest.objects.values_list("expected__deal", flat=True)) == [
            quick.pk
        ]


class TestBrokenPromise:
    def _promise(self, desk, deal, today, amount):
        return dunning_record(
            expected=_collection(deal), actor=desk.operations,
            contacted_on=today - timedelta(days=5), method="phone", person="経理 山田",
            agreed="来週振込", promise_date=today - timedelta(days=1), promise_amount=amount,
        )  # fmt: skip

    def test_alerts_once_when_the_promised_date_passes_unpaid(self, desk, today):
        deal = desk.executed([1 * M])
        make_late([_collection(deal)], 10, today)
        entry = self._promise(desk, deal, today, 600_000)
        check_collection_overdue(today=today)
        check_collection_overdue(today=today)
        alert = Alert.objects.get(dedup_key=f"collection_promise_broken:{entry.pk}")
        assert alert.assignee == desk.operations and alert.assigned_role.name == "collections"
        assert alert.kind == AlertKind.PROMISE_BROKEN

    def test_a_promise_kept_since_the_contact_raises_nothing(self, desk, today):
        deal = desk.executed([1 * M])
        make_late([_collection(deal)], 10, today)
        entry = self._promise(desk, deal, today, 600_000)
        paid = deposit(600_000, value_date=today - timedelta(days=2))
        allocate(entry=paid, expected=_collection(deal), amount=600_000, actor=desk.operations)
        check_collection_overdue(today=today)
        assert not Alert.objects.filter(dedup_key=f"collection_promise_broken:{entry.pk}").exists()

    def test_money_that_arrived_before_the_contact_does_not_keep_the_promise(self, desk, today):
        deal = desk.executed([1 * M])
        make_late([_collection(deal)], 10, today)
        paid = deposit(600_000, value_date=today - timedelta(days=9))
        allocate(entry=paid, expected=_collection(deal), amount=600_000, actor=desk.operations)
        entry = self._promise(desk, deal, today, 300_000)
        check_collection_overdue(today=today)
        assert Alert.objects.filter(dedup_key=f"collection_promise_broken:{entry.pk}").exists()


class TestQueryCount:
    def _setup(self, desk, today, faces, scheme):
        deal = desk.executed(faces, scheme=scheme)
        rows = list(ExpectedCollection.objects.filter(deal=deal))
        make_late(rows, 40, today)
        self._promise(desk, rows[0], today)
        check_collection_overdue(today=today)

    def _promise(self, desk, row, today):
        dunning_record(
            expected=row, actor=desk.operations, contacted_on=today - timedelta(days=3),
            method="email", person="担当者", promise_date=today - timedelta(days=1),
        )  # fmt: skip

    def test_a_second_run_costs_the_same_queries_however_many_rows(self, desk, today):
        self._setup(desk, today, [1 * M], "two_party")
        with CaptureQueriesContext(connection) as few:
            outcome = check_collection_overdue(today=today)
        assert outcome.raised == 0 and outcome.processed == 1
        self._setup(desk, today, [1 * M, 2 * M, 3 * M], "three_party")
        with CaptureQueriesContext(connection) as many:
            outcome = check_collection_overdue(today=today)
        assert outcome.raised == 0 and outcome.processed == 4
        assert len(many) == len(few), [q["sql"][:150] for q in many.captured_queries]
