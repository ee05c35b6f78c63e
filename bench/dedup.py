"""名寄せ: the batch duplicate search at scale, its precision and recall, and its speed.

    cd bench && ../.venv/bin/python dedup.py --customers 100000 --duplicates 2000

Generates distinct Japanese companies (Faker ``ja_JP`` surnames, places, industry words,
katakana brands and Latin initials, each with its reading), then injects known duplicates
written as users really type them: the legal form moved or abbreviated, the name keyed as a
half-width bank-transfer name, full-width Latin, extra spaces, a hiragana reading, a
one-character typo. No duplicate carries a 法人番号, so only names, readings and
corroborating phone or address can find it. Prints the time of ``find_duplicate_pairs``
over everything, pairs found, precision and recall against the injected truth, the speed
against comparing all pairs on a subset, and the live form check's latency.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

import jaconv
from faker import Faker
from harness import percentiles, scratch_database, setup_django, timed

PLACES = (
    ("東日本", "ヒガシニホン"), ("西日本", "ニシニホン"), ("関東", "カントウ"), ("関西", "カンサイ"),
    ("中部", "チュウブ"), ("九州", "キュウシュウ"), ("北海道", "ホッカイドウ"), ("東北", "トウホク"),
    ("北陸", "ホクリク"), ("四国", "シコク"), ("山陰", "サンイン"), ("信越", "シンエツ"),
    ("湘南", "ショウナン"), ("阪神", "ハンシン"), ("東海", "トウカイ"), ("京浜", "ケイヒン"),
    ("札幌", "サッポロ"), ("仙台", "センダイ"), ("千葉", "チバ"), ("埼玉", "サイタマ"),
    ("横浜", "ヨコハマ"), ("川崎", "カワサキ"), ("静岡", "シズオカ"), ("浜松", "ハママツ"),
    ("名古屋", "ナゴヤ"), ("岐阜", "ギフ"), ("金沢", "カナザワ"), ("富山", "トヤマ"),
    ("新潟", "ニイガタ"), ("長野", "ナガノ"), ("京都", "キョウト"), ("大阪", "オオサカ"),
    ("神戸", "コウベ"), ("奈良", "ナラ"), ("岡山", "オカヤマ"), ("広島", "ヒロシマ"),
    ("高松", "タカマツ"), ("松山", "マツヤマ"), ("博多", "ハカタ"), ("熊本", "クマモト"),
    ("鹿児島", "カゴシマ"), ("那覇", "ナハ"), ("筑波", "ツクバ"), ("多摩", "タマ"),
    ("函館", "ハコダテ"), ("旭川", "アサヒカワ"), ("青森", "アオモリ"), ("盛岡", "モリオカ"),
    ("秋田", "アキタ"), ("山形", "ヤマガタ"), ("郡山", "コオリヤマ"), ("水戸", "ミト"),
    ("宇都宮", "ウツノミヤ"), ("前橋", "マエバシ"), ("高崎", "タカサキ"), ("川越", "カワゴエ"),
    ("船橋", "フナバシ"), ("柏", "カシワ"), ("八王子", "ハチオウジ"), ("相模原", "サガミハラ"),
    ("藤沢", "フジサワ"), ("甲府", "コウフ"), ("沼津", "ヌマヅ"), ("豊橋", "トヨハシ"),
    ("四日市", "ヨッカイチ"), ("大津", "オオツ"), ("堺", "サカイ"), ("姫路", "ヒメジ"),
    ("和歌山", "ワカヤマ"), ("鳥取", "トットリ"), ("松江", "マツエ"), ("倉敷", "クラシキ"),
    ("福山", "フクヤマ"), ("下関", "シモノセキ"), ("徳島", "トクシマ"), ("高知", "コウチ"),
    ("北九州", "キタキュウシュウ"), ("久留米", "クルメ"), ("佐賀", "サガ"), ("長崎", "ナガサキ"),
    ("大分", "オオイタ"), ("沖縄", "オキナワ"), ("福井", "フクイ"), ("伊勢", "イセ"),
    ("出雲", "イズモ"), ("房総", "ボウソウ"), ("三河", "ミカワ"), ("尾張", "オワリ"),
)  # fmt: skip
# Surnames beyond Faker's fifty, so that names are as varied as a real register's.
SURNAMES = (
    ("原田", "ハラダ"), ("松田", "マツダ"), ("竹内", "タケウチ"), ("中山", "ナカヤマ"), ("和田", "ワダ"),
    ("石田", "イシダ"), ("上田", "ウエダ"), ("森田", "モリタ"), ("原", "ハラ"), ("柴田", "シバタ"),
    ("酒井", "サカイ"), ("工藤", "クドウ"), ("横山", "ヨコヤマ"), ("宮崎", "ミヤザキ"), ("宮本", "ミヤモト"),
    ("内田", "ウチダ"), ("高木", "タカギ"), ("安藤", "アンドウ"), ("島田", "シマダ"), ("谷口", "タニグチ"),
    ("大野", "オオノ"), ("高田", "タカダ"), ("丸山", "マルヤマ"), ("今井", "イマイ"), ("河野", "コウノ"),
    ("藤本", "フジモト"), ("村田", "ムラタ"), ("武田", "タケダ"), ("上野", "ウエノ"), ("杉山", "スギヤマ"),
    ("増田", "マスダ"), ("小山", "コヤマ"), ("大塚", "オオツカ"), ("平野", "ヒラノ"), ("菅原", "スガワラ"),
    ("久保", "クボ"), ("松井", "マツイ"), ("岩崎", "イワサキ"), ("桜井", "サクライ"), ("木下", "キノシタ"),
    ("野口", "ノグチ"), ("松尾", "マツオ"), ("菊地", "キクチ"), ("野村", "ノムラ"), ("新井", "アライ"),
    ("佐野", "サノ"), ("杉本", "スギモト"), ("古川", "フルカワ"), ("大西", "オオニシ"), ("市川", "イチカワ"),
    ("北村", "キタムラ"), ("五十嵐", "イガラシ"), ("水野", "ミズノ"), ("桑原", "クワハラ"), ("川口", "カワグチ"),
    ("辻", "ツジ"), ("関", "セキ"), ("永井", "ナガイ"), ("岩田", "イワタ"), ("中川", "ナカガワ"),
    ("秋山", "アキヤマ"), ("大久保", "オオクボ"), ("荒木", "アラキ"), ("松下", "マツシタ"), ("野田", "ノダ"),
    ("小島", "コジマ"), ("高野", "タカノ"), ("吉川", "ヨシカワ"), ("浅野", "アサノ"), ("大橋", "オオハシ"),
    ("星野", "ホシノ"), ("飯田", "イイダ"), ("片山", "カタヤマ"), ("服部", "ハットリ"), ("西田", "ニシダ"),
    ("川村", "カワムラ"), ("田村", "タムラ"), ("西川", "ニシカワ"), ("早川", "ハヤカワ"), ("矢野", "ヤノ"),
    ("小松", "コマツ"), ("本田", "ホンダ"), ("久保田", "クボタ"), ("吉村", "ヨシムラ"), ("広瀬", "ヒロセ"),
    ("菅野", "カンノ"), ("平田", "ヒラタ"), ("沢田", "サワダ"), ("西山", "ニシヤマ"), ("黒田", "クロダ"),
    ("望月", "モチヅキ"), ("堀", "ホリ"), ("内藤", "ナイトウ"), ("尾崎", "オザキ"), ("熊谷", "クマガイ"),
    ("川上", "カワカミ"), ("田口", "タグチ"), ("小池", "コイケ"), ("大島", "オオシマ"), ("松岡", "マツオカ"),
    ("浜田", "ハマダ"), ("榎本", "エノモト"), ("篠原", "シノハラ"), ("北川", "キタガワ"), ("宮田", "ミヤタ"),
    ("須藤", "スドウ"), ("白石", "シライシ"), ("土屋", "ツチヤ"), ("東", "アズマ"), ("中西", "ナカニシ"),
    ("南", "ミナミ"), ("大谷", "オオタニ"), ("栗原", "クリハラ"), ("高山", "タカヤマ"), ("松村", "マツムラ"),
    ("安田", "ヤスダ"), ("鎌田", "カマタ"), ("飯塚", "イイヅカ"), ("大川", "オオカワ"), ("岡村", "オカムラ"),
)  # fmt: skip
INDUSTRIES = (
    ("商事", "ショウジ"), ("工業", "コウギョウ"), ("建設", "ケンセツ"), ("物産", "ブッサン"),
    ("製作所", "セイサクショ"), ("運輸", "ウンユ"), ("食品", "ショクヒン"), ("電機", "デンキ"),
    ("化学", "カガク"), ("産業", "サンギョウ"), ("不動産", "フドウサン"), ("印刷", "インサツ"),
    ("物流", "ブツリュウ"), ("商店", "ショウテン"), ("技研", "ギケン"), ("開発", "カイハツ"),
    ("設計", "セッケイ"), ("住宅", "ジュウタク"), ("工務店", "コウムテン"), ("製薬", "セイヤク"),
    ("繊維", "センイ"), ("鉄工所", "テッコウショ"), ("電子", "デンシ"), ("通信", "ツウシン"),
    ("情報システム", "ジョウホウシステム"), ("商会", "ショウカイ"), ("水産", "スイサン"),
    ("農園", "ノウエン"), ("酒造", "シュゾウ"), ("製菓", "セイカ"), ("観光", "カンコウ"),
    ("交通", "コウツウ"), ("運送", "ウンソウ"), ("倉庫", "ソウコ"), ("塗装", "トソウ"),
    ("設備", "セツビ"), ("電設", "デンセツ"), ("機械", "キカイ"), ("金属", "キンゾク"),
    ("木材", "モクザイ"), ("石油", "セキユ"), ("医療", "イリョウ"), ("薬品", "ヤクヒン"),
    ("企画", "キカク"), ("広告", "コウコク"), ("出版", "シュッパン"), ("精機", "セイキ"),
    ("製紙", "セイシ"), ("造園", "ゾウエン"), ("警備", "ケイビ"), ("興産", "コウサン"),
    ("ホールディングス", "ホールディングス"), ("エンジニアリング", "エンジニアリング"),
    ("サービス", "サービス"), ("テクノロジー", "テクノロジー"), ("ソリューションズ", "ソリューションズ"),
    ("製鋼", "セイコウ"), ("鋳造", "チュウゾウ"), ("電線", "デンセン"), ("樹脂", "ジュシ"),
    ("化工", "カコウ"), ("工芸", "コウゲイ"), ("家具", "カグ"), ("陶器", "トウキ"), ("紙器", "シキ"),
    ("包装", "ホウソウ"), ("貿易", "ボウエキ"), ("工機", "コウキ"), ("建材", "ケンザイ"),
    ("土木", "ドボク"), ("測量", "ソクリョウ"), ("給食", "キュウショク"), ("冷蔵", "レイゾウ"),
    ("製粉", "セイフン"), ("醸造", "ジョウゾウ"), ("製茶", "セイチャ"), ("精肉", "セイニク"),
    ("鮮魚", "センギョ"), ("米穀", "ベイコク"), ("燃料", "ネンリョウ"), ("電力", "デンリョク"),
    ("陸運", "リクウン"), ("自動車", "ジドウシャ"), ("整備", "セイビ"), ("車輌", "シャリョウ"),
    ("写真", "シャシン"), ("楽器", "ガッキ"), ("被服", "ヒフク"), ("寝具", "シング"),
    ("人材", "ジンザイ"), ("会計", "カイケイ"), ("教育", "キョウイク"), ("介護", "カイゴ"),
    ("福祉", "フクシ"), ("美装", "ビソウ"), ("清掃", "セイソウ"), ("管財", "カンザイ"),
)  # fmt: skip
QUALIFIERS = (
    ("精密", "セイミツ"), ("総合", "ソウゴウ"), ("中央", "チュウオウ"), ("第一", "ダイイチ"),
    ("国際", "コクサイ"), ("環境", "カンキョウ"), ("電工", "デンコウ"), ("化成", "カセイ"),
    ("産機", "サンキ"), ("冷機", "レイキ"), ("光学", "コウガク"), ("硝子", "ガラス"),
    ("特殊", "トクシュ"), ("綜合", "ソウゴウ"), ("通商", "ツウショウ"), ("海運", "カイウン"),
    ("航空", "コウクウ"), ("鋼材", "コウザイ"), ("電装", "デンソウ"), ("重機", "ジュウキ"),
    ("乳業", "ニュウギョウ"), ("製麺", "セイメン"), ("畜産", "チクサン"), ("計器", "ケイキ"),
    ("電化", "デンカ"), ("工営", "コウエイ"), ("化研", "カケン"), ("理化", "リカ"), ("物販", "ブッパン"),
    ("食研", "ショッケン"), ("医科", "イカ"), ("住設", "ジュウセツ"), ("建工", "ケンコウ"),
    ("鉄鋼", "テッコウ"), ("電材", "デンザイ"), ("機工", "キコウ"), ("産資", "サンシ"),
    ("農産", "ノウサン"), ("酪農", "ラクノウ"), ("林業", "リンギョウ"), ("緑地", "リョクチ"),
)  # fmt: skip
AUSPICIOUS = (
    ("大和", "ヤマト"), ("日進", "ニッシン"), ("富士", "フジ"), ("旭", "アサヒ"), ("光", "ヒカリ"),
    ("明和", "メイワ"), ("大成", "タイセイ"), ("三栄", "サンエイ"), ("共栄", "キョウエイ"),
    ("協和", "キョウワ"), ("昭和", "ショウワ"), ("平和", "ヘイワ"), ("東洋", "トウヨウ"),
    ("太陽", "タイヨウ"), ("日本", "ニホン"), ("新日本", "シンニホン"), ("丸富", "マルトミ"),
    ("松竹", "ショウチク"), ("扇", "オウギ"), ("菱和", "リョウワ"), ("栄光", "エイコウ"),
    ("誠和", "セイワ"), ("信和", "シンワ"), ("大栄", "ダイエイ"), ("三和", "サンワ"),
    ("北斗", "ホクト"), ("白鳥", "ハクチョウ"), ("若葉", "ワカバ"), ("青葉", "アオバ"),
    ("東邦", "トウホウ"), ("日東", "ニットウ"), ("日栄", "ニチエイ"), ("大同", "ダイドウ"),
    ("共立", "キョウリツ"), ("東亜", "トウア"), ("三共", "サンキョウ"), ("千代田", "チヨダ"),
    ("丸三", "マルサン"), ("山一", "ヤマイチ"), ("丸一", "マルイチ"), ("金星", "キンセイ"),
    ("新光", "シンコウ"), ("大福", "ダイフク"), ("福寿", "フクジュ"), ("高砂", "タカサゴ"),
    ("瑞穂", "ミズホ"), ("八洲", "ヤシマ"), ("東光", "トウコウ"), ("日光", "ニッコウ"),
    ("栄和", "エイワ"), ("豊和", "ホウワ"), ("和光", "ワコウ"), ("大興", "タイコウ"),
    ("泰平", "タイヘイ"), ("東和", "トウワ"), ("中外", "チュウガイ"),
)  # fmt: skip
MORAE = (
    "ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ", "サ", "シ", "ス", "セ", "ソ",
    "タ", "チ", "テ", "ト", "ナ", "ニ", "ノ", "ハ", "ヒ", "フ", "ホ", "マ", "ミ", "ム", "メ",
    "モ", "ヤ", "ユ", "ヨ", "ラ", "リ", "ル", "レ", "ロ", "ワ", "ガ", "ギ", "グ", "ゴ", "ザ",
    "ジ", "ズ", "ダ", "デ", "ド", "バ", "ビ", "ブ", "ベ", "ボ", "パ", "ピ", "プ", "ペ", "ポ",
    "ン", "ー", "キャ", "キュ", "ショ", "ティ", "ファ", "フィ", "ヴィ", "ッ",
)  # fmt: skip
BRAND_TAILS = (
    "テック", "システム", "ワークス", "ラボ", "プラス", "ネット", "デザイン", "フーズ",
    "メディカル", "ソリューションズ", "ファクトリー", "クリエイト", "トレーディング", "ライフ",
)  # fmt: skip
LETTERS = {
    "A": "エー", "B": "ビー", "C": "シー", "D": "ディー", "E": "イー", "F": "エフ", "G": "ジー",
    "H": "エイチ", "I": "アイ", "J": "ジェー", "K": "ケー", "L": "エル", "M": "エム", "N": "エヌ",
    "O": "オー", "P": "ピー", "R": "アール", "S": "エス", "T": "ティー", "U": "ユー", "W": "ダブリュー",
    "X": "エックス", "Y": "ワイ", "Z": "ゼット",
}  # fmt: skip
TRADES = (
    ("商店", "ショウテン"),
    ("事務所", "ジムショ"),
    ("工務店", "コウムテン"),
    ("商会", "ショウカイ"),
)
LEGAL_FORMS = (
    ("株式会社", "カブシキガイシャ", ("(株)", "㈱"), "ｶ"),
    ("有限会社", "ユウゲンガイシャ", ("(有)", "㈲"), "ﾕ"),
    ("合同会社", "ゴウドウガイシャ", ("(同)",), "ﾄﾞ"),
    ("一般社団法人", "イッパンシャダンホウジン", ("(一社)",), "ｼﾔ"),
)
LEGAL_WEIGHTS = (75, 15, 7, 3)
# What a slip may produce, in the script of the character it replaces: visually or
# phonetically near kanji and common IME misses, any katakana, any Latin letter.
KANJI_SLIPS = "田由甲申日目白自山出上土士工干千于午牛生正政成誠清精晴静製制西東南北商章"
KATAKANA_SLIPS = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
)

VARIANTS = (
    "legal_form_moved", "abbreviated", "half_width_transfer_name", "latin_width", "spaces",
    "hiragana_reading", "typo",
)  # fmt: skip


class Company:
    """A generated company: its name parts and reading, legal form and contact data."""

    def __init__(self, parts: list[tuple[str, str]], legal: int, legal_first: bool) -> None:
        self.parts = parts
        self.legal = legal
        self.legal_first = legal_first
        self.body = "".join(part for part, _ in parts)
        self.reading = "".join(reading for _, reading in parts)

    def name(self, body: str | None = None, form: str | None = None) -> str:
        body = self.body if body is None else body
        form = LEGAL_FORMS[self.legal][0] if form is None else form
        return f"{form}{body}" if self.legal_first else f"{body}{form}"


def make_company(fake: Faker, rng: random.Random) -> Company:
    """Return one plausible company name with its reading, drawn from several shapes."""

    def surname() -> tuple[str, str]:
        if rng.random() < 0.4:
            kanji, kana, _romaji = fake.last_name_pair()
            return kanji, kana
        return rng.choice(SURNAMES)

    def brand() -> tuple[str, str]:
        word = "".join(rng.choice(MORAE) for _ in range(rng.randint(4, 6))).lstrip("ンーッ")
        return word or "アル", word or "アル"

    def latin() -> tuple[str, str]:
        letters = "".join(rng.choice(list(LETTERS)) for _ in range(rng.randint(2, 4)))
        return letters, "".join(LETTERS[c] for c in letters)

    def branded() -> list[tuple[str, str]]:
        tail = rng.choice(BRAND_TAILS)
        return [brand(), (tail, tail) if rng.random() < 0.5 else rng.choice(INDUSTRIES)]

    def initials() -> list[tuple[str, str]]:
        if rng.random() < 0.6:
            return [latin(), rng.choice(INDUSTRIES)]
        return [latin(), rng.choice(QUALIFIERS), rng.choice(INDUSTRIES)]

    place, industry, qualifier = rng.choice(PLACES), rng.choice(INDUSTRIES), rng.choice(QUALIFIERS)
    shapes = (
        (4, lambda: [surname(), industry]),
        (18, lambda: [place, surname(), industry]),
        (14, lambda: [surname(), qualifier, industry]),
        (6, lambda: [place, qualifier, industry]),
        (8, lambda: [rng.choice(AUSPICIOUS), qualifier, industry]),
        (5, lambda: [place, rng.choice(AUSPICIOUS), industry]),
        (8, lambda: [place, surname(), qualifier, industry]),
        (22, branded),
        (10, initials),
        (3, lambda: [surname(), fake.first_name_pair()[:2], rng.choice(TRADES)]),
    )
    build = rng.choices([shape for _, shape in shapes], weights=[w for w, _ in shapes])[0]
    parts = build()
    legal = rng.choices(range(len(LEGAL_FORMS)), weights=LEGAL_WEIGHTS)[0]
    return Company(parts, legal, legal_first=rng.random() < 0.7)


def half_width(text: str) -> str:
    return jaconv.z2h(text, kana=True, ascii=True, digit=True)


def slip_for(char: str, rng: random.Random) -> str:
    if "\u30a0" <= char <= "\u30ff":
        return rng.choice(KATAKANA_SLIPS)
    if char.isascii():
        return rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return rng.choice(KANJI_SLIPS)


def typo(body: str, rng: random.Random) -> str:
    """Return ``body`` with one slip: a wrong, missing, extra or swapped character."""
    while True:
        kind = rng.choice(("substitute", "substitute", "delete", "insert", "swap"))
        i = rng.randrange(len(body))
        if kind == "substitute":
            result = body[:i] + slip_for(body[i], rng) + body[i + 1 :]
        elif kind == "delete" and len(body) > 3:
            result = body[:i] + body[i + 1 :]
        elif kind == "insert":
            result = body[:i] + slip_for(body[i], rng) + body[i:]
        elif kind == "swap" and i + 1 < len(body):
            result = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
        else:
            continue
        if result != body:
            return result


def variant(company: Company, kind: str, rng: random.Random) -> tuple[str, str]:
    """Return (name, reading) of a duplicate of ``company`` typed the ``kind`` way."""
    form, form_reading, abbreviations, bank_mark = LEGAL_FORMS[company.legal]
    # Many staff leave the reading empty; the rest type it with or without the legal form.
    reading = "" if rng.random() < 0.25 else company.reading
    if kind == "legal_form_moved":
        moved = Company(company.parts, company.legal, not company.legal_first)
        if reading and rng.random() < 0.5:
            reading = (
                f"{form_reading}{reading}" if moved.legal_first else f"{reading}{form_reading}"
            )
        return moved.name(), reading
    if kind == "abbreviated":
        mark = rng.choice(abbreviations)
        name = f"{mark}{company.body}" if rng.random() < 0.5 else f"{company.body}{mark}"
        return name, reading
    if kind == "half_width_transfer_name":
        # Registered from a bank statement: the name is the transfer name in half-width kana.
        transfer = half_width(company.reading)
        name = f"{bank_mark}){transfer}" if company.legal_first else f"{transfer}({bank_mark}"
        return name, half_width(reading)
    if kind == "latin_width":
        body = jaconv.h2z(company.body, kana=False, ascii=True, digit=True)
        if rng.random() < 0.5:
            body = body.lower()
        return company.name(body=body), reading
    if kind == "spaces":
        spaced = rng.choice((" ", "　", "・")).join(part for part, _ in company.parts)
        name = f"{form}　{spaced}" if company.legal_first else f"{spaced} {form}"
        return name, " ".join(r for _, r in company.parts) if reading else ""
    if kind == "hiragana_reading":
        return company.name(form=abbreviations[0]), jaconv.kata2hira(company.reading)
    if kind == "typo":
        return company.name(body=typo(company.body, rng)), reading
    raise ValueError(kind)


def reformat_phone(phone: str, rng: random.Random) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return rng.choice(
        (
            digits,
            f"({digits[:3]}){digits[3:7]}-{digits[7:]}",
            jaconv.h2z(phone, digit=True, ascii=True),
        )
    )


def generate(
    customers: int, duplicates: int, seed: int
) -> tuple[list[dict[str, str | None]], list[dict[str, str | None]], list[tuple[int, str]]]:
    """Return the distinct companies' rows, the duplicates' rows and each duplicate's origin.

    No two distinct companies share a name key or a reading key, so every pair the engine
    proposes among them is a real false positive.
    """
    from stdnum.jp import cn

    from customers.matching import normalize_name

    rng = random.Random(seed)
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    companies: list[Company] = []
    names_seen: set[str] = set()
    readings_seen: set[str] = set()
    while len(companies) < customers:
        company = make_company(fake, rng)
        name_key, reading_key = normalize_name(company.body), normalize_name(company.reading)
        if name_key in names_seen or reading_key in readings_seen:
            continue
        names_seen.add(name_key)
        readings_seen.add(reading_key)
        companies.append(company)

    def contact() -> dict[str, str]:
        return {
            "prefecture": fake.prefecture(),
            "city": fake.city(),
            "street": f"{fake.town()}{fake.chome()}{fake.ban()}{fake.gou()}",
            "phone": fake.phone_number(),
        }

    base_rows: list[dict[str, str | None]] = []
    for index, company in enumerate(companies):
        form_reading = LEGAL_FORMS[company.legal][1]
        reading = company.reading
        if rng.random() < 0.3:
            reading = (
                f"{form_reading} {reading}" if company.legal_first else f"{reading} {form_reading}"
            )
        # A few carry a 法人番号; no duplicate does, so names alone must find them.
        body = f"{index + 1:012d}"
        number = cn.calc_check_digit(body) + body if rng.random() < 0.2 else None
        base_rows.append(
            {"name": company.name(), "name_kana": reading, "corporate_number": number, **contact()}
        )

    chosen = rng.sample(range(len(companies)), duplicates)
    latin_bases = [i for i, c in enumerate(companies) if any("A" <= ch <= "Z" for ch in c.body)]
    duplicate_rows: list[dict[str, str | None]] = []
    origins: list[tuple[int, str]] = []
    for n, index in enumerate(chosen):
        kind = VARIANTS[n % len(VARIANTS)]
        if kind == "latin_width":
            index = rng.choice(latin_bases)
        name, reading = variant(companies[index], kind, rng)
        row: dict[str, str | None] = {
            "name": name, "name_kana": reading, "corporate_number": None, **contact()
        }  # fmt: skip
        base = base_rows[index]
        # Often the same office keyed another way; sometimes nothing shared but the name.
        if rng.random() < 0.5:
            row["phone"] = reformat_phone(str(base["phone"]), rng)
        if rng.random() < 0.4:
            row.update(prefecture=base["prefecture"], city=base["city"], street=base["street"])
        duplicate_rows.append(row)
        origins.append((index, kind))
    return base_rows, duplicate_rows, origins


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20000, help="distinct companies")
    parser.add_argument("--duplicates", type=int, default=400, help="duplicates injected")
    parser.add_argument(
        "--subset", type=int, default=5000, help="customers in the all-pairs comparison"
    )
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args()
    setup_django()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from customers.dedup import (
        _evidence,
        candidate_positions,
        find_duplicate_pairs,
        load_keys,
        refresh_duplicate_candidates,
        similar_customers,
    )
    from customers.matching import DUPLICATE_THRESHOLD
    from customers.models import Customer

    rng = random.Random(args.seed + 1)
    base_rows, duplicate_rows, truth_of = generate(args.customers, args.duplicates, args.seed)

    with scratch_database():
        print(f"database: {connection.vendor}")
        objects = []
        for row in base_rows + duplicate_rows:
            customer = Customer(is_client=True, **row)
            customer.refresh_keys()
            objects.append(customer)
        insert_s = timed(lambda: Customer.objects.bulk_create(objects, batch_size=2000))
        ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        base_ids, duplicate_ids = ids[: len(base_rows)], ids[len(base_rows) :]
        # Truth: each injected duplicate with its original, and two duplicates of one
        # original with each other (the Latin variant may pick an original twice).
        truth: dict[tuple[int, int], str] = {}
        clusters: dict[int, list[int]] = {}
        for duplicate_id, (index, kind) in zip(duplicate_ids, truth_of, strict=True):
            truth[base_ids[index], duplicate_id] = kind
            for sibling in clusters.setdefault(index, []):
                truth[sibling, duplicate_id] = kind
            clusters[index].append(duplicate_id)
        print(
            f"customers: {len(ids):,} ({len(base_rows):,} distinct + {len(duplicate_rows):,} "
            f"injected duplicates), inserted in {insert_s:.1f} s"
        )

        found: list = []
        engine_s = timed(lambda: found.extend(find_duplicate_pairs()))
        predicted = {(p.first_id, p.second_id) for p in found}
        hits = predicted & truth.keys()
        precision = len(hits) / len(predicted) if predicted else 1.0
        recall = len(hits) / len(truth)
        keys = load_keys()
        compared = len(candidate_positions(keys, DUPLICATE_THRESHOLD))
        all_pairs = len(keys) * (len(keys) - 1) // 2
        print(f"\nfind_duplicate_pairs over {len(keys):,} customers: {engine_s:.2f} s")
        print(f"  pairs scored     : {compared:,} of {all_pairs:,} ({compared / all_pairs:.5%})")
        print(f"  pairs found      : {len(predicted):,} at threshold {DUPLICATE_THRESHOLD}")
        print(
            f"  precision        : {precision:.4f} ({len(hits):,} of {len(predicted):,} injected)"
        )
        print(f"  recall           : {recall:.4f} ({len(hits):,} of {len(truth):,} injected)")
        by_kind, missed_kind = (
            Counter(truth.values()),
            Counter(truth[p] for p in truth.keys() - hits),
        )
        for kind in VARIANTS:
            print(
                f"    {kind:26s}: recall {1 - missed_kind[kind] / by_kind[kind]:.3f} of {by_kind[kind]}"
            )
        names = dict(Customer.objects.values_list("pk", "name"))
        by_id = {k.id: k for k in keys}
        false = sorted(predicted - truth.keys())
        # Where both sides have a spelled name and a reading, a slip in one is checked by
        # the other; otherwise one slip in six characters is all there is to go by.
        single = sum(
            1
            for pair in false
            if not all(by_id[pk].kana_key and not by_id[pk].name_is_kana for pk in pair)
        )
        print(
            f"  false positives  : {len(false):,}, of which {single:,} could be compared only "
            "by name or only by reading"
        )
        for first, second in rng.sample(false, min(5, len(false))):
            print(f"    false positive : {names[first]} / {names[second]}")
        for first, second in sorted(truth.keys() - hits)[:5]:
            print(f"    missed         : {names[first]} / {names[second]} ({truth[first, second]})")

        refreshed: list = []
        refresh_s = timed(lambda: refreshed.append(refresh_duplicate_candidates()))
        print(f"  refresh_duplicate_candidates: {refresh_s:.2f} s, created/updated {refreshed[0]}")

        # Speed against comparing every pair, on a subset small enough to do so.
        subset = sorted(rng.sample(ids, min(args.subset, len(ids))))
        sub_keys = load_keys(subset)
        subset_found: list = []
        blocked_s = timed(lambda: subset_found.extend(find_duplicate_pairs(customer_ids=subset)))
        brute: list = []

        def compare_all() -> None:
            for i, a in enumerate(sub_keys):
                for b in sub_keys[i + 1 :]:
                    if _evidence(a, b)[0] >= DUPLICATE_THRESHOLD:
                        brute.append((a.id, b.id))

        brute_s = timed(compare_all)
        brute_set = set(brute)
        blocked_set = {(p.first_id, p.second_id) for p in subset_found}
        n_sub = len(sub_keys)
        print(f"\nsubset of {n_sub:,} customers ({n_sub * (n_sub - 1) // 2:,} pairs):")
        print(f"  all pairs        : {brute_s:.2f} s, {len(brute_set):,} pairs found")
        print(f"  blocked engine   : {blocked_s:.3f} s, {len(blocked_set):,} pairs found")
        print(f"  speed ratio      : {brute_s / blocked_s:,.0f}x")
        lost = len(brute_set - blocked_set)
        print(f"  lost by blocking : {lost} of {len(brute_set)} pairs the all-pairs run finds")
        if n_sub:
            rate = brute_s / (n_sub * (n_sub - 1) / 2)
            print(
                f"  all pairs over {len(keys):,} would take about "
                f"{rate * all_pairs / 3600:.1f} h at that rate"
            )

        # The live check on the form, with the duplicates' names as what is being typed.
        samples, queries = [], []
        for row in rng.sample(duplicate_rows, min(50, len(duplicate_rows))):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                similar_customers(
                    name=row["name"], name_kana=row["name_kana"], phone=row["phone"],
                    prefecture=row["prefecture"], city=row["city"], street=row["street"],
                )  # fmt: skip
                samples.append(time.perf_counter() - started)
            queries.append(len(captured))
        median, p95 = percentiles(samples)
        print(
            f"\nsimilar_customers (form check): median {median * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, queries per call {max(queries)}"
        )


if __name__ == "__main__":
    main()
