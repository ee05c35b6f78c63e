"""Screening (反社・制裁): every customer and key person against every active watchlist.

Keys. Every name is compared in three spaces, each written in its own script so that a key
says what it is: the 名寄せ key of a name (kanji or mixed, ``customers.matching``), its
reading in katakana, and its romaji in upper case, folded so that Hepburn, Kunrei and
passport spellings agree (SI/SHI, TU/TSU, OHNO/ONO/OONO, JUMPEI/JUNPEI, YUUKO/YUKO).
Individuals get their romaji in both orders, since lists write FAMILY GIVEN and
GIVEN FAMILY alike. Readings a machine guessed from kanji (pykakasi) are kept in hiragana
and lower-case romaji, so the engine can tell a guess from a written reading: a guess is
evidence when it agrees exactly, never a reason to reject.

Index. ``ScreeningIndex`` holds every active entry of every active list in memory and
finds candidates by blocking, never by comparing every subject with every entry: exact
keys, the one-deletion neighbourhood of each name and romaji key (every pair one slip
apart shares one), and for keys long enough that two slips still count, sorted
neighbourhoods in forward and reversed order (shared prefix or shared suffix).

Score. The best key pair decides, written agreement first: the same name key, the same
kana, the same romaji. Kana are compared exactly (one kana apart is another given name:
ユウコ, ユキコ); romaji also within a slip, where one side was written in Latin letters.
When both sides wrote a name and a reading, a fuzzy score must hold in both (a slip keeps
one of them, another person changes both, as in ``customers.dedup``) and guesses are not
heard; otherwise a guessed reading that agrees counts. Dates of birth separate namesakes
(同姓同名): equal raises the score, different on both sides rules the pair out. A company
never hits a listed individual (or a person a listed organisation) unless the names agree
exactly.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from itertools import product
from typing import Any

import jaconv
from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rapidfuzz.distance import OSA
from simple_history.utils import bulk_create_with_history

from core.audit import audit_log
from core.text import hiragana_to_katakana, nfkc
from customers.choices import CustomerKind
from customers.dedup import KeyIndex
from customers.matching import edit_similarity, normalize_name, strip_legal_forms
from customers.models import Customer, KeyPerson

from .choices import EntryType, HitStatus
from .models import ScreeningHit, ScreeningRun, ScreeningState, Watchlist, WatchlistEntry

# A date of birth equal on both sides raises the name score by this much: enough to carry
# a one-slip name of four characters over the threshold, never enough to make a hit of a
# name that is not close.
DOB_BONUS = 0.10
# Sorted-neighbourhood window over long keys, where two slips may still reach the floor.
WINDOW = 4
# Keys shorter than this are looked up exactly only: one slip in two characters is a
# different name.
MIN_FUZZY_LENGTH = 3
# Customers per batch of ``screen_customers``: one transaction, one audit event.
BATCH_SIZE = 500

NAME, READING, ROMAJI = 0, 1, 2

_KATAKANA = re.compile(r"[\u30A1-\u30FA\u30FC]+")
_HIRAGANA = re.compile(r"[\u3041-\u3096\u30FC]+")
_KANJI = re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF々〆ヶ]")
_NOT_KATAKANA = re.compile(r"[^\u30A1-\u30FA\u30FC]+")
_LATIN_TOKEN = re.compile(r"[A-Z0-9]+")
_APOSTROPHES = re.compile(r"['’‘`]")

# Spelled-out legal forms with their small kana, which ``strip_legal_forms`` (written for
# keys with small kana folded) would miss; removed before a kana name is read as romaji.
_SMALL_KANA_FORMS = re.compile(
    "|".join(
        (
            "イッパンシャダンホウジン", "イッパンザイダンホウジン",
            "コウエキシャダンホウジン", "コウエキザイダンホウジン",
            "カブシキガイシャ", "カブシキカイシャ", "ユウゲンガイシャ", "ユウゲンカイシャ",
            "ゴウドウガイシャ", "ゴウドウカイシャ", "ゴウシガイシャ", "ゴウメイガイシャ",
        )
    )
)  # fmt: skip

# Katakana to Hepburn romaji, row by row; small kana and ッ are handled in ``kana_to_romaji``.
_KANA_ROMAJI = {
    kana: romaji
    for row, spelled in (
        ("アイウエオ", "A I U E O"), ("カキクケコ", "KA KI KU KE KO"),
        ("サシスセソ", "SA SHI SU SE SO"), ("タチツテト", "TA CHI TSU TE TO"),
        ("ナニヌネノ", "NA NI NU NE NO"), ("ハヒフヘホ", "HA HI FU HE HO"),
        ("マミムメモ", "MA MI MU ME MO"), ("ヤユヨ", "YA YU YO"),
        ("ラリルレロ", "RA RI RU RE RO"), ("ワヰヱヲン", "WA I E O N"),
        ("ガギグゲゴ", "GA GI GU GE GO"), ("ザジズゼゾ", "ZA JI ZU ZE ZO"),
        ("ダヂヅデド", "DA JI ZU DE DO"), ("バビブベボ", "BA BI BU BE BO"),
        ("パピプペポ", "PA PI PU PE PO"), ("ヴヮヵヶ", "VU WA KA KE"),
    )
    for kana, romaji in zip(row, spelled.split(" "), strict=True)
}  # fmt: skip
_SMALL_Y = {"ャ": "A", "ュ": "U", "ョ": "O"}
# Name readings of one-kanji given names, which a dictionary reads as words (学 ガク).
_NAME_READINGS = {
    kanji: tuple(readings.split("/"))
    for kanji, readings in (
        ("学", "マナブ"), ("充", "ミツル"), ("淳", "ジュン/アツシ"), ("幹", "ミキ"), ("誠", "マコト"),
        ("修", "オサム"), ("茂", "シゲル"), ("勇", "イサム"), ("実", "ミノル"), ("進", "ススム"),
        ("明", "アキラ"), ("豊", "ユタカ"), ("博", "ヒロシ"), ("清", "キヨシ"), ("隆", "タカシ"),
        ("武", "タケシ"), ("剛", "ツヨシ/タケシ"), ("聡", "サトシ"), ("薫", "カオル"), ("忍", "シノブ"),
        ("望", "ノゾミ"), ("恵", "メグミ"), ("翼", "ツバサ"), ("仁", "ヒトシ/ジン"), ("浩", "ヒロシ"),
        ("弘", "ヒロシ"), ("崇", "タカシ"), ("稔", "ミノル"), ("昇", "ノボル"), ("徹", "トオル"),
        ("亨", "トオル"), ("寛", "ヒロシ"), ("正", "タダシ"), ("守", "マモル"), ("渉", "ワタル"),
        ("亘", "ワタル"), ("智", "サトシ"), ("覚", "サトル"), ("悟", "サトル"), ("優", "ユウ/マサル"),
        ("勝", "マサル"), ("彰", "アキラ"), ("晃", "アキラ"), ("章", "アキラ"), ("光", "ヒカル"),
        ("輝", "ヒカル"), ("健", "ケン/タケシ"), ("愛", "アイ"), ("舞", "マイ"), ("彩", "アヤ"),
        ("香", "カオリ"), ("瞳", "ヒトミ"), ("梓", "アズサ"), ("茜", "アカネ"), ("遥", "ハルカ"),
        ("栞", "シオリ"), ("綾", "アヤ"), ("泉", "イズミ"), ("静", "シズカ"), ("幸", "ミユキ/サチ"),
        ("司", "ツカサ"), ("翔", "ショウ/カケル"), ("蓮", "レン"), ("陸", "リク"), ("巧", "タクミ"),
        ("匠", "タクミ"), ("岳", "ガク"), ("秀", "シュウ"), ("傑", "スグル"), ("新", "アラタ"),
    )
}  # fmt: skip
# Old and variant forms of kanji common in names (異体字), which NFKC leaves apart:
# 髙橋 and 高橋, 渡邊 and 渡辺 are one name to a registry clerk.
_ITAIJI = str.maketrans(
    "髙﨑嵜邊邉齋齊澤濱濵廣國櫻嶋嶌德惠眞壽藏榮實瀨曾槇桒冨淵峯嶽萬條來將傳團舘龍",
    "高崎崎辺辺斎斉沢浜浜広国桜島島徳恵真寿蔵栄実瀬曽槙桑富渕峰岳万条来将伝団館竜",
)
_SMALL_VOWEL = {"ァ": "A", "ィ": "I", "ゥ": "U", "ェ": "E", "ォ": "O"}

# Kunrei / Nihon-shiki and old passport spellings folded to one Hepburn-like form.
_ROMAJI_RULES = (
    (re.compile(r"SY(?=[AUO])"), "SH"),
    (re.compile(r"TY(?=[AUO])"), "CH"),
    (re.compile(r"(?:ZY|JY|DY)(?=[AUO])"), "J"),
    (re.compile(r"S(?=I)"), "SH"),
    (re.compile(r"T(?=I)"), "CH"),
    (re.compile(r"T(?=U)"), "TS"),
    (re.compile(r"(?<![SC])H(?=U)"), "F"),
    (re.compile(r"[ZD](?=I)"), "J"),
    (re.compile(r"D(?=U)"), "Z"),
    (re.compile(r"CCH"), "TCH"),
    (re.compile(r"M(?=[BMP])"), "N"),
    (re.compile(r"OH(?![AEIOUY])"), "O"),
)
# Long O and U, which passports leave out: written out, doubled, with H or not at all
# (ユウコ, YUUKO, YŪKO, YUKO; オオノ, OHNO, ONO). Long A, I and E stay, as passports
# write them (IIDA, NIIMI): folding them would join アエ and エエ.
_LONG_VOWELS = ((re.compile(r"OU"), "O"), (re.compile(r"([OU])\1+"), r"\1"))


# --- keys ------------------------------------------------------------------------------


def kana_to_romaji(kana: str) -> str:
    """Return katakana ``kana`` in upper-case Hepburn (キョウコ → KYOUKO, ハットリ → HATTORI)."""
    out: list[str] = []
    double = False
    for char in kana:
        if char in _SMALL_Y and out and out[-1].endswith("I") and len(out[-1]) > 1:
            stem = out[-1][:-1]
            palatal = stem.endswith(("SH", "CH", "J"))
            out[-1] = stem + ("" if palatal else "Y") + _SMALL_Y[char]
        elif char in _SMALL_Y:
            out.append("Y" + _SMALL_Y[char])
        elif char in _SMALL_VOWEL and out:
            stem = out[-1].rstrip("AEIOU") or ("W" if out[-1] == "U" else "")
            out[-1] = stem + _SMALL_VOWEL[char] if stem else out[-1] + _SMALL_VOWEL[char]
        elif char in _SMALL_VOWEL:
            out.append(_SMALL_VOWEL[char])
        elif char in ("ッ", "っ"):
            double = True
        elif char in _KANA_ROMAJI:
            romaji = _KANA_ROMAJI[char]
            if double and romaji[0] not in "AEIOUN":
                romaji = ("T" if romaji.startswith("CH") else romaji[0]) + romaji
            double = False
            out.append(romaji)
    return "".join(out)


def _without_marks(text: str) -> str:
    """Return ``text`` upper-cased without diacritics (Ō → O), apostrophes or width."""
    decomposed = unicodedata.normalize("NFKD", nfkc(text).upper())
    return _APOSTROPHES.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fold_romaji(text: str) -> str:
    """Return the comparable form of a romaji name, one spelling per sound.

    Upper case, letters and digits only, Kunrei spellings in Hepburn, long O and U short:
    OHNO, ŌNO, OONO and ONO are one key, as are SHIN'ICHI and SINITI.
    """
    text = "".join(_LATIN_TOKEN.findall(_without_marks(text)))
    for pattern, replacement in _ROMAJI_RULES:
        text = pattern.sub(replacement, text)
    for _round in range(3):
        folded = text
        for pattern, replacement in _LONG_VOWELS:
            folded = pattern.sub(replacement, folded)
        if folded == text:
            break
        text = folded
    return text


def _orders(tokens: list[str], individual: bool) -> set[str]:
    """Return the tokens joined as written and, for an individual, family and given swapped."""
    tokens = [token for token in tokens if token][:6]
    if not tokens:
        return set()
    joined = {"".join(tokens)}
    if individual and len(tokens) > 1:
        joined |= {
            "".join(reversed(tokens)),
            "".join(tokens[-1:] + tokens[:-1]),
            "".join(tokens[1:] + tokens[:1]),
        }
    return joined


def _latin_keys(name: str, individual: bool) -> set[str]:
    tokens = _LATIN_TOKEN.findall(strip_legal_forms(_without_marks(name)))
    return {key for key in (fold_romaji(joined) for joined in _orders(tokens, individual)) if key}


def _kana_tokens(name: str) -> list[str]:
    """Return a kana name's words in katakana, small kana kept and legal forms removed."""
    text = hiragana_to_katakana(nfkc(name)).upper()
    text = strip_legal_forms(_SMALL_KANA_FORMS.sub(" ", text))
    return [token for token in _NOT_KATAKANA.split(text) if token]


