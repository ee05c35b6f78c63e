"""Demo collections: last month's bank statement, imported and reconciled, so the
collections user finds matched money, a queue to work, suspense and overdue receivables."""

from __future__ import annotations

from datetime import timedelta
from random import Random

import jaconv
from django.utils import timezone

from core.demo import DemoOptions, demo_seeder

from .models import CollectionStatus, ExpectedCollection, StatementImport
from .nightly import alert_overdue, refresh_statuses
from .reconcile import reconcile
from .services import statement_import
from .zengin_writer import Deposit, write_statement

DEMO_MAX = 3_000  # expected collections beyond which the demo is a benchmark book: skipped
BANK_FEES = (440, 660, 880)
UNKNOWN_PAYERS = ("ﾔﾏﾀﾞ ﾀﾛｳ", "ｶ)ﾐｼﾗﾇｼﾖｳｼﾞ")


def _bank_name(kana: str) -> str:
    """The payer as a bank writes it: ｶ) and half-width kana."""
    return "ｶ)" + jaconv.z2h(kana, kana=True, ascii=True, digit=True)


@demo_seeder("collection")
def seed_collection(options: DemoOptions, log) -> None:
    if StatementImport.objects.exists():
        log("回収: 入金明細は取込済み (追加なし)")
        return
    today = timezone.localdate()
    due = ExpectedCollection.objects.filter(
        status__in=(CollectionStatus.OPEN, CollectionStatus.OVERDUE), due_date__lt=today
    )
    if not 0 < due.count() <= DEMO_MAX:
        return
    rng = Random(options.seed)
    deposits = []
    for row in due.select_related("payer").order_by("due_date", "pk"):
        if not row.payer.name_kana:
            continue
        luck = rng.random()
        if luck < 0.55:  # paid on the due date, some short by the bank's fee
            amount = row.expected_amount - (rng.choice(BANK_FEES) if rng.random() < 0.3 else 0)
        elif luck < 0.65:  # half now, the rest promised
            amount = row.expected_amount // 2
        else:  # nothing yet: overdue
            continue
        deposits.append(Deposit(row.due_date, amount, _bank_name(row.payer.name_kana)))
    if not deposits:
        return
    last_day = today - timedelta(days=1)
    deposits += [Deposit(last_day, 123_456 + 1_000 * n, name) for n, name in
                 enumerate(UNKNOWN_PAYERS)]  # fmt: skip
    deposits.sort(key=lambda deposit: deposit.value_date)
    data = write_statement(deposits, first=deposits[0].value_date, last=last_day)
    imported = statement_import(data=data, file_name="demo-statement.txt", actor_label="demo")
    summary = reconcile(imported.statement.entries.all())
    # What the night would do next: unpaid ones overdue, alerts to collections.
    overdue, alerts = refresh_statuses(today), alert_overdue(today)
    log(
        f"回収: 入金明細 {len(deposits)} 件を取込み、自動消込 {summary.matched} 件・"
        f"照合待ち {summary.queued} 件・仮受 {summary.suspense} 件; 延滞 {overdue} 件"
        f" (アラート {alerts} 件)"
    )
