"""名寄せ candidates: the pair score, the live form check, the batch engine and its command."""

from __future__ import annotations

import random
from io import StringIO

import jaconv
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from faker import Faker

from customers.dedup import (
    MAX_BLOCK,
    WINDOW,
    CustomerKeys,
    candidate_positions,
    find_duplicate_pairs,
    load_keys,
    pair_score,
    refresh_duplicate_candidates,
    similar_customers,
)
from customers.matching import DUPLICATE_THRESHOLD, normalize_name
from customers.models import Customer, DuplicateCandidate
from tests.factories import CustomerFactory
from tests.factories.customers import BankAccountFactory, corporate_number


@pytest.fixture(autouse=True)
def _english_reasons():
    """Check reasons against their English source strings, whatever the catalogue says."""
    with translation.override("en"):
        yield


def customer(name: str, kana: str = "", **fields) -> Customer:
    """Create a customer known by its name alone unless told otherwise (no 法人番号)."""
    fields.setdefault("corporate_number", None)
    fields.setdefault("phone", "")
    return CustomerFactory(name=name, name_kana=kana, **fields)


def keys(name: str, kana: str = "", **fields) -> CustomerKeys:
    return CustomerKeys(
        id=fields.pop("id", 1), name=name, name_key=normalize_name(name),
        kana_key=normalize_name(kana), **fields,
    )  # fmt: skip


class TestPairScore:
    def test_is_certain_for_the_same_corporate_number_whatever_the_names(self):
        score, reasons = pair_score(
            keys("山田商事", corporate_number="1234567890123"),
            keys("ヤマダ物産", corporate_number="1234567890123", id=2),
        )
        assert score == 1.0 and "Same corporate number" in reasons

    def test_is_certain_for_the_same_invoice_number(self):
        score, reasons = pair_score(
            keys("山田商事", invoice_number="T1234567890123"),
            keys("ヤマダ物産", invoice_number="T1234567890123", id=2),
        )
        assert score == 1.0 and reasons == ["Same invoice registration number"]

    def test_is_certain_for_a_variant_of_the_name(self):
        score, reasons = pair_score(keys("株式会社山田商事"), keys("山田商事(株)", id=2))
        assert score == 1.0 and reasons == ["Same name"]

    def test_matches_a_name_keyed_as_a_bank_transfer_name_by_its_reading(self):
        score, reasons = pair_score(
            keys("株式会社山田精密工業", "ヤマダセイミツコウギョウ"), keys("ｶ)ﾔﾏﾀﾞｾｲﾐﾂｺｳｷﾞｮｳ", id=2)
        )
        assert score == 1.0 and "Same reading (kana)" in reasons

    def test_finds_a_one_character_typo_when_the_reading_is_missing(self):
        score, reasons = pair_score(
            keys("株式会社山田精密工業"), keys("山田精蜜工業株式会社", id=2)
        )
        assert score >= DUPLICATE_THRESHOLD
        assert reasons == [f"Similar name ({score:.2f})"]

    def test_adds_up_slips_in_the_name_and_in_the_reading(self):
        score, _ = pair_score(
            keys("佐藤精密工業", "サトウセイミツコウギョウ"),
            keys("加藤精密工業", "カトウセイミツコウギョウ", id=2),
        )
        assert score < DUPLICATE_THRESHOLD

    def test_is_raised_by_a_shared_phone_address_and_bank_account(self):
        bare, _ = pair_score(keys("山田商事"), keys("山田商会", id=2))
        shared = {"phone_key": "0312345678", "address_key": "東京都千代田区丸の内1-1-1"}
        account = frozenset({"0001-001-1234567"})
        score, reasons = pair_score(
            keys("山田商事", bank_accounts=account, **shared),
            keys("山田商会", id=2, bank_accounts=account, **shared),
        )
        assert bare < DUPLICATE_THRESHOLD <= score <= 1.0
        assert reasons[-3:] == ["Same phone number", "Same address", "Shared bank account"]

    def test_ignores_a_phone_or_address_too_short_to_tell_anything(self):
        score, reasons = pair_score(
            keys("山田商事", phone_key="110", address_key="東京都"),
            keys("鈴木工業", id=2, phone_key="110", address_key="東京都"),
        )
        assert score < 0.5 and reasons == []

    def test_is_symmetric(self):
        a = keys("株式会社山田精密工業", "ヤマダセイミツ", phone_key="0312345678")
        b = keys("山田精蜜工業", id=2, phone_key="0312345678")
        assert pair_score(a, b) == pair_score(b, a)


