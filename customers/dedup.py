"""名寄せ candidates: who may be the same party, found by blocking and scoring, never all pairs.

Three entry points share one pure pair score (``pair_score``):

- ``similar_customers`` warns on the create / edit form: one bounded query over the
  database's own blocks (exact keys, shared leading or trailing characters), scored here.
- ``find_duplicate_pairs`` is the batch engine: it loads the comparable keys of every live
  customer in two queries, builds blocks in memory (exact keys, the one-deletion
  neighbourhood of each name and reading, sorted-neighbourhood windows for long names)
  and compares only within blocks, so the cost stays near-linear in the register size.
- ``refresh_duplicate_candidates`` writes the batch result into ``DuplicateCandidate``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from itertools import combinations
from operator import add, or_

from django.conf import settings
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Abs, Greatest, Length
from django.utils import translation
from django.utils.translation import gettext as _
from rapidfuzz.distance import OSA

from .choices import CustomerStatus
from .matching import (
    DUPLICATE_THRESHOLD,
    edit_similarity,
    max_edits,
    normalize_name,
)
from .models import BankAccount, Customer, DuplicateCandidate, address_key, digits_only

# Corroborating evidence raises a name score; alone it never makes a pair (an office
# building shares an address, a group shares a switchboard).
PHONE_BONUS = 0.08
ADDRESS_BONUS = 0.05
ACCOUNT_BONUS = 0.12

# Blocks larger than this are not compared all-pairs but in sorted windows of WINDOW.
MAX_BLOCK = 50
WINDOW = 8
# Sorted-neighbourhood window over long names, where two slips may still be a duplicate.
NEIGHBOURHOOD = 3
# Rows the live check fetches at most, best blocks first.
FETCH_LIMIT = 300
# Below this a name similarity is not worth listing as a reason.
REASON_FLOOR = 0.75

# A name written only in katakana (a debtor registered from a bank transfer name).
_KANA_ONLY = re.compile(r"[\u30A1-\u30FA\u30FC]+")

_CORPORATE, _INVOICE, _SAME_NAME, _SAME_READING, _PHONE, _ADDRESS, _ACCOUNT = (
    1 << bit for bit in range(7)
)
# Evidence that lists a customer on the form whatever its score.
_EXACT_EVIDENCE = _CORPORATE | _INVOICE | _SAME_NAME | _SAME_READING | _PHONE | _ADDRESS


@dataclass(frozen=True)
class CustomerKeys:
    """The comparable fields of one customer, as stored (keys already normalised)."""

    id: int
    name: str = ""
    name_key: str = ""
    kana_key: str = ""
    corporate_number: str = ""
    invoice_number: str = ""
    phone_key: str = ""
    address_key: str = ""
    bank_accounts: frozenset[str] = field(default_factory=frozenset)
    # Derived once here rather than per comparison: the batch engine compares each
    # customer many times.
    name_is_kana: bool = field(init=False, repr=False, compare=False)
    reading_key: str = field(init=False, repr=False, compare=False)
    usable_phone: str = field(init=False, repr=False, compare=False)
    usable_address: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A name keyed only in kana (from a bank transfer, or a katakana brand) is itself
        # the reading; a phone counts when it is a whole number; an address when it reaches
        # a street number, since a prefecture and city are shared by thousands.
        name_is_kana = bool(self.name_key) and _KANA_ONLY.fullmatch(self.name_key) is not None
        address = self.address_key
        usable_address = address if len(address) >= 6 and any(c.isdigit() for c in address) else ""
        object.__setattr__(self, "name_is_kana", name_is_kana)
        object.__setattr__(self, "reading_key", self.name_key if name_is_kana else self.kana_key)
        object.__setattr__(
            self, "usable_phone", self.phone_key if 10 <= len(self.phone_key) <= 11 else ""
        )
        object.__setattr__(self, "usable_address", usable_address)


@dataclass(frozen=True)
class Candidate:
    """An existing customer that may be the one being entered, with why."""

    customer: Customer
    score: float
    reasons: list[str]


@dataclass(frozen=True)
class CandidatePair:
    """Two live customers that may be one party (``first_id < second_id``)."""

    first_id: int
    second_id: int
    score: float
    reasons: list[str]


# --- the pair score (pure) -----------------------------------------------------------------


def _evidence(a: CustomerKeys, b: CustomerKeys) -> tuple[float, int, float, float]:
    """Return (score, evidence flags, name similarity, reading similarity) of a pair.

    Split from ``pair_score`` so the batch engine builds reasons (and calls gettext) only
    for the pairs it keeps.
    """
    flags = 0
    if a.corporate_number and a.corporate_number == b.corporate_number:
        flags |= _CORPORATE
    if a.invoice_number and a.invoice_number == b.invoice_number:
        flags |= _INVOICE
    if a.name_key and a.name_key == b.name_key:
        flags |= _SAME_NAME
    if a.reading_key and a.reading_key == b.reading_key:
        flags |= _SAME_READING

    name_length = max(len(a.name_key), len(b.name_key))
    name_edits = OSA.distance(a.name_key, b.name_key) if a.name_key and b.name_key else -1
    name = edit_similarity(name_length, name_edits) if name_edits >= 0 else 0.0
    reading_edits = (
        OSA.distance(a.reading_key, b.reading_key) if a.reading_key and b.reading_key else -1
    )
    reading = (
        edit_similarity(max(len(a.reading_key), len(b.reading_key)), reading_edits)
        if reading_edits >= 0
        else 0.0
    )
    if flags & (_SAME_NAME | _SAME_READING):
        score = 1.0
    elif reading_edits < 0:
        score = name
    elif a.name_is_kana or b.name_is_kana:
        # One name is its own reading, so the readings are all there is to compare.
        score = reading
    else:
        # Spelled and read differently: a typing slip keeps the reading and another
        # company changes both, so the slips add up (佐藤商事 / 加藤商事 are one kana apart
        # in a long reading, one kanji apart in the name: two slips in four characters).
        score = edit_similarity(name_length, name_edits + reading_edits)

    if a.usable_phone and a.usable_phone == b.usable_phone:
        flags |= _PHONE
        score += PHONE_BONUS
    if a.usable_address and a.usable_address == b.usable_address:
        flags |= _ADDRESS
        score += ADDRESS_BONUS
    if a.bank_accounts and not a.bank_accounts.isdisjoint(b.bank_accounts):
        flags |= _ACCOUNT
        score += ACCOUNT_BONUS
    if flags & (_CORPORATE | _INVOICE):
        score = 1.0
    return min(score, 1.0), flags, name, reading


def _reasons(flags: int, name: float, reading: float) -> list[str]:
    """Return the reasons shown to the reviewer, identifiers first."""
    reasons = []
    if flags & _CORPORATE:
        reasons.append(_("Same corporate number"))
    if flags & _INVOICE:
        reasons.append(_("Same invoice registration number"))
    if flags & _SAME_NAME:
        reasons.append(_("Same name"))
    elif name >= REASON_FLOOR:
        reasons.append(_("Similar name (%(score).2f)") % {"score": name})
    if flags & _SAME_READING:
        reasons.append(_("Same reading (kana)"))
    elif reading >= REASON_FLOOR:
        reasons.append(_("Similar reading (%(score).2f)") % {"score": reading})
    if flags & _PHONE:
        reasons.append(_("Same phone number"))
    if flags & _ADDRESS:
        reasons.append(_("Same address"))
    if flags & _ACCOUNT:
        reasons.append(_("Shared bank account"))
    return reasons


def pair_score(a: CustomerKeys, b: CustomerKeys) -> tuple[float, list[str]]:
    """Return how likely two customers are one party (0..1) and the reasons, without the ORM.

    Same 法人番号 or インボイス番号 is 1.0. Otherwise the name and its reading decide: the
    same name key or the same reading is 1.0; when both are known and both differ, their
    slips add up; else the better of the two. A shared phone, address or bank account
    raises the score, capped at 1.0. Symmetric.
    """
    score, flags, name, reading = _evidence(a, b)
    return round(score, 4), _reasons(flags, name, reading)


# --- the live check on the form ----------------------------------------------------------


def _shared_ends(column: str, key: str) -> Case | Value:
    """Return an SQL expression counting the leading and trailing characters shared with ``key``.

    One slip leaves everything before and after it in place, so the rows sharing the most
    characters at both ends are the ones worth fetching first.
    """
    if not key:
        return Value(0)
    terms = []
    for size in range(1, min(len(key), 8) + 1):
        for lookup, part in (("startswith", key[:size]), ("endswith", key[-size:])):
            terms.append(
                Case(
                    When(Q(**{f"{column}__{lookup}": part}), then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
    return reduce(add, terms)


def _block(column: str, key: str) -> Q:
    """Return rows of a similar length sharing ``key``'s first or last two characters."""
    slack = max_edits(len(key)) + 1
    return Q(
        Q(**{f"{column}__startswith": key[:2]}) | Q(**{f"{column}__endswith": key[-2:]}),
        **{f"{column}_length__range": (len(key) - slack, len(key) + slack)},
    )


