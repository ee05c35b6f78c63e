"""Demo compliance data: KYC for most customers, a small 反社 list, a hit to review, connections."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from core.demo import DemoOptions, demo_seeder
from customers.models import Customer

from .choices import ConnectionKind, ConnectionMethod, EntryType
from .models import KycRecord, Watchlist, WatchlistEntry
from .screening import refresh_entry_keys, screen_customers
from .services import connection_create, kyc_record_create


@demo_seeder("compliance")
def seed_compliance(options: DemoOptions, log) -> None:
    if KycRecord.objects.exists():
        log("コンプライアンス: 既存データあり (追加なし)")
        return
    officer = User.objects.get(username="compliance")
    today = timezone.localdate()
    customers = list(Customer.objects.order_by("pk")[: options.customers])
    for index, customer in enumerate(customers):
        if index % 10 == 9:
            continue  # a few customers without KYC, to show "not cleared"
        verified_on = today - timedelta(days=700 if index % 7 == 0 else 30 + index)
        kyc_record_create(
            customer=customer, actor=officer, method="in_person", document_type="registry",
            verified_on=verified_on, result="verified", risk="normal", document_number="1234567890",
        )  # fmt: skip
    internal = Watchlist.objects.get(kind="antisocial")
    if customers:
        target = customers[len(customers) // 2]
        entry = WatchlistEntry(
            watchlist=internal, reference="DEMO-001", entry_type=EntryType.ENTITY,
            name=target.name.replace("株式会社", ""), remarks="デモ用の掲載（誤検知の確認用）",
        )  # fmt: skip
        refresh_entry_keys(entry)
        entry.save()
        internal.version += 1
        internal.save(update_fields=["version"])
    summary = screen_customers([c.pk for c in customers], job="seed_demo")
    connection_create(
        actor=officer, name="全銀EB 入出金明細API", kind=ConnectionKind.BANK_API, counterparty="みずほ銀行",
        method=ConnectionMethod.API, purpose="入出金明細の取得（消込）", data_scope="入出金取引明細",
        allowed_ips="203.0.113.10/32", credentials_ref="vault:bank/mizuho/eb", responsible=officer,
        certificate_expires_on=today + timedelta(days=20),
    )  # fmt: skip
    log(
        f"コンプライアンス: KYC {KycRecord.objects.count()} 件、照合 {summary.customers} 社、該当候補 {summary.hits_opened} 件"
    )