def _romaji_of_kana(tokens: list[str]) -> set[str]:
    """Return the romaji of a kana name in its own order.

    Kana write the family name first; the other order comes from the Latin side, which
    always has both. Swapping here too would let long vowels fold across the seam and
    join two other names (ユイ ノハマ, ユイノ オオハマ: both YUINOHAMA).
    """
    key = fold_romaji("".join(kana_to_romaji(token) for token in tokens))
    return {key} if key else set()


def name_keys(name: str, *, individual: bool) -> set[str]:
    """Return the keys of a name as written: its 名寄せ key, and for kana or Latin its romaji."""
    key = normalize_name(name or "").translate(_ITAIJI)
    if not key:
        return set()
    if _without_marks(key).isascii():
        return _latin_keys(name, individual)
    keys = {key}
    if _KATAKANA.fullmatch(key):
        keys |= _romaji_of_kana(_kana_tokens(name))
    return keys


@cache
def _kakasi() -> Any:
    import pykakasi

    return pykakasi.kakasi()


@lru_cache(maxsize=200_000)
def _read_word(word: str) -> tuple[tuple[str, str], ...] | None:
    """Return pykakasi's segments of one word as (written, katakana), or None if unreadable.

    Cached: family and given names repeat across a register, and pykakasi is the
    slowest step of keying a name.
    """
    word = word.translate(_ITAIJI)
    segments = _kakasi().convert(word)
    if "".join(segment["orig"] for segment in segments) != word:
        return None  # pykakasi dropped a character it could not read: no guess beats a wrong one
    if any(not s["kana"] or _KANJI.search(s["kana"]) for s in segments):
        return None
    return tuple((s["orig"], hiragana_to_katakana(s["kana"])) for s in segments)