def probe_keys(
    *,
    name: str,
    name_kana: str = "",
    corporate_number: str = "",
    invoice_number: str = "",
    phone: str = "",
    prefecture: str = "",
    city: str = "",
    street: str = "",
    probe_id: int = 0,
) -> CustomerKeys:
    """Return the comparable keys of a customer being entered (not saved yet)."""
    return CustomerKeys(
        id=probe_id,
        name=name,
        name_key=normalize_name(name),
        kana_key=normalize_name(name_kana),
        corporate_number=(corporate_number or "").strip(),
        invoice_number=(invoice_number or "").strip().upper(),
        phone_key=digits_only(phone),
        address_key=address_key(prefecture, city, street),
    )


def similar_customers_bulk(
    probes: Sequence[CustomerKeys], *, limit: int = 10
) -> list[list[Candidate]]:
    """Return, for each unsaved customer in ``probes``, the live customers it may duplicate.

    One pass of the batch engine over the register plus the probes: a large import costs
    seconds whatever its length, where the form's check costs a query per row.
    """
    existing = load_keys()
    offset = len(existing)
    keys = [*existing, *probes]
    hits: dict[int, list[tuple[float, int, list[str]]]] = defaultdict(list)
    for i, j in candidate_positions(keys, DUPLICATE_THRESHOLD):
        if (i < offset) == (j < offset):
            continue  # two registered customers, or two rows of the file
        known, probe = (i, j - offset) if i < offset else (j, i - offset)
        score, flags, name_score, reading_score = _evidence(probes[probe], existing[known])
        if score >= DUPLICATE_THRESHOLD or flags & _EXACT_EVIDENCE:
            hits[probe].append(
                (round(score, 4), existing[known].id, _reasons(flags, name_score, reading_score))
            )
    wanted = {customer_id for found in hits.values() for _, customer_id, _ in found}
    customers = Customer.objects.in_bulk(wanted)
    results = []
    for position in range(len(probes)):
        found = sorted(hits.get(position, []), key=lambda hit: (-hit[0], hit[1]))[:limit]
        results.append([Candidate(customers[pk], score, reasons) for score, pk, reasons in found])
    return results


