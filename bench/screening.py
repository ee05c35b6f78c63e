"""反社・制裁 screening at scale: a full re-screen, recall on known matches, wrong hits.

    cd bench && ../.venv/bin/python screening.py --entries 50000 --customers 100000

Generates watchlist entries (Japanese individuals with a kanji name, kana reading, passport
romaji and usually a date of birth, some with an alias; 反社 organisations) and customers
(companies from the 名寄せ benchmark's generator) with one or two key persons each. Person
and entry names are composed from common kanji parts with their readings and kept distinct
(no two share a name key or a reading), since Faker ``ja_JP`` has only about fifty family
and fifty given names. Then it injects known true matches written another way (width,
hiragana, kana only, only a guessed reading on the list side, an alias, romaji in swapped
order, spacing, old kanji forms, one kanji slip with the same date of birth, legal forms,
a bank-transfer kana name) and namesakes (same name and reading, another date or year of
birth), which must not hit.

Prints the time of ``screen_customers`` over every customer, hits per 1,000 customers,
recall by variant, namesakes wrongly hit, the accidental hits among the distinct names,
and a second re-screen after every hit was dismissed (all remembered, nothing opened).
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections import Counter
from datetime import date, timedelta

import jaconv
from faker import Faker
from harness import scratch_database, setup_django

FAMILY_HEADS = (
    ("山", "ヤマ"), ("中", "ナカ"), ("小", "コ"), ("大", "オオ"), ("高", "タカ"), ("石", "イシ"),
    ("松", "マツ"), ("竹", "タケ"), ("森", "モリ"), ("吉", "ヨシ"), ("岡", "オカ"), ("長", "ナガ"),
    ("西", "ニシ"), ("北", "キタ"), ("東", "ヒガシ"), ("南", "ミナミ"), ("青", "アオ"), ("白", "シラ"),
    ("黒", "クロ"), ("金", "カネ"), ("宮", "ミヤ"), ("浅", "アサ"), ("今", "イマ"), ("岩", "イワ"),
    ("川", "カワ"), ("村", "ムラ"), ("藤", "フジ"), ("平", "ヒラ"), ("福", "フク"), ("秋", "アキ"),
    ("春", "ハル"), ("早", "ハヤ"), ("広", "ヒロ"), ("桜", "サクラ"), ("杉", "スギ"), ("梅", "ウメ"),
    ("菊", "キク"), ("柳", "ヤナギ"), ("滝", "タキ"), ("熊", "クマ"), ("鶴", "ツル"), ("亀", "カメ"),
    ("鈴", "スズ"), ("堀", "ホリ"), ("星", "ホシ"), ("寺", "テラ"), ("野", "ノ"), ("上", "ウエ"),
    ("下", "シモ"), ("前", "マエ"), ("奥", "オク"), ("島", "シマ"), ("池", "イケ"), ("相", "アイ"),
    ("新", "ニイ"), ("古", "フル"), ("若", "ワカ"), ("荒", "アラ"), ("赤", "アカ"), ("水", "ミズ"),
)  # fmt: skip
FAMILY_TAILS = (
    ("田", "ダ"), ("川", "カワ"), ("山", "ヤマ"), ("本", "モト"), ("村", "ムラ"), ("野", "ノ"),
    ("木", "キ"), ("井", "イ"), ("原", "ハラ"), ("島", "シマ"), ("崎", "サキ"), ("沢", "サワ"),
    ("口", "グチ"), ("谷", "タニ"), ("部", "ベ"), ("尾", "オ"), ("岡", "オカ"), ("橋", "ハシ"),
    ("瀬", "セ"), ("浦", "ウラ"), ("江", "エ"), ("森", "モリ"), ("内", "ウチ"), ("池", "イケ"),
    ("坂", "サカ"), ("畑", "ハタ"), ("城", "シロ"), ("宮", "ミヤ"), ("塚", "ツカ"), ("林", "バヤシ"),
    ("浜", "ハマ"), ("松", "マツ"), ("藤", "フジ"), ("辺", "ベ"), ("津", "ツ"), ("屋", "ヤ"),
    ("倉", "クラ"), ("垣", "ガキ"), ("里", "サト"), ("丸", "マル"),
)  # fmt: skip
GIVEN_HEADS = (
    ("健", "ケン"), ("誠", "セイ"), ("浩", "ヒロ"), ("隆", "タカ"), ("大", "ダイ"), ("翔", "ショウ"),
    ("拓", "タク"), ("康", "ヤス"), ("和", "カズ"), ("正", "マサ"), ("秀", "ヒデ"), ("英", "エイ"),
    ("直", "ナオ"), ("俊", "トシ"), ("孝", "タカ"), ("幸", "ユキ"), ("義", "ヨシ"), ("信", "ノブ"),
    ("勝", "カツ"), ("光", "ミツ"), ("茂", "シゲ"), ("達", "タツ"), ("哲", "テツ"), ("真", "シン"),
    ("雄", "ユウ"), ("陽", "ヨウ"), ("亮", "リョウ"), ("龍", "リュウ"), ("恭", "キョウ"), ("修", "シュウ"),
    ("純", "ジュン"), ("賢", "ケン"), ("昌", "マサ"), ("敏", "トシ"), ("博", "ヒロ"), ("武", "タケ"),
    ("智", "トモ"), ("克", "カツ"), ("晃", "コウ"), ("慎", "シン"), ("航", "コウ"), ("悠", "ユウ"),
    ("蓮", "レン"), ("颯", "ソウ"), ("耕", "コウ"), ("徹", "テツ"), ("豊", "ユタ"), ("弘", "ヒロ"),
    ("清", "キヨ"), ("道", "ミチ"),
)  # fmt: skip
GIVEN_TAILS = (
    ("一", "イチ"), ("二", "ジ"), ("太", "タ"), ("介", "スケ"), ("也", "ヤ"), ("人", "ト"),
    ("樹", "キ"), ("彦", "ヒコ"), ("郎", "ロウ"), ("男", "オ"), ("夫", "オ"), ("司", "ジ"),
    ("斗", "ト"), ("平", "ヘイ"), ("吾", "ゴ"), ("輔", "スケ"), ("志", "シ"), ("史", "シ"),
    ("明", "アキ"), ("之", "ユキ"), ("治", "ジ"), ("朗", "ロウ"), ("蔵", "ゾウ"), ("馬", "マ"),
    ("造", "ゾウ"), ("貴", "キ"), ("典", "ノリ"), ("生", "セイ"), ("紀", "ノリ"), ("成", "ナリ"),
)  # fmt: skip
FEMALE_HEADS = (
    ("美", "ミ"), ("恵", "メグ"), ("優", "ユ"), ("真", "マ"), ("由", "ユ"), ("智", "チ"), ("千", "チ"),
    ("明", "アケ"), ("和", "カズ"), ("幸", "サチ"), ("直", "ナオ"), ("奈", "ナ"), ("沙", "サ"),
    ("麻", "マ"), ("亜", "ア"), ("絵", "エ"), ("香", "カ"), ("里", "リ"), ("彩", "アヤ"), ("春", "ハル"),
    ("夏", "ナツ"), ("冬", "フユ"), ("雪", "ユキ"), ("桃", "モモ"), ("菜", "ナ"), ("紗", "サ"),
    ("理", "リ"), ("律", "リツ"), ("咲", "サキ"), ("結", "ユイ"), ("詩", "ウタ"), ("杏", "アン"),
    ("舞", "マイ"), ("愛", "アイ"), ("玲", "レイ"), ("京", "キョウ"), ("朋", "トモ"), ("涼", "スズ"),
)  # fmt: skip
FEMALE_TAILS = (
    ("子", "コ"), ("美", "ミ"), ("恵", "エ"), ("香", "カ"), ("代", "ヨ"), ("江", "エ"), ("奈", "ナ"),
    ("穂", "ホ"), ("乃", "ノ"), ("花", "カ"), ("菜", "ナ"), ("希", "キ"), ("里", "リ"), ("絵", "エ"),
    ("紀", "キ"), ("音", "ネ"), ("世", "ヨ"), ("枝", "エ"), ("葉", "ハ"), ("実", "ミ"), ("緒", "オ"),
    ("那", "ナ"), ("衣", "イ"), ("華", "カ"),
)  # fmt: skip
ENTITY_TAILS = (
    ("組", "グミ"), ("会", "カイ"), ("一家", "イッカ"), ("連合", "レンゴウ"), ("興業", "コウギョウ"),
    ("総業", "ソウギョウ"), ("企画", "キカク"), ("連合会", "レンゴウカイ"),
)  # fmt: skip
# Old forms a registry or an ID card may carry (異体字).
OLD_FORMS = {"高": "髙", "崎": "﨑", "辺": "邊", "沢": "澤", "浜": "濱", "島": "嶋"}
# Kanji put in place of a given name's last kanji by a slip (another reading each time).
SLIPS = "一二三四五六七八九十"

PERSON_VARIANTS = (
    "same_name", "width", "hiragana_name", "kana_only", "kana_vs_guessed_reading", "alias",
    "romaji_swapped", "spaces", "old_kanji_form", "kanji_slip_same_dob",
)  # fmt: skip
ENTITY_VARIANTS = ("entity_legal_form", "entity_transfer_name")


class NameBook:
    """Distinct names: no two share a name key or a reading key."""

    def __init__(self, rng: random.Random) -> None:
        from compliance.screening import name_keys

        self.rng = rng
        self.keys = name_keys
        self.names: set[str] = set()
        self.readings: set[str] = set()

    def claim(self, name: str, reading: str) -> bool:
        from customers.matching import normalize_name

        name_key, reading_key = normalize_name(name), normalize_name(reading)
        if name_key in self.names or (reading_key and reading_key in self.readings):
            return False
        self.names.add(name_key)
        if reading_key:
            self.readings.add(reading_key)
        return True

    def person(self) -> tuple[str, str, str, str]:
        """Return (family, given, family kana, given kana) of a new distinct person."""
        rng = self.rng
        while True:
            (f1, k1), (f2, k2) = rng.choice(FAMILY_HEADS), rng.choice(FAMILY_TAILS)
            if rng.random() < 0.55:
                (g1, r1), (g2, r2) = rng.choice(GIVEN_HEADS), rng.choice(GIVEN_TAILS)
            else:
                (g1, r1), (g2, r2) = rng.choice(FEMALE_HEADS), rng.choice(FEMALE_TAILS)
            family, given, fkana, gkana = f1 + f2, g1 + g2, k1 + k2, r1 + r2
            if f1 != f2 and self.claim(family + given, fkana + gkana):
                return family, given, fkana, gkana

    def real_person(self, fake: Faker) -> tuple[str, str, str, str]:
        """Return a distinct person with a real family and given name (readings as people write them)."""
        from dedup import SURNAMES

        while True:
            if self.rng.random() < 0.5:
                family, fkana, _romaji = fake.last_name_pair()
            else:
                family, fkana = self.rng.choice(SURNAMES)
            given, gkana, _romaji = fake.first_name_pair()
            if self.claim(family + given, fkana + gkana):
                return family, given, fkana, gkana

    def entity(self) -> tuple[str, str]:
        from dedup import PLACES

        while True:
            if self.rng.random() < 0.5:
                (h, hk), (t, tk) = self.rng.choice(FAMILY_HEADS), self.rng.choice(FAMILY_TAILS)
                stem, stem_kana = h + t, hk + tk
            else:
                stem, stem_kana = self.rng.choice(PLACES)
            tail, tail_kana = self.rng.choice(ENTITY_TAILS)
            name, kana = stem + self.rng.choice(("", "三代目", "新")) + tail, stem_kana + tail_kana
            if "三代目" in name:
                kana = stem_kana + "サンダイメ" + tail_kana
            elif name.startswith(stem + "新"):
                kana = stem_kana + "シン" + tail_kana
            if self.claim(name, kana):
                return name, kana


def passport(kana: str) -> str:
    """Return kana as a passport writes it (Hepburn, long vowels dropped): オオノ → ono."""
    from compliance.screening import _kakasi

    return "".join(part["passport"] for part in _kakasi().convert(kana))


def hepburn(kana: str) -> str:
    """Return kana in Hepburn with long vowels written out (ユウコ → yuuko), as people type it."""
    from compliance.screening import _kakasi

    return "".join(part["hepburn"] for part in _kakasi().convert(kana)).replace("'", "")


def resident_mb() -> float:
    """Return the resident memory of this process in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def random_dob(rng: random.Random) -> date:
    return date(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=5000, help="watchlist entries")
    parser.add_argument("--customers", type=int, default=10000, help="customers")
    parser.add_argument(
        "--matches", type=int, default=0, help="true matches (default 4%% of entries)"
    )
    parser.add_argument(
        "--namesakes", type=int, default=0, help="namesakes (default 2%% of entries)"
    )
    parser.add_argument("--seed", type=int, default=20260301)
    args = parser.parse_args()
    matches = args.matches or max(60, args.entries // 25)
    namesakes = args.namesakes or max(30, args.entries // 50)
    setup_django()

    from dedup import LEGAL_FORMS, make_company
    from django.db import connection

    from compliance.choices import EntryType, HitStatus
    from compliance.models import ScreeningHit, Watchlist, WatchlistEntry
    from compliance.screening import build_index, refresh_entry_keys, screen_customers
    from customers.choices import PersonRole
    from customers.models import Customer, KeyPerson

    rng = random.Random(args.seed)
    fake = Faker("ja_JP")
    fake.seed_instance(args.seed)
    book = NameBook(rng)
    started = time.perf_counter()

    # Entries: individuals (80 % with a date of birth, 8 % a year only), 10 % organisations.
    entries: list[dict] = []
    for n in range(args.entries):
        if n % 10 == 9:
            name, kana = book.entity()
            entries.append(
                {"entry_type": EntryType.ENTITY, "name": name, "name_kana": kana,
                 "name_romaji": passport(kana).upper()}
            )  # fmt: skip
            continue
        family, given, fkana, gkana = book.person()
        row = {
            "entry_type": EntryType.INDIVIDUAL, "name": f"{family} {given}",
            "name_kana": f"{fkana} {gkana}",
            "name_romaji": f"{passport(fkana).upper()} {passport(gkana).capitalize()}",
            "parts": (family, given, fkana, gkana),
        }  # fmt: skip
        luck = rng.random()
        if luck < 0.80:
            row["date_of_birth"] = random_dob(rng)
        elif luck < 0.88:
            row["birth_year"] = random_dob(rng).year
        if rng.random() < 0.15:  # a former family name (旧姓)
            while True:
                other, other_kana = book.person()[0::2]
                if book.claim(other + given, other_kana + gkana):
                    row["aliases"] = [f"{other} {given}"]
                    break
        entries.append(row)

    # Customers: distinct companies (not named like a listed organisation), 1-2 persons each.
    customers: list[dict] = []
    while len(customers) < args.customers:
        company = make_company(fake, rng)
        if not book.claim(company.body, company.reading):
            continue
        form_reading = LEGAL_FORMS[company.legal][1]
        reading = "" if rng.random() < 0.15 else f"{form_reading} {company.reading}"
        persons = []
        for _ in range(1 if rng.random() < 0.55 else 2):
            family, given, fkana, gkana = book.person()
            persons.append(
                {"name": f"{family} {given}",
                 "name_kana": f"{fkana} {gkana}" if rng.random() < 0.85 else "",
                 "date_of_birth": random_dob(rng) if rng.random() < 0.95 else None}
            )  # fmt: skip
        customers.append({"name": company.name(), "name_kana": reading, "persons": persons})

    # Known true matches, written another way; each pairs a subject with an entry index.
    truth: list[tuple[str, int, int, int]] = []  # (kind, customer index, person index, entry)
    individuals = [i for i, e in enumerate(entries) if e["entry_type"] == EntryType.INDIVIDUAL]
    organisations = [i for i, e in enumerate(entries) if e["entry_type"] == EntryType.ENTITY]
    with_dob = [i for i in individuals if "date_of_birth" in entries[i]]
    with_alias = [i for i in individuals if entries[i].get("aliases")]
    old_formable = [i for i in individuals if any(ch in OLD_FORMS for ch in entries[i]["parts"][0])]
    used: set[int] = set()
    taken_customers: set[int] = set()

    def pick(pool: list[int]) -> int:
        for _ in range(1000):
            index = rng.choice(pool)
            if index not in used:
                used.add(index)
                return index
        raise RuntimeError("not enough entries for the variants; raise --entries")

    variants = PERSON_VARIANTS + ENTITY_VARIANTS
    for n in range(matches):
        kind = variants[n % len(variants)]
        if kind in ENTITY_VARIANTS:
            index = pick(organisations)
            entry = entries[index]
            while (target := rng.randrange(len(customers))) in taken_customers:
                pass
            taken_customers.add(target)
            if kind == "entity_legal_form":
                customers[target]["name"] = rng.choice(
                    (
                        f"株式会社{entry['name']}",
                        f"{entry['name']}（株）",
                        f"有限会社 {entry['name']}",
                    )
                )
                customers[target]["name_kana"] = f"カブシキガイシャ {entry['name_kana']}"
            else:
                transfer = jaconv.z2h(entry["name_kana"], kana=True)
                customers[target]["name"] = f"ｶ){transfer}"
                customers[target]["name_kana"] = ""
            truth.append((kind, target, -1, index))
            continue
        pool = {
            "alias": with_alias,
            "old_kanji_form": old_formable,
            "kanji_slip_same_dob": with_dob,
        }
        if kind == "kana_vs_guessed_reading":
            # A list that wrote only the kanji: the engine has its own reading to go by.
            family, given, fkana, gkana = book.real_person(fake)
            dob = random_dob(rng)
            entries.append(
                {"entry_type": EntryType.INDIVIDUAL, "name": f"{family} {given}",
                 "date_of_birth": dob, "parts": (family, given, fkana, gkana)}
            )  # fmt: skip
            index = len(entries) - 1
            used.add(index)
        else:
            index = pick(pool.get(kind, individuals))
        entry = entries[index]
        family, given, fkana, gkana = entry["parts"]
        dob = entry.get("date_of_birth") or random_dob(rng)
        if "birth_year" in entry:
            dob = date(entry["birth_year"], dob.month, min(dob.day, 28))
        person = {
            "name": f"{family} {given}",
            "name_kana": f"{fkana} {gkana}",
            "date_of_birth": dob,
        }
        if kind == "width":
            person.update(
                name=f"{family}　{given}", name_kana=jaconv.z2h(f"{fkana} {gkana}", kana=True)
            )
        elif kind == "hiragana_name":
            person.update(name=jaconv.kata2hira(f"{fkana}　{gkana}"), name_kana="")
        elif kind in ("kana_only", "kana_vs_guessed_reading"):
            person.update(name=f"{fkana} {gkana}", name_kana=f"{fkana}{gkana}")
        elif kind == "alias":
            person.update(name=entry["aliases"][0].replace(" ", ""), name_kana="")
        elif kind == "romaji_swapped":
            person.update(
                name=f"{hepburn(gkana).capitalize()} {hepburn(fkana).capitalize()}", name_kana=""
            )
        elif kind == "spaces":
            person.update(name=f"{family}{given}", name_kana=f" {fkana}　{gkana} ")
        elif kind == "old_kanji_form":
            old = "".join(OLD_FORMS.get(ch, ch) for ch in family)
            person.update(name=f"{old}{given}", name_kana="")
        elif kind == "kanji_slip_same_dob":
            slip = rng.choice([ch for ch in SLIPS if ch != given[-1]])
            person.update(name=f"{family}{given[:-1]}{slip}", name_kana="")
        target = rng.randrange(len(customers))
        customers[target]["persons"].append(person)
        truth.append((kind, target, len(customers[target]["persons"]) - 1, index))

    # Namesakes: same name and reading as a listed person, born another day or year.
    false_pairs: list[tuple[int, int, int]] = []
    dated = [
        i
        for i in individuals
        if i not in used and ("date_of_birth" in entries[i] or "birth_year" in entries[i])
    ]
    for index in rng.sample(dated, min(namesakes, len(dated))):
        entry = entries[index]
        family, given, fkana, gkana = entry["parts"]
        known = entry.get("date_of_birth") or date(entry["birth_year"], 6, 1)
        dob = known + timedelta(days=rng.choice((-1, 1)) * rng.randrange(400, 9000))
        target = rng.randrange(len(customers))
        customers[target]["persons"].append(
            {"name": f"{family} {given}", "name_kana": f"{fkana} {gkana}", "date_of_birth": dob}
        )
        false_pairs.append((target, len(customers[target]["persons"]) - 1, index))
    generated_s = time.perf_counter() - started

    with scratch_database():
        print(f"database: {connection.vendor}")
        lists = list(Watchlist.objects.order_by("pk"))
        started = time.perf_counter()
        objects = []
        for n, row in enumerate(entries):
            fields = {k: v for k, v in row.items() if k != "parts"}
            entry = WatchlistEntry(
                watchlist=lists[0] if n % 10 < 7 else lists[1], reference=f"E{n:06d}", **fields
            )
            refresh_entry_keys(entry)
            objects.append(entry)
        keyed_s = time.perf_counter() - started
        WatchlistEntry.objects.bulk_create(objects, batch_size=2000)
        entry_ids = [entry.pk for entry in objects]
        rows = []
        for row in customers:
            customer = Customer(is_client=True, name=row["name"], name_kana=row["name_kana"])
            customer.refresh_keys()
            rows.append(customer)
        Customer.objects.bulk_create(rows, batch_size=2000)
        persons = []
        for customer, row in zip(rows, customers, strict=True):
            for person in row["persons"]:
                persons.append(
                    KeyPerson(customer=customer, role=PersonRole.REPRESENTATIVE, **person)
                )
        KeyPerson.objects.bulk_create(persons, batch_size=2000)
        person_ids = {}
        at = 0
        for c, row in enumerate(customers):
            for p in range(len(row["persons"])):
                person_ids[c, p] = persons[at].pk
                at += 1
        inserted_s = time.perf_counter() - started
        print(
            f"entries: {len(entries):,} ({len(organisations):,} organisations), keyed in "
            f"{keyed_s:.1f} s; customers: {len(rows):,} with {len(persons):,} key persons; "
            f"generated in {generated_s:.1f} s, inserted in {inserted_s:.1f} s"
        )
        print(f"injected: {len(truth):,} true matches, {len(false_pairs):,} namesakes")

        before = resident_mb()
        index_s = time.perf_counter()
        index = build_index()
        index_s = time.perf_counter() - index_s
        index_mb = resident_mb() - before
        del index
        customer_ids = [c.pk for c in rows]
        summary = screen_customers(customer_ids, job="bench")
        print(
            f"\nindex of {len(entries):,} entries built in {index_s:.1f} s, "
            f"about {index_mb:,.0f} MB resident"
        )
        print(
            f"full re-screen of {summary.customers:,} customers ({summary.customers + len(persons):,} "
            f"names): {summary.seconds:.1f} s ({summary.customers / summary.seconds:,.0f} customers/s)"
        )
        hits = list(
            ScreeningHit.objects.values_list("customer_id", "person_id", "entry_id", "reasons")
        )
        print(
            f"  hits opened      : {summary.hits_opened:,} "
            f"({summary.hits_opened / summary.customers * 1000:.1f} per 1,000 customers)"
        )
        found = {(customer, person, entry) for customer, person, entry, _reasons in hits}
        expected = set()
        by_kind, missed = Counter(), Counter()
        missed_rows = []
        for kind, c, p, index in truth:
            key = (rows[c].pk, person_ids[c, p] if p >= 0 else None, entry_ids[index])
            expected.add(key)
            by_kind[kind] += 1
            if key not in found:
                missed[kind] += 1
                missed_rows.append((kind, c, p, index))
        recall = 1 - sum(missed.values()) / len(truth)
        print(
            f"  recall           : {recall:.4f} ({len(truth) - sum(missed.values()):,} of {len(truth):,})"
        )
        for kind in PERSON_VARIANTS + ENTITY_VARIANTS:
            if by_kind[kind]:
                print(f"    {kind:26s}: {1 - missed[kind] / by_kind[kind]:.3f} of {by_kind[kind]}")
        wrong = sum(
            1
            for c, p, index in false_pairs
            if (rows[c].pk, person_ids[c, p], entry_ids[index]) in found
        )
        print(f"  namesakes hit    : {wrong} of {len(false_pairs):,} (must be 0)")
        accidental = [hit for hit in hits if hit[:3] not in expected]
        kinds = Counter(reasons[0] if reasons else "" for *_ids, reasons in accidental)
        print(
            f"  accidental hits  : {len(accidental):,} among the distinct names "
            f"({len(accidental) / summary.customers * 1000:.1f} per 1,000 customers): "
            + ", ".join(f"{reason} {count}" for reason, count in kinds.most_common(4))
        )
        names = dict(WatchlistEntry.objects.values_list("pk", "name"))
        person_names = dict(KeyPerson.objects.values_list("pk", "name"))
        customer_names = dict(Customer.objects.values_list("pk", "name"))
        for customer, person, entry, reasons in rng.sample(accidental, min(5, len(accidental))):
            subject = person_names[person] if person else customer_names[customer]
            print(f"    accidental     : {subject} / {names[entry]} {reasons}")
        for kind, c, p, index in missed_rows[:5]:
            subject = customers[c]["persons"][p]["name"] if p >= 0 else customers[c]["name"]
            print(f"    missed         : {subject} / {entries[index]['name']} ({kind})")

        # Every hit dismissed: a re-screen against unchanged lists opens nothing.
        ScreeningHit.objects.update(status=HitStatus.FALSE_POSITIVE)
        again = screen_customers(customer_ids, job="bench")
        print(
            f"\nre-screen after review: {again.seconds:.1f} s, opened {again.hits_opened}, "
            f"remembered false positives {again.suppressed:,}"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