def reading_keys(name: str, *, individual: bool) -> set[str]:
    """Return the machine reading of a name with kanji: hiragana, and lower-case romaji.

    Words come from the spaces in the name, or for an individual from pykakasi's split of
    an unspaced name into exactly two words (family, given). A one-kanji given name gets its usual name readings too (学: マナブ as well as the ガク
    pykakasi reads), since a dictionary reads a lone kanji as a word, not as a name.
    """
    if not name or not _KANJI.search(name):
        return set()
    read = [_read_word(word) for word in strip_legal_forms(nfkc(name).upper()).split()]
    words = [word for word in read if word is not None]
    if not words or len(words) < len(read):
        return set()
    if individual and len(words) == 1 and len(words[0]) == 2:
        words = [(part,) for part in words[0]]
    choices = []
    for number, word in enumerate(words, start=1):
        written, kana = "".join(o for o, _k in word), "".join(k for _o, k in word)
        given = individual and number == len(words) > 1
        extra = _NAME_READINGS.get(written, ()) if given else ()
        choices.append((kana, *(r for r in extra if r != kana)))
    keys: set[str] = set()
    for tokens in product(*choices):
        reading = normalize_name("".join(tokens))
        if not reading or not _KATAKANA.fullmatch(reading):
            continue
        keys.add(jaconv.kata2hira(reading))
        pieces = [piece for token in tokens for piece in _NOT_KATAKANA.split(token) if piece]
        keys |= {key.lower() for key in _romaji_of_kana(pieces)}
    return keys


