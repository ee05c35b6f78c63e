"""名寄せ: the normalised name key and name similarity (DESIGN §5 Customers and 名寄せ).

``normalize_name`` folds width and script, writes small kana full-size as bank transfer
names do, removes legal forms wherever they stand (kanji, abbreviations, bank-transfer
kana marks and spelled-out readings) and drops spaces and punctuation, so that
``株式会社山田商事``, ``山田商事（株）`` and ``㈱ 山田商事`` share one key, and
``ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ`` and ``ヤマダショウジ カブシキガイシャ`` share another.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import JaroWinkler, Levenshtein

from core.text import fold_small_kana, hiragana_to_katakana, nfkc, strip_punctuation

# A pair scoring at least this is a duplicate candidate (warned on create, listed for review).
DUPLICATE_THRESHOLD = 0.88

# Kanji legal forms, longest first so 一般社団法人 is removed before any shorter form.
_KANJI_FORMS = (
    "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人", "特定非営利活動法人",
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社",
)  # fmt: skip

# Bracketed abbreviations after NFKC (㈱ becomes (株)); brackets may be missing on one side.
_ABBREVIATIONS = ("一社", "一財", "株", "有", "同", "資", "名", "社", "財")

# Spelled-out readings after small-kana folding (ガイシャ → ガイシヤ); banks also write カイシヤ.
_SPELLED_READINGS = (
    "イツパンシヤダンホウジン", "イツパンザイダンホウジン",
    "カブシキガイシヤ", "カブシキカイシヤ", "ユウゲンガイシヤ", "ユウゲンカイシヤ",
    "ゴウドウガイシヤ", "ゴウドウカイシヤ", "ゴウシガイシヤ", "ゴウメイガイシヤ",
)  # fmt: skip

# Bank-transfer marks: カ) ヤマダ, ヤマダ (カ, (ユ), ド), シヤ) ザイ) (一般社団 / 財団).
_KANA_MARKS = ("カ", "ユ", "ド", "シ", "メ", "ザイ", "シヤ", "イ", "トク")

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
_KANA_MARK_RE = re.compile(
    rf"\((?:{_alternation(_KANA_MARKS)})\)"
    rf"|(?:^|(?<=[\s(]))(?:{_alternation(_KANA_MARKS)})\)"
    rf"|\((?:{_alternation(_KANA_MARKS)})(?=$|\s)"
)


def _fold(name: str) -> str:
    return fold_small_kana(hiragana_to_katakana(nfkc(name))).upper()


def strip_legal_forms(name: str) -> str:
    """Return ``name`` (already folded) without legal forms, keeping spaces and punctuation."""
    name = _KANJI_RE.sub(" ", name)
    name = _ABBREVIATION_RE.sub(" ", name)
    name = _SPELLED_RE.sub(" ", name)
    name = _KANA_MARK_RE.sub(" ", name)
    return _LATIN_FORMS.sub(" ", name)


def normalize_name(name: str) -> str:
    """Return the 名寄せ key of a company or person name."""
    if not name:
        return ""
    return strip_punctuation(strip_legal_forms(_fold(name)))


def name_similarity(a: str, b: str) -> float:
    """Return how alike two names are, from 0.0 (nothing shared) to 1.0 (same key).

    Compares the normalised keys with the best of Jaro–Winkler (typos near the end of a
    name) and normalised Levenshtein (a slip anywhere). Symmetric.
    """
    key_a, key_b = normalize_name(a), normalize_name(b)
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 1.0
    return max(
        JaroWinkler.normalized_similarity(key_a, key_b),
        Levenshtein.normalized_similarity(key_a, key_b),
    )
