"""消込 matching: pure functions that turn one bank entry and the open receivables of its
possible payers into ranked suggestions, each with a confidence and its reasons.

No ORM and no I/O here (DESIGN §3 ``calculations.py``): ``collection.reconcile`` loads the
book once, asks these functions, and allocates through the services.

How a suggestion is scored: every piece of evidence (payer name, amount, due date,
invoice number) adds a weight to the log-odds of "this entry pays these receivables";
the confidence of a suggestion is its odds against every other suggestion for the entry
and against "none of these" (a softmax with one extra option at log-odds 0). So a
suggestion with a close runner-up never reaches the auto threshold, however good it is
on its own: at 0.90 it must be at least nine times likelier than everything else together.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.text import nfkc
from customers.matching import (
    DUPLICATE_THRESHOLD,
    KANA_MARK_RE,
    fold_name,
    key_similarity,
    normalize_name,
)

# Settings (config/settings/base.py may set them; these are the defaults).
DEFAULT_FEE_TOLERANCE = 880  # yen a payer may deduct as the bank's transfer fee
DEFAULT_AUTO_THRESHOLD = Decimal("0.900")
# What banks charge for a transfer, which payers deduct: tax-inclusive fees of 50-yen steps
# (110, 165, … 880 at 10 %), the same at the old 5 % and 8 % rates, and net banks' odd ones.
# A shortfall of another size within the tolerance is weak evidence (COLLECTION_BANK_FEES).
DEFAULT_BANK_FEES = frozenset(
    [*range(55, 1101, 55), *range(105, 1051, 105), *range(108, 1081, 108), 77, 145, 154, 160, 229]
)

# Bounds of the search for several invoices paid by one transfer.
MAX_COMBINATION_SIZE = 6
MAX_COMBINATION_STEPS = 2_000  # additions tried per payer and entry
MAX_COMBINATIONS = 8  # combinations kept; more than that is ambiguity enough
# Receivables considered for combinations and part payments: due at most this many days
# before or after the value date, and at most this many of them (nearest due dates).
WINDOW_LATE_DAYS = 62
WINDOW_EARLY_DAYS = 31
MAX_WINDOW_ITEMS = 40
MAX_PARTIAL_SUGGESTIONS = 3
MAX_SUGGESTIONS = 5
# A payer name as long as this was probably cut off by the bank (the field is 48 bytes).
TRUNCATED_LENGTH = 44
MIN_TRUNCATED_KEY = 6

# Log-odds weights of the evidence (see the module docstring).
PRIOR = -3.0
NAME_WEIGHTS = {"transfer": 3.5, "reading": 3.0, "part": 2.2, "truncated": 2.0, "reference": 0.0}
SIMILAR_NAME_WEIGHT = 1.0  # at DUPLICATE_THRESHOLD, rising to 1.8 at an identical key
# Amount fits, at most (one invoice / several; exact, short by a usual bank fee, by another
# amount within the tolerance). A fit weighs less the likelier it is by chance: see
# ``fit_weight``.
SINGLE_CAPS = (3.5, 2.5, 0.5)
GROUP_CAPS = {  # all of a deal's or all invoices due on a day; all due up to a day
    "whole_deal_due_date": (3.0, 2.3, 0.0),
    "whole_due_date": (3.0, 2.3, 0.0),
    "all_due_until": (2.5, 1.8, -0.5),
}
COMBINATION_CAPS = (1.6, 1.1, -0.5)  # a few invoices found by the search
CHANCE_OFFSET = -2.0
CHANCE_SHOWN = 0.5  # a reduction from this on is given as a reason
COMBINATION_ITEM_PENALTY = 0.25  # per invoice beyond two
SAME_DUE_DATE = 0.5
PARTIAL, OLDEST_FIRST = -1.0, -1.5
DUE_NEAR = 1.5  # paid from three days before the due date to five days after
# (days up to, weight): paying some days late is common, paying weeks early rare.
LATE_WEIGHTS = ((15, 0.5), (31, -0.5), (62, -1.5), (92, -2.0), (10**6, -2.5))
EARLY_WEIGHTS = ((10, 0.5), (20, -1.0), (31, -2.0), (62, -3.5), (10**6, -5.0))
REFERENCE_FULL, REFERENCE_OTHER = 4.0, -2.0
SEARCH_CAPPED = -0.5

REASON_LABELS = {
    "name_transfer": _("Payer name matches a transfer name"),
    "name_reading": _("Payer name matches the customer's kana name"),
    "name_part": _("Part of the payer name matches the customer's kana name"),
    "name_truncated": _("Payer name is the start of the customer's kana name (cut off)"),
    "name_similar": _("Payer name is similar to the customer's (%(value)s%%)"),
    "name_unknown": _("Payer name is not the customer's"),
    "amount_exact": _("Amount equals the open balance"),
    "amount_fee": _("Short by a bank fee of %(value)s yen"),
    "amount_partial": _("Part payment of the open balance"),
    "amount_oldest_first": _("Applied to the oldest open invoices first"),
    "amount_common": _("Many open invoices could give this amount by chance"),
    "combination": _("Several invoices paid together"),
    "whole_due_date": _("Pays all %(value)s invoices due that day"),
    "whole_deal_due_date": _("Pays all %(value)s invoices of one deal due that day"),
    "all_due_until": _("Pays all %(value)s invoices due up to then"),
    "interchangeable": _("Equal to %(value)s other invoices of the same deal; the first is taken"),
    "same_due_date": _("The invoices fall due on the same day"),
    "due_on": _("Paid on the due date"),
    "due_near": _("Paid within %(value)s days of the due date"),
    "due_late": _("Paid %(value)s days after the due date"),
    "due_early": _("Paid %(value)s days before the due date"),
    "reference_edi": _("Invoice number in the EDI information"),
    "reference_description": _("Invoice number in the description"),
    "reference_name": _("Invoice number in the payer name"),
    "reference_other": _("The entry names another invoice of this payer"),
    "search_capped": _("Not every combination of invoices was tried"),
}


def fee_tolerance() -> int:
    """Return the largest bank fee (yen) a payer may deduct: ``COLLECTION_FEE_TOLERANCE``."""
    return int(getattr(settings, "COLLECTION_FEE_TOLERANCE", DEFAULT_FEE_TOLERANCE))


def bank_fees() -> frozenset[int]:
    """Return the usual bank transfer fees (yen): ``COLLECTION_BANK_FEES``."""
    return frozenset(getattr(settings, "COLLECTION_BANK_FEES", DEFAULT_BANK_FEES))


def auto_threshold() -> Decimal:
    """Return the confidence from which a match is allocated: ``COLLECTION_AUTO_THRESHOLD``."""
    return Decimal(str(getattr(settings, "COLLECTION_AUTO_THRESHOLD", DEFAULT_AUTO_THRESHOLD)))


# Names ---------------------------------------------------------------------------------

_EDGE_DIGITS_RE = re.compile(r"^\d+|\d+$")


def fold_key(key: str) -> str:
    """Return a 名寄せ key as 消込 compares it: without long-vowel marks, which banks write
    as hyphens (dropped as punctuation by the key) or leave out."""
    return key.replace("ー", "")


def payer_key(name: str) -> str:
    """Return the 消込 key of a payer, transfer or kana name.

    The 名寄せ key (width, hiragana and small kana folded; legal forms such as カ) or (カ
    removed at either end; spaces and punctuation dropped) without long-vowel marks, so
    ``ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ``, ``カ)ヤマダシヨウジ``, ``ヤマダシヨウジ(カ`` and ``ヤマダショウジ`` share one key.
    """
    # NFKC again: a space dropped between a kana and its dakuten (ﾀ ﾞ) leaves them apart.
    return fold_key(nfkc(normalize_name(name)))


def payer_keys(name: str) -> tuple[str, ...]:
    """Return the payer key of ``name`` first, then weaker alternatives: the parts around a
    legal-form mark in the middle (a branch after the company), and the key without digits
    at either end (a customer or invoice number typed into the name field)."""
    primary = payer_key(name)
    alternatives: list[str] = []
    # A legal-form mark in the middle (ヤマダ(カ トウキヨウシテン) splits the name, where
    # 名寄せ strips it at either end.
    parts = KANA_MARK_RE.split(fold_name(name or ""))
    if len(parts) > 1:
        alternatives.extend(payer_key(part) for part in parts)
    bare = _EDGE_DIGITS_RE.sub("", primary)
    alternatives.append(bare)
    unique = [
        key
        for key in dict.fromkeys(alternatives)
        if len(key) >= 2 and key != primary and not key.isdigit()
    ]
    return (primary, *unique) if primary else tuple(unique)


# References ----------------------------------------------------------------------------

# A word of letters and digits, joined over - / _ . as invoice numbers are written.
TOKEN_RE = re.compile(r"[0-9A-Z]+(?:[-/_.][0-9A-Z]+)*")
_NOT_ALNUM_RE = re.compile(r"[^0-9A-Z]")
_DIGIT_RUN_RE = re.compile(r"\d{4,}")
REFERENCE_SOURCES = ("edi", "description", "name")


def reference_key(invoice_number: str) -> str:
    """Return an invoice number as found in bank text: width-folded, upper-case, letters and
    digits only (INV-00123, ＩＮＶ００１２３ and inv 00123 give INV00123)."""
    return _NOT_ALNUM_RE.sub("", nfkc(invoice_number or "").upper())


def reference_digits(key: str) -> str:
    """Return the longest run of four or more digits of a reference key ('' if none)."""
    return max(_DIGIT_RUN_RE.findall(key), key=len, default="")


def reference_tokens(text: str) -> frozenset[str]:
    """Return what in ``text`` may be an invoice number: each word of letters and digits
    (joined over - / _ .) that holds a digit and is four or more long, and each run of four
    or more digits in it."""
    tokens: set[str] = set()
    for match in TOKEN_RE.finditer(nfkc(text or "").upper()):
        compact = _NOT_ALNUM_RE.sub("", match.group())
        if len(compact) >= 4 and any(ch.isdigit() for ch in compact):
            tokens.add(compact)
            tokens.update(_DIGIT_RUN_RE.findall(compact))
    return frozenset(tokens)


def names_invoice(tokens: frozenset[str], key: str) -> bool:
    """Return whether ``tokens`` hold the invoice of reference ``key`` (whole, or its digits)."""
    if not key or not tokens:
        return False
    if key in tokens:
        return True
    digits = reference_digits(key)
    return bool(digits) and digits in tokens


# Inputs and outputs --------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class OpenItem:
    """An open expected collection as the engine sees it; ``outstanding`` goes down as a run
    allocates, so later entries of the same run see what is still open."""

    id: int
    payer_id: int
    due_date: date
    outstanding: int
    reference: str = ""  # reference_key of the invoice number
    invoice_number: str = ""
    deal_id: int = 0


@dataclass(frozen=True, slots=True)
class PayerMatch:
    """A customer the entry may come from, and how its name was recognised: ``transfer``,
    ``reading``, ``part``, ``truncated``, ``similar`` (with ``similarity``) or
    ``reference``: only an invoice number of theirs was found, and then only those
    invoices (``only``) are considered, the number weighing less when ``shared`` payers
    have an invoice of that number."""

    customer_id: int
    how: str
    similarity: float = 1.0
    only: frozenset[int] | None = None
    shared: int = 1

    @property
    def weight(self) -> float:
        if self.how == "similar":
            spread = max(1.0 - DUPLICATE_THRESHOLD, 1e-9)
            return SIMILAR_NAME_WEIGHT + 0.8 * (self.similarity - DUPLICATE_THRESHOLD) / spread
        return NAME_WEIGHTS[self.how]

    @property
    def reason(self) -> Reason:
        if self.how == "similar":
            return Reason("name_similar", self.weight, round(self.similarity * 100))
        if self.how == "reference":  # a common number names several payers' invoices
            return Reason("name_unknown", -0.5 * math.log(max(self.shared, 1)))
        return Reason(f"name_{self.how}", self.weight)


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """What matching needs of a bank entry: the amount still to apply, the value date and the
    reference tokens of its EDI field, description and payer name."""

    amount: int
    value_date: date
    tokens: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, *, amount: int, value_date: date, payer_name: str = "", description: str = "",
           edi_info: str = "") -> EntryFacts:  # fmt: skip
        tokens = {
            "edi": reference_tokens(edi_info),
            "description": reference_tokens(description),
            "name": reference_tokens(payer_name),
        }
        return cls(amount, value_date, {k: v for k, v in tokens.items() if v})

    @property
    def all_tokens(self) -> frozenset[str]:
        return frozenset().union(*self.tokens.values()) if self.tokens else frozenset()

    def source_of(self, key: str) -> str | None:
        """Return where the invoice of reference ``key`` is named (edi, description, name)."""
        for source in REFERENCE_SOURCES:
            if names_invoice(self.tokens.get(source, frozenset()), key):
                return source
        return None


@dataclass(frozen=True, slots=True)
class Reason:
    """One piece of evidence: a short code, its log-odds weight, and a number it quotes."""

    code: str
    weight: float = 0.0
    value: int | None = None

    def __str__(self) -> str:
        return self.code if self.value is None else f"{self.code}:{self.value}"

    @property
    def label(self) -> str:
        return reason_label(str(self))


def reason_label(code: str) -> str:
    """Return the translated label of a stored reason code such as ``amount_fee:660``."""
    name, _sep, value = code.partition(":")
    label = REASON_LABELS.get(name)
    if label is None:
        return code
    return str(label) % {"value": f"{int(value):,}" if value.isdigit() else value}


def describe(codes: Iterable[str]) -> list[str]:
    """Return the labels of the reason codes stored on an allocation."""
    return [reason_label(code) for code in codes]


@dataclass(frozen=True, slots=True)
class Line:
    """One allocation a suggestion proposes: money from the entry, and a fee it absorbs."""

    expected_id: int
    amount: int
    fee: int = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """One explanation of an entry: it pays ``lines`` of ``payer_id``'s receivables.

    ``score`` is the log-odds from the evidence alone, before it is weighed against the
    other candidates.
    """

    payer_id: int
    lines: tuple[Line, ...]
    reasons: tuple[Reason, ...]
    score: float
    due_date: date  # the earliest due date among the lines, to rank ties
    signature: tuple | None = None  # equal for interchangeable candidates

    @property
    def expected_ids(self) -> tuple[int, ...]:
        return tuple(line.expected_id for line in self.lines)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A ranked candidate: ``confidence`` is weighed against every other candidate."""

    rank: int
    payer_id: int
    lines: tuple[Line, ...]
    confidence: Decimal
    reasons: tuple[Reason, ...]
    score: float

    @property
    def expected_ids(self) -> tuple[int, ...]:
        return tuple(line.expected_id for line in self.lines)

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def fee(self) -> int:
        return sum(line.fee for line in self.lines)

    @property
    def codes(self) -> list[str]:
        """Return the reasons as stored on an allocation (``amount_fee:660``)."""
        return [str(reason) for reason in self.reasons]

    @property
    def labels(self) -> list[str]:
        return [reason.label for reason in self.reasons]


def _probability(value: float) -> Decimal:
    # Rounded down, so 0.8996 never passes a 0.900 threshold.
    return Decimal(str(min(max(value, 0.0), 1.0))).quantize(Decimal("0.001"), ROUND_DOWN)


# Evidence ------------------------------------------------------------------------------


def date_reason(value_date: date, due_date: date) -> Reason:
    """Return the evidence of paying on ``value_date`` an invoice due on ``due_date``.

    Payers pay on their due date or within a few days of it; a month late or early is far
    less likely, so the weights fall by about the log of how much rarer it is."""
    days = (value_date - due_date).days  # positive: paid late
    if days == 0:
        return Reason("due_on", DUE_NEAR)
    if -3 <= days <= 5:
        return Reason("due_near", DUE_NEAR, abs(days))
    if days > 5:
        weight = next(w for upto, w in LATE_WEIGHTS if days <= upto)
        return Reason("due_late", weight, days)
    early = -days
    return Reason("due_early", next(w for upto, w in EARLY_WEIGHTS if early <= upto), early)


def amount_fit(outstanding: int, amount: int, tolerance: int) -> int | None:
    """Return the bank fee that makes ``amount`` pay ``outstanding`` in full (0 when exact),
    or None when it does not (more than the balance, or short by more than ``tolerance``)."""
    short = outstanding - amount
    return short if 0 <= short <= tolerance else None


def chance_band(amount: int) -> int:
    """Return the half-width (yen) of the band around an amount in which balances or sums
    are counted to tell how likely a fit is by chance."""
    return max(amount // 20, 5_000)


def fit_weight(cap: float, *, near: int, width: int, amount: int, tolerance: int = 0) -> float:
    """Return the weight of an amount fit: at most ``cap``, less the likelier it is by chance.

    ``near`` balances (or sums of balances) were found within ``chance_band`` of the amount,
    each accepted within ``width`` yen; under "this money is for none of them" about
    ``near × width / band`` of them fit by chance, and finding one is worth ``-ln`` of that.
    So an exact fit among a payer's twenty invoices is near-proof, and a fit short by some
    fee among thousands of sums near the amount is not.
    """
    chance = max(near, 1) * max(width, 1) / (2 * chance_band(amount) + tolerance)
    return min(cap, -math.log(chance) + CHANCE_OFFSET)


def amount_reasons(caps: tuple[float, float, float], fee: int, *, near: int, amount: int,
                   tolerance: int, usual: frozenset[int]) -> list[Reason]:  # fmt: skip
    """Return the reasons of a fit short by ``fee`` (0: exact): the fit, weighed by ``caps``
    (exact, short by a usual bank fee, short by another amount), and the chance discount."""
    usual_widths = sum(1 for f in usual if 0 < f <= tolerance)
    if fee == 0:
        top, width, code = caps[0], 1, "amount_exact"
    elif fee in usual:
        top, width, code = caps[1], usual_widths, "amount_fee"
    else:
        top, width, code = caps[2], max(tolerance - usual_widths, 1), "amount_fee"
    value = fee or None
    weight = fit_weight(top, near=near, width=width, amount=amount, tolerance=tolerance)
    if top - weight < CHANCE_SHOWN:
        return [Reason(code, weight, value)]
    return [Reason(code, top, value), Reason("amount_common", weight - top)]


@dataclass(frozen=True, slots=True)
class CombinationSearch:
    """Combinations found (items in the order tried), whether the search ran to its end
    (False when it stopped at the step bound), the steps taken and how many of the sums
    tried fell within ``chance_band`` of the amount."""

    combinations: tuple[tuple[OpenItem, ...], ...]
    complete: bool
    steps: int
    near: int
    space: int = 0  # combinations of the items there are in all (sizes 2 to the bound)

    @property
    def chances(self) -> int:
        """Return how many sums near the amount there are, as far as one can tell: those met,
        or, when the search stopped at its bound, as many in the whole space."""
        if self.complete or not self.steps:
            return self.near
        return max(self.near, round(self.near * self.space / self.steps))


def find_combinations(
    items: Sequence[OpenItem],
    amount: int,
    tolerance: int,
    *,
    max_size: int = MAX_COMBINATION_SIZE,
    max_steps: int = MAX_COMBINATION_STEPS,
    limit: int = MAX_COMBINATIONS,
) -> CombinationSearch:
    """Return sets of two to ``max_size`` items whose balances add up to ``amount``, or to
    ``amount`` plus a bank fee of at most ``tolerance``.

    Depth-first over the items in the order given (the engine puts the invoices the entry
    names first, then those due nearest the value date), so the likely combinations are
    tried first; a branch stops as soon as it overshoots or can no longer reach the amount
    with the places it has left. Bounded: at most ``max_steps`` additions tried and
    ``limit`` results kept. Among combinations that fit alike, ``rank`` puts those with the
    earliest due dates first.
    """
    ordered = [item for item in items if item.outstanding > 0]
    count = len(ordered)
    # reach[index][k]: the most k more items from ``index`` on can add (the k largest), so a
    # branch that cannot reach the amount with the places it has left stops at once.
    reach = [[0] * (max_size + 1) for _ in range(count + 1)]
    largest: list[int] = []
    for index in range(count - 1, -1, -1):
        insort(largest, -ordered[index].outstanding)
        del largest[max_size:]
        running = 0
        for k in range(1, max_size + 1):
            running -= largest[k - 1] if k <= len(largest) else 0
            reach[index][k] = running
    low, high = amount, amount + tolerance
    band = chance_band(amount)
    found: list[tuple[OpenItem, ...]] = []
    chosen: list[OpenItem] = []
    steps = near = 0
    capped = False

    def extend(start: int, total: int) -> None:
        nonlocal steps, near, capped
        places = max_size - len(chosen)
        for index in range(start, count):
            if total + reach[index][places] < low or len(found) >= limit:
                return
            if steps >= max_steps:
                capped = True
                return
            steps += 1
            new_total = total + ordered[index].outstanding
            if chosen and low - band <= new_total <= high + band:
                near += 1
            if new_total > high:
                continue
            chosen.append(ordered[index])
            if new_total >= low and len(chosen) >= 2:
                found.append(tuple(chosen))
            if len(chosen) < max_size and new_total < high:
                extend(index + 1, new_total)
            chosen.pop()

    if amount > 0 and count >= 2:
        extend(0, 0)
    space = sum(math.comb(count, k) for k in range(2, max_size + 1))
    return CombinationSearch(tuple(found), not capped, steps, near, space)


def with_equal_swaps(
    combinations: Iterable[tuple[OpenItem, ...]], pool: Sequence[OpenItem], limit: int = 8
) -> list[tuple[OpenItem, ...]]:
    """Return the combinations and, for each, those with a member swapped for another item
    of the same balance: they add up alike, so a search stopped at its bound must not make
    one of them look certain for want of having reached the other."""
    by_balance: dict[int, list[OpenItem]] = {}
    for item in pool:
        by_balance.setdefault(item.outstanding, []).append(item)
    result: dict[frozenset[int], tuple[OpenItem, ...]] = {}
    for members in combinations:
        result.setdefault(frozenset(i.id for i in members), members)
        added = 0
        for position, member in enumerate(members):
            for other in by_balance.get(member.outstanding, ()):
                if added >= limit or any(other is m for m in members):
                    continue
                swapped = (*members[:position], other, *members[position + 1 :])
                if result.setdefault(frozenset(i.id for i in swapped), swapped) is swapped:
                    added += 1
    return list(result.values())


def _by_nearness(items: Iterable[OpenItem], value_date: date) -> list[OpenItem]:
    return sorted(
        items, key=lambda item: (abs((value_date - item.due_date).days), item.due_date, item.id)
    )


def _window(items: Sequence[OpenItem], value_date: date) -> list[OpenItem]:
    """Return the open items due near the value date, nearest first, at most MAX_WINDOW_ITEMS."""
    near = [
        item
        for item in items
        if item.outstanding > 0
        and -WINDOW_EARLY_DAYS <= (value_date - item.due_date).days <= WINDOW_LATE_DAYS
    ]
    return _by_nearness(near, value_date)[:MAX_WINDOW_ITEMS]


def _groups(items: Sequence[OpenItem], value_date: date) -> list[tuple[str, list[OpenItem]]]:
    """Return the natural sets of invoices one transfer pays: all those of one deal due on
    one day (a payer's system pays per supplier, and the supplier's invoices are that deal),
    all those due on one day, and all those due up to a day (arrears with the current ones).
    """
    by_due: defaultdict[date, list[OpenItem]] = defaultdict(list)
    by_deal: defaultdict[tuple[int, date], list[OpenItem]] = defaultdict(list)
    for item in items:
        by_due[item.due_date].append(item)
        if item.deal_id:
            by_deal[item.deal_id, item.due_date].append(item)
    near = {
        day for day in by_due if -WINDOW_EARLY_DAYS <= (value_date - day).days <= WINDOW_LATE_DAYS
    }
    groups: list[tuple[str, list[OpenItem]]] = []
    for (_deal, day), members in by_deal.items():
        if day in near and 2 <= len(members) < len(by_due[day]):
            groups.append(("whole_deal_due_date", members))
    groups.extend(("whole_due_date", by_due[day]) for day in sorted(near) if len(by_due[day]) >= 2)
    so_far: list[OpenItem] = []
    for position, day in enumerate(sorted(by_due)):
        if (day - value_date).days > WINDOW_EARLY_DAYS:
            break
        so_far = [*so_far, *by_due[day]]
        if position >= 1:
            groups.append(("all_due_until", so_far))
    return groups


def _reference_reasons(members: Sequence[OpenItem], referenced: Mapping[int, str]) -> list[Reason]:
    if not referenced:
        return []
    inside = [referenced[item.id] for item in members if item.id in referenced]
    reasons = []
    if inside:
        share = len(inside) / len(members)
        reasons.append(Reason(f"reference_{inside[0]}", REFERENCE_FULL * max(share, 0.5)))
    if len(inside) < len(referenced):
        reasons.append(Reason("reference_other", REFERENCE_OTHER))
    return reasons


def _signature(members: Sequence[OpenItem], lines: Sequence[Line]) -> tuple | None:
    """Return what makes two candidates interchangeable (None: nothing does): the same
    deals, due dates, balances and amounts, only other invoices of equal value."""
    if any(not item.deal_id for item in members):
        return None
    return tuple(sorted(
        (item.deal_id, item.due_date, item.outstanding, line.amount, line.fee)
        for item, line in zip(members, lines, strict=True)
    ))  # fmt: skip


def _candidate(payer: PayerMatch, lines: list[Line], members: Sequence[OpenItem],
               reasons: list[Reason], facts: EntryFacts, referenced: Mapping[int, str], *,
               dated: OpenItem | None = None) -> Candidate:  # fmt: skip
    """Return a candidate, its date judged by ``dated`` or else by its worst-dated member."""
    dates = [
        date_reason(facts.value_date, item.due_date) for item in ([dated] if dated else members)
    ]
    worst = min(dates, key=lambda reason: reason.weight)
    evidence = [payer.reason, *reasons, worst, *_reference_reasons(members, referenced)]
    return Candidate(
        payer_id=payer.customer_id,
        lines=tuple(lines),
        reasons=tuple(evidence),
        score=PRIOR + sum(reason.weight for reason in evidence),
        due_date=min(item.due_date for item in members),
        signature=_signature(members, lines),
    )


def _paying_in_full(members: Sequence[OpenItem], fee: int) -> list[Line] | None:
    """Return lines paying every member in full, the fee booked on the largest one."""
    largest = max(members, key=lambda item: (item.outstanding, -item.id))
    if largest.outstanding <= fee:
        return None
    return [
        Line(item.id, item.outstanding - (fee if item is largest else 0),
             fee if item is largest else 0)
        for item in members
    ]  # fmt: skip


def candidates_for_payer(
    payer: PayerMatch,
    items: Sequence[OpenItem],
    facts: EntryFacts,
    tolerance: int,
    usual_fees: frozenset[int] | None = None,
) -> list[Candidate]:
    """Return every way the entry may pay ``items`` (the payer's open receivables): one
    invoice in full (exact, or short by a bank fee); all invoices due on a day, or up to a
    day; a combination of a few found by a bounded search; or, when nothing adds up (or an
    invoice it names is left out), part of one invoice or the oldest first."""
    amount = facts.amount
    open_items = [item for item in items if item.outstanding > 0]
    if amount <= 0 or not open_items:
        return []
    usual = bank_fees() if usual_fees is None else usual_fees
    referenced = {
        item.id: source
        for item in (open_items if facts.tokens else ())
        if (source := facts.source_of(item.reference)) is not None
    }
    band = chance_band(amount)
    found: list[Candidate] = []

    def fits(caps, fee: int, near: int) -> list[Reason]:
        return amount_reasons(caps, fee, near=near, amount=amount, tolerance=tolerance,
                              usual=usual)  # fmt: skip

    near = sum(1 for item in open_items if abs(item.outstanding - amount) <= band + tolerance)
    for item in open_items:
        fee = amount_fit(item.outstanding, amount, tolerance)
        if fee is not None:
            found.append(_candidate(payer, [Line(item.id, amount, fee)], [item],
                                    fits(SINGLE_CAPS, fee, near), facts, referenced))  # fmt: skip
    groups = _groups(open_items, facts.value_date)
    for kind, members in groups:
        fee = amount_fit(sum(item.outstanding for item in members), amount, tolerance)
        lines = None if fee is None else _paying_in_full(members, fee)
        if lines:
            latest = max(members, key=lambda item: item.due_date)
            reasons = [Reason(kind, 0.0, len(members)), *fits(GROUP_CAPS[kind], fee, len(groups))]
            found.append(_candidate(payer, lines, members, reasons, facts, referenced,
                                    dated=latest))  # fmt: skip
    # Named invoices first, then by due date nearest the value date; larger balances first
    # among invoices due the same day, so branches that cannot reach the amount stop early.
    window = sorted(
        _window(open_items, facts.value_date),
        key=lambda item: (abs((facts.value_date - item.due_date).days), -item.outstanding),
    )
    named = [item for item in open_items if item.id in referenced]
    pool = [*named, *(item for item in window if item.id not in referenced)]
    search = find_combinations(pool, amount, tolerance)
    for members in with_equal_swaps(search.combinations, pool):
        fee = sum(item.outstanding for item in members) - amount
        lines = _paying_in_full(members, fee)
        if not lines:
            continue
        reasons = [
            Reason("combination", -COMBINATION_ITEM_PENALTY * (len(members) - 2), len(members)),
            *fits(COMBINATION_CAPS, fee, search.chances),
        ]
        if len({item.due_date for item in members}) == 1:
            reasons.append(Reason("same_due_date", SAME_DUE_DATE))
        if not search.complete:
            reasons.append(Reason("search_capped", SEARCH_CAPPED))
        found.append(_candidate(payer, lines, members, reasons, facts, referenced))
    if payer.only is not None:  # known by an invoice number alone: only what fits
        return found
    covered = {line.expected_id for candidate in found for line in candidate.lines}
    # Nothing adds up, or a named invoice is left out: part of one invoice (named ones
    # first), else the oldest invoices first (more than any one of them is open).
    larger = [item for item in open_items if item.outstanding > amount + tolerance]
    partial = [item for item in larger if item.id in referenced and item.id not in covered]
    if not found:
        nearby = _window([item for item in larger if item.id not in referenced], facts.value_date)
        partial.extend(nearby[:MAX_PARTIAL_SUGGESTIONS])
    for item in partial:
        found.append(_candidate(payer, [Line(item.id, amount)], [item],
                                [Reason("amount_partial", PARTIAL)], facts, referenced))  # fmt: skip
    if not found:
        lines, members = _oldest_first(open_items, amount)
        found.append(_candidate(payer, lines, members,
                                [Reason("amount_oldest_first", OLDEST_FIRST)], facts,
                                referenced))  # fmt: skip
    return found


def _oldest_first(items: Sequence[OpenItem], amount: int) -> tuple[list[Line], list[OpenItem]]:
    """Return lines paying the oldest invoices in full until the amount runs out."""
    lines, members, left = [], [], amount
    for item in sorted(items, key=lambda i: (i.due_date, i.id)):
        if left <= 0:
            break
        take = min(item.outstanding, left)
        lines.append(Line(item.id, take))
        members.append(item)
        left -= take
    return lines, members


def rank(candidates: Iterable[Candidate], limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
    """Return the best ``limit`` candidates as suggestions, best first, each with its
    confidence against all the others and against none of them being right.

    Candidates that differ only by equal invoices of the same deal (same due date and
    balance) are one: the first of them stands for all, as staff would allocate it."""
    best: dict[tuple[int, ...], Candidate] = {}
    for candidate in candidates:
        key = tuple(sorted(candidate.expected_ids))
        if key not in best or candidate.score > best[key].score:
            best[key] = candidate
    merged: dict[object, list[Candidate]] = {}
    for key, candidate in sorted(best.items()):
        group = (candidate.payer_id, candidate.signature) if candidate.signature else key
        merged.setdefault(group, []).append(candidate)
    if not merged:
        return []
    kept: list[tuple[Candidate, float, int]] = []
    for group in merged.values():
        first = max(group, key=lambda c: c.score)
        score = first.score + math.log(sum(math.exp(c.score - first.score) for c in group))
        kept.append((first, score, len(group) - 1))
    kept.sort(key=lambda k: (-k[1], k[0].due_date, len(k[0].lines), k[0].expected_ids))
    top = kept[0][1]
    # Odds relative to the best, so large scores cannot overflow.
    weights = [math.exp(score - top) for _c, score, _n in kept]
    total = math.exp(-top) + sum(weights)
    suggestions = []
    for position, ((c, score, equal), weight) in enumerate(
        zip(kept[:limit], weights, strict=False)
    ):
        reasons = (*c.reasons, Reason("interchangeable", 0.0, equal)) if equal else c.reasons
        suggestions.append(
            Suggestion(rank=position + 1, payer_id=c.payer_id, lines=c.lines,
                       confidence=_probability(weight / total), reasons=reasons, score=score)
        )  # fmt: skip
    return suggestions


def suggest(
    facts: EntryFacts,
    payers: Iterable[PayerMatch],
    items_by_payer: Mapping[int, Sequence[OpenItem]],
    *,
    tolerance: int | None = None,
    limit: int = MAX_SUGGESTIONS,
) -> list[Suggestion]:
    """Return the ranked suggestions for an entry from its possible payers' open items."""
    tolerance = fee_tolerance() if tolerance is None else tolerance
    usual = bank_fees()
    candidates: list[Candidate] = []
    for payer in strongest(payers):
        items = items_by_payer.get(payer.customer_id, ())
        if payer.only is not None:
            items = [item for item in items if item.id in payer.only]
        candidates.extend(candidates_for_payer(payer, items, facts, tolerance, usual))
    return rank(candidates, limit)


def strongest(payers: Iterable[PayerMatch]) -> list[PayerMatch]:
    """Return one match per customer, the one whose name evidence weighs most."""
    best: dict[int, PayerMatch] = {}
    for payer in payers:
        kept = best.get(payer.customer_id)
        if kept is None or payer.weight > kept.weight:
            best[payer.customer_id] = payer
    return list(best.values())


def decide(
    suggestions: Sequence[Suggestion], threshold: Decimal | None = None
) -> Suggestion | None:
    """Return the suggestion to allocate automatically, or None to leave it to a person.

    The top suggestion qualifies when its confidence (already weighed against the
    runner-up and the rest) reaches the threshold.
    """
    threshold = auto_threshold() if threshold is None else threshold
    if suggestions and suggestions[0].confidence >= threshold:
        return suggestions[0]
    return None


# Payer names -------------------------------------------------------------------------


class NameIndex:
    """Customer keys (kana names and registered transfer names) → customers, to recognise
    payers exactly, by a part of the name, cut off by the bank, or by a near spelling."""

    def __init__(self) -> None:
        self._exact: dict[str, dict[int, str]] = {}
        self._sorted: list[str] | None = None
        self._by_length: dict[int, list[str]] | None = None
        # Matches by (payer name, raw payer name): a run asks once to load the book and
        # again to match, and once more per pass for an entry left waiting.
        self._matches: dict[tuple[str, str], tuple[PayerMatch, ...]] = {}

    def add(self, key: str, customer_id: int, how: str) -> None:
        """Register ``key`` (a payer_key) for a customer, ``how`` being transfer or reading."""
        if not key:
            return
        owners = self._exact.setdefault(key, {})
        if owners.get(customer_id) != "transfer":
            owners[customer_id] = how
        self._sorted = self._by_length = None
        self._matches.clear()

    def __len__(self) -> int:
        return len(self._exact)

    def match(self, payer_name: str, raw_payer_name: str = "") -> list[PayerMatch]:
        """Return the customers ``payer_name`` may be, strongest evidence first."""
        key = (payer_name, raw_payer_name)
        found = self._matches.get(key)
        if found is None:
            found = self._matches[key] = tuple(self._match(payer_name, raw_payer_name))
        return list(found)  # a copy: callers extend it

    def _match(self, payer_name: str, raw_payer_name: str) -> list[PayerMatch]:
        keys = payer_keys(payer_name)
        if not keys:
            return []
        primary, alternatives = keys[0], keys[1:]
        found = [PayerMatch(cid, how) for cid, how in self._exact.get(primary, {}).items()]
        for key in alternatives:
            found.extend(PayerMatch(cid, "part") for cid in self._exact.get(key, {}))
        if found:
            return strongest(found)
        if len(raw_payer_name or payer_name) >= TRUNCATED_LENGTH:
            found.extend(self._prefixed(primary))
        found.extend(self._similar(primary))
        return strongest(found)

    def _prefixed(self, key: str) -> list[PayerMatch]:
        # The last kana may have lost its dakuten to the cut (ｼﾞ cut after ｼ).
        key = key[:-1]
        if len(key) < MIN_TRUNCATED_KEY:
            return []
        if self._sorted is None:
            self._sorted = sorted(self._exact)
        found = []
        position = bisect_left(self._sorted, key)
        while position < len(self._sorted) and self._sorted[position].startswith(key):
            found.extend(PayerMatch(c, "truncated") for c in self._exact[self._sorted[position]])
            position += 1
            if len(found) > 10:  # a common beginning, not a cut-off name
                return []
        return found

    def _similar(self, key: str) -> list[PayerMatch]:
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        from customers.matching import max_edits

        edits = max_edits(len(key))
        if not edits:
            return []
        if self._by_length is None:
            self._by_length = {}
            for known in self._exact:
                self._by_length.setdefault(len(known), []).append(known)
        choices = [
            known
            for length in range(len(key) - edits, len(key) + edits + 1)
            for known in self._by_length.get(length, ())
        ]
        found = []
        for known, _distance, _index in process.extract(
            key, choices, scorer=OSA.distance, score_cutoff=edits, limit=5
        ):
            similarity = key_similarity(key, known)
            if similarity >= DUPLICATE_THRESHOLD:
                found.extend(PayerMatch(c, "similar", similarity) for c in self._exact[known])
        return found