@pytest.mark.django_db
class TestSimilarCustomers:
    def test_finds_a_variant_name_with_reasons(self):
        existing = customer("株式会社山田精密工業", "ヤマダセイミツコウギョウ")
        found = similar_customers(name="山田精密工業(株)")
        assert [c.customer for c in found] == [existing]
        assert found[0].score == 1.0 and found[0].reasons == ["Same name"]

    def test_finds_a_one_character_typo(self):
        existing = customer("株式会社山田精密工業", "ヤマダセイミツコウギョウ")
        found = similar_customers(name="株式会社山田精蜜工業")
        assert [c.customer for c in found] == [existing]
        assert found[0].score >= DUPLICATE_THRESHOLD
        assert found[0].reasons[0].startswith("Similar name")

    def test_finds_by_reading_typed_in_half_width_kana(self):
        existing = customer("株式会社山田精密工業", "ヤマダセイミツコウギョウ")
        found = similar_customers(name="ｶ)ﾔﾏﾀﾞｾｲﾐﾂｺｳｷﾞｮｳ")
        assert [c.customer for c in found] == [existing]
        assert "Same reading (kana)" in found[0].reasons

    def test_finds_by_phone_however_it_is_written(self):
        existing = customer("鈴木物産株式会社", phone="03-1234-5678")
        found = similar_customers(name="全然違う名前", phone="(03)1234-5678")
        assert [c.customer for c in found] == [existing]
        assert found[0].reasons == ["Same phone number"]

    def test_finds_by_address(self):
        existing = customer(
            "鈴木物産株式会社", prefecture="東京都", city="千代田区", street="丸の内1-2-3"
        )
        found = similar_customers(
            name="全然違う名前", prefecture="東京都", city="千代田区", street="丸の内１－２－３"
        )
        assert [c.customer for c in found] == [existing]
        assert found[0].reasons == ["Same address"]

    def test_finds_by_corporate_number(self):
        number = corporate_number(123456)
        existing = customer("鈴木物産株式会社", corporate_number=number)
        found = similar_customers(name="全然違う名前", corporate_number=number)
        assert [c.customer for c in found] == [existing]
        assert found[0].score == 1.0 and found[0].reasons == ["Same corporate number"]

    def test_leaves_out_unrelated_companies(self):
        customer("株式会社山田工業", "ヤマダコウギョウ")
        customer("東京建設株式会社", "トウキョウケンセツ")
        assert similar_customers(name="株式会社山田商事") == []
        assert similar_customers(name="京都建設") == []

    def test_leaves_out_merged_customers(self):
        survivor = customer("株式会社山田精密工業")
        customer("山田精密工業(株)", status="merged", merged_into=survivor)
        found = similar_customers(name="山田精密工業")
        assert [c.customer for c in found] == [survivor]

    def test_leaves_out_the_customer_being_edited(self):
        editing = customer("株式会社山田精密工業")
        other = customer("山田精密工業(株)")
        found = similar_customers(name="株式会社山田精密工業", exclude_pk=editing.pk)
        assert [c.customer for c in found] == [other]

    def test_lists_the_best_first_and_at_most_the_limit(self):
        exact = customer("株式会社山田精密工業", phone="0312345678")
        for n in range(4):
            customer(f"別会社{n}", phone="03-1234-5678")
        found = similar_customers(name="山田精密工業", phone="0312345678", limit=3)
        assert len(found) == 3 and found[0].customer == exact

    @pytest.mark.parametrize("size", [3, 40])
    def test_runs_in_one_query_whatever_the_register_size(self, size, django_assert_num_queries):
        for n in range(size):
            customer(f"株式会社山田{n}精密工業", phone=f"03{n:08d}")
        with django_assert_num_queries(1):
            found = similar_customers(name="山田1精密工業", phone="0300000001")
        assert found[0].customer.name == "株式会社山田1精密工業"