def _classify(key: str) -> tuple[int, str, bool]:
    """Return (space, canonical key, machine-guessed) of a stored key."""
    if key.isascii():
        return ROMAJI, key.upper(), key != key.upper()
    if _KATAKANA.fullmatch(key):
        return READING, key, False
    if _HIRAGANA.fullmatch(key):
        return READING, jaconv.hira2kata(key), True
    return NAME, key, False


def _merge_keys(written: set[str], guessed: set[str]) -> list[str]:
    """Return written keys and the guesses no written key already holds, sorted."""
    return sorted(written | {key for key in guessed if _classify(key)[1] not in written})


def refresh_entry_keys(entry: WatchlistEntry) -> None:
    """Compute every comparable key of an entry's names and its content fingerprint (no save).

    The kanji name and kanji aliases also get their machine reading, so a customer stored
    only in kana or romaji still meets an entry the list wrote only in kanji.
    """
    individual = entry.entry_type != EntryType.ENTITY
    aliases = [alias for alias in (entry.aliases or []) if alias]
    written: set[str] = set()
    for text in (entry.name, entry.name_kana, entry.name_romaji, *aliases):
        written |= name_keys(text, individual=individual)
    guessed: set[str] = set()
    for text in (entry.name, *aliases):
        guessed |= reading_keys(text, individual=individual)
    entry.match_keys = _merge_keys(written, guessed)
    entry.fingerprint = entry.content_fingerprint()


