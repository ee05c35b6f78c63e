"""反社・制裁 screening: keys, variant names, namesakes, remembered decisions, the services."""

from datetime import date

import factory
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from compliance import screening
from compliance.choices import EntryType, HitStatus
from compliance.models import ScreeningHit, ScreeningRun, ScreeningState, Watchlist
from compliance.screening import (
    build_index,
    current_versions_key,
    fold_romaji,
    kana_to_romaji,
    refresh_entry_keys,
    screen_customer,
    screen_customers,
    subjects_of,
)
from core.models import AuditEvent
from customers.choices import CustomerKind
from customers.models import Customer
from tests.factories import (
    CustomerFactory,
    KeyPersonFactory,
    UserFactory,
    WatchlistEntryFactory,
    WatchlistFactory,
)

TARO = {"name": "山田 太郎", "name_kana": "ヤマダ タロウ", "name_romaji": "YAMADA Taro"}


def shown(message: str) -> str:
    """Return a reason as hits store it: in the site language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def screen_person(name: str, kana: str = "", /, born: date | None = None, **entry_fields):
    """Screen a new key person against one new entry; return the run and their hits."""
    entry = WatchlistEntryFactory(**entry_fields)
    person = KeyPersonFactory(name=name, name_kana=kana, date_of_birth=born)
    run = screen_customer(customer=person.customer, job="test")
    return run, ScreeningHit.objects.filter(person=person, entry=entry)


class TestKeys:
    @pytest.mark.parametrize(
        ("written", "kana"),
        [
            ("Ohno", "オオノ"),
            ("ONO", "オオノ"),
            ("Shin'ichi", "シンイチ"),
            ("JUMPEI", "ジュンペイ"),
            ("Yūko", "ユウコ"),
            ("YUKO", "ユーコ"),
            ("Kyoko", "キョウコ"),
            ("Tiba", "チバ"),
            ("Tuyosi", "ツヨシ"),
            ("Hattori", "ハットリ"),
        ],
    )
    def test_romaji_spellings_fold_to_the_reading(self, written, kana):
        assert fold_romaji(written) == fold_romaji(kana_to_romaji(kana))

    @pytest.mark.django_db
    def test_an_individual_keeps_name_reading_and_romaji_in_both_orders(self):
        entry = WatchlistEntryFactory(**TARO)
        assert {"山田太郎", "ヤマダタロウ", "YAMADATARO", "TAROYAMADA"} <= set(entry.match_keys)
        assert entry.fingerprint == entry.content_fingerprint()

    @pytest.mark.django_db
    def test_a_kanji_name_without_reading_gets_a_machine_reading(self):
        entry = WatchlistEntryFactory(name="渡辺 直樹", name_kana="")
        assert {"わたなべなおき", "watanabenaoki"} <= set(entry.match_keys)

    @pytest.mark.django_db
    def test_latin_names_lose_their_macrons_and_come_in_both_orders(self):
        entry = WatchlistEntryFactory(name="Yūko Ōno", name_kana="")
        assert {"YUKONO", "ONOYUKO"} <= set(entry.match_keys)

    @pytest.mark.django_db
    def test_an_entity_loses_its_legal_form_and_keeps_its_word_order(self):
        entry = WatchlistEntryFactory(
            entry_type=EntryType.ENTITY, name="株式会社黒田興業", name_kana="カブシキガイシャクロダコウギョウ",
            name_romaji="Kuroda Kogyo Co., Ltd.",
        )  # fmt: skip
        assert {"黒田興業", "クロダコウギヨウ", "KURODAKOGYO"} <= set(entry.match_keys)
        assert "KOGYOKURODA" not in entry.match_keys

    @pytest.mark.django_db
    def test_refresh_does_not_save(self):
        entry = WatchlistEntryFactory(**TARO)
        entry.name = "山田 次郎"
        refresh_entry_keys(entry)
        entry.refresh_from_db()
        assert "山田太郎" in entry.match_keys


@pytest.mark.django_db
class TestVariantNames:
    @pytest.mark.parametrize(
        ("name", "kana"),
        [
            pytest.param("山田　太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", id="width"),
            pytest.param("やまだ　たろう", "", id="hiragana"),
            pytest.param("ヤマダ タロウ", "ヤマダ タロウ", id="kana-only"),
            pytest.param("Taro Yamada", "", id="romaji-swapped"),
            pytest.param("ＹＡＭＡＤＡ　ＴＡＲＯ", "", id="full-width-romaji"),
            pytest.param("山田 太郎", "", id="no-reading"),
        ],
    )
    def test_hit_the_listed_individual(self, name, kana):
        run, hits = screen_person(name, kana, **TARO)
        assert run.hits_opened == 1 and hits.count() == 1
        assert hits.get().score >= 0.85

    def test_a_customer_in_kana_meets_a_kanji_entry_through_its_machine_reading(self):
        _run, hits = screen_person(
            "ワタナベ ナオキ", "ワタナベ ナオキ", name="渡辺 直樹", name_kana=""
        )
        assert hits.get().reasons == [shown("Same reading (guessed from the kanji)")]

    def test_variant_kanji_of_one_name_hit(self):
        _run, hits = screen_person("髙橋一郎", "", name="高橋 一郎", name_kana="")
        assert hits.count() == 1

    def test_an_alias_hits_with_its_reason(self):
        _run, hits = screen_person("佐藤次郎", "", name="鈴木 一郎", aliases=["佐藤 次郎"])
        assert hits.get().reasons == [shown("Same name"), shown("Alias")]

    def test_a_romaji_only_entry_meets_passport_spelling(self):
        _run, hits = screen_person(
            "大野 優子", "オオノ ユウコ", name="OHNO Yuko", name_kana="", name_romaji="OHNO Yuko"
        )
        assert hits.count() == 1

    @pytest.mark.parametrize(
        "customer_name", ["株式会社黒田興業", "(株)黒田興業", "黒田興業 有限会社", "ｸﾛﾀﾞｺｳｷﾞｮｳ(ｶ"]
    )
    def test_a_company_hits_a_listed_entity_whatever_its_legal_form(self, customer_name):
        entry = WatchlistEntryFactory(
            entry_type=EntryType.ENTITY, name="黒田興業", name_kana="クロダコウギョウ"
        )
        customer = CustomerFactory(name=customer_name, name_kana="")
        run = screen_customer(customer=customer, job="test")
        assert run.hits_opened == 1
        assert customer.screening_hits.get().entry == entry

    def test_a_long_vowel_written_another_way_in_kana_hits(self):
        _run, hits = screen_person(
            "オーノ ユーコ", "オーノ ユーコ", name="大野 優子", name_kana="オオノ ユウコ"
        )
        assert hits.count() == 1

    def test_names_equal_only_in_romaji_are_not_enough_when_both_wrote_kana(self):
        # ユウキ and ユキ are both YUKI in a passport; the kanji and the kana tell them apart.
        _run, hits = screen_person(
            "山江 悠貴", "ヤマエ ユウキ", name="山江 優紀", name_kana="ヤマエ ユキ"
        )
        assert not hits.exists()

    def test_a_guessed_reading_equal_only_in_romaji_does_not_hit(self):
        # 詩乃 is read シノ; シンオ is SHINO in romaji too, but not the same kana.
        _run, hits = screen_person("高内 詩乃", "", name="高内 慎夫", name_kana="タカウチ シンオ")
        assert not hits.exists()

    def test_an_unrelated_name_does_not_hit(self):
        run, hits = screen_person("中村 花子", "ナカムラ ハナコ", **TARO)
        assert run.hits_opened == 0 and not hits.exists()


@pytest.mark.django_db
class TestNamesakes:
    def test_the_same_name_born_another_day_is_no_hit(self):
        run, hits = screen_person(
            "山田太郎",
            "ヤマダタロウ",
            born=date(1980, 5, 5),
            date_of_birth=date(1970, 1, 1),
            **TARO,
        )
        assert run.hits_opened == 0 and not hits.exists()

    def test_the_same_name_born_another_year_is_no_hit(self):
        _run, hits = screen_person(
            "山田太郎", "ヤマダタロウ", born=date(1980, 5, 5), birth_year=1979, **TARO
        )
        assert not hits.exists()

    def test_the_same_date_of_birth_raises_the_score_with_a_reason(self):
        # One kanji apart in four, read differently: below the threshold on the name alone.
        entry = {"name": "山田太郎", "name_kana": "", "date_of_birth": date(1970, 1, 1)}
        _run, unknown = screen_person("山田太一", "", born=None, **entry)
        _run, same_day = screen_person("山田太一", "", born=date(1970, 1, 1), **entry)
        assert not unknown.exists()
        hit = same_day.get()
        assert hit.score > 0.85
        assert hit.reasons[-1] == shown("Same date of birth")

    def test_the_same_year_of_birth_is_a_reason(self):
        _run, hits = screen_person(
            "山田太郎", "ヤマダタロウ", born=date(1979, 5, 5), birth_year=1979, **TARO
        )
        assert hits.get().reasons[-1] == shown("Same year of birth")

    def test_a_company_does_not_hit_a_listed_individual_on_a_similar_name(self):
        WatchlistEntryFactory(name="佐々木太郎", name_kana="")
        company = CustomerFactory(name="株式会社佐々木太朗", name_kana="")
        person = KeyPersonFactory(name="佐々木太朗", name_kana="", date_of_birth=None)
        assert screen_customer(customer=company, job="test").hits_opened == 0
        assert screen_customer(customer=person.customer, job="test").hits_opened == 1

    def test_a_company_with_exactly_a_listed_persons_name_hits(self):
        WatchlistEntryFactory(name="佐々木太郎", name_kana="")
        company = CustomerFactory(name="株式会社佐々木太郎", name_kana="")
        assert screen_customer(customer=company, job="test").hits_opened == 1


@pytest.mark.django_db
class TestRememberedFalsePositive:
    def _dismissed(self):
        entry = WatchlistEntryFactory(**TARO)
        person = KeyPersonFactory(name="山田太郎", name_kana="ヤマダタロウ")
        screen_customer(customer=person.customer, job="test")
        ScreeningHit.objects.filter(person=person).update(status=HitStatus.FALSE_POSITIVE)
        return entry, person

    def test_a_second_screen_opens_nothing_and_counts_it_suppressed(self):
        _entry, person = self._dismissed()
        run = screen_customer(customer=person.customer, job="test")
        assert (run.hits_opened, run.suppressed) == (0, 1)
        assert ScreeningHit.objects.filter(person=person).count() == 1

    def test_comes_back_when_the_entry_changes(self):
        entry, person = self._dismissed()
        entry.name = "山田太郎"  # the list now writes it without a space
        entry.aliases = ["山田 太朗"]
        refresh_entry_keys(entry)
        entry.save()
        run = screen_customer(customer=person.customer, job="test")
        assert (run.hits_opened, run.suppressed) == (1, 0)
        assert person.screening_hits.filter(status=HitStatus.OPEN).count() == 1

    def test_comes_back_when_the_person_changes(self):
        _entry, person = self._dismissed()
        person.date_of_birth = date(1966, 6, 6)
        person.save()
        run = screen_customer(customer=person.customer, job="test")
        assert (run.hits_opened, run.suppressed) == (1, 0)


@pytest.mark.django_db
class TestScreenCustomer:
    def test_screens_the_customer_and_its_active_persons(self):
        customer = CustomerFactory(kind=CustomerKind.CORPORATION, name_en="Sample Trading")
        KeyPersonFactory(customer=customer)
        KeyPersonFactory(customer=customer, is_active=False)
        subjects = subjects_of(customer)
        assert [s.person_id is None for s in subjects] == [True, False]
        assert screen_customer(customer=customer, job="test").subjects == 2

    def test_a_subject_fingerprint_follows_names_and_date_of_birth(self):
        person = KeyPersonFactory(name="山田太郎", date_of_birth=date(1970, 1, 1))
        before = subjects_of(person.customer)[1].fingerprint
        person.title = "代表取締役社長"
        person.save()
        assert subjects_of(person.customer)[1].fingerprint == before
        person.date_of_birth = date(1970, 1, 2)
        person.save()
        assert subjects_of(person.customer)[1].fingerprint != before

    def test_opens_no_duplicate_hit_on_a_second_screen(self):
        run, hits = screen_person("山田太郎", "ヤマダタロウ", **TARO)
        again = screen_customer(customer=run.customer, job="test")
        assert (again.hits_opened, again.suppressed) == (0, 0)
        assert hits.count() == 1

    def test_a_confirmed_match_is_not_opened_again(self):
        run, hits = screen_person("山田太郎", "ヤマダタロウ", **TARO)
        hits.update(status=HitStatus.TRUE_MATCH)
        assert screen_customer(customer=run.customer, job="test").hits_opened == 0

    def test_records_list_versions_and_the_users_name(self):
        watchlist = WatchlistFactory(version=7)
        WatchlistEntryFactory(watchlist=watchlist, **TARO)
        user = UserFactory(username="compliance1")
        run = screen_customer(customer=CustomerFactory(), actor=user)
        active = Watchlist.objects.filter(is_active=True)
        assert run.list_versions == {str(w.pk): w.version for w in active}
        assert run.list_versions[str(watchlist.pk)] == 7
        assert (run.run_by, run.run_label) == (user, "compliance1")

    def test_many_active_lists_still_fit_the_versions_key(self):
        WatchlistEntryFactory.create_batch(60, **TARO)  # a list each
        key = current_versions_key()
        assert len(key) <= 200 and key == current_versions_key()
        customer = CustomerFactory()
        screen_customer(customer=customer, job="test")
        assert ScreeningState.objects.get(customer=customer).versions_key == key

    def test_a_job_run_is_labelled_with_the_job(self):
        run = screen_customer(customer=CustomerFactory(), job="rescreening")
        assert run.run_by is None and run.run_label == "rescreening"

    def test_updates_the_screening_state(self):
        WatchlistEntryFactory(**TARO)
        customer = CustomerFactory()
        first = screen_customer(customer=customer, job="test")
        second = screen_customer(customer=customer, job="test")
        state = ScreeningState.objects.get(customer=customer)
        assert state.last_run == second != first
        assert state.versions_key == current_versions_key()
        assert state.screened_at == second.started_at

    def test_writes_an_audit_event(self):
        user = UserFactory()
        run, _hits = screen_person("山田太郎", "ヤマダタロウ", **TARO)
        screen_customer(customer=run.customer, actor=user)
        job_event, user_event = AuditEvent.objects.filter(action="compliance.screened").order_by(
            "id"
        )
        assert job_event.actor_label == "job:test" and job_event.data["hits_opened"] == 1
        assert user_event.actor == user and user_event.subject_id == str(run.customer_id)
        assert set(user_event.data) >= {
            "run",
            "subjects",
            "hits_opened",
            "suppressed",
            "list_versions",
        }

    def test_inactive_lists_and_entries_are_ignored(self):
        inactive = WatchlistFactory(is_active=False)
        WatchlistEntryFactory(watchlist=inactive, **TARO)
        WatchlistEntryFactory(is_active=False, **TARO)
        run, _hits = screen_person("山田太郎", "ヤマダタロウ", name="無関係 一郎")
        assert run.hits_opened == 0
        assert str(inactive.pk) not in run.list_versions

    def test_the_cached_index_is_kept_until_a_list_or_entry_changes(self):
        entry = WatchlistEntryFactory(**TARO)
        first = screening.get_index()
        assert screening.get_index() is first
        entry.aliases = ["山田 太朗"]
        refresh_entry_keys(entry)
        entry.save()
        second = screening.get_index()
        assert second is not first and screening.get_index() is second
        entry.watchlist.version += 1
        entry.watchlist.save()
        assert screening.get_index() is not second

    def test_blocking_compares_only_near_keys(self, monkeypatch):
        WatchlistEntryFactory.create_batch(
            200,
            watchlist=WatchlistFactory(),
            name_kana="",
            name=factory.Sequence(lambda n: f"登録者{n:04d}"),
        )
        compared = []
        original = screening._similarity
        monkeypatch.setattr(
            screening, "_similarity", lambda *args: compared.append(args) or original(*args)
        )
        screen_customer(customer=KeyPersonFactory(name="山田太郎").customer, job="test")
        assert len(compared) < 10


@pytest.mark.django_db
class TestScreenCustomers:
    @staticmethod
    def _world(customers: int, entries: int, tag: str) -> list[int]:
        """Customers with a key person each and unrelated entries, plus one true match."""
        WatchlistEntryFactory.create_batch(
            entries,
            watchlist=WatchlistFactory(),
            name_kana="",
            name=factory.Sequence(lambda n: f"{tag}登録者{n:04d}"),
        )
        ids = [KeyPersonFactory().customer_id for _ in range(customers)]
        # 権兵衛 is no name Faker gives, so the one true match is the only hit.
        WatchlistEntryFactory(name=f"{tag}野 権兵衛", name_kana="")
        ids.append(KeyPersonFactory(name=f"{tag}野権兵衛", name_kana="").customer_id)
        return ids

    def test_screens_every_customer_with_one_audit_event_per_batch(self):
        ids = self._world(customers=4, entries=3, tag="甲甲")
        summary = screen_customers(ids, job="rescreening", batch_size=2)
        assert (summary.customers, summary.hits_opened, summary.suppressed) == (5, 1, 0)
        assert ScreeningRun.objects.filter(run_label="rescreening").count() == 5
        assert ScreeningState.objects.filter(customer_id__in=ids).count() == 5
        events = AuditEvent.objects.filter(action="compliance.screened")
        assert events.count() == 3
        assert sorted(c for e in events for c in e.data["customers"]) == sorted(ids)
        assert {e.actor_label for e in events} == {"job:rescreening"}

    def test_a_rerun_suppresses_what_was_dismissed(self):
        ids = self._world(customers=2, entries=2, tag="乙乙")
        screen_customers(ids, job="rescreening")
        ScreeningHit.objects.update(status=HitStatus.FALSE_POSITIVE)
        summary = screen_customers(ids, job="rescreening")
        assert (summary.hits_opened, summary.suppressed) == (0, 1)

    def test_queries_do_not_grow_with_customers_or_entries(self, django_assert_max_num_queries):
        small = self._world(customers=2, entries=2, tag="丙丙")
        with CaptureQueriesContext(connection) as first:
            screen_customers(small, job="test")
        large = self._world(customers=20, entries=60, tag="丁丁")
        with django_assert_max_num_queries(len(first)):
            summary = screen_customers(large, job="test")
        assert summary.customers == 21
        assert summary.hits_opened == 1

    def test_a_shared_index_serves_single_screens(self):
        ids = self._world(customers=1, entries=1, tag="戊戊")
        index = build_index()
        run = screen_customer(customer=Customer.objects.get(pk=ids[-1]), job="test", index=index)
        assert run.hits_opened == 1
