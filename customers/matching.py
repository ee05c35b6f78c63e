"""名寄せ: the normalised name key and name similarity (DESIGN §5 Customers and 名寄せ).

``normalize_name`` folds width and script, writes small kana full-size as bank transfer
names do, removes legal forms wherever they stand (kanji, abbreviations, bank-transfer
kana marks and spelled-out readings) and drops spaces and punctuation, so that
``株式会社山田商事``, ``山田商事（株）`` and ``㈱ 山田商事`` share one key, and
``ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ`` and ``ヤマダショウジ カブシキガイシャ`` share another.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

from core.text import fold_small_kana, hiragana_to_katakana, nfkc, strip_punctuation

# A pair scoring at least this is a duplicate candidate (warned on create, listed for review).
# With EDIT_WEIGHT below it forgives one slip in a key of 6+ characters and a second one
# only from 20 characters (long readings), and none in the 4-5 character names where one
# character makes another company (山田商事 / 山田商会, 東京建設 / 京都建設).
DUPLICATE_THRESHOLD = 0.88

# What one slip costs against one kept character in ``edit_similarity``; slips cost the
# square of their number, since a duplicate is usually one slip away, not several.
EDIT_WEIGHT = 0.6

# Kanji legal forms, longest first so 一般社団法人 is removed before any shorter form.
_KANJI_FORMS = (
    "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人", "特定非営利活動法人",
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社",
    "医療法人社団", "医療法人財団", "医療法人", "社会福祉法人", "学校法人", "有限責任事業組合",
)  # fmt: skip

# Bracketed abbreviations after NFKC (㈱ becomes (株)); brackets may be missing on one side.
_ABBREVIATIONS = (
    "一社", "一財", "公社", "公財", "特非", "株", "有", "同", "資", "名", "社", "財", "医", "福", "学",
)  # fmt: skip

# Spelled-out readings after small-kana folding (ガイシャ → ガイシヤ); banks also write カイシヤ.
_SPELLED_READINGS = (
    "イツパンシヤダンホウジン", "イツパンザイダンホウジン",
    "コウエキシヤダンホウジン", "コウエキザイダンホウジン",
    "カブシキガイシヤ", "カブシキカイシヤ", "ユウゲンガイシヤ", "ユウゲンカイシヤ",
    "ゴウドウガイシヤ", "ゴウドウカイシヤ", "ゴウシガイシヤ", "ゴウメイガイシヤ",
)  # fmt: skip

# Bank-transfer marks (全銀): カ) ヤマダ, ヤマダ (カ, (ユ), ド), シヤ) ザイ) (社団 / 財団),
# イ) 医療法人, フク) 社会福祉法人, ガク) 学校法人, トク) NPO, ソ) 相互会社.
KANA_MARKS = ("カ", "ユ", "ド", "シ", "メ", "ザイ", "シヤ", "イ", "トク", "フク", "ガク", "ソ")

_LATIN_FORMS = re.compile(
    r"\b(?:CO\.?\s*,?\s*LTD\.?|KABUSHIKI\s*KAISHA|K\.\s*K\.|INC\.?|CORP(?:ORATION)?\.?|"
    r"LTD\.?|LLC|G\.\s*K\.|GODO\s*KAISHA|YUGEN\s*KAISHA)(?=\s|$|[^A-Z])"
)


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_KANJI_RE = re.compile(_alternation(_KANJI_FORMS))
_ABBREVIATION_RE = re.compile(rf"\((?:{_alternation(_ABBREVIATIONS)})\)")
_SPELLED_RE = re.compile(_alternation(_SPELLED_READINGS))
# A kana mark touches its bracket: "カ)" at a word start, "(カ" at a word end, or "(カ)".
KANA_MARK_RE = re.compile(
    rf"\((?:{_alternation(KANA_MARKS)})\)"
    rf"|(?:^|(?<=[\s(]))(?:{_alternation(KANA_MARKS)})\)"
    rf"|\((?:{_alternation(KANA_MARKS)})(?=$|\s)"
)


def fold_name(name: str) -> str:
    """Return ``name`` as names are compared: width and script folded, small kana full-size,
    upper-case (legal forms and punctuation still in place)."""
    return fold_small_kana(hiragana_to_katakana(nfkc(name))).upper()


def strip_legal_forms(name: str) -> str:
    """Return ``name`` (already folded) without legal forms, keeping spaces and punctuation."""
    name = _KANJI_RE.sub(" ", name)
    name = _ABBREVIATION_RE.sub(" ", name)
    name = _SPELLED_RE.sub(" ", name)
    name = KANA_MARK_RE.sub(" ", name)
    return _LATIN_FORMS.sub(" ", name)


def normalize_name(name: str) -> str:
    """Return the 名寄せ key of a company or person name."""
    if not name:
        return ""
    return strip_punctuation(strip_legal_forms(fold_name(name)))


def edit_similarity(length: int, edits: int) -> float:
    """Return the similarity of two keys ``edits`` apart, the longer of ``length`` characters.

    Weighs the slips against the characters kept, so the tolerance grows with the length
    of the name: Japanese company names are short, and in four kanji one changed character
    is usually another company, while in a long name or reading it is usually a slip.
    """
    if edits <= 0:
        return 1.0 if length > 0 else 0.0
    kept = length - edits
    if kept <= 0:
        return 0.0
    return kept / (kept + EDIT_WEIGHT * edits * edits)


def key_similarity(key_a: str, key_b: str) -> float:
    """Return how alike two already normalised keys are, from 0.0 to 1.0 (same key).

    Counts slips as edits (insert, delete, substitute, swap two neighbours). Symmetric.
    """
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 1.0
    return edit_similarity(max(len(key_a), len(key_b)), OSA.distance(key_a, key_b))


def max_edits(length: int, threshold: float = DUPLICATE_THRESHOLD) -> int:
    """Return how many slips a key of ``length`` characters may take and still reach ``threshold``.

    Blocking in ``customers.dedup`` uses it so that no pair the score would accept is left
    uncompared.
    """
    edits = 0
    while edits < length and edit_similarity(length, edits + 1) >= threshold:
        edits += 1
    return edits


def name_similarity(a: str, b: str) -> float:
    """Return how alike two names are, from 0.0 (nothing shared) to 1.0 (same 名寄せ key).

    Variants of one name (legal form moved or abbreviated, width, script, spaces) score 1.0;
    otherwise see ``key_similarity``. Symmetric.
    """
    return key_similarity(normalize_name(a), normalize_name(b))
