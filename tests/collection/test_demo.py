"""The collection demo: last month's statement imported through the parser and reconciled,
leaving matched money, a queue, suspense and overdue receivables — and idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from collection.models import BankEntry, CollectionStatus, EntryStatus, StatementImport
from collection.models import ExpectedCollection as Expected
from collection.zengin import parse_statement
from collection.zengin_writer import Deposit, write_statement

pytestmark = pytest.mark.django_db


def test_the_demo_statement_is_reconciled_and_leaves_work_for_collections():
    call_command("seed_demo", deals=60)
    statuses = set(BankEntry.objects.values_list("status", flat=True))
    assert {EntryStatus.MATCHED, EntryStatus.SUSPENSE} <= statuses
    assert Expected.objects.filter(status=CollectionStatus.PAID).exists()
    assert Expected.objects.filter(status=CollectionStatus.OVERDUE).exists() or (
        Expected.objects.filter(status=CollectionStatus.PARTIAL).exists()
    )
    call_command("seed_demo", deals=60)
    assert StatementImport.objects.count() == 1


def test_the_writer_produces_what_the_parser_reads():
    today = timezone.localdate()
    deposits = [Deposit(today, 1_234_567, "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ", edi="INV-1"), Deposit(today, 880, "ﾃｽﾄ")]
    parsed = parse_statement(write_statement(deposits, first=today, last=today), today=today)
    assert [(e.value_date, e.amount, e.payer_name, e.direction) for e in parsed.entries] == [
        (today, 1_234_567, "カ)ヤマダシヨウジ", "in"), (today, 880, "テスト", "in")
    ]  # fmt: skip