# --- subjects ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """One screened name: the customer itself or one of its active key persons.

    ``individual`` is None for a sole proprietor, whose trade name may be a person's
    name or a business name.
    """

    customer_id: int
    person_id: int | None
    name: str
    keys: tuple[str, ...]
    date_of_birth: date | None
    address: str
    fingerprint: str
    individual: bool | None = None


def subject_fingerprint(kind: str, pk: int, names: Iterable[str], dob: date | None) -> str:
    """Return a hash of what identifies a subject: who it is, its names (as keyed) and DOB.

    Keyed names, so a width or spacing edit keeps remembered false positives; any real
    change of a name or of the date of birth brings them back for review.
    """
    parts = [f"{kind}:{pk}", *(normalize_name(name or "") for name in names)]
    parts.append(dob.isoformat() if dob else "")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _subject_keys(names: Sequence[str], kana: str, *, individual: bool) -> tuple[str, ...]:
    written: set[str] = set()
    for text in (*names, kana):
        written |= name_keys(text, individual=individual)
    # A reading typed by the customer is better than a guess; guess only when none is given.
    guessed = set() if kana else reading_keys(names[0], individual=individual)
    return tuple(_merge_keys(written, guessed))


def subjects_of(customer: Customer) -> list[Subject]:
    """Return the customer (names in every script) and each of its active key persons."""
    sole = customer.kind == CustomerKind.SOLE_PROPRIETOR
    subjects = [
        Subject(
            customer_id=customer.pk,
            person_id=None,
            name=customer.name,
            keys=_subject_keys(
                (customer.name, customer.name_en), customer.name_kana, individual=sole
            ),
            date_of_birth=None,
            address=customer.address,
            fingerprint=subject_fingerprint(
                "customer", customer.pk, (customer.name, customer.name_kana, customer.name_en), None
            ),
            individual=None if sole else False,
        )
    ]
    persons = sorted((p for p in customer.persons.all() if p.is_active), key=lambda p: p.pk)
    for person in persons:
        subjects.append(
            Subject(
                customer_id=customer.pk,
                person_id=person.pk,
                name=person.name,
                keys=_subject_keys((person.name,), person.name_kana, individual=True),
                date_of_birth=person.date_of_birth,
                address="",
                fingerprint=subject_fingerprint(
                    "person", person.pk, (person.name, person.name_kana), person.date_of_birth
                ),
                individual=True,
            )
        )
    return subjects


# --- the index ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    """What scoring needs of one list entry."""

    id: int
    watchlist_id: int
    name: str
    aliases: tuple[str, ...]
    name_kana: str
    name_romaji: str
    individual: bool
    date_of_birth: date | None
    birth_year: int | None
    fingerprint: str
    has_name: bool
    has_kana: bool
    any_kana: bool
    has_reading: bool
    guessed: frozenset[str]


@dataclass(frozen=True)
class Match:
    """A subject and an entry scoring at least the threshold, with the reasons shown."""

    subject: Subject
    entry: IndexedEntry
    score: float
    reasons: tuple[str, ...]


def _similarity(space: int, a: str, b: str) -> float:
    """Return how alike two keys of one space are; romaji slips weigh per kana (two letters)."""
    if a == b:
        return 1.0
    edits = OSA.distance(a, b)
    length = max(len(a), len(b))
    return edit_similarity(length if space == NAME else math.ceil(length / 2), edits)


def _two_slip_length(space: int, floor: float) -> int:
    """Return the shortest key where two slips still reach ``floor``."""
    for length in range(MIN_FUZZY_LENGTH, 400):
        units = length if space == NAME else math.ceil(length / 2)
        if edit_similarity(units, 2) >= floor:
            return length
    return 400


class _Evidence:
    """The best agreement found so far between one subject and one entry, space by space."""

    __slots__ = (
        "name",
        "name_key",
        "reading",
        "reading_key",
        "romaji",
        "romaji_key",
    )

    def __init__(self) -> None:
        self.name = 0.0
        self.name_key = ""
        # An equal reading (kana, or romaji in either order): 3 both written, 2 one side
        # guessed from kanji, 1 both guessed; 0 none.
        self.reading = 0
        self.reading_key = ""
        self.romaji = 0.0  # the best fuzzy romaji between written keys
        self.romaji_key = ""


class _Profile:
    """What one side has: a spelled name (kanji), kana (written or guessed), a written reading."""

    __slots__ = ("any_kana", "kana", "name", "reading")

    def __init__(self) -> None:
        self.name = self.kana = self.any_kana = self.reading = False

    def note(self, space: int, machine: bool) -> None:
        self.name |= space == NAME
        self.kana |= space == READING and not machine
        self.any_kana |= space == READING
        self.reading |= space != NAME and not machine

    @property
    def complete(self) -> bool:
        return self.name and self.reading


class ScreeningIndex:
    """Every active entry of every active list, filed for blocking (see the module docstring)."""

    def __init__(
        self,
        entries: Iterable[tuple[Any, ...]],
        list_versions: Sequence[tuple[int, int]],
        *,
        threshold: float,
    ) -> None:
        self.threshold = threshold
        # Below this a name score cannot reach the threshold even with a date of birth.
        self.floor = threshold - DOB_BONUS
        self.list_versions = {str(pk): version for pk, version in list_versions}
        self.versions_key = versions_key(list_versions)
        self.entries: list[IndexedEntry] = []
        self._key_ids: dict[str, int] = {}
        self._keys: list[str] = []
        self._spaces: list[int] = []
        self._postings: list[list[int]] = []
        self._fuzzy: list[bool] = []  # filed in the one-deletion neighbourhoods
        self._near = KeyIndex()
        self._long = {
            NAME: _two_slip_length(NAME, self.floor),
            ROMAJI: _two_slip_length(ROMAJI, self.floor),
        }
        long_keys: dict[int, list[tuple[str, int]]] = {NAME: [], ROMAJI: []}
        for row in entries:
            self._add(row, long_keys)
        # Sorted neighbourhoods, forward and reversed, for keys where two slips count.
        self._windows: dict[int, tuple[list[str], list[int], list[str], list[int]]] = {}
        for space, keyed in long_keys.items():
            forward = sorted(keyed)
            backward = sorted((key[::-1], kid) for key, kid in keyed)
            self._windows[space] = (
                [key for key, _kid in forward], [kid for _key, kid in forward],
                [key for key, _kid in backward], [kid for _key, kid in backward],
            )  # fmt: skip
        self._alias_keys: dict[int, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def _add(self, row: tuple[Any, ...], long_keys: dict[int, list[tuple[str, int]]]) -> None:
        (
            pk,
            watchlist_id,
            entry_type,
            name,
            aliases,
            kana,
            romaji,
            dob,
            year,
            keys,
            fingerprint,
        ) = row
        if not keys or not fingerprint:
            # Saved without the engine (a fixture, a raw insert): key it now.
            entry = WatchlistEntry(
                entry_type=entry_type, name=name, aliases=aliases or [], name_kana=kana,
                name_romaji=romaji, date_of_birth=dob, birth_year=year,
            )  # fmt: skip
            refresh_entry_keys(entry)
            keys, fingerprint = entry.match_keys, entry.fingerprint
        position = len(self.entries)
        classified = [_classify(key) for key in keys]
        guessed = frozenset(canonical for _space, canonical, machine in classified if machine)
        profile = _Profile()
        for space, _key, machine in classified:
            profile.note(space, machine)
        self.entries.append(
            IndexedEntry(
                id=pk,
                watchlist_id=watchlist_id,
                name=name,
                aliases=tuple(aliases or ()),
                name_kana=kana,
                name_romaji=romaji,
                individual=entry_type != EntryType.ENTITY,
                date_of_birth=dob,
                birth_year=year,
                fingerprint=fingerprint,
                has_name=profile.name,
                has_kana=profile.kana,
                any_kana=profile.any_kana,
                has_reading=profile.reading,
                guessed=guessed,
            )
        )
        for space, canonical, machine in classified:
            kid = self._key_ids.get(canonical)
            if kid is None:
                kid = len(self._keys)
                self._key_ids[canonical] = kid
                self._keys.append(canonical)
                self._spaces.append(space)
                self._postings.append([])
                self._fuzzy.append(False)
            # Only written keys are met within a slip: a slip from a guess proves nothing.
            fuzzy = space != READING and not machine and len(canonical) >= MIN_FUZZY_LENGTH
            if fuzzy and not self._fuzzy[kid]:
                self._fuzzy[kid] = True
                self._near.add_with_deletions(canonical, kid)
                if len(canonical) >= self._long[space]:
                    long_keys[space].append((canonical, kid))
            postings = self._postings[kid]
            if not postings or postings[-1] != position:
                postings.append(position)

    # Candidates --------------------------------------------------------------------------

    def _near_ids(self, key: str) -> set[int]:
        """Return the keys sharing ``key`` or one of its one-deletion variants."""
        first, shared = self._near.first, self._near.shared
        found: set[int] = set()
        for variant in (key, *(key[:i] + key[i + 1 :] for i in range(len(key)))):
            members = shared.get(variant)
            if members is not None:
                found.update(members)
            else:
                kid = first.get(variant)
                if kid is not None:
                    found.add(kid)
        return found

    def _window_ids(self, space: int, key: str) -> list[int]:
        forward_keys, forward_ids, backward_keys, backward_ids = self._windows[space]
        found: list[int] = []
        for keys, ids, probe in (
            (forward_keys, forward_ids, key),
            (backward_keys, backward_ids, key[::-1]),
        ):
            at = bisect_left(keys, probe)
            found.extend(ids[max(0, at - WINDOW) : at + WINDOW])
        return found

    def _candidates(self, space: int, key: str, *, fuzzy: bool) -> dict[int, float]:
        """Return the indexed keys of ``space`` equal or (if ``fuzzy``) near ``key``."""
        found: dict[int, float] = {}
        kid = self._key_ids.get(key)
        if kid is not None:
            found[kid] = 1.0
        if not fuzzy or space == READING or len(key) < MIN_FUZZY_LENGTH:
            return found
        nearby = self._near_ids(key)
        if len(key) >= self._long[space] - 2:
            nearby.update(self._window_ids(space, key))
        keys, spaces, floor = self._keys, self._spaces, self.floor
        for other in nearby:
            if other in found or spaces[other] != space:
                continue
            similarity = _similarity(space, key, keys[other])
            if similarity >= floor:
                found[other] = similarity
        return found

    # Scoring -----------------------------------------------------------------------------

    def matches(self, subject: Subject) -> list[Match]:
        """Return the entries ``subject`` may be, scoring at least the threshold, best first."""
        evidence: dict[int, _Evidence] = defaultdict(_Evidence)
        profile = _Profile()
        for raw in subject.keys:
            space, key, machine = _classify(raw)
            profile.note(space, machine)
            for kid, similarity in self._candidates(space, key, fuzzy=not machine).items():
                other = self._keys[kid]
                for position in self._postings[kid]:
                    found = evidence[position]
                    if space == NAME:
                        if similarity > found.name:
                            found.name, found.name_key = similarity, other
                        continue
                    # 3 both written, 2 one side guessed, 1 both guessed.
                    level = 3 - machine - (other in self.entries[position].guessed)
                    if space == READING or similarity == 1.0:
                        # Equal kana say more to the reviewer than equal romaji.
                        kana_first = level == found.reading and space == READING
                        if level > found.reading or kana_first:
                            found.reading, found.reading_key = level, other
                    elif level == 3 and similarity > found.romaji:
                        # Fuzzy romaji on a guess would be a guess about a guess.
                        found.romaji, found.romaji_key = similarity, other
        results = []
        for position, found in evidence.items():
            entry = self.entries[position]
            verdict = self._verdict(subject, profile, entry, found)
            if verdict is not None:
                score, reasons = verdict
                results.append(Match(subject, entry, score, self._reasons(position, *reasons)))
        results.sort(key=lambda match: (-match.score, match.entry.id))
        return results

    def _verdict(
        self, subject: Subject, profile: _Profile, entry: IndexedEntry, found: _Evidence
    ) -> tuple[float, tuple[_Evidence, bool, float, str]] | None:
        """Return the score of a pair and what its reasons need, or None when it is no hit.

        Written agreement decides first. When both sides wrote a name and a reading, both
        must agree (a slip keeps one of them, another person changes both) and guesses are
        not heard. Kana against kana is compared exactly: one kana apart is another name
        (ユウコ, ユキコ), so fuzzy romaji counts only where one side was written in Latin.
        """
        reading = found.reading
        if reading > 1 and found.reading_key.isascii() and profile.any_kana and entry.any_kana:
            # Equal in romaji, not in kana: romaji drops long vowels and the break after ン
            # (ユウキ and ユキ, アノ and アンオ), so it is a lead, worth one level less.
            reading -= 1
        exact_written = found.name == 1.0 or reading == 3
        # Two guesses agreeing count only where nobody wrote a reading (髙橋一朗, 高橋一郎).
        unread = not profile.reading and not entry.has_reading
        guessed_exact = reading == 2 or (reading == 1 and unread)
        complete = profile.complete and entry.has_name and entry.has_reading
        romaji = found.romaji if not (profile.kana and entry.has_kana) else 0.0
        if exact_written:
            name_score = 1.0
        elif complete:
            name_score = min(found.name, romaji)
        elif guessed_exact:
            name_score = 1.0
        else:
            name_score = max(found.name, romaji)
        mismatch = subject.individual is not None and subject.individual != entry.individual
        same_name = found.name == 1.0 or (reading == 3 and not found.reading_key.isascii())
        if mismatch and not same_name:
            return None  # a company and a listed person (or the reverse) need the same name
        bonus, dob_reason = 0.0, ""
        if entry.individual and subject.date_of_birth is not None:
            if entry.date_of_birth is not None:
                if entry.date_of_birth != subject.date_of_birth:
                    return None  # a namesake (同姓同名)
                bonus, dob_reason = DOB_BONUS, "dob"
            elif entry.birth_year is not None:
                if entry.birth_year != subject.date_of_birth.year:
                    return None
                # A year alone is shared by a sixtieth of everyone: a reason, no bonus.
                dob_reason = "year"
        score = round(min(1.0, name_score + bonus), 4)
        if score < self.threshold:
            return None
        return score, (found, guessed_exact and not complete, romaji, dob_reason)

    def _alias_only(self, position: int) -> frozenset[str]:
        """Return the keys an entry owes to its aliases alone (computed for hits only)."""
        keys = self._alias_keys.get(position)
        if keys is None:
            entry = self.entries[position]
            individual = entry.individual
            alias_keys = {
                _classify(key)[1]
                for alias in entry.aliases
                for key in name_keys(alias, individual=individual)
            }
            primary = {
                _classify(key)[1]
                for text in (entry.name, entry.name_kana, entry.name_romaji)
                for key in name_keys(text, individual=individual)
            }
            keys = self._alias_keys[position] = frozenset(alias_keys - primary)
        return keys

    def _reasons(
        self, position: int, found: _Evidence, guessed: bool, romaji: float, dob_reason: str
    ) -> tuple[str, ...]:
        reasons = []
        if found.name == 1.0:
            reasons.append(_("Same name"))
        elif found.name >= self.floor:
            reasons.append(_("Similar name (%(score).2f)") % {"score": found.name})
        # Readings derived from an equal name add nothing; typed ones do.
        if found.reading == 3:
            key = found.reading_key
            same = _("Same name in romaji") if key.isascii() else _("Same reading (kana)")
            if not (found.name == 1.0 and key.isascii()):
                reasons.append(same)
        elif found.name == 1.0:
            pass
        elif guessed:
            reasons.append(_("Same reading (guessed from the kanji)"))
        elif romaji >= self.floor:
            reasons.append(_("Similar name in romaji (%(score).2f)") % {"score": romaji})
        if self.entries[position].aliases:
            alias_only = self._alias_only(position)
            decisive = (found.name_key, found.reading_key, found.romaji_key)
            if any(key and key in alias_only for key in decisive):
                reasons.append(_("Alias"))
        if dob_reason == "dob":
            reasons.append(_("Same date of birth"))
        elif dob_reason == "year":
            reasons.append(_("Same year of birth"))
        return tuple(reasons)


def _active_lists() -> list[tuple[int, int]]:
    """Return (id, version) of every active list, by id."""
    return list(
        Watchlist.objects.filter(is_active=True).order_by("pk").values_list("pk", "version")
    )


def _active_entries() -> QuerySet[WatchlistEntry]:
    return WatchlistEntry.objects.filter(is_active=True, watchlist__is_active=True).order_by("pk")


def versions_key(list_versions: Iterable[tuple[int, int]]) -> str:
    """Return the key of (list id, version) pairs ordered by id: "1:3,2:7".

    Hashed when it would not fit ``ScreeningState.versions_key`` (dozens of active lists);
    the key is only ever compared for equality.
    """
    key = ",".join(f"{pk}:{version}" for pk, version in list_versions)
    limit = ScreeningState._meta.get_field("versions_key").max_length
    return key if len(key) <= limit else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def current_versions_key() -> str:
    """Return the versions of the active lists ("1:3,2:7"), which a screening state records."""
    return versions_key(_active_lists())


def build_index() -> ScreeningIndex:
    """Load every active entry of every active list (two queries) and file it for screening."""
    rows = _active_entries().values_list(
        "pk", "watchlist_id", "entry_type", "name", "aliases", "name_kana", "name_romaji",
        "date_of_birth", "birth_year", "match_keys", "fingerprint",
    )  # fmt: skip
    return ScreeningIndex(
        rows.iterator(chunk_size=5000), _active_lists(), threshold=settings.SCREENING_THRESHOLD
    )


_cached: dict[str, tuple[str, ScreeningIndex]] = {}


def _signature() -> str:
    """Return a hash of what the index is made of: list versions and every entry's content."""
    digest = hashlib.sha256(f"{settings.SCREENING_THRESHOLD}|{current_versions_key()}".encode())
    for pk, fingerprint, entry_type in (
        _active_entries().values_list("pk", "fingerprint", "entry_type").iterator(chunk_size=10000)
    ):
        digest.update(f"{pk}:{fingerprint}:{entry_type};".encode())
    return digest.hexdigest()