def similar_customers(
    *,
    name: str,
    name_kana: str = "",
    corporate_number: str = "",
    invoice_number: str = "",
    phone: str = "",
    prefecture: str = "",
    city: str = "",
    street: str = "",
    exclude_pk: int | None = None,
    limit: int = 10,
) -> list[Candidate]:
    """Return live customers that may be the one being entered, best first, in one query.

    Lists every customer scoring at least ``DUPLICATE_THRESHOLD`` and every one sharing an
    exact key (法人番号, インボイス番号, name, reading, phone, address) whatever its score.
    """
    probe = probe_keys(
        name=name,
        name_kana=name_kana,
        corporate_number=corporate_number,
        invoice_number=invoice_number,
        phone=phone,
        prefecture=prefecture,
        city=city,
        street=street,
    )
    readings = [probe.reading_key] if probe.reading_key else []

    exact_terms = []
    if probe.name_key:
        exact_terms.append(Q(name_key=probe.name_key))
    for reading in readings:
        exact_terms += [Q(kana_key=reading), Q(name_key=reading)]
    if probe.corporate_number:
        exact_terms.append(Q(corporate_number=probe.corporate_number))
    if probe.invoice_number:
        exact_terms.append(Q(invoice_number=probe.invoice_number))
    if probe.usable_phone:
        exact_terms.append(Q(phone_key=probe.usable_phone))
    if probe.usable_address:
        exact_terms.append(Q(address_key=probe.usable_address))
    # A reading may sit in kana_key, or be the name itself of a customer keyed in kana.
    searched = {("name_key", probe.name_key)} | {
        (column, reading) for reading in readings for column in ("kana_key", "name_key")
    }
    searched = {(column, key) for column, key in searched if len(key) >= 2}
    fuzzy_terms = [_block(column, key) for column, key in sorted(searched)]
    if not exact_terms and not fuzzy_terms:
        return []
    exact_hit = (
        Case(When(reduce(or_, exact_terms), then=Value(1)), default=Value(0))
        if exact_terms
        else Value(0)
    )
    shared = [_shared_ends(column, key) for column, key in sorted(searched)] or [Value(0)]
    live = Customer.objects.exclude(status=CustomerStatus.MERGED)
    if exclude_pk is not None:
        live = live.exclude(pk=exclude_pk)
    rows = (
        live.annotate(name_key_length=Length("name_key"), kana_key_length=Length("kana_key"))
        .filter(reduce(or_, exact_terms + fuzzy_terms))
        .annotate(
            exact_hit=exact_hit,
            shared_ends=Greatest(*shared) if len(shared) > 1 else shared[0],
            length_gap=Abs(Length("name_key") - len(probe.name_key)),
        )
        .order_by("-exact_hit", "-shared_ends", "length_gap", "pk")[:FETCH_LIMIT]
    )
    found = []
    for customer in rows:
        score, flags, name_score, reading_score = _evidence(probe, _keys_of(customer))
        if score >= DUPLICATE_THRESHOLD or flags & _EXACT_EVIDENCE:
            found.append(
                Candidate(
                    customer=customer,
                    score=round(score, 4),
                    reasons=_reasons(flags, name_score, reading_score),
                )
            )
    found.sort(key=lambda candidate: (-candidate.score, candidate.customer.pk))
    return found[:limit]


