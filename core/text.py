"""Japanese text normalisation primitives shared by 名寄せ, screening and 消込.

Each function does one thing so callers compose exactly the folding they need;
``customers.matching`` builds the 名寄せ key from these.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

# Small kana as bank transfer names write them: full-size (ャ→ヤ, ッ→ツ).
_SMALL_TO_FULL = str.maketrans(
    {
        "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ",
        "ッ": "ツ", "ャ": "ヤ", "ュ": "ユ", "ョ": "ヨ", "ヮ": "ワ",
        "ヵ": "カ", "ヶ": "ケ",
        "ぁ": "あ", "ぃ": "い", "ぅ": "う", "ぇ": "え", "ぉ": "お",
        "っ": "つ", "ゃ": "や", "ゅ": "ゆ", "ょ": "よ", "ゎ": "わ",
        "ゕ": "か", "ゖ": "け",
    }
)  # fmt: skip

# Spaces, middle dots, hyphens and dashes, ampersands, brackets and other punctuation.
# The long-vowel mark ー is part of a word and is kept.
_PUNCTUATION = re.compile(
    r"[\s\u3000・･.,，、。\-‐‑‒–—―−_~〜&＆/'\"`’‘“”!?！？:;：；"
    r"()（）\[\]［］{}｛｝「」『』【】〔〕〈〉《》<>＜＞]"
)


def nfkc(text: str) -> str:
    """Return ``text`` NFKC-normalised: full-width ASCII to half-width, half-width kana to full."""
    return unicodedata.normalize("NFKC", text)


def hiragana_to_katakana(text: str) -> str:
    """Return ``text`` with hiragana folded to katakana (やまだ → ヤマダ)."""
    return jaconv.hira2kata(text)


def fold_small_kana(text: str) -> str:
    """Return ``text`` with small kana written full-size (キャ → キヤ), as banks write names."""
    return text.translate(_SMALL_TO_FULL)


def strip_punctuation(text: str) -> str:
    """Return ``text`` without spaces, dots, hyphens, ampersands, brackets or quotes."""
    return _PUNCTUATION.sub("", text)


def collapse_spaces(text: str) -> str:
    """Return ``text`` trimmed, with runs of (full- or half-width) spaces made one space."""
    return re.sub(r"[\s\u3000]+", " ", text).strip()


def to_bank_kana(text: str) -> str:
    """Return a bank-written name width-folded to full-width katakana and trimmed.

    Legal-form marks such as ``カ)`` are kept; 名寄せ and 消込 normalise further.
    """
    return collapse_spaces(nfkc(text))


def fold_for_comparison(text: str) -> str:
    """Return the script- and width-insensitive form of ``text`` used before comparing names."""
    folded = fold_small_kana(hiragana_to_katakana(nfkc(text)))
    return strip_punctuation(folded).upper()