def get_index() -> ScreeningIndex:
    """Return this process's index, rebuilt when any active list or entry changed.

    The check reads two columns of the active entries (tens of milliseconds for 50,000),
    where a rebuild takes seconds; one screen from the customer page stays quick.
    """
    signature = _signature()
    cached = _cached.get("index")
    if cached is not None and cached[0] == signature:
        return cached[1]
    index = build_index()
    _cached["index"] = (signature, index)
    return index


# --- services ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningSummary:
    """What a batch re-screen did."""

    customers: int
    hits_opened: int
    suppressed: int
    seconds: float


_CUSTOMER_FIELDS = (
    "pk", "kind", "name", "name_kana", "name_en", "prefecture", "city", "street", "building",
)  # fmt: skip
_PERSON_FIELDS = ("pk", "customer", "name", "name_kana", "date_of_birth", "is_active")


def _locked_customers(ids: Sequence[int]) -> list[Customer]:
    """Lock the customers in pk order (as every service does) with their active persons."""
    persons = KeyPerson.objects.filter(is_active=True).only(*_PERSON_FIELDS).order_by("pk")
    return list(
        Customer.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .only(*_CUSTOMER_FIELDS)
        .prefetch_related(Prefetch("persons", queryset=persons))
        .order_by("pk")
    )