def _keys_of(customer: Customer) -> CustomerKeys:
    return CustomerKeys(
        id=customer.pk,
        name=customer.name,
        name_key=customer.name_key,
        kana_key=customer.kana_key,
        corporate_number=customer.corporate_number or "",
        invoice_number=customer.invoice_number or "",
        phone_key=customer.phone_key,
        address_key=customer.address_key,
    )


# --- the batch engine --------------------------------------------------------------------


def load_keys(customer_ids: Iterable[int] | None = None) -> list[CustomerKeys]:
    """Return the comparable keys of every live customer (or of ``customer_ids``) in two queries."""
    customers = Customer.objects.exclude(status=CustomerStatus.MERGED)
    accounts = BankAccount.objects.filter(is_active=True).exclude(
        customer__status=CustomerStatus.MERGED
    )
    if customer_ids is not None:
        ids = list(customer_ids)
        customers = customers.filter(pk__in=ids)
        accounts = accounts.filter(customer_id__in=ids)
    banks: dict[int, set[str]] = defaultdict(set)
    for customer_id, bank, branch, number in accounts.values_list(
        "customer_id", "bank_code", "branch_code", "number"
    ):
        banks[customer_id].add(f"{bank}-{branch}-{number}")
    rows = customers.order_by("pk").values_list(
        "pk", "name", "name_key", "kana_key", "corporate_number", "invoice_number",
        "phone_key", "address_key",
    )  # fmt: skip
    return [
        CustomerKeys(
            id=pk,
            name=name,
            name_key=name_key,
            kana_key=kana_key,
            corporate_number=corporate or "",
            invoice_number=invoice or "",
            phone_key=phone,
            address_key=address,
            bank_accounts=frozenset(banks.get(pk, ())),
        )
        for pk, name, name_key, kana_key, corporate, invoice, phone, address in rows
    ]


