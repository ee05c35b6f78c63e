"""Demo customers: clients and debtors with kana, valid 法人番号, a small group, accounts."""

from __future__ import annotations

import random

from faker import Faker
from stdnum.jp import cn

from core.demo import DemoOptions, demo_seeder

from .choices import AccountType, AccountVerification, Industry, PersonRole
from .matching import normalize_name
from .models import BankAccount, Customer, KeyPerson, TransferName

SUFFIXES = (
    ("商事", "シヨウジ"),
    ("工業", "コウギヨウ"),
    ("建設", "ケンセツ"),
    ("物産", "ブツサン"),
    ("製作所", "セイサクシヨ"),
    ("運輸", "ウンユ"),
    ("食品", "シヨクヒン"),
    ("電機", "デンキ"),
)


# Faker's surnames × suffixes give a few hundred names; larger demo books prefix a region.
REGIONS = (
    ("", ""), ("東京", "トウキヨウ"), ("大阪", "オオサカ"), ("名古屋", "ナゴヤ"), ("札幌", "サツポロ"),
    ("福岡", "フクオカ"), ("横浜", "ヨコハマ"), ("仙台", "センダイ"), ("広島", "ヒロシマ"),
    ("神戸", "コウベ"), ("京都", "キヨウト"), ("新潟", "ニイガタ"), ("静岡", "シズオカ"),
    ("岡山", "オカヤマ"), ("熊本", "クマモト"), ("金沢", "カナザワ"), ("浜松", "ハママツ"),
    ("千葉", "チバ"), ("埼玉", "サイタマ"), ("北九州", "キタキユウシユウ"), ("那覇", "ナハ"),
)  # fmt: skip


def _corporate_number(rng: random.Random) -> str:
    body = f"{rng.randrange(10**11, 10**12):012d}"
    return cn.calc_check_digit(body) + body


@demo_seeder("customers")
def seed_customers(options: DemoOptions, log) -> None:
    """Create ``options.customers`` customers once (skipped when the register is not empty)."""
    if Customer.objects.exists():
        log(f"顧客: 既存 {Customer.objects.count()} 件 (追加なし)")
        return
    rng = random.Random(options.seed)
    fake = Faker("ja_JP")
    fake.seed_instance(options.seed)
    customers = []
    used_keys: set[str] = set()
    while len(customers) < options.customers:
        family, family_kana, _romaji = fake.last_name_pair()
        suffix, suffix_kana = rng.choice(SUFFIXES)
        region, region_kana = REGIONS[0] if len(used_keys) < 300 else rng.choice(REGIONS)
        name = f"株式会社{region}{family}{suffix}"
        if name in used_keys:
            continue
        used_keys.add(name)
        number = _corporate_number(rng)
        index = len(customers)
        customers.append(
            Customer(
                name=name,
                name_kana=f"カブシキガイシヤ{region_kana}{family_kana}{suffix_kana}",
                corporate_number=number,
                invoice_number=f"T{number}",
                industry=rng.choice(Industry.values),
                capital=rng.choice([10_000_000, 30_000_000, 50_000_000, 100_000_000]),
                employees=rng.randint(5, 500),
                annual_sales=rng.randrange(50, 5000) * 1_000_000,
                net_assets=rng.randrange(10, 800) * 1_000_000,
                fiscal_year_end_month=rng.choice([3, 3, 3, 6, 9, 12]),
                postal_code=fake.postcode(),
                prefecture=fake.prefecture(),
                city=fake.city(),
                street=fake.town() + fake.chome() + fake.ban(),
                phone=fake.phone_number(),
                is_client=index % 3 != 2,
                is_debtor=index % 3 != 0,
            )
        )
    for customer in customers:
        customer.refresh_keys()
    Customer.objects.bulk_create(customers, batch_size=1000)
    created = list(Customer.objects.order_by("id"))
    # A small group: the first customer holds the next two.
    if len(created) >= 3:
        Customer.objects.filter(pk__in=[created[1].pk, created[2].pk]).update(parent=created[0])
    people, accounts, names = [], [], []
    for customer in created:
        people.append(
            KeyPerson(
                customer=customer,
                role=PersonRole.REPRESENTATIVE,
                name=fake.name(),
                name_kana=fake.kana_name(),
                title="代表取締役",
                date_of_birth=fake.date_of_birth(minimum_age=35, maximum_age=75),
            )
        )
        if customer.is_client:
            accounts.append(
                BankAccount(
                    customer=customer,
                    bank_code="0001",
                    bank_name="みずほ",
                    branch_code="001",
                    branch_name="東京営業部",
                    account_type=AccountType.ORDINARY,
                    number=f"{rng.randrange(10**6, 10**7):07d}",
                    holder_kana=customer.name_kana.replace("カブシキガイシヤ", "カ)"),
                    verification=AccountVerification.TEST_DEPOSIT,
                )
            )
        transfer = customer.name_kana.replace("カブシキガイシヤ", "カ)")
        names.append(TransferName(customer=customer, name=transfer, key=normalize_name(transfer)))
    KeyPerson.objects.bulk_create(people, batch_size=1000)
    BankAccount.objects.bulk_create(accounts, batch_size=1000)
    TransferName.objects.bulk_create(names, batch_size=1000)
    log(f"顧客: {len(created)} 件を作成")