def _record(
    customers: Sequence[Customer], *, index: ScreeningIndex, actor: Any | None, job: str
) -> list[ScreeningRun]:
    """Screen ``customers`` and write their runs, new hits and states in bulk (no audit).

    A pair already open or confirmed is not opened again; a pair dismissed as a false
    positive stays dismissed while neither the subject nor the entry changed (the subject
    fingerprint and the entry fingerprint are both part of the remembered decision).
    """
    label = (actor.get_username() if actor is not None else job or "system")[:100]
    user = actor if actor is not None and actor.pk else None
    # Reasons are stored as shown, in the site language, whoever triggered the run.
    with translation.override(settings.LANGUAGE_CODE):
        screened = []
        for customer in customers:
            subjects = subjects_of(customer)
            screened.append((customer, subjects, [m for s in subjects for m in index.matches(s)]))
    pairs = {(m.subject.fingerprint, m.entry.id) for _c, _s, found in screened for m in found}
    decided: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    if pairs:
        rows = ScreeningHit.objects.filter(
            customer_id__in=[c.pk for c, _s, found in screened if found],
            subject_fingerprint__in={fingerprint for fingerprint, _entry in pairs},
            entry_id__in={entry for _fingerprint, entry in pairs},
        ).values_list("subject_fingerprint", "entry_id", "status", "entry_fingerprint")
        for fingerprint, entry_id, status, entry_fingerprint in rows:
            decided[fingerprint, entry_id].append((status, entry_fingerprint))

    runs, hits = [], []
    for customer, subjects, found in screened:
        run = ScreeningRun(
            customer=customer,
            run_by=user,
            run_label=label,
            started_at=timezone.now(),
            list_versions=index.list_versions,
            subjects=len(subjects),
        )
        for match in found:
            earlier = decided.get((match.subject.fingerprint, match.entry.id), ())
            if any(status != HitStatus.FALSE_POSITIVE for status, _fp in earlier):
                continue  # already open or confirmed: no duplicate
            if any(fp == match.entry.fingerprint for _status, fp in earlier):
                run.suppressed += 1
                continue
            run.hits_opened += 1
            hits.append(
                ScreeningHit(
                    run=run,
                    customer=customer,
                    person_id=match.subject.person_id,
                    subject_name=match.subject.name[:300],
                    subject_fingerprint=match.subject.fingerprint,
                    entry_id=match.entry.id,
                    entry_fingerprint=match.entry.fingerprint,
                    score=Decimal(f"{match.score:.4f}"),
                    reasons=list(match.reasons),
                )
            )
        runs.append(run)
    ScreeningRun.objects.bulk_create(runs)
    if hits:
        bulk_create_with_history(hits, ScreeningHit, default_user=user)
    ScreeningState.objects.bulk_create(
        [
            ScreeningState(
                customer=run.customer,
                last_run=run,
                screened_at=run.started_at,
                versions_key=index.versions_key,
            )
            for run in runs
        ],
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["last_run", "screened_at", "versions_key"],
    )
    return runs


