"""collection.reconcile: the 消込 run over imported deposits, the queue and its suggestions.

Deals are taken to execution through the services (3社間, so the debtor pays), and deposits
arrive in 全銀 files on the receivables' due date."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from collection.models import (
    Allocation,
    BankEntry,
    CollectionStatus,
    EntryStatus,
    ExpectedCollection,
)
from collection.reconcile import queue, reconcile, suggestions_for, suggestions_for_entries
from collection.services import allocate, statement_import
from collection.zengin_writer import wareki
from deals.models import Deal
from tests.factories import TransferNameFactory

from .statements import dw_file

pytestmark = pytest.mark.django_db
M = 1_000_000


def _debtor(desk, reading: str = "ヤマダショウジ", transfer: str | None = None):
    debtor = desk.debtor()
    debtor.name_kana = reading
    debtor.save()
    if transfer:
        TransferNameFactory(customer=debtor, name=transfer)
    return debtor


def _expected(deal: Deal) -> list[ExpectedCollection]:
    return list(ExpectedCollection.objects.filter(deal=deal).order_by("receivable_id"))


def _deposits(*rows: dict) -> list[BankEntry]:
    """Import deposits, each on the given day (the first receivable's due date by default)."""
    due = ExpectedCollection.objects.order_by("due_date").values_list("due_date", flat=True)[0]
    records = []
    for row in rows:
        day = wareki(row.pop("on", due))
        records.append({"booking": day, "value": day, **row})
    result = statement_import(data=dw_file(records), file_name="deposits.txt")
    return list(result.statement.entries.order_by("record_number"))


class TestReconcile:
    def test_allocates_a_confident_match_with_its_confidence_and_reasons(self, desk):
        debtor = _debtor(desk, transfer="ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ")
        deal = desk.executed([1 * M, 2 * M], "three_party", debtors=[debtor] * 2)
        (entry,) = _deposits({"amount": 2 * M, "payer": "ﾔﾏﾀﾞｼｮｳｼﾞ(ｶ"})
        summary = reconcile()
        assert (summary.examined, summary.matched, summary.allocations) == (1, 1, 1)
        allocation = Allocation.objects.get(entry=entry)
        assert allocation.expected_id == _expected(deal)[1].pk and allocation.amount == 2 * M
        assert allocation.automatic and allocation.confidence >= 0.9
        assert allocation.confidence == summary.decisions[entry.pk].confidence
        assert {"name_transfer", "amount_exact", "due_on"} <= set(allocation.reasons)
        entry.refresh_from_db()
        assert entry.status == EntryStatus.MATCHED

    def test_books_the_bank_fee_the_payer_deducted(self, desk):
        deal = desk.executed([3 * M], "three_party", debtors=[_debtor(desk)])
        (entry,) = _deposits({"amount": 3 * M - 660, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})
        reconcile()
        allocation = Allocation.objects.get(entry=entry)
        assert (allocation.amount, allocation.fee) == (3 * M - 660, 660)
        assert "amount_fee:660" in allocation.reasons
        (expected,) = _expected(deal)
        assert expected.status == CollectionStatus.PAID and expected.fee_amount == 660

    def test_pays_several_invoices_of_one_payer_from_one_entry(self, desk):
        faces = [1_234_567, 2_345_678, 3_456_789, 4_567_890]
        deal = desk.executed(faces, "three_party", debtors=[_debtor(desk)] * len(faces))
        (entry,) = _deposits({"amount": 1_234_567 + 3_456_789 - 440, "payer": "ﾔﾏﾀﾞｼﾖｳｼﾞ"})
        summary = reconcile()
        assert (summary.matched, summary.allocations) == (1, 2)
        rows = Allocation.objects.filter(entry=entry).order_by("expected__expected_amount")
        paid = [e.pk for e in _expected(deal) if e.expected_amount in (1_234_567, 3_456_789)]
        assert sorted(r.expected_id for r in rows) == sorted(paid)
        assert [(r.amount, r.fee) for r in rows] == [(1_234_567, 0), (3_456_789 - 440, 440)]
        assert all("combination:2" in r.reasons for r in rows)

    def test_one_invoice_paid_by_two_entries_naming_it(self, desk):
        deal = desk.executed([5 * M, 7 * M], "three_party", debtors=[_debtor(desk)] * 2)
        number = _expected(deal)[1].receivable.invoice_number
        _deposits({"amount": 3 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ", "edi": number},
                  {"amount": 4 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})  # fmt: skip
        summary = reconcile()
        assert (summary.matched, summary.queued) == (2, 0)
        second = _expected(deal)[1]
        assert second.status == CollectionStatus.PAID
        assert sorted(second.allocations.values_list("amount", flat=True)) == [3 * M, 4 * M]

    def test_leaves_an_ambiguous_entry_in_the_queue_with_ranked_suggestions(self, desk):
        debtor = _debtor(desk)
        first = desk.executed([2 * M], "three_party", debtors=[debtor])
        second = desk.executed([2 * M], "three_party", debtors=[debtor])
        (entry,) = _deposits({"amount": 2 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})
        summary = reconcile()
        assert (summary.matched, summary.queued, summary.suspense) == (0, 1, 0)
        assert not Allocation.objects.exists()
        assert list(queue()) == [entry]
        suggestions = suggestions_for(entry)
        assert [s.rank for s in suggestions] == [1, 2]
        assert {s.expected_ids for s in suggestions} == {
            (_expected(first)[0].pk,),
            (_expected(second)[0].pk,),
        }
        assert all(s.confidence < 0.9 and "amount_exact" in s.codes for s in suggestions)
        assert suggestions[0].confidence >= suggestions[1].confidence

    def test_the_invoice_number_in_the_description_wins_over_an_amount_only_candidate(self, desk):
        debtor = _debtor(desk)
        desk.executed([2 * M], "three_party", debtors=[debtor])
        named = desk.executed([2 * M], "three_party", debtors=[debtor])
        number = _expected(named)[0].receivable.invoice_number
        (entry,) = _deposits({"amount": 2 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ",
                              "description": f"ｾｲｷﾕｳ {number}"})  # fmt: skip
        reconcile()
        allocation = Allocation.objects.get(entry=entry)
        assert allocation.expected_id == _expected(named)[0].pk
        assert "reference_description" in allocation.reasons

    def test_sends_money_from_an_unknown_payer_to_suspense(self, desk):
        desk.executed([2 * M], "three_party", debtors=[_debtor(desk)])
        (entry,) = _deposits({"amount": 2 * M, "payer": "ｶ)ﾐｼﾗﾇｼﾖｳｶｲ"})
        summary = reconcile()
        assert (summary.suspense, summary.matched) == (1, 0)
        entry.refresh_from_db()
        assert entry.status == EntryStatus.SUSPENSE and entry not in queue()

    def test_queues_a_known_payer_whose_amount_fits_nothing(self, desk):
        desk.executed([2 * M], "three_party", debtors=[_debtor(desk)])
        (entry,) = _deposits({"amount": 2 * M + 1234, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})
        summary = reconcile()
        assert (summary.queued, summary.suspense) == (1, 0)
        assert suggestions_for(entry)[0].confidence < 0.9

    def test_a_second_run_changes_nothing(self, desk):
        debtor = _debtor(desk)
        desk.executed([2 * M], "three_party", debtors=[debtor])
        desk.executed([3 * M], "three_party", debtors=[debtor])
        desk.executed([3 * M], "three_party", debtors=[debtor])
        _deposits({"amount": 2 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"}, {"amount": 3 * M, "payer": "ﾔﾏﾀﾞ"},
                  {"amount": 3 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})  # fmt: skip
        first = reconcile()
        assert (first.matched, first.suspense, first.queued) == (1, 1, 1)
        allocations = list(Allocation.objects.values_list("pk", flat=True))
        again = reconcile()
        assert (again.examined, again.matched, again.suspense, again.queued) == (1, 0, 0, 1)
        assert list(Allocation.objects.values_list("pk", flat=True)) == allocations

    def test_leaves_entries_a_person_matched_untouched(self, desk):
        deal = desk.executed([2 * M], "three_party", debtors=[_debtor(desk)])
        (entry,) = _deposits({"amount": 2 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})
        allocate(entry=entry, expected=_expected(deal)[0], amount=2 * M, actor=desk.operations)
        summary = reconcile()
        assert summary.examined == 0
        assert Allocation.objects.get().automatic is False

    def test_a_dry_run_decides_and_writes_nothing(self, desk):
        desk.executed([2 * M], "three_party", debtors=[_debtor(desk)])
        (entry,) = _deposits({"amount": 2 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"},
                             {"amount": 5, "payer": "ｶ)ﾀﾞﾚﾃﾞﾓﾅｲ"})[:1]  # fmt: skip
        summary = reconcile(dry_run=True)
        assert (summary.matched, summary.suspense) == (1, 1) and entry.pk in summary.decisions
        assert not Allocation.objects.exists()
        assert set(BankEntry.objects.values_list("status", flat=True)) == {EntryStatus.UNMATCHED}

    def test_a_large_run_loads_the_whole_book_and_decides_alike(self, desk, monkeypatch):
        monkeypatch.setattr("collection.reconcile.SMALL_RUN", 0)
        debtor = _debtor(desk, transfer="ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ")
        deal = desk.executed([2 * M, 3 * M], "three_party", debtors=[debtor] * 2)
        desk.executed([4 * M], "three_party", debtors=[_debtor(desk, "サトウシヨウテン")])
        number = _expected(deal)[1].receivable.invoice_number
        paid, other, unknown = _deposits(
            {"amount": 2 * M - 440, "payer": "ﾔﾏﾀﾞｼｮｳｼﾞ(ｶ"},
            {"amount": 3 * M, "payer": "ｶ)ﾊﾟﾚﾝﾄﾎｰﾙﾃﾞｨﾝｸﾞｽ", "edi": number},  # someone else pays
            {"amount": 4 * M + 1, "payer": "ｶ)ﾀﾞﾚﾃﾞﾓﾅｲ"},
        )
        summary = reconcile()
        assert (summary.matched, summary.suspense) == (2, 1)
        assert Allocation.objects.get(entry=paid).fee == 440
        assert "name_unknown" in Allocation.objects.get(entry=other).reasons
        assert summary.suspended == [unknown.pk]

    def test_only_the_entries_given_are_reconciled(self, desk):
        desk.executed([2 * M, 3 * M], "three_party", debtors=[_debtor(desk)] * 2)
        first, second = _deposits({"amount": 2 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"},
                                  {"amount": 3 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})  # fmt: skip
        assert reconcile([second]).matched == 1
        assert list(queue()) == [first]


class TestSuggestions:
    def test_take_the_same_number_of_queries_however_big_the_book(self, desk):
        small = _debtor(desk, "サトウシヨウテン")
        desk.executed([1 * M], "three_party", debtors=[small])
        big = _debtor(desk, transfer="ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ")
        for faces in ([2 * M, 3 * M, 4 * M], [5 * M, 6 * M], [7 * M]):
            desk.executed(faces, "three_party", debtors=[big] * len(faces))
        one, many = _deposits({"amount": 1 * M, "payer": "ﾕ)ｻﾄｳｼﾖｳﾃﾝ"},
                              {"amount": 9 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ", "edi": "INV-00001"})  # fmt: skip
        counts = []
        for entry in (one, many):
            with CaptureQueriesContext(connection) as captured:
                suggestions_for(entry)
            counts.append(len(captured))
        assert counts[0] == counts[1] <= 4
        with CaptureQueriesContext(connection) as captured:
            found = suggestions_for_entries([one, many])
        assert len(captured) == counts[0] and set(found) == {one.pk, many.pk}

    def test_are_ranked_with_reasons_a_person_can_read(self, desk):
        desk.executed([2 * M, 3 * M], "three_party", debtors=[_debtor(desk)] * 2)
        (entry,) = _deposits({"amount": 2_999_340, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})
        best = suggestions_for(entry)[0]
        assert best.rank == 1 and best.fee == 660
        with translation.override("en"):
            assert "Short by a bank fee of 660 yen" in best.labels

    def test_count_what_a_person_already_applied(self, desk):
        deal = desk.executed([2 * M, 3 * M], "three_party", debtors=[_debtor(desk)] * 2)
        (entry,) = _deposits({"amount": 5 * M, "payer": "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"})
        first = _expected(deal)[0]
        allocate(entry=entry, expected=first, amount=2 * M, actor=desk.operations)
        best = suggestions_for(entry)[0]
        assert best.expected_ids == (_expected(deal)[1].pk,) and best.amount == 3 * M
        assert queue().get().applied == 2 * M
