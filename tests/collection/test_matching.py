"""collection.matching: payer keys, references, amount fits, the bounded combination search,
scoring and ranking — pure functions, no database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from collection.matching import (
    REASON_LABELS,
    EntryFacts,
    NameIndex,
    OpenItem,
    PayerMatch,
    amount_fit,
    auto_threshold,
    decide,
    describe,
    fee_tolerance,
    find_combinations,
    names_invoice,
    payer_key,
    payer_keys,
    reference_key,
    reference_tokens,
    suggest,
)

DUE = date(2026, 10, 30)
PAYER = 7


def item(pk: int, amount: int, *, due: date = DUE, invoice: str = "", deal: int = 0, payer=PAYER):
    return OpenItem(pk, payer, due, amount, reference_key(invoice), invoice, deal)


def facts(amount: int, *, on: date = DUE, edi: str = "", description: str = "", name: str = ""):
    return EntryFacts.of(amount=amount, value_date=on, payer_name=name, description=description,
                         edi_info=edi)  # fmt: skip


def ranked(entry: EntryFacts, items, how: str = "reading"):
    return suggest(entry, [PayerMatch(PAYER, how)], {PAYER: items}, tolerance=880)


class TestPayerKey:
    @pytest.mark.parametrize(
        "written",
        [
            "ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ",  # half-width, small kana as typed
            "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ",  # small kana written full-size, as banks do
            "カ)ヤマダシヨウジ",
            "ヤマダシヨウジ(カ",  # the legal form at the other end
            "ﾔﾏﾀﾞｼﾖｳｼﾞ(ｶ)",
            "ﾔﾏﾀﾞｼﾖｳｼﾞ ｶ)",
            "ヤマダショウジ",
            "やまだしょうじ",
            "ｶﾌﾞｼｷｶﾞｲｼﾔ ﾔﾏﾀﾞ ｼﾖｳｼﾞ",  # spelled out, with spaces
            "ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞｼｮｳｼﾞ",
        ],
    )
    def test_every_way_a_payer_writes_the_name_gives_one_key(self, written):
        assert payer_key(written) == "ヤマダシヨウジ"

    @pytest.mark.parametrize("written", ["ﾕ)ｻﾄｳｼﾖｳﾃﾝ", "ｻﾄｳｼﾖｳﾃﾝ(ﾕ", "ﾄﾞ)ｻﾄｳｼﾖｳﾃﾝ", "ｻﾄｳｼｮｳﾃﾝ"])
    def test_other_legal_forms_are_stripped_too(self, written):
        assert payer_key(written) == "サトウシヨウテン"

    def test_a_long_vowel_written_as_a_hyphen_matches_the_registered_reading(self):
        assert payer_key("ﾎ-ﾙﾃﾞｨﾝｸﾞｽ") == payer_key("ホールディングス") == payer_key("ﾎｰﾙﾃﾞｨﾝｸﾞｽ")

    def test_a_space_between_a_kana_and_its_dakuten_does_not_split_the_key(self):
        assert payer_key("ﾔﾏﾀ ﾞｼﾖｳｼﾞ") == "ヤマダシヨウジ"

    def test_a_branch_after_the_legal_form_or_a_number_in_front_gives_a_weaker_key(self):
        primary, *alternatives = payer_keys("ﾔﾏﾀﾞｼﾖｳｼﾞ(ｶ ﾄｳｷﾖｳｼﾃﾝ")
        assert primary == "ヤマダシヨウジトウキヨウシテン"
        assert "ヤマダシヨウジ" in alternatives
        assert payer_keys("123456 ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ")[1:] == ("ヤマダシヨウジ",)

    def test_a_plain_name_has_no_alternatives(self):
        assert payer_keys("ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ") == ("ヤマダシヨウジ",)


class TestReferences:
    def test_an_invoice_number_is_found_however_it_is_written(self):
        tokens = reference_tokens("ｾｲｷﾕｳ INV-00123")
        for number in ("INV-00123", "ＩＮＶ－００１２３", "inv00123"):
            assert names_invoice(tokens, reference_key(number))

    def test_the_digits_alone_name_the_invoice(self):
        assert names_invoice(reference_tokens("ﾌﾘｺﾐ 2510-00042"), reference_key("2510-00042"))
        assert names_invoice(reference_tokens("00123"), reference_key("INV-00123"))

    def test_short_numbers_and_words_are_not_references(self):
        assert reference_tokens("ﾌﾘｺﾐ ABC 12 X-9") == frozenset()
        assert not names_invoice(reference_tokens("20261030"), reference_key("INV-1030"))


class TestAmountFit:
    def test_the_fee_tolerance_is_880_yen_unless_configured(self, settings):
        assert fee_tolerance() == 880
        settings.COLLECTION_FEE_TOLERANCE = 660
        assert fee_tolerance() == 660

    def test_the_auto_threshold_is_configurable(self, settings):
        assert auto_threshold() == Decimal("0.900")
        settings.COLLECTION_AUTO_THRESHOLD = 0.95
        assert auto_threshold() == Decimal("0.95")

    @pytest.mark.parametrize(
        ("outstanding", "fee"),
        [(1_000_000, 0), (1_000_660, 660), (1_000_880, 880), (1_000_881, None), (999_999, None)],
    )
    def test_a_shortfall_up_to_the_tolerance_is_a_bank_fee(self, outstanding, fee):
        assert amount_fit(outstanding, 1_000_000, 880) == fee

    def test_a_payment_short_by_880_yen_pays_the_invoice_with_the_fee_booked(self):
        best = ranked(facts(1_000_000), [item(1, 1_000_880)])[0]
        assert best.expected_ids == (1,) and best.fee == 880 and best.amount == 1_000_000
        assert "amount_fee:880" in best.codes
        assert decide([best]) is best

    def test_a_payment_short_by_881_yen_is_only_a_part_payment(self):
        suggestions = ranked(facts(1_000_000), [item(1, 1_000_881)])
        assert [s.codes[1] for s in suggestions] == ["amount_partial"]
        assert suggestions[0].fee == 0 and decide(suggestions) is None

    def test_a_usual_bank_fee_weighs_more_than_an_odd_shortfall(self):
        usual = ranked(facts(1_000_000), [item(1, 1_000_660)])[0]
        odd = ranked(facts(1_000_000), [item(1, 1_000_661)])[0]
        assert usual.confidence > odd.confidence
        assert decide([odd]) is None


class TestFindCombinations:
    AMOUNTS = (120_000, 250_000, 333_333, 410_000, 77_777, 505_050, 91_000, 64_321)

    def items(self):
        return [item(pk, amount) for pk, amount in enumerate(self.AMOUNTS, 1)]

    def test_finds_the_three_invoices_that_add_up(self):
        search = find_combinations(self.items(), 333_333 + 77_777 + 64_321, 0)
        assert [[i.id for i in c] for c in search.combinations] == [[3, 5, 8]]
        assert search.complete

    def test_finds_a_combination_short_by_a_bank_fee(self):
        search = find_combinations(self.items(), 120_000 + 505_050 - 770, 880)
        assert [[i.id for i in c] for c in search.combinations] == [[1, 6]]

    def test_combines_at_most_the_size_bound(self):
        seven = [item(pk, 100_000 + pk) for pk in range(1, 8)]
        total = sum(i.outstanding for i in seven)
        assert find_combinations(seven, total, 0).combinations == ()
        assert len(find_combinations(seven, total, 0, max_size=7).combinations) == 1

    def test_stops_at_the_step_bound_and_says_it_did(self):
        many = [item(pk, 10_000 * pk + 7) for pk in range(1, 41)]
        search = find_combinations(many, 2_000_000, 0, max_steps=50)
        assert search.steps == 50 and not search.complete
        assert find_combinations(many, 2_000_000, 0).steps > 50

    def test_keeps_at_most_the_result_bound(self):
        equal = [item(pk, 100_000) for pk in range(1, 11)]
        assert len(find_combinations(equal, 200_000, 0, limit=3).combinations) == 3

    def test_ignores_paid_invoices_and_single_ones(self):
        paid = [item(1, 0), item(2, 50_000), item(3, 70_000)]
        assert find_combinations(paid, 50_000, 0).combinations == ()
        assert [[i.id for i in c] for c in find_combinations(paid, 120_000, 0).combinations] == [
            [2, 3]
        ]


class TestRanking:
    def test_several_invoices_of_one_payer_are_suggested_together(self):
        items = [item(1, 333_333), item(2, 77_777), item(3, 64_321), item(4, 505_050)]
        best = ranked(facts(333_333 + 64_321 - 440), items)[0]
        assert sorted(best.expected_ids) == [1, 3]
        assert {"combination:2", "amount_fee:440", "same_due_date"} <= set(best.codes)
        assert best.fee == 440 and sum(line.amount for line in best.lines) == 333_333 + 64_321 - 440

    def test_all_invoices_due_that_day_are_one_suggestion_however_many(self):
        items = [item(pk, 100_000 + pk) for pk in range(1, 10)]
        best = ranked(facts(sum(i.outstanding for i in items)), items)[0]
        assert len(best.lines) == 9 and "whole_due_date:9" in best.codes
        assert decide([best]) is best

    def test_an_exact_amount_outranks_a_bank_fee_shortfall(self):
        suggestions = ranked(facts(500_000), [item(1, 500_660), item(2, 500_000)])
        assert [s.expected_ids for s in suggestions] == [(2,), (1,)]
        assert suggestions[0].confidence > suggestions[1].confidence

    def test_the_invoice_due_nearest_the_value_date_ranks_first(self):
        far = item(1, 300_000, due=DUE - timedelta(days=60))
        near = item(2, 300_000, due=DUE - timedelta(days=1))
        suggestions = ranked(facts(300_000), [far, near])
        assert suggestions[0].expected_ids == (2,) and "due_near:1" in suggestions[0].codes
        assert decide(suggestions) is suggestions[0]

    def test_a_close_runner_up_keeps_the_best_below_the_threshold(self):
        suggestions = ranked(facts(300_000), [item(1, 300_000, deal=1), item(2, 300_000, deal=2)])
        assert [s.rank for s in suggestions] == [1, 2]
        assert all(s.confidence < Decimal("0.5") for s in suggestions)
        assert decide(suggestions) is None

    def test_equal_invoices_of_one_deal_are_one_suggestion_and_the_first_is_taken(self):
        suggestions = ranked(facts(300_000), [item(2, 300_000, deal=1), item(1, 300_000, deal=1)])
        assert len(suggestions) == 1 and suggestions[0].expected_ids == (1,)
        assert "interchangeable:1" in suggestions[0].codes
        assert decide(suggestions) is suggestions[0]

    def test_the_invoice_named_in_the_description_wins_over_an_amount_only_match(self):
        items = [item(1, 300_000, invoice="INV-001", deal=1),
                 item(2, 300_000, invoice="INV-002", deal=2)]  # fmt: skip
        suggestions = ranked(facts(300_000, description="ｾｲｷﾕｳ INV-002"), items)
        assert suggestions[0].expected_ids == (2,)
        assert "reference_description" in suggestions[0].codes
        assert "reference_other" in suggestions[1].codes
        assert decide(suggestions) is suggestions[0]

    def test_a_part_payment_naming_its_invoice_is_confident(self):
        items = [item(1, 900_000, invoice="INV-7"), item(2, 800_000, invoice="INV-8")]
        suggestions = ranked(facts(400_000, edi="INV-8"), items)
        assert suggestions[0].expected_ids == (2,) and suggestions[0].amount == 400_000
        assert {"amount_partial", "reference_edi"} <= set(suggestions[0].codes)
        assert decide(suggestions) is suggestions[0]
        assert decide(ranked(facts(400_000), items)) is None  # without the number: a person

    def test_a_recognised_name_weighs_more_than_a_similar_one(self):
        exact = ranked(facts(300_000), [item(1, 300_000)], "transfer")[0]
        similar = suggest(facts(300_000), [PayerMatch(PAYER, "similar", 0.9)],
                          {PAYER: [item(1, 300_000)]}, tolerance=880)[0]  # fmt: skip
        assert exact.confidence > similar.confidence and exact.codes[0] == "name_transfer"
        assert similar.codes[0] == "name_similar:90"

    def test_confidence_is_a_probability_rounded_down_to_three_places(self):
        for suggestion in ranked(facts(300_000), [item(1, 300_000), item(2, 300_000, deal=2)]):
            assert Decimal(0) <= suggestion.confidence <= Decimal(1)
            assert suggestion.confidence == suggestion.confidence.quantize(Decimal("0.001"))

    def test_nothing_is_suggested_without_open_invoices(self):
        assert ranked(facts(300_000), []) == [] and ranked(facts(300_000), [item(1, 0)]) == []


class TestReasons:
    def test_reasons_are_stored_as_codes_and_read_as_labels(self):
        with translation.override("en"):
            assert describe(["name_transfer", "amount_fee:660", "due_near:2", "combination:3"]) == [
                "Payer name matches a transfer name",
                "Short by a bank fee of 660 yen",
                "Paid within 2 days of the due date",
                "Several invoices paid together",
            ]

    def test_every_code_the_engine_gives_has_a_label(self):
        items = [item(1, 300_000, invoice="INV-1"), item(2, 200_000), item(3, 100_000)]
        codes = set()
        for entry in (facts(300_000, edi="INV-1"), facts(299_340), facts(500_000), facts(1_000)):
            for suggestion in ranked(entry, items):
                codes |= {code.partition(":")[0] for code in suggestion.codes}
        assert codes <= set(REASON_LABELS)

    def test_an_unknown_code_reads_as_itself(self):
        assert describe(["made_up:1"]) == ["made_up:1"]


class TestNameIndex:
    def index(self) -> NameIndex:
        index = NameIndex()
        index.add(payer_key("ヤマダショウジ"), 1, "reading")
        index.add(payer_key("ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"), 1, "transfer")
        index.add(payer_key("サトウケンセツコウギョウ"), 2, "reading")
        index.add(
            payer_key(
                "ヒガシニホンタナカセイミツコウギヨウエンジニアリングサービスホールディングスジヤパン"
            ),
            3,
            "reading",
        )
        return index

    def test_a_registered_transfer_name_is_the_strongest_evidence(self):
        assert [(m.customer_id, m.how) for m in self.index().match("ﾔﾏﾀﾞｼﾖｳｼﾞ(ｶ")] == [
            (1, "transfer")
        ]

    def test_a_slipped_character_in_a_long_name_is_still_recognised(self):
        (match,) = self.index().match("ｶ)ｻﾄｳｹﾝｾﾂｺｳｷﾞﾖｸ")
        assert match.customer_id == 2 and match.how == "similar" and match.similarity >= 0.88

    def test_a_name_the_bank_cut_off_is_recognised_by_its_start(self):
        written = "ｶ)ﾋｶﾞｼﾆﾎﾝﾀﾅｶｾｲﾐﾂｺｳｷﾞﾖｳｴﾝｼﾞﾆｱﾘﾝｸﾞｻｰﾋﾞｽﾎｰﾙﾃﾞｨﾝｸﾞｽｼﾞﾔﾊﾟﾝ"
        assert len(written) > 48
        (match,) = self.index().match(written[:48])  # the payer-name field is 48 bytes
        assert (match.customer_id, match.how) == (3, "truncated")
        assert self.index().match(written[:20]) == []  # a short name is not cut off

    def test_a_different_short_name_is_not_a_match(self):
        assert self.index().match("ｶ)ﾔﾏﾀﾞｼﾖｳｶｲ") == []