def screen_customer(
    *,
    customer: Customer,
    actor: Any | None = None,
    job: str = "",
    index: ScreeningIndex | None = None,
) -> ScreeningRun:
    """Screen one customer and its active key persons against every active list now.

    Opens a hit for each new match at or above ``SCREENING_THRESHOLD``, records the run
    and the list versions it used, and writes one audit event, in one transaction. The
    state records the versions of the index used, so a list imported meanwhile is still
    due for this customer.
    """
    if index is None:
        index = get_index()
    with transaction.atomic():
        locked = _locked_customers([customer.pk])
        if not locked:
            raise Customer.DoesNotExist(customer.pk)
        (run,) = _record(locked, index=index, actor=actor, job=job)
        audit_log(
            actor=actor,
            actor_label=f"job:{job}" if actor is None and job else "",
            action="compliance.screened",
            subject=locked[0],
            data={
                "run": run.pk,
                "subjects": run.subjects,
                "hits_opened": run.hits_opened,
                "suppressed": run.suppressed,
                "list_versions": run.list_versions,
            },
        )
    return run


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def screen_customers(
    customer_ids: Iterable[int], *, job: str, batch_size: int = BATCH_SIZE
) -> ScreeningSummary:
    """Screen many customers with one index, in batches of ``batch_size``; return totals.

    Each batch is one transaction with a constant number of queries: the customers and
    their persons, the earlier decisions on the pairs found, bulk inserts of runs, hits
    (with history) and states, and one audit event naming every customer of the batch
    with the counts and list versions. One event per batch rather than per customer:
    the hash chain takes a lock and a read per event, which at 100,000 customers would
    cost more than the screening itself, while each customer's own evidence is its
    ScreeningRun row; the chained event makes any later change to the batch detectable.
    """
    started = time.perf_counter()
    ids = sorted(set(customer_ids))
    index = build_index()
    customers = opened = suppressed = 0
    for chunk in _chunks(ids, batch_size):
        with transaction.atomic():
            locked = _locked_customers(chunk)
            if not locked:
                continue
            runs = _record(locked, index=index, actor=None, job=job)
            batch_opened = sum(run.hits_opened for run in runs)
            batch_suppressed = sum(run.suppressed for run in runs)
            audit_log(
                actor=None,
                actor_label=f"job:{job}",
                action="compliance.screened",
                data={
                    "customers": [run.customer_id for run in runs],
                    "run_range": [runs[0].pk, runs[-1].pk],
                    "subjects": sum(run.subjects for run in runs),
                    "hits_opened": batch_opened,
                    "suppressed": batch_suppressed,
                    "list_versions": index.list_versions,
                },
            )
        customers += len(runs)
        opened += batch_opened
        suppressed += batch_suppressed
    return ScreeningSummary(
        customers=customers,
        hits_opened=opened,
        suppressed=suppressed,
        seconds=round(time.perf_counter() - started, 3),
    )
