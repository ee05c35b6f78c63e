import pytest

from core.text import (
    collapse_spaces,
    fold_for_comparison,
    fold_small_kana,
    hiragana_to_katakana,
    nfkc,
    strip_punctuation,
    to_bank_kana,
)


class TestPrimitives:
    def test_nfkc_folds_half_width_kana_and_full_width_ascii(self):
        assert nfkc("ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ") == "カ)ヤマダショウジ"
        assert nfkc("ＡＢＣ１２３") == "ABC123"

    def test_hiragana_becomes_katakana(self):
        assert hiragana_to_katakana("やまだしょうじ") == "ヤマダショウジ"

    @pytest.mark.parametrize(
        ("small", "full"),
        [
            ("キャ", "キヤ"),
            ("ショ", "シヨ"),
            ("ッ", "ツ"),
            ("ァィゥェォ", "アイウエオ"),
            ("ヮ", "ワ"),
        ],
    )
    def test_small_kana_are_written_full_size(self, small, full):
        assert fold_small_kana(small) == full

    def test_punctuation_and_spaces_are_removed_but_long_vowels_kept(self):
        assert strip_punctuation("サン・テック　(株) A&B-ー") == "サンテック株ABー"

    def test_collapse_spaces(self):
        assert collapse_spaces("  ヤマダ　　タロウ ") == "ヤマダ タロウ"


class TestComposed:
    def test_bank_kana_is_full_width_and_keeps_legal_form_marks(self):
        assert to_bank_kana(" ｶ)ﾔﾏﾀﾞ ｼｮｳｼﾞ ") == "カ)ヤマダ ショウジ"

    def test_comparison_form_ignores_script_width_and_small_kana(self):
        assert fold_for_comparison("ｷｬﾋﾟﾀﾙ・ﾃｯｸ") == fold_for_comparison("きゃぴたる てっく")
        assert fold_for_comparison("abc") == "ABC"
