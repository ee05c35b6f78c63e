"""消込 at scale: the reconciliation engine against a naive matcher, on a month's statement.

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ../.venv/bin/python reconcile.py
    cd bench && ../.venv/bin/python reconcile.py --quick     # 500 debtors, 10,000 receivables, 1,000 entries
    cd bench && ../.venv/bin/python reconcile.py --dry-run   # decide only: skips the minutes of writing

In a scratch database of its own: ``--debtors`` (5,000) debtor companies from the 名寄せ
benchmark's generator (``dedup.make_company``, each with its kana reading, some with the legal
form spelled in it), a third of them with a registered transfer name and some paying under
another name altogether (a parent or trade name, registered as a transfer name); 3社間 deals
executed with them (one per client, debtor and month), written in bulk with ``--receivables``
(100,000) open expected collections due from two months before the statement month to three
after (each debtor pays on its own day of the month, moved to a bank business day; amounts
mostly odd with consumption tax, a fifth round service prices), and the exposure the deals
consumed. Then a 全銀 入出金取引明細 file of ``--entries`` (10,000) deposits for the last full
month, written as payers really write them — half-width kana, the legal form as ｶ) or (ｶ at
either end or spelled out, small kana full-size or not, ｰ as a hyphen, spaces, a number or a
branch in the name, a slipped character, names cut at the field's 48 bytes — and paying as
they really pay: one invoice, short by a bank fee, several at once (one supplier's invoices
due that day, as payers' systems pay per supplier; a small payer's whole day; a few picked
ones), one invoice in two parts, late or early, an invoice number in the EDI field or 摘要,
someone else paying with the invoice number, money for nothing we bought, unknown payers.
A payer owing many invoices sends fewer transfers than it has invoices. Each entry's truth
is kept; equal invoices of one deal (same due date and amount) count as the same, since
which of them a payer meant cannot be known and either moves the same money.

The file is imported with ``statement_import``; the naive matcher (payer name equal to a
kana name or transfer name as stored, amount equal to one open balance) runs in memory, the
engine decides once without writing (``reconcile(dry_run=True)``), then ``reconcile`` runs
for real: decided the same way, then written set-wise through
``collection.services.batch.allocate_many`` (allocations, statuses, one audit event per
entry and deal, the paid receivables' exposure released, deals moved to collecting/closed). Prints seconds, entries per second, the share
auto-matched of the entries that can be matched, the share of auto matches that are wrong,
the same for the naive matcher, the time the writing took, a breakdown by kind of deposit
and by payer-name variant, a second run, and PASS/FAIL against: under 30 s, ≥ 90 %
auto-matched, < 0.5 % wrong.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from dedup import LEGAL_FORMS, half_width, make_company
from faker import Faker
from harness import scratch_database, setup_django, vacuum_analyze

TARGET_SECONDS = 30.0
TARGET_AUTO = 0.90
TARGET_WRONG = 0.005
RATE = Decimal("0.8500")
BANK_FEES = (110, 220, 330, 440, 550, 660, 770, 880)
PAY_DAYS = ((31, 50), (25, 20), (20, 10), (10, 15), (15, 5))  # day of month (31: month-end), weight
# Kinds of deposit and their share of the statement.
KINDS = (
    ("single", 0.48), ("single_fee", 0.14), ("several", 0.08), ("several_fee", 0.05),
    ("partial", 0.08), ("late", 0.04), ("early", 0.03), ("reference_only", 0.02),
    ("not_ours", 0.03), ("unknown", 0.05),
)  # fmt: skip
PARENTS = ("ﾎｰﾙﾃﾞｨﾝｸﾞｽ", "ｸﾞﾙｰﾌﾟ", "ｼｮｳｼﾞ", "ｻｰﾋﾞｽ")
BRANCHES = ("ﾄｳｷｮｳｼﾃﾝ", "ｵｵｻｶｼﾃﾝ", "ﾎﾝｼﾔ", "ｹｲﾘﾌﾞ", "ﾅｺﾞﾔｴｲｷﾞｮｳｼﾖ")
KANA_SLIPS = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝ"


# Generation (pure Python) ------------------------------------------------------------


@dataclass
class Debtor:
    name: str
    reading: str  # full-width katakana, without the legal form
    legal: int  # index into dedup.LEGAL_FORMS
    legal_first: bool
    kana: str  # the registered kana name
    alias: str | None = None  # half-width transfer name it always pays under
    transfer: str | None = None  # registered transfer name (half-width)
    pay_day: int = 31
    invoices: list[int] = field(default_factory=list)


@dataclass
class Invoice:
    debtor: int
    client: int
    due: date
    face: int
    number: str
    cycle: int = 0  # month of the statement it falls due in: -1 the one before, 1 after


@dataclass
class Deposit:
    kind: str
    payer: str  # as the bank writes it (half-width, at most 48 bytes)
    amount: int
    value_date: date
    truth: frozenset[int]  # invoice indexes it pays (empty: nothing of ours)
    description: str = "ﾌﾘｺﾐ"
    edi: str = ""
    variant: str = ""


def month_add(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def due_in(year: int, month: int, pay_day: int) -> date:
    from core.calendar import next_business_day

    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return next_business_day(date(year, month, min(pay_day, last)))


def invoice_face(rng: random.Random) -> int:
    """Return an invoice amount: mostly goods at odd amounts with consumption tax, a fifth
    services at a round price (tens of thousands of yen) with tax."""
    if rng.random() < 0.2:
        return int(math.exp(rng.uniform(math.log(3), math.log(500)))) * 11_000
    return max(10_000, min(50_000_000, int(math.exp(rng.gauss(math.log(700_000), 1.0)))))


class World:
    """The register, the book of receivables and a month's deposits, with their truth."""

    def __init__(self, args, rng: random.Random, month: tuple[int, int]) -> None:
        from collection.matching import payer_key

        self.rng = rng
        self.legal_forms = LEGAL_FORMS
        self.year, self.month = month
        fake = Faker("ja_JP")
        fake.seed_instance(args.seed)
        seen: set[str] = set()

        def company():
            while True:
                made = make_company(fake, rng)
                key = payer_key(made.reading)
                if (
                    key in seen
                    or len(key) < 3
                    or len(half_width(made.reading).encode("cp932"))
                    != len(half_width(made.reading))
                ):
                    continue
                seen.add(key)
                return made

        self.debtors: list[Debtor] = []
        for _ in range(args.debtors):
            made = company()
            reading = made.reading
            spelled = LEGAL_FORMS[made.legal][1]
            kana = reading
            if rng.random() < 0.3:
                kana = f"{spelled} {reading}" if made.legal_first else f"{reading} {spelled}"
            debtor = Debtor(made.name(), reading, made.legal, made.legal_first, kana)
            debtor.pay_day = rng.choices([d for d, _ in PAY_DAYS], [w for _, w in PAY_DAYS])[0]
            roll = rng.random()
            if roll < 0.06:  # pays under its parent's or a trade name, registered
                parent = company()
                seen.add(payer_key(parent.reading))
                debtor.alias = self.bank_name(self.small_full(parent.reading), parent.legal,
                                              True)[:48]  # fmt: skip
                debtor.transfer = debtor.alias
            elif roll < 0.36:
                debtor.transfer = self.bank_name(self.small_full(reading), made.legal,
                                                 made.legal_first)  # fmt: skip
            self.debtors.append(debtor)
        self.clients = [company() for _ in range(max(args.debtors // 20, 5))]
        self.unknown = [company() for _ in range(max(args.entries // 10, 10))]
        self._invoices(args)

    # Names as banks write them

    def bank_name(self, body: str, legal: int, first: bool, closed: bool = False) -> str:
        mark = self.legal_forms[legal][3]
        if first:
            return f"{mark}){body}"
        return f"{body}({mark})" if closed else f"{body}({mark}"

    @staticmethod
    def small_full(reading: str) -> str:
        from core.text import fold_small_kana

        return half_width(fold_small_kana(reading))

    def payer_name(self, debtor: Debtor) -> tuple[str, str]:
        """Return (name as the bank writes it, variant) for a deposit from ``debtor``."""
        rng = self.rng
        if debtor.alias:
            return debtor.alias, "alias"
        body = self.small_full(debtor.reading)
        variant = "plain"
        roll = rng.random()
        if roll < 0.10:
            body, variant = half_width(debtor.reading), "small_kana"  # ｼｮｳｼﾞ rather than ｼﾖｳｼﾞ
        elif roll < 0.16 and "ｰ" in body:
            body, variant = body.replace("ｰ", "-"), "hyphen"
        elif roll < 0.20:
            cut = rng.randrange(2, max(3, len(body) - 1))
            if body[cut] in "ﾞﾟ":  # a space never parts a kana from its dakuten
                cut += 1
            body, variant = f"{body[:cut]} {body[cut:]}", "space"
        elif roll < 0.23 and len(body) >= 7:
            i = rng.randrange(1, len(body) - 1)
            body, variant = body[:i] + rng.choice(KANA_SLIPS) + body[i + 1 :], "slip"
        form = rng.random()
        if form < 0.45:
            name = self.bank_name(body, debtor.legal, debtor.legal_first)
        elif form < 0.60:
            name = self.bank_name(body, debtor.legal, not debtor.legal_first)  # the other end
            variant = variant if variant != "plain" else "mark_moved"
        elif form < 0.65:
            name = self.bank_name(body, debtor.legal, False, closed=True)
        elif form < 0.70:
            spelled = half_width(self.legal_forms[debtor.legal][1])
            name = f"{spelled} {body}" if debtor.legal_first else f"{body} {spelled}"
            variant = variant if variant != "plain" else "spelled"
        elif form < 0.73:
            name = f"{self.bank_name(body, debtor.legal, False)} {rng.choice(BRANCHES)}"
            variant = variant if variant != "plain" else "branch"
        elif form < 0.75:
            name = f"{rng.randint(1000, 999999)} {self.bank_name(body, debtor.legal, True)}"
            variant = variant if variant != "plain" else "number"
        else:
            name = body
            variant = variant if variant != "plain" else "no_mark"
        if len(name) > 48:
            variant = "cut" if variant == "plain" else variant
        return name[:48], variant

    # The book

    def _invoices(self, args) -> None:
        rng = self.rng
        weights = [rng.paretovariate(1.2) for _ in self.debtors]
        scale = args.receivables / sum(weights)
        counts = [max(1, min(int(w * scale), args.receivables // 40)) for w in weights]
        while sum(counts) < args.receivables:
            counts[rng.randrange(len(counts))] += 1
        while sum(counts) > args.receivables:
            i = rng.randrange(len(counts))
            if counts[i] > 1:
                counts[i] -= 1
        self.invoices: list[Invoice] = []
        self.by_cycle: defaultdict[int, list[int]] = defaultdict(list)
        numbers: Counter[int] = Counter()
        styles = [rng.choice(("{ym}-{n:05d}", "INV-{n:06d}", "{n:07d}", "NO{ym}{n:04d}"))
                  for _ in self.clients]  # fmt: skip
        for index, (debtor, count) in enumerate(zip(self.debtors, counts, strict=True)):
            clients = rng.sample(range(len(self.clients)), min(len(self.clients),
                                                                 1 + count // 15))  # fmt: skip
            for _ in range(count):
                client = rng.choice(clients)
                months = rng.choices((-2, -1, 0, 1, 2, 3), (4, 7, 30, 25, 20, 14))[0]
                year, month = month_add(date(self.year, self.month, 1), months)
                due = due_in(year, month, debtor.pay_day)
                numbers[client] += 1
                ym = f"{(due - timedelta(days=30)):%y%m}"
                number = styles[client].format(ym=ym, n=numbers[client])
                debtor.invoices.append(len(self.invoices))
                self.by_cycle[months].append(len(self.invoices))
                self.invoices.append(Invoice(index, client, due, invoice_face(rng), number, months))

    # The statement

    def business_days(self) -> list[date]:
        from core.calendar import is_bank_business_day

        first = date(self.year, self.month, 1)
        days = [first + timedelta(days=i) for i in range(31)]
        return [d for d in days if d.month == self.month and is_bank_business_day(d)]

    def pay_date(self, due: date, *, late: bool = False, early: bool = False) -> date:
        rng, days = self.rng, self.business_days()
        if late:
            offset = rng.randint(6, 25)
        elif early:
            offset = -rng.randint(4, 15)
        else:
            offset = rng.choices((0, -1, -3, 1, 3, 5, 10, 20), (55, 8, 4, 10, 8, 6, 6, 3))[0]
        wanted = due + timedelta(days=offset)
        return min(days, key=lambda d: (abs((d - wanted).days), d))

    def statement(self, size: int) -> list[Deposit]:
        rng = self.rng
        in_month = defaultdict(list)  # debtor → invoices of this month's payment cycle
        for i in self.by_cycle[0]:
            in_month[self.invoices[i].debtor].append(i)
        used: set[int] = set()
        pool = [i for invoices in in_month.values() for i in invoices]

        def pick_debtor(need: int = 1) -> int | None:
            """Return the debtor of a random unpaid invoice of the month (big debtors pay
            more often, as they owe more invoices) with at least ``need`` unpaid."""
            tries = 0
            while pool and tries < 50:
                at = rng.randrange(len(pool))
                i = pool[at]
                if i in used:  # paid meanwhile: drop it from the pool
                    pool[at] = pool[-1]
                    pool.pop()
                    continue
                tries += 1
                d = self.invoices[i].debtor
                # A payer with many invoices does not send one transfer per invoice: the
                # number of its deposits grows more slowly than the number of its invoices.
                if rng.random() > min(1.0, (8 / len(in_month[d])) ** 0.4):
                    continue
                if need == 1 or sum(1 for j in in_month[d] if j not in used) >= need:
                    return d
            return None

        def free(d: int) -> list[int]:
            return [i for i in in_month[d] if i not in used]

        def reference(indexes: list[int], edi_share: float = 0.18) -> tuple[str, str]:
            if rng.random() >= edi_share:
                return "ﾌﾘｺﾐ", ""
            number = half_width(self.invoices[indexes[0]].number)
            if rng.random() < 0.6:
                return "ﾌﾘｺﾐ", number[:20]
            return f"ｾｲｷｭｳ {number}"[:20], ""

        deposits: list[Deposit] = []
        # A part payment is two deposits.
        counts = {kind: round(share * size / (2 if kind == "partial" else 1))
                  for kind, share in KINDS}  # fmt: skip
        counts["single"] += size - sum(counts.values()) - counts["partial"]
        plan = [kind for kind, n in counts.items() for _ in range(n)]
        rng.shuffle(plan)
        for kind in plan:
            made = self._deposit(kind, pick_debtor, free, used, reference)
            if made is None:  # nothing left of that kind: pay one invoice
                made = self._deposit("single", pick_debtor, free, used, reference)
            if made:
                deposits.extend(made)
        deposits = deposits[:size]
        deposits.sort(key=lambda d: d.value_date)
        return deposits

    def oldest_equal(self, i: int, used: set[int]) -> int:
        """Return the first open invoice of the same debtor, amount and due date as ``i``:
        of equal invoices, the one staff allocate (which one a payer meant is unknowable)."""
        invoice = self.invoices[i]
        same = [
            j for j in self.debtors[invoice.debtor].invoices
            if j not in used and self.invoices[j].face == invoice.face
            and self.invoices[j].due == invoice.due
        ]  # fmt: skip
        return min(same, key=lambda j: (self.invoices[j].due, j))

    def _deposit(self, kind, pick_debtor, free, used, reference) -> list[Deposit] | None:
        rng, invoices = self.rng, self.invoices
        if kind == "unknown":
            made = rng.choice(self.unknown)
            name = self.bank_name(half_width(made.reading), made.legal, made.legal_first)[:48]
            amount = invoice_face(rng) - rng.choice((0, 0, 440, 660))
            return [Deposit(kind, name, amount, rng.choice(self.business_days()), frozenset())]
        if kind == "not_ours":  # a known payer, for an invoice nobody sold us
            d = pick_debtor()
            if d is None:
                return None
            name, variant = self.payer_name(self.debtors[d])
            return [Deposit(kind, name, invoice_face(rng) + rng.randint(1, 999),
                            rng.choice(self.business_days()), frozenset(), variant=variant)]  # fmt: skip
        if kind in ("late", "early"):
            options = self.by_cycle[-1 if kind == "late" else 1]
            if kind == "early":  # a payment at most about two weeks before the due date
                last = self.business_days()[-1]
                options = [i for i in options if (invoices[i].due - last).days <= 14]
            for _ in range(50):
                i = rng.choice(options)
                if i not in used:
                    break
            else:
                return None
            i = self.oldest_equal(i, used)
            used.add(i)
            debtor = self.debtors[invoices[i].debtor]
            name, variant = self.payer_name(debtor)
            description, edi = reference([i])
            when = self.pay_date(invoices[i].due, late=kind == "late", early=kind == "early")
            return [Deposit(kind, name, invoices[i].face, when, frozenset([i]), description, edi,
                            variant)]  # fmt: skip
        if kind in ("several", "several_fee"):
            d = pick_debtor(2)
            if d is None:
                return None
            # The day's invoices of one supplier (one deal) are paid together, as payers'
            # systems pay per supplier; a small payer may pay the whole day at once; a few
            # pick some invoices. Only what no other deposit paid part of.
            free_now = set(free(d))
            by_day, by_deal = defaultdict(list), defaultdict(list)
            for i in self.debtors[d].invoices:
                if invoices[i].cycle == 0:
                    by_day[invoices[i].due].append(i)
                    by_deal[invoices[i].client, invoices[i].due].append(i)
            days = [g for g in by_day.values() if len(g) >= 2 and free_now.issuperset(g)]
            deals = [g for g in by_deal.values() if len(g) >= 2 and free_now.issuperset(g)]
            some = [g for g in by_day.values() if len([i for i in g if i in free_now]) >= 2]
            roll = rng.random()
            if days and roll < 0.3:
                chosen = list(rng.choice(days))
            elif deals and roll < 0.8:
                chosen = list(rng.choice(deals))
            elif some:
                group = [i for i in rng.choice(some) if i in free_now]
                chosen = rng.sample(group, rng.randint(2, min(len(group), 6)))
            else:
                return None
            used.update(chosen)
            total = sum(invoices[i].face for i in chosen)
            fee = rng.choice(BANK_FEES) if kind == "several_fee" else 0
            name, variant = self.payer_name(self.debtors[d])
            description, edi = reference(chosen, 0.25)
            when = self.pay_date(invoices[chosen[0]].due)
            return [Deposit(kind, name, total - fee, when, frozenset(chosen), description, edi,
                            variant)]  # fmt: skip
        d = pick_debtor()
        if d is None:
            return None
        i = self.oldest_equal(rng.choice(free(d)), used)
        used.add(i)
        invoice, debtor = invoices[i], self.debtors[d]
        name, variant = self.payer_name(debtor)
        if kind == "reference_only":  # a parent or an agent pays, naming the invoice
            made = rng.choice(self.unknown)
            name = self.bank_name(half_width(made.reading), made.legal, True)[:48]
            fee = rng.choice((0, 0, 660))
            edi = half_width(invoice.number)[:20]
            return [Deposit(kind, name, invoice.face - fee, self.pay_date(invoice.due),
                            frozenset([i]), "ﾌﾘｺﾐ", edi, "other_payer")]  # fmt: skip
        if kind == "partial":
            first = max(1_000, int(round(invoice.face * rng.uniform(0.3, 0.7), -3)))
            if first >= invoice.face:
                return None
            when = self.pay_date(invoice.due)
            later = min((d for d in self.business_days() if d > when),
                        key=lambda d: abs((d - when).days - rng.randint(3, 15)), default=when)  # fmt: skip
            desc1, edi1 = reference([i], 0.5)
            desc2, edi2 = reference([i], 0.3)
            return [
                Deposit(kind, name, first, when, frozenset([i]), desc1, edi1, variant),
                Deposit(kind, name, invoice.face - first, later, frozenset([i]), desc2, edi2,
                        variant),
            ]  # fmt: skip
        fee = rng.choice(BANK_FEES) if kind == "single_fee" else 0
        description, edi = reference([i])
        return [Deposit(kind, name, invoice.face - fee, self.pay_date(invoice.due),
                        frozenset([i]), description, edi, variant)]  # fmt: skip


# The 全銀 file ------------------------------------------------------------------------


def statement_file(deposits: list[Deposit], year: int, month: int) -> bytes:
    """Return a 入出金取引明細 (種別 03) file of ``deposits`` for the month."""
    from collection.zengin_writer import Deposit as Booked
    from collection.zengin_writer import write_statement

    first = date(year, month, 1)
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    booked = [Booked(d.value_date, d.amount, d.payer, d.description, d.edi) for d in deposits]
    return write_statement(booked, first=first, last=last, account_name="ｶ)ﾍﾞﾝﾁﾌｱｸﾀﾘﾝｸﾞ")


# Database ------------------------------------------------------------------------------


def load(world: World) -> tuple[list[int], list[int]]:
    """Write the register, deals, receivables, expectations and exposure; return the
    receivable id and the deal (a number) of each invoice."""
    from django.db import transaction

    from accounts.models import User
    from collection.models import ExpectedCollection
    from core.money import apply_rate
    from credit.models import Exposure, ExposureEntry
    from customers.matching import normalize_name
    from customers.models import Customer, TransferName
    from deals.models import Deal, Receivable
    from deals.services.records import invoice_key

    with transaction.atomic():
        owner = User.objects.create_user(username="bench-sales", password=None)

        def customer(name: str, kana: str, debtor: bool) -> Customer:
            row = Customer(name=name, name_kana=kana, is_debtor=debtor, is_client=not debtor)
            row.refresh_keys()
            return row

        debtors = Customer.objects.bulk_create(
            [customer(d.name, d.kana, True) for d in world.debtors], batch_size=2000
        )
        clients = Customer.objects.bulk_create(
            [customer(c.name(), c.reading, False) for c in world.clients], batch_size=2000
        )
        TransferName.objects.bulk_create(
            [TransferName(customer=debtors[i], name=d.transfer, key=normalize_name(d.transfer))
             for i, d in enumerate(world.debtors) if d.transfer],
            batch_size=2000,
        )  # fmt: skip
        # One deal per client, debtor and month of due dates, as a client sells a month's invoices.
        groups: defaultdict[tuple[int, int, int, int], list[int]] = defaultdict(list)
        for i, invoice in enumerate(world.invoices):
            groups[invoice.client, invoice.debtor, invoice.due.year, invoice.due.month].append(i)
        deals, today = [], date(world.year, world.month, 1) - timedelta(days=45)
        for n, ((client, _debtor, _y, _m), members) in enumerate(groups.items(), 1):
            face = sum(world.invoices[i].face for i in members)
            advance = apply_rate(face, RATE)
            deals.append(Deal(
                number=f"2026-{n:06d}", name="売掛債権買取", owner=owner, created_by=owner,
                channel="web", client=clients[client], scheme="three_party",
                notice_required=True, fee_rate=Decimal("0.0300"), advance_rate=RATE,
                policy_rate=RATE, face_value=face, advance_amount=advance,
                fee=apply_rate(advance, "0.03"), upfront_payment=advance - apply_rate(advance, "0.03"),
                reserve=face - advance, stage="executed", executed_on=today,
            ))  # fmt: skip
        deals = Deal.objects.bulk_create(deals, batch_size=2000)
        receivables, deal_of = [], {}
        for deal, members in zip(deals, groups.values(), strict=True):
            for i in members:
                invoice = world.invoices[i]
                deal_of[i] = deal
                receivables.append(Receivable(
                    deal=deal, debtor=debtors[invoice.debtor], invoice_number=invoice.number,
                    invoice_key=invoice_key(invoice.number),
                    issue_date=invoice.due - timedelta(days=60), due_date=invoice.due,
                    face_amount=invoice.face, evidence_received=True,
                    verification_method="debtor_call",
                ))  # fmt: skip
        receivables = Receivable.objects.bulk_create(receivables, batch_size=5000)
        ids = {}
        for receivable, i in zip(receivables, (i for m in groups.values() for i in m),
                                  strict=True):  # fmt: skip
            ids[i] = receivable.pk
        ExpectedCollection.objects.bulk_create(
            [ExpectedCollection(receivable_id=ids[i], deal=deal_of[i],
                                payer=debtors[world.invoices[i].debtor],
                                debtor=debtors[world.invoices[i].debtor],
                                due_date=world.invoices[i].due,
                                expected_amount=world.invoices[i].face)
             for i in range(len(world.invoices))],
            batch_size=5000,
        )  # fmt: skip
        ledger, client_total, debtor_total = [], Counter(), Counter()
        for deal, (client, debtor, _y, _m) in zip(deals, groups, strict=True):
            ledger.append(ExposureEntry(
                counterparty=clients[client], debtor=debtors[debtor], reference=deal.number,
                kind="consume", amount=deal.advance_amount, consumed_change=deal.advance_amount,
                created_by=owner,
            ))  # fmt: skip
            client_total[clients[client].pk] += deal.advance_amount
            debtor_total[debtors[debtor].pk] += deal.advance_amount
        ExposureEntry.objects.bulk_create(ledger, batch_size=5000)
        Exposure.objects.bulk_create(
            [Exposure(counterparty_id=pk, client_consumed=client_total[pk],
                      debtor_consumed=debtor_total[pk])
             for pk in set(client_total) | set(debtor_total)],
            batch_size=5000,
        )  # fmt: skip
    deal_index = {i: n for n, members in enumerate(groups.values()) for i in members}
    return [ids[i] for i in range(len(world.invoices))], [
        deal_index[i] for i in range(len(world.invoices))
    ]


# The naive matcher ---------------------------------------------------------------------


def naive(entries) -> dict[int, frozenset[int]]:
    """Match as a spreadsheet would: the payer name exactly as a kana name or transfer name is
    stored, and the amount exactly one open balance of that customer (the first by due date
    when several are equal). Returns entry pk → expected ids; nothing is written."""
    from collection.models import ExpectedCollection
    from collection.reconcile import OPEN_STATUSES
    from core.text import nfkc
    from customers.models import Customer, TransferName

    names: defaultdict[str, set[int]] = defaultdict(set)
    for pk, kana in Customer.objects.values_list("pk", "name_kana"):
        names[kana].add(pk)
    for pk, name in TransferName.objects.values_list("customer_id", "name"):
        names[nfkc(name)].add(pk)
    balances: defaultdict[tuple[int, int], list[tuple]] = defaultdict(list)
    rows = ExpectedCollection.objects.filter(status__in=OPEN_STATUSES).values_list(
        "payer_id", "expected_amount", "paid_amount", "fee_amount", "due_date", "pk"
    )
    for payer, expected, paid, fee, due, pk in rows:
        balances[payer, expected - paid - fee].append((due, pk))
    taken: set[int] = set()
    result = {}
    for entry in entries:
        for payer in names.get(entry.payer_name, ()):
            options = sorted(
                o for o in balances.get((payer, entry.amount), ()) if o[1] not in taken
            )
            if options:
                taken.add(options[0][1])
                result[entry.pk] = frozenset([options[0][1]])
                break
    return result


# Report --------------------------------------------------------------------------------


@dataclass
class Score:
    name: str
    seconds: float
    entries: int
    matchable: int
    auto: int  # auto-matched among the matchable
    auto_all: int
    wrong: int

    @property
    def auto_share(self) -> float:
        return self.auto / self.matchable if self.matchable else 0.0

    @property
    def wrong_share(self) -> float:
        return self.wrong / self.auto_all if self.auto_all else 0.0

    def line(self) -> str:
        return (
            f"  {self.name:<26} {self.seconds:8.1f} s {self.entries / self.seconds:9,.0f}/s "
            f"{self.auto_share:9.1%} ({self.auto:,} of {self.matchable:,})   "
            f"{self.wrong_share:6.2%} ({self.wrong:,} of {self.auto_all:,})"
        )


class Truth:
    """What each deposit pays, compared so that equal invoices of one deal (same due date and
    amount) count as the same: which of them a payer meant cannot be known, and allocating
    either moves the same money, exposure and deal."""

    def __init__(self, world: World, rid: list[int], deal_of: list[int]) -> None:
        self.rid = rid
        self.key = {
            rid[i]: (deal_of[i], invoice.due, invoice.face)
            for i, invoice in enumerate(world.invoices)
        }

    def expected(self, deposit: Deposit) -> list[int]:
        return sorted(self.rid[i] for i in deposit.truth)

    def right(self, deposit: Deposit, got: frozenset[int]) -> bool:
        want = sorted(self.key[self.rid[i]] for i in deposit.truth)
        return want == sorted(self.key[pk] for pk in got)


def score(name, seconds, deposits, entry_ids, matched: dict[int, frozenset[int]],
          truth: Truth) -> Score:  # fmt: skip
    matchable = auto = auto_all = wrong = 0
    for deposit, pk in zip(deposits, entry_ids, strict=True):
        got = matched.get(pk)
        matchable += bool(deposit.truth)
        if got:
            auto_all += 1
            auto += bool(deposit.truth)
            wrong += not truth.right(deposit, got)
    return Score(name, seconds, len(deposits), matchable, auto, auto_all, wrong)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--debtors", type=int, default=5_000)
    parser.add_argument("--receivables", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="a tenth of every size")
    parser.add_argument("--dry-run", action="store_true",
                        help="decide only; skip the run that writes allocations (minutes)")  # fmt: skip
    parser.add_argument("--wrong", type=int, default=8, help="wrong auto matches to show")
    parser.add_argument("--show-queued", type=int, default=0,
                        help="matchable entries left in the queue to show, with suggestions")  # fmt: skip
    parser.add_argument("--seed", type=int, default=20261001)
    args = parser.parse_args()
    if args.quick:
        args.debtors, args.receivables, args.entries = (
            args.debtors // 10, args.receivables // 10, args.entries // 10,
        )  # fmt: skip
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from collection.models import Allocation, EntryStatus
    from collection.reconcile import reconcile
    from collection.services import statement_import

    run_started = time.perf_counter()
    today = timezone.localdate()
    month = month_add(date(today.year, today.month, 1), -1)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    world = World(args, rng, month)
    deposits = world.statement(args.entries)
    generated_s = time.perf_counter() - started
    with scratch_database("reconcile") as name:
        print(
            f"database: {connection.vendor} ({name}); load average {os.getloadavg()[0]:.2f} on "
            f"{os.cpu_count()} CPUs"
        )
        started = time.perf_counter()
        rid, deal_of = load(world)
        truth = Truth(world, rid, deal_of)
        vacuum_analyze()
        loaded_s = time.perf_counter() - started
        data = statement_file(deposits, *month)
        started = time.perf_counter()
        imported = statement_import(data=data, file_name="bench.txt", actor_label="bench")
        import_s = time.perf_counter() - started
        entries = list(imported.statement.entries.order_by("record_number"))
        vacuum_analyze()
        kinds = Counter(d.kind for d in deposits)
        print(
            f"book: {len(world.debtors):,} debtors ({sum(1 for d in world.debtors if d.transfer):,} "
            f"with a transfer name, {sum(1 for d in world.debtors if d.alias):,} paying under "
            f"another name), {len(rid):,} open receivables; generated in {generated_s:.1f} s, "
            f"written in {loaded_s:.1f} s"
        )
        print(
            f"statement {month[0]}-{month[1]:02d}: {len(entries):,} deposits imported in "
            f"{import_s:.1f} s — " + ", ".join(f"{k} {n:,}" for k, n in kinds.most_common())
        )

        started = time.perf_counter()
        baseline = naive(entries)
        naive_s = time.perf_counter() - started

        dry = reconcile(imported.statement.entries.all(), dry_run=True)
        dry_matched = {pk: frozenset(s.expected_ids) for pk, s in dry.decisions.items()}
        ids = [e.pk for e in entries]
        plain = score("naive (exact name+amount)", naive_s, deposits, ids, baseline, truth)
        matching_only = score("engine, deciding only", dry.seconds, deposits, ids, dry_matched,
                              truth)  # fmt: skip
        summary, engine, engine_matched = dry, matching_only, dry_matched
        if not args.dry_run:
            started = time.perf_counter()
            summary = reconcile(imported.statement.entries.all())
            engine_s = time.perf_counter() - started
            matched: defaultdict[int, set[int]] = defaultdict(set)
            for entry_id, expected_id in Allocation.objects.filter(
                automatic=True, reversed_at__isnull=True
            ).values_list("entry_id", "expected_id"):
                matched[entry_id].add(expected_id)
            engine_matched = {k: frozenset(v) for k, v in matched.items()}
            engine = score("engine (reconcile)", engine_s, deposits, ids, engine_matched, truth)
        suspended = set(summary.suspended)
        status = {
            pk: EntryStatus.MATCHED if pk in summary.decisions
            else EntryStatus.SUSPENSE if pk in suspended else EntryStatus.UNMATCHED
            for pk in ids
        }  # fmt: skip

        print(
            f"\nreconcile: {summary.examined:,} examined, {summary.matched:,} auto-matched "
            f"({summary.allocations:,} allocations), {summary.queued:,} queued, "
            f"{summary.suspense:,} to suspense, {summary.failed} refused"
        )
        print(
            f"  {'':<26} {'seconds':>10} {'entries':>10} {'auto-matched (matchable)':>28}"
            f"   {'wrong of auto'}"
        )
        if not args.dry_run:
            writing = engine.seconds - dry.seconds
            print(engine.line())
            print(
                f"  {'':<26} of which writing {writing:.1f} s: {summary.allocations:,} allocations"
                f" through collection.services.batch.allocate_many,"
                f" {writing / max(summary.allocations, 1) * 1000:.2f} ms each (with audit events,"
                f" exposure release, deal stages)"
            )
        print(matching_only.line() + "   (dry run: nothing written)")
        print(plain.line() + "   (nothing written)")
        print("\n  by kind of deposit        count   auto  wrong  queued  suspense   naive auto")
        for kind, _share in KINDS:
            rows = [(d, e) for d, e in zip(deposits, ids, strict=True) if d.kind == kind]
            if not rows:
                continue
            auto = sum(1 for _d, e in rows if e in engine_matched)
            wrong = sum(
                1 for d, e in rows
                if e in engine_matched and not truth.right(d, engine_matched[e])
            )  # fmt: skip
            queued = sum(1 for _d, e in rows if status[e] == EntryStatus.UNMATCHED)
            suspense = sum(1 for _d, e in rows if status[e] == EntryStatus.SUSPENSE)
            naive_auto = sum(1 for _d, e in rows if e in baseline)
            print(
                f"  {kind:<22} {len(rows):8,} {auto / len(rows):6.1%} {wrong:6,} "
                f"{queued / len(rows):7.1%} {suspense / len(rows):8.1%} {naive_auto / len(rows):11.1%}"
            )
        variants = Counter(d.variant for d in deposits if d.truth and d.variant)
        print("\n  matchable by payer-name variant: auto-matched")
        line = []
        for variant, n in variants.most_common():
            auto = sum(
                1 for d, e in zip(deposits, ids, strict=True)
                if d.variant == variant and d.truth and e in engine_matched
            )  # fmt: skip
            line.append(f"{variant} {auto / n:.0%} of {n:,}")
        print("    " + ", ".join(line))
        shown = 0
        for d, e in zip(deposits, ids, strict=True):
            if e in engine_matched and not truth.right(d, engine_matched[e]) and shown < args.wrong:
                shown += 1
                reasons = Allocation.objects.filter(entry_id=e).values_list("reasons", flat=True)
                print(
                    f"    wrong: {d.kind} {d.payer} ¥{d.amount:,} {d.value_date} edi={d.edi!r}"
                    f" truth={truth.expected(d)} got={sorted(engine_matched[e])}"
                    f" {list(reasons)[:1]}"
                )
        if args.show_queued:
            from collection.reconcile import suggestions_for_entries

            waiting = [
                (d, e) for d, e in zip(deposits, entries, strict=True)
                if d.truth and status[e.pk] == EntryStatus.UNMATCHED
            ]  # fmt: skip
            sample = rng.sample(waiting, min(args.show_queued, len(waiting)))
            found = suggestions_for_entries([e for _d, e in sample])
            for d, e in sample:
                print(f"    queued: {d.kind}/{d.variant} {d.payer} ¥{d.amount:,} {d.value_date} "
                      f"edi={d.edi!r} desc={d.description!r} truth={truth.expected(d)}")  # fmt: skip
                for s in found[e.pk][:3]:
                    mark = "*" if truth.right(d, frozenset(s.expected_ids)) else " "
                    print(f"      {mark}{s.confidence} {list(s.expected_ids)} {s.codes}")
        if not args.dry_run:
            again = reconcile(imported.statement.entries.all())
            print(
                f"\n  second run: {again.examined:,} examined, {again.matched} auto-matched, "
                f"{again.suspense} to suspense ({again.seconds:.1f} s) — matched entries untouched"
            )
        whole = "deciding only (--dry-run)" if args.dry_run else "whole run, allocations written"
        verdict = (
            ("time", engine.seconds < TARGET_SECONDS,
             f"{engine.seconds:.1f} s < {TARGET_SECONDS:.0f} s ({whole})"),
            ("time deciding", dry.seconds < TARGET_SECONDS,
             f"{dry.seconds:.1f} s < {TARGET_SECONDS:.0f} s (suggestions and decisions for every "
             "entry, nothing written)"),
            ("auto-matched", engine.auto_share >= TARGET_AUTO,
             f"{engine.auto_share:.1%} ≥ {TARGET_AUTO:.0%} of matchable entries"),
            ("wrong", engine.wrong_share < TARGET_WRONG,
             f"{engine.wrong_share:.2%} < {TARGET_WRONG:.1%} of auto matches"),
        )  # fmt: skip
        print()
        for label, ok, text in verdict:
            print(f"  {label:<13} {'PASS' if ok else 'FAIL'}  {text}")
    print(f"\ntotal run time: {time.perf_counter() - run_started:.0f} s")


if __name__ == "__main__":
    main()
