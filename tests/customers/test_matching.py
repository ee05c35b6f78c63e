"""名寄せ keys and name similarity (DESIGN §5 Customers and 名寄せ)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers.matching import (
    DUPLICATE_THRESHOLD,
    edit_similarity,
    key_similarity,
    max_edits,
    name_similarity,
    normalize_name,
)

FAMILIES = {
    "山田商事": [
        "株式会社山田商事", "山田商事株式会社", "(株)山田商事", "山田商事(株)", "㈱山田商事",
        "山田商事㈱", "（株）山田商事", "山田商事（株）", "株式会社　山田商事", "山田商事 株式会社",
        "山田 商事", "山田・商事",
    ],
    "ヤマダシヨウジ": [
        "ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ", "ﾔﾏﾀﾞｼｮｳｼﾞ(ｶ", "(ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ", "カ）ヤマダショウジ", "ヤマダショウジ（カ）",
        "カブシキガイシャヤマダショウジ", "ヤマダショウジ カブシキガイシャ",
        "ﾔﾏﾀﾞｼｮｳｼﾞ ｶﾌﾞｼｷｶﾞｲｼｬ", "ｶﾌﾞｼｷｶｲｼﾔ ﾔﾏﾀﾞｼﾖｳｼﾞ", "やまだしょうじ", "ヤマダショウジ",
        "ヤマダシヨウジ",
    ],
    "山田": [
        "有限会社山田", "山田有限会社", "(有)山田", "㈲山田", "山田(有)", "合同会社山田", "(同)山田",
        "合資会社山田", "(資)山田", "合名会社山田", "(名)山田",
    ],
    "ヤマダ": [
        "ﾕ)ﾔﾏﾀﾞ", "ﾔﾏﾀﾞ(ﾕ", "(ﾕ)ﾔﾏﾀﾞ", "ユウゲンガイシャヤマダ", "ﾄﾞ)ﾔﾏﾀﾞ", "ﾔﾏﾀﾞ(ﾄﾞ",
        "ゴウドウガイシャヤマダ", "ﾒ)ﾔﾏﾀﾞ", "ｼ)ﾔﾏﾀﾞ",
    ],
    "日本物流協会": [
        "一般社団法人日本物流協会", "(一社)日本物流協会", "日本物流協会（一社）",
        "一般財団法人日本物流協会", "(一財)日本物流協会", "公益社団法人日本物流協会",
    ],
    "ニホンブツリユウキヨウカイ": [
        "ｼﾔ)ﾆﾎﾝﾌﾞﾂﾘｭｳｷｮｳｶｲ", "ｼｬ)ﾆﾎﾝﾌﾞﾂﾘｭｳｷｮｳｶｲ", "ﾆﾎﾝﾌﾞﾂﾘｭｳｷｮｳｶｲ(ｼﾔ",
        "ｻﾞｲ)ﾆﾎﾝﾌﾞﾂﾘｭｳｷｮｳｶｲ", "イッパンシャダンホウジンニホンブツリュウキョウカイ",
    ],
    "山田会": ["医療法人社団山田会", "医療法人山田会", "(医)山田会", "社会福祉法人山田会"],
    "ABC商事": ["ＡＢＣ商事", "abc商事", "Abc 商事", "ａｂｃ　商事", "株式会社ABC商事", "ＡＢＣ商事㈱"],
    "キヤピタルパートナーズ": [
        "キャピタルパートナーズ", "キャピタル・パートナーズ", "ｷｬﾋﾟﾀﾙ ﾊﾟｰﾄﾅｰｽﾞ", "きゃぴたるぱーとなーず",
        "「キャピタル」パートナーズ", "キャピタル-パートナーズ",
    ],
    "AB": ["A&B", "A＆B", "A・B", "a-b", "[AB]"],
    "YAMADA": [
        "Yamada Co., Ltd.", "YAMADA CO.,LTD", "yamada inc.", "Yamada Inc", "Yamada Corporation",
        "Yamada Corp.", "Yamada K.K.", "Kabushiki Kaisha Yamada", "Yamada LLC", "ＹＡＭＡＤＡ",
    ],
}  # fmt: skip


def _variant_pairs() -> list[tuple[str, str]]:
    return [(name, key) for key, names in FAMILIES.items() for name in names]


class TestNormalizeName:
    @pytest.mark.parametrize(("name", "key"), _variant_pairs())
    def test_folds_every_variant_of_a_family_to_one_key(self, name, key):
        assert normalize_name(name) == key

    def test_writes_small_kana_full_size_as_banks_do(self):
        assert normalize_name("キャッシュ") == normalize_name("キヤツシユ") == "キヤツシユ"

    def test_keeps_the_long_vowel_mark(self):
        assert normalize_name("パートナー") == "パートナー"

    @pytest.mark.parametrize(
        "name",
        [
            "株田商店",
            "有田工業",
            "カナガワ運輸",
            "ドリーム",
            "シヤチハタ",
            "カブキ座",
            "名古屋製作所",
        ],
    )
    def test_leaves_legal_form_letters_that_are_part_of_the_name(self, name):
        assert normalize_name(name) == name

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("山田商事", "山田工業"),
            ("東京建設", "京都建設"),
            ("株式会社山田商事", "山田商事東京支店"),
            ("ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ", "ｶ)ﾔﾏﾀﾞｼｮｳｶｲ"),
            ("ABC商事", "ABD商事"),
            ("一般社団法人日本協会", "日本協会連合"),
        ],
    )
    def test_keeps_different_companies_apart(self, first, second):
        assert normalize_name(first) != normalize_name(second)

    def test_returns_an_empty_key_for_an_empty_name(self):
        assert normalize_name("") == ""
        assert normalize_name("株式会社") == ""


class TestNameSimilarity:
    @pytest.mark.parametrize(("name", "key"), _variant_pairs())
    def test_is_one_for_variants_of_one_name(self, name, key):
        assert name_similarity(name, FAMILIES[key][0]) == 1.0

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("山田商事", "山田工業"),
            ("東京建設", "京都建設"),
            ("山田商事", "山田商会"),
            ("佐藤商事", "加藤商事"),
            ("株式会社山田商事", "株式会社山田"),
            ("サンライズ物流", "ムーンライト物流"),
        ],
    )
    def test_stays_below_the_threshold_for_different_companies(self, first, second):
        assert name_similarity(first, second) < DUPLICATE_THRESHOLD

    @pytest.mark.parametrize(
        ("original", "typed"),
        [
            ("株式会社山田精密工業", "山田精蜜工業(株)"),  # wrong kanji
            ("株式会社山田精密工業", "株式会社山田精工業"),  # missing character
            ("株式会社山田精密工業", "株式会社山田精密鋼工業"),  # extra character
            ("株式会社山田精密工業", "株式会社山田密精工業"),  # two characters swapped
            ("サンライズテック", "サンライズテッコ"),
            ("ｶ)ﾔﾏﾀﾞｾｲﾐﾂ", "ｶ)ﾔﾏﾀｾｲﾐﾂ"),
        ],
    )
    def test_reaches_the_threshold_for_one_slip_in_six_or_more_characters(self, original, typed):
        assert name_similarity(original, typed) >= DUPLICATE_THRESHOLD

    def test_is_zero_when_a_name_is_empty(self):
        assert name_similarity("", "山田商事") == 0.0
        assert name_similarity("株式会社", "山田商事") == 0.0

    @given(st.text(max_size=20), st.text(max_size=20))
    def test_is_symmetric_and_between_zero_and_one(self, first, second):
        score = name_similarity(first, second)
        assert 0.0 <= score <= 1.0
        assert score == name_similarity(second, first)

    @given(st.text(max_size=20))
    def test_is_one_for_a_name_and_itself_when_it_has_a_key(self, name):
        assert name_similarity(name, name) == (1.0 if normalize_name(name) else 0.0)


KEY_ALPHABET = "山田川中本精密工業商事建設アイウカキクサシスヤマダABC"


class TestKeySimilarity:
    @given(
        st.text(alphabet=KEY_ALPHABET, min_size=6, max_size=18),
        st.integers(min_value=0, max_value=17),
        st.sampled_from(["substitute", "delete", "insert", "swap"]),
        st.sampled_from(KEY_ALPHABET),
    )
    def test_one_slip_in_six_or_more_characters_reaches_the_threshold(self, key, at, slip, char):
        at %= len(key)
        typed = {
            "substitute": key[:at] + char + key[at + 1 :],
            "delete": key[:at] + key[at + 1 :],
            "insert": key[:at] + char + key[at:],
            "swap": key[:at] + key[at + 1 : at + 2] + key[at : at + 1] + key[at + 2 :],
        }[slip]
        assert key_similarity(key, typed) >= DUPLICATE_THRESHOLD

    @given(st.text(alphabet=KEY_ALPHABET, max_size=12), st.text(alphabet=KEY_ALPHABET, max_size=12))
    def test_is_symmetric_and_between_zero_and_one(self, first, second):
        score = key_similarity(first, second)
        assert 0.0 <= score <= 1.0
        assert score == key_similarity(second, first)

    @given(st.integers(min_value=1, max_value=60), st.floats(min_value=0.5, max_value=0.99))
    def test_max_edits_agrees_with_the_score(self, length, threshold):
        allowed = max_edits(length, threshold)
        assert edit_similarity(length, allowed) >= threshold
        if allowed < length:
            assert edit_similarity(length, allowed + 1) < threshold

    def test_forgives_one_slip_from_six_characters_and_a_second_only_in_long_readings(self):
        assert [max_edits(n) for n in (4, 5, 6, 12, 19, 20)] == [0, 0, 1, 1, 1, 2]