PLACES = (("東京", "トウキョウ"), ("大阪", "オオサカ"), ("名古屋", "ナゴヤ"))
TRADES = (
    ("精密工業", "セイミツコウギョウ"),
    ("総合物産", "ソウゴウブッサン"),
    ("電機製作所", "デンキセイサクショ"),
)


def generated_register(size: int = 30) -> set[tuple[int, int]]:
    """Create distinct companies, then duplicates of some typed the ways users type them.

    Return the (lower id, higher id) pairs a perfect search would find.
    """
    fake = Faker("ja_JP")
    fake.seed_instance(7)
    rng = random.Random(7)
    companies: list[tuple[Customer, list[str], str]] = []
    seen: set[str] = set()
    while len(companies) < size:
        surname, surname_kana, _romaji = fake.last_name_pair()
        (place, place_kana), (trade, trade_kana) = rng.choice(PLACES), rng.choice(TRADES)
        body, reading = f"{place}{surname}{trade}", f"{place_kana}{surname_kana}{trade_kana}"
        if body in seen:
            continue
        seen.add(body)
        created = customer(f"株式会社{body}", reading, phone=fake.phone_number())
        companies.append((created, [place, surname, trade], reading))
    variants = [
        lambda c, parts, reading: customer(f"{''.join(parts)}株式会社", reading),
        lambda c, parts, reading: customer(f"㈱{''.join(parts)}"),
        lambda c, parts, reading: customer(f"ｶ){jaconv.z2h(reading, kana=True)}"),
        lambda c, parts, reading: customer("　".join(parts), jaconv.kata2hira(reading)),
        lambda c, parts, reading: customer(f"株式会社{''.join(parts)[:-1]}亊", phone=c.phone),
    ]
    expected = set()
    for (company, parts, reading), make in zip(
        rng.sample(companies, len(variants)), variants, strict=True
    ):
        duplicate = make(company, parts, reading)
        expected.add((company.pk, duplicate.pk))
    return expected


@pytest.mark.django_db
class TestFindDuplicatePairs:
    def test_finds_injected_variants_and_pairs_nothing_else(self):
        expected = generated_register()
        found = find_duplicate_pairs()
        assert {(p.first_id, p.second_id) for p in found} == expected
        assert all(p.first_id < p.second_id and p.reasons for p in found)
        assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)

    def test_does_not_pair_similar_but_different_companies(self):
        customer("株式会社山田商事", "ヤマダショウジ")
        customer("株式会社山田工業", "ヤマダコウギョウ")
        customer("東京建設株式会社", "トウキョウケンセツ")
        customer("京都建設株式会社", "キョウトケンセツ")
        customer("佐藤精密工業株式会社", "サトウセイミツコウギョウ")
        customer("加藤精密工業株式会社", "カトウセイミツコウギョウ")
        assert find_duplicate_pairs() == []

    def test_counts_a_shared_bank_account_as_evidence(self):
        first = customer("株式会社山田商事")
        second = customer("山田商会")
        assert find_duplicate_pairs() == []
        BankAccountFactory(customer=first, number="7654321")
        BankAccountFactory(customer=second, number="7654321")
        [pair] = find_duplicate_pairs()
        assert (pair.first_id, pair.second_id) == (first.pk, second.pk)
        assert "Shared bank account" in pair.reasons

    def test_leaves_out_merged_customers(self):
        survivor = customer("株式会社山田精密工業")
        customer("山田精密工業(株)", status="merged", merged_into=survivor)
        assert find_duplicate_pairs() == []

    def test_searches_only_among_the_given_customers(self):
        first = customer("株式会社山田精密工業")
        second = customer("山田精密工業(株)")
        third = customer("(株)山田精密工業")
        pairs = find_duplicate_pairs(customer_ids=[first.pk, third.pk])
        assert [(p.first_id, p.second_id) for p in pairs] == [(first.pk, third.pk)]
        assert second.pk not in {p.second_id for p in pairs}

    def test_takes_a_lower_threshold_for_wider_searches(self):
        customer("株式会社山田商事")
        customer("山田商会")
        assert find_duplicate_pairs() == []
        assert len(find_duplicate_pairs(threshold=0.8)) == 1

    def test_compares_a_large_group_sharing_one_phone_in_windows(self):
        for n in range(MAX_BLOCK + 10):
            # Short unrelated names, so only the shared switchboard brings them together.
            customer(f"{chr(0x5000 + 7 * n)}{chr(0x6000 + 11 * n)}商事", phone="03-9999-0000")
        scored = candidate_positions(load_keys(), DUPLICATE_THRESHOLD)
        assert len(scored) <= (MAX_BLOCK + 10) * WINDOW