class KeyIndex:
    """Positions filed by key, built for millions of keys of which few are shared.

    Each key first maps to one position; a list is made only when a second position
    arrives, which keeps the one-deletion neighbourhoods of 100,000 names affordable.
    """

    def __init__(self) -> None:
        self.first: dict[str, int] = {}
        self.shared: dict[str, list[int]] = {}

    def add(self, key: str, position: int) -> None:
        first = self.first.setdefault(key, position)
        if first != position:
            members = self.shared.get(key)
            if members is None:
                self.shared[key] = [first, position]
            else:
                members.append(position)

    def add_with_deletions(self, key: str, position: int) -> None:
        """File ``position`` under ``key`` and under every string one character shorter.

        Two keys within one edit always share one of these (a substitution deletes the
        same position in both, an insertion is the other key itself), so this finds every
        one-slip pair without comparing all pairs.
        """
        setdefault = self.first.setdefault
        for variant in [key, *(key[:i] + key[i + 1 :] for i in range(len(key)))]:
            if setdefault(variant, position) != position:
                self.add(variant, position)


def _blocks(keys: Sequence[CustomerKeys], threshold: float) -> Iterator[list[int]]:
    """Yield blocks of positions in ``keys`` that share a blocking key."""
    # The shortest key where one slip can still reach the threshold; its partner may be
    # one character shorter.
    one_slip = next((n for n in range(1, 200) if max_edits(n, threshold) >= 1), 200) - 1
    # One index per kind of key, so a phone number never meets a name.
    names, readings, near_names, near_readings = (KeyIndex() for _ in range(4))
    numbers, phones, addresses, accounts = (KeyIndex() for _ in range(4))
    for position, k in enumerate(keys):
        if k.name_key:
            names.add(k.name_key, position)
            if len(k.name_key) >= one_slip:
                near_names.add_with_deletions(k.name_key, position)
        if k.reading_key:
            readings.add(k.reading_key, position)
            if len(k.reading_key) >= one_slip:
                near_readings.add_with_deletions(k.reading_key, position)
        if k.corporate_number:
            numbers.add(k.corporate_number, position)
        if k.invoice_number:
            numbers.add(k.invoice_number, position)
        if k.usable_phone:
            phones.add(k.usable_phone, position)
        if k.usable_address:
            addresses.add(k.usable_address, position)
        for account in k.bank_accounts:
            accounts.add(account, position)
    for index in (names, readings, near_names, near_readings, numbers, phones, addresses, accounts):
        yield from index.shared.values()


def _windowed(members: list[int], order: Sequence[str], width: int) -> Iterator[tuple[int, int]]:
    """Yield pairs of ``members`` that sit within ``width`` of each other in ``order``."""
    ranked = sorted(members, key=lambda position: order[position])
    for i, first in enumerate(ranked):
        for second in ranked[i + 1 : i + 1 + width]:
            yield first, second


