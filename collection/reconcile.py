"""消込 engine: suggestions for bank entries, the automatic reconciliation run, the queue.

The book (payer names and open receivables) is loaded once, in a few set-based queries,
into in-memory indexes; ``collection.matching`` scores each entry against it; what is
confident enough is decided for the whole run in memory, then written set-wise through
``collection.services.batch.allocate_many`` (an entry, even a multi-invoice payment, is
applied whole or not at all), entries nobody can be recognised in go to suspense, and the rest wait for a person (照合中) with ranked
suggestions.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from customers.models import Customer, TransferName
from deals.services.records import invoice_key

from . import matching
from .matching import (
    TOKEN_RE,
    EntryFacts,
    NameIndex,
    OpenItem,
    PayerMatch,
    Suggestion,
    fold_key,
)
from .models import BankEntry, CollectionStatus, EntryStatus, ExpectedCollection
from .services.batch import (
    EntryPlan,
    PlannedLine,
    allocate_many,
    applied_by_entry,
    suspense_many,
)

OPEN_STATUSES = (CollectionStatus.OPEN, CollectionStatus.PARTIAL, CollectionStatus.OVERDUE)
ACTOR_LABEL = "job:reconcile"
MAX_PASSES = 10
WRITE_CHUNK = 1000  # entries applied per transaction
SMALL_RUN = 200  # entries up to which a run loads only the payers they name
# An invoice number found under more payers than this names no one in particular.
MAX_PAYERS_PER_REFERENCE = 100
_KANJI = re.compile(r"[\u3400-\u9fff]")


@dataclass
class ReconcileSummary:
    """What one run did with the unmatched deposits it examined."""

    examined: int = 0
    matched: int = 0  # entries allocated automatically
    allocations: int = 0
    queued: int = 0  # left for a person (照合中), with suggestions when there are any
    suspense: int = 0  # no payer recognised at all
    failed: int = 0  # an allocation was refused (the book changed meanwhile): queued
    seconds: float = 0.0
    decisions: dict[int, Suggestion] = field(default_factory=dict, repr=False)  # entry pk →
    suspended: list[int] = field(default_factory=list, repr=False)  # entry pks


class Book:
    """Payer names and open receivables, indexed in memory for matching."""

    def __init__(self, names: NameIndex, items: Iterable[OpenItem]) -> None:
        self.names = names
        self.items: dict[int, OpenItem] = {}
        self.by_payer: defaultdict[int, list[OpenItem]] = defaultdict(list)
        self.by_reference: defaultdict[str, list[OpenItem]] = defaultdict(list)
        for item in items:
            self.items[item.id] = item
            self.by_payer[item.payer_id].append(item)
            if len(item.reference) >= 4:
                self.by_reference[item.reference].append(item)

    @classmethod
    def load(cls) -> Book:
        """Return every payer name and open receivable (three queries)."""
        return cls(load_names(), load_items())

    def payers(self, entry: BankEntry, facts: EntryFacts) -> list[PayerMatch]:
        """Return who the entry may come from: by name, then by an invoice number of theirs."""
        found = self.names.match(entry.payer_name, entry.raw_payer_name)
        known = {match.customer_id for match in found}
        named: defaultdict[int, set[int]] = defaultdict(set)
        shared = 1
        for token in facts.all_tokens:
            items = [item for item in self.by_reference.get(token, ()) if item.outstanding]
            owners = {item.payer_id for item in items}
            # An invoice of a payer recognised by name is that payer's; otherwise everyone
            # owing an invoice of that number may be paying it.
            if not owners or owners & known or len(owners) > MAX_PAYERS_PER_REFERENCE:
                continue
            shared = max(shared, len(owners))
            for item in items:
                named[item.payer_id].add(item.id)
        found.extend(
            PayerMatch(owner, "reference", only=frozenset(ids), shared=shared)
            for owner, ids in sorted(named.items())
        )
        return found

    def suggest(
        self, facts: EntryFacts, payers: Sequence[PayerMatch], limit: int = matching.MAX_SUGGESTIONS
    ) -> list[Suggestion]:
        return matching.suggest(facts, payers, self.by_payer, limit=limit)

    def applied(self, suggestion: Suggestion) -> None:
        """Lower the balances in memory after ``suggestion`` was allocated."""
        for line in suggestion.lines:
            item = self.items.get(line.expected_id)
            if item is not None:
                item.outstanding = max(item.outstanding - line.amount - line.fee, 0)


def _open_payers() -> QuerySet:
    return ExpectedCollection.objects.filter(status__in=OPEN_STATUSES).values("payer_id")


def load_names() -> NameIndex:
    """Return the name index of the customers who owe open receivables: their kana names,
    their registered transfer names, and those of customers merged into them (two queries;
    all of them, since a near spelling can be anyone's)."""
    payers = _open_payers()
    index = NameIndex()
    customers = Customer.objects.filter(Q(pk__in=payers) | Q(merged_into__in=payers))
    for pk, kana_key, name_key, merged_into in customers.values_list(
        "pk", "kana_key", "name_key", "merged_into_id"
    ):
        owner = merged_into or pk
        index.add(fold_key(kana_key), owner, "reading")
        if not _KANJI.search(name_key):  # a name written in kana or Latin is a reading too
            index.add(fold_key(name_key), owner, "reading")
    transfer = TransferName.objects.filter(
        Q(customer__in=payers) | Q(customer__merged_into__in=payers)
    )
    for customer_id, key, merged_into in transfer.values_list(
        "customer_id", "key", "customer__merged_into_id"
    ):
        index.add(fold_key(key), merged_into or customer_id, "transfer")
    return index


def _items(rows: Iterable[tuple]) -> list[OpenItem]:
    items = []
    for pk, payer_id, due_date, expected, paid, fee, invoice_number, deal_id in rows:
        outstanding = max(expected - paid - fee, 0)
        if outstanding:
            items.append(
                OpenItem(pk, payer_id, due_date, outstanding,
                         matching.reference_key(invoice_number), invoice_number, deal_id)
            )  # fmt: skip
    return items


_ITEM_FIELDS = ("pk", "payer_id", "due_date", "expected_amount", "paid_amount", "fee_amount",
                "receivable__invoice_number", "deal_id")  # fmt: skip


def load_items(condition: Q | None = None) -> list[OpenItem]:
    """Return the open receivables (of the payers ``condition`` selects) in one query."""
    rows = ExpectedCollection.objects.filter(status__in=OPEN_STATUSES)
    if condition is not None:
        rows = rows.filter(condition)
    return _items(rows.values_list(*_ITEM_FIELDS).order_by())


def _facts(entry: BankEntry, amount: int) -> EntryFacts:
    return EntryFacts.of(
        amount=amount, value_date=entry.value_date, payer_name=entry.raw_payer_name or "",
        description=entry.description, edi_info=entry.edi_info,
    )  # fmt: skip


def _invoice_keys(entry: BankEntry) -> set[str]:
    """Return the words of the entry's texts that hold a digit, keyed as deals key invoice
    numbers (``invoice_key``), to find the receivables they name."""
    keys: set[str] = set()
    for text in (entry.edi_info, entry.description, entry.raw_payer_name):
        for part in (text or "").split():
            words = TOKEN_RE.findall(invoice_key(part))
            keys.update(word for word in words if any(c.isdigit() for c in word))
    return keys


def _book_for(entries: Sequence[BankEntry]) -> Book:
    """Return the book as far as ``entries`` need it, in three queries: every payer name, and
    the open receivables of the payers recognised by name or by an invoice number."""
    names = load_names()
    payer_ids = {
        match.customer_id
        for entry in entries
        for match in names.match(entry.payer_name, entry.raw_payer_name)
    }
    invoice_keys = set().union(*(_invoice_keys(entry) for entry in entries))
    condition = Q(payer_id__in=payer_ids)
    if invoice_keys:
        named = ExpectedCollection.objects.filter(
            status__in=OPEN_STATUSES, receivable__invoice_key__in=invoice_keys
        ).values("payer_id")
        condition |= Q(payer_id__in=named)
    return Book(names, load_items(condition) if payer_ids or invoice_keys else [])


def suggestions_for_entries(
    entries: Sequence[BankEntry], *, limit: int = matching.MAX_SUGGESTIONS
) -> dict[int, list[Suggestion]]:
    """Return ranked suggestions for each of ``entries`` (by pk), in four queries however
    many entries, payers and receivables there are: names, what is already applied, and the
    open receivables of the payers recognised by name or by an invoice number."""
    if not entries:
        return {}
    applied = applied_by_entry([entry.pk for entry in entries])
    book = _book_for(entries)
    result = {}
    for entry in entries:
        facts = _facts(entry, entry.amount - applied.get(entry.pk, 0))
        result[entry.pk] = book.suggest(facts, book.payers(entry, facts), limit)
    return result


def suggestions_for(entry: BankEntry, *, limit: int = matching.MAX_SUGGESTIONS) -> list[Suggestion]:
    """Return the ranked suggestions for one entry, best first (at most four queries)."""
    return suggestions_for_entries([entry], limit=limit)[entry.pk]


def queue() -> QuerySet[BankEntry]:
    """Return the deposits waiting for a person (照合中), oldest first, with ``applied``: the
    part of each already allocated."""
    applied = Sum("allocations__amount", filter=Q(allocations__reversed_at__isnull=True))
    return (
        BankEntry.objects.filter(status=EntryStatus.UNMATCHED, direction="in", cancelled=False)
        .annotate(applied=Coalesce(applied, 0))
        .order_by("value_date", "pk")
    )


def plan_of(entry_id: int, suggestion: Suggestion) -> EntryPlan:
    """Return the plan that applies ``suggestion`` to the entry."""
    return EntryPlan(
        entry_id=entry_id,
        lines=tuple(PlannedLine(line.expected_id, line.amount, line.fee)
                    for line in suggestion.lines),
        confidence=suggestion.confidence,
        reasons=tuple(suggestion.codes),
    )  # fmt: skip


def _write(summary: ReconcileSummary, actor: Any) -> None:
    """Apply what the run decided, ``WRITE_CHUNK`` entries per transaction; an entry the book
    no longer fits (someone allocated meanwhile) is refused whole and stays in the queue."""
    label = "" if actor else ACTOR_LABEL
    decided = list(summary.decisions.items())
    for start in range(0, len(decided), WRITE_CHUNK):
        chunk = decided[start : start + WRITE_CHUNK]
        done = allocate_many([plan_of(pk, choice) for pk, choice in chunk], actor=actor,
                             actor_label=label)  # fmt: skip
        for pk in done.refused:
            summary.failed += 1
            summary.matched -= 1
            summary.allocations -= len(summary.decisions.pop(pk).lines)
    for start in range(0, len(summary.suspended), WRITE_CHUNK):
        suspense_many(summary.suspended[start : start + WRITE_CHUNK], actor=actor,
                      actor_label=label, note="reconcile: no payer recognised")  # fmt: skip


def reconcile(
    entries: Iterable[BankEntry | int] | QuerySet | None = None,
    *,
    actor: Any | None = None,
    threshold: Decimal | None = None,
    dry_run: bool = False,
) -> ReconcileSummary:
    """Reconcile the unmatched deposits (all of them, or those among ``entries``).

    Each entry gets its suggestions; the best is allocated automatically when its
    confidence reaches ``COLLECTION_AUTO_THRESHOLD``, an entry in which no payer is
    recognised (by name or invoice number) goes to suspense, and the rest stay unmatched
    in the queue. Entries are taken by value date; an entry left in the queue is looked at
    again once later entries of the same payer have been allocated (fewer invoices left
    open may make it clear), until a pass allocates nothing more (at most ``MAX_PASSES``).
    Idempotent: matched and suspense entries are never touched, and a second run changes
    nothing unless the book did. ``dry_run`` decides the same way and writes nothing
    (``decisions`` and ``suspended`` say what it would do).

    The book is loaded whole for a large run (three queries), or only as far as the
    entries need it for a few (``SMALL_RUN``), as the queue screen re-runs one entry.
    """
    started = time.perf_counter()
    threshold = matching.auto_threshold() if threshold is None else threshold
    pending = BankEntry.objects.filter(
        status=EntryStatus.UNMATCHED, direction="in", cancelled=False
    )
    if entries is not None:
        if not isinstance(entries, QuerySet):
            entries = [getattr(entry, "pk", entry) for entry in entries]
        pending = pending.filter(pk__in=entries)
    rows = list(pending.order_by("value_date", "pk"))
    summary = ReconcileSummary(examined=len(rows))
    if not rows:
        return summary
    applied = applied_by_entry(pending)
    book = _book_for(rows) if len(rows) <= SMALL_RUN else Book.load()
    waiting: list[tuple[BankEntry, EntryFacts, list[PayerMatch]]] = []
    touched: set[int] = set()
    for entry in rows:
        remaining = entry.amount - applied.get(entry.pk, 0)
        if remaining <= 0:
            continue
        facts = _facts(entry, remaining)
        payers = book.payers(entry, facts)
        if not payers:
            summary.suspense += 1
            summary.suspended.append(entry.pk)
        elif not _settle(book, entry, facts, payers, threshold, summary, touched):
            waiting.append((entry, facts, payers))
    for _pass in range(MAX_PASSES - 1):
        again = [row for row in waiting if touched & {p.customer_id for p in row[2]}]
        if not again:
            break
        touched = set()
        for row in again:
            entry, facts, _payers = row
            if _settle(book, entry, facts, book.payers(entry, facts), threshold, summary, touched):
                waiting.remove(row)
    if not dry_run:
        _write(summary, actor)
    summary.queued = summary.examined - summary.matched - summary.suspense
    summary.seconds = time.perf_counter() - started
    return summary


def _settle(book: Book, entry: BankEntry, facts: EntryFacts, payers: list[PayerMatch],
            threshold: Decimal, summary: ReconcileSummary, touched: set[int]) -> bool:  # fmt: skip
    """Decide the entry when its best suggestion is confident enough; return whether it was.
    The book's balances move in memory so later entries see what this one takes."""
    choice = matching.decide(book.suggest(facts, payers), threshold)
    if choice is None:
        return False
    book.applied(choice)
    touched.add(choice.payer_id)
    summary.matched += 1
    summary.allocations += len(choice.lines)
    summary.decisions[entry.pk] = choice
    return True