@pytest.mark.django_db
class TestRefreshDuplicateCandidates:
    @pytest.fixture(autouse=True)
    def _site_in_english(self, settings):
        settings.LANGUAGE_CODE = "en"

    def test_records_new_pairs_once(self):
        first = customer("株式会社山田精密工業")
        second = customer("山田精密工業(株)")
        assert refresh_duplicate_candidates() == (1, 0)
        assert refresh_duplicate_candidates() == (0, 0)
        candidate = DuplicateCandidate.objects.get()
        assert (candidate.first, candidate.second) == (first, second)
        assert candidate.status == DuplicateCandidate.Status.OPEN
        assert str(candidate.score) == "1.0000" and candidate.reasons

    def test_updates_the_score_and_reasons_of_open_pairs(self):
        customer("株式会社山田精密工業", phone="0312345678")
        second = customer("山田精蜜工業")
        refresh_duplicate_candidates()
        before = DuplicateCandidate.objects.get()
        second.phone = "03-1234-5678"
        second.save()
        assert refresh_duplicate_candidates() == (0, 1)
        after = DuplicateCandidate.objects.get()
        assert after.score > before.score
        assert "Same phone number" in after.reasons and after.pk == before.pk

    def test_never_reopens_a_dismissed_pair(self):
        customer("株式会社山田精密工業", phone="0312345678")
        second = customer("山田精蜜工業")
        refresh_duplicate_candidates()
        DuplicateCandidate.objects.update(status=DuplicateCandidate.Status.DISMISSED)
        second.phone = "0312345678"
        second.save()
        assert refresh_duplicate_candidates() == (0, 0)
        dismissed = DuplicateCandidate.objects.get()
        assert dismissed.status == DuplicateCandidate.Status.DISMISSED
        assert "Same phone number" not in dismissed.reasons

    def test_stores_reasons_in_the_site_language(self, settings):
        customer("株式会社山田精密工業")
        customer("山田精密工業(株)")
        settings.LANGUAGE_CODE = "ja"
        refresh_duplicate_candidates()
        with translation.override("ja"):
            assert DuplicateCandidate.objects.get().reasons == [translation.gettext("Same name")]


@pytest.mark.django_db
class TestFindDuplicatesCommand:
    def test_prints_its_counts(self):
        customer("株式会社山田精密工業")
        customer("山田精密工業(株)")
        out = StringIO()
        call_command("find_duplicates", stdout=out)
        assert "新規 1 件、更新 0 件、確認待ち 1 件" in out.getvalue()
        call_command("find_duplicates", "--threshold", "0.95", stdout=out)
        assert "新規 0 件" in out.getvalue()

    def test_refuses_a_threshold_outside_zero_to_one(self):
        with pytest.raises(CommandError):
            call_command("find_duplicates", "--threshold", "1.5", stdout=StringIO())


@pytest.mark.django_db
class TestSimilarCustomersBulk:
    def test_matches_many_unsaved_rows_like_the_form_check_does(self):
        from customers.dedup import probe_keys, similar_customers_bulk

        existing = CustomerFactory(name="株式会社山田商事", name_kana="ヤマダショウジ")
        CustomerFactory(name="株式会社田中工業", name_kana="タナカコウギョウ")
        probes = [
            probe_keys(name="山田商事（株）"),
            probe_keys(name="株式会社全く別の会社"),
            probe_keys(name="X", corporate_number=existing.corporate_number),
        ]
        results = similar_customers_bulk(probes)
        assert [c.customer for c in results[0]] == [existing]
        assert results[1] == []
        assert [c.customer for c in results[2]] == [existing]
        assert results[0][0].reasons == similar_customers(name="山田商事（株）")[0].reasons
