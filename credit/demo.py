"""Demo credit data: ratings, approved limits, a group limit, exposure on the ledger, one
proposal waiting for the approver and one limit suspended by a payment delay."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from core.demo import DemoOptions, demo_seeder
from customers.models import Customer

from .choices import LimitKind
from .exceptions import LimitExceeded
from .models import CreditLimit
from .services import (
    consume,
    limit_approve,
    limit_propose,
    payment_delay_report,
    rating_record,
    reserve,
)

GRADES = ("A", "A", "B", "B", "B", "C", "C", "D")


def _limit(party, kind, amount, underwriter, approver, today, approve=True):
    limit = limit_propose(
        counterparty=party, kind=kind, amount=amount, valid_from=today - timedelta(days=90),
        valid_until=today + timedelta(days=275), review_date=today + timedelta(days=20 + party.pk % 200),
        rationale="月商法と売掛残高法の小さい方に格付係数を乗じて設定。", actor=underwriter,
    )  # fmt: skip
    if approve:
        limit_approve(limit=limit, actor=approver, comment="承認")
    return limit


@demo_seeder("credit")
def seed_credit(options: DemoOptions, log) -> None:
    if CreditLimit.objects.exists():
        log("与信: 既存データあり (追加なし)")
        return
    rng = random.Random(options.seed)
    underwriter = User.objects.get(username="underwriter")
    approver = User.objects.get(username="approver")
    today = timezone.localdate()
    parties = list(
        Customer.objects.filter(merged_into__isnull=True).order_by("pk")[: options.customers]
    )
    for party in parties:
        grade = rng.choice(GRADES[:-1])
        rating_record(counterparty=party, grade=grade, internal_score=rng.randint(40, 95),
                      rationale="決算書3期分と取引状況から判定。", actor=underwriter)  # fmt: skip
    clients = [p for p in parties if p.is_client]
    debtors = [p for p in parties if p.is_debtor]
    for index, party in enumerate(clients):
        _limit(party, LimitKind.CLIENT, rng.choice([5, 10, 20, 30]) * 1_000_000, underwriter,
               approver, today, approve=index != 3)  # fmt: skip
    for party in debtors:
        _limit(party, LimitKind.DEBTOR, rng.choice([10, 20, 50]) * 1_000_000, underwriter,
               approver, today)  # fmt: skip
    for parent in Customer.objects.filter(children__isnull=False).distinct():
        _limit(parent, LimitKind.GROUP, 40_000_000, underwriter, approver, today)
    moved = 0
    for index, client in enumerate(clients):
        others = [d for d in debtors if d.pk != client.pk]
        if not others:
            continue
        debtor = rng.choice(others)
        amount = rng.choice([2, 3, 4, 6, 8]) * 1_000_000
        reference = f"DEMO-{index + 1:04d}"
        try:
            reserve(counterparty=client, amount=amount, reference=reference, actor=approver,
                    debtor=debtor)  # fmt: skip
        except LimitExceeded:
            continue
        if index % 3:
            consume(counterparty=client, amount=amount, reference=reference, actor=underwriter,
                    debtor=debtor)  # fmt: skip
        moved += 1
    if debtors:
        payment_delay_report(counterparty=debtors[-1], days=21, actor_label="seed_demo")
    # One downgrade so the rating history shows a step and a suspension.
    if parties:
        rating_record(counterparty=parties[-1], grade="D", rationale="支払遅延の発生により格下げ。",
                      actor=underwriter)  # fmt: skip
    log(f"与信: 格付 {len(parties)} 社, 限度額 {CreditLimit.objects.count()} 件, 取引 {moved} 件")