def candidate_positions(keys: Sequence[CustomerKeys], threshold: float) -> set[tuple[int, int]]:
    """Return the pairs of positions in ``keys`` worth scoring (lower position first)."""
    names = [k.name_key for k in keys]
    pairs: set[tuple[int, int]] = set()
    for members in _blocks(keys, threshold):
        if len(members) <= MAX_BLOCK:
            pairs.update(combinations(members, 2))
        else:
            # An oversized block (one switchboard, one building) is compared in windows.
            pairs.update(_windowed(members, names, WINDOW))
    # A second slip only counts in long names and readings, which no exact or one-deletion
    # block is sure to hold together: compare neighbours in key order and reversed order.
    two_slips = next(n for n in range(1, 1000) if max_edits(n, threshold) >= 2 or n == 999)
    for column in ([k.name_key for k in keys], [k.reading_key for k in keys]):
        long_keys = [p for p, key in enumerate(column) if len(key) >= two_slips - 2]
        reversed_column = [key[::-1] for key in column]
        for order in (column, reversed_column):
            pairs.update(_windowed(long_keys, order, NEIGHBOURHOOD))
    return {(a, b) if a < b else (b, a) for a, b in pairs if a != b}


def find_duplicate_pairs(
    *, threshold: float = DUPLICATE_THRESHOLD, customer_ids: Iterable[int] | None = None
) -> list[CandidatePair]:
    """Return pairs of live customers scoring at least ``threshold``, best first.

    ``customer_ids`` limits the search to pairs among those customers.
    """
    keys = load_keys(customer_ids)
    found = []
    for i, j in candidate_positions(keys, threshold):
        a, b = keys[i], keys[j]
        score, flags, name, reading = _evidence(a, b)
        if score >= threshold:
            first, second = (a, b) if a.id < b.id else (b, a)
            found.append(
                CandidatePair(
                    first_id=first.id,
                    second_id=second.id,
                    score=round(score, 4),
                    reasons=_reasons(flags, name, reading),
                )
            )
    found.sort(key=lambda pair: (-pair.score, pair.first_id, pair.second_id))
    return found


def _decimal(score: float) -> Decimal:
    return Decimal(f"{score:.4f}")


def refresh_duplicate_candidates(*, threshold: float = DUPLICATE_THRESHOLD) -> tuple[int, int]:
    """Record the pairs found now for review; return (created, updated).

    New pairs are inserted, open ones get today's score and reasons, and a pair someone
    dismissed (or merged) is never proposed again. Reasons are stored in the site
    language, since the review list shows them as they are.
    """
    with translation.override(settings.LANGUAGE_CODE):
        pairs = find_duplicate_pairs(threshold=threshold)
    with transaction.atomic():
        existing = {
            (first, second): (pk, status, score, reasons)
            for pk, first, second, status, score, reasons in DuplicateCandidate.objects.values_list(
                "pk", "first_id", "second_id", "status", "score", "reasons"
            )
        }
        to_create, to_update = [], []
        for pair in pairs:
            score = _decimal(pair.score)
            known = existing.get((pair.first_id, pair.second_id))
            if known is None:
                to_create.append(
                    DuplicateCandidate(
                        first_id=pair.first_id,
                        second_id=pair.second_id,
                        score=score,
                        reasons=pair.reasons,
                    )
                )
                continue
            pk, status, old_score, old_reasons = known
            if status == DuplicateCandidate.Status.OPEN and (
                old_score != score or old_reasons != pair.reasons
            ):
                to_update.append(DuplicateCandidate(pk=pk, score=score, reasons=pair.reasons))
        # ignore_conflicts: a run racing this one may have inserted the same pair.
        DuplicateCandidate.objects.bulk_create(to_create, batch_size=1000, ignore_conflicts=True)
        DuplicateCandidate.objects.bulk_update(to_update, ["score", "reasons"], batch_size=1000)
    return len(to_create), len(to_update)
