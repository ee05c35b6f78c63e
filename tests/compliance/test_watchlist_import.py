"""Watchlist import: internal template, MOF list and custom mappings; versions, delisting, views."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from compliance.choices import EntryType
from compliance.models import Watchlist, WatchlistEntry, WatchlistImport
from compliance.watchlist_import import (
    FORMAT_CUSTOM,
    FORMAT_INTERNAL,
    FORMAT_MOF,
    HEADERS,
    WatchlistImportRejected,
    import_watchlist,
    internal_template,
    parse_watchlist,
)
from core import jobs
from core.models import AuditEvent
from tests.compliance.fixtures.make_fixtures import (
    INTERNAL_HEADERS,
    INTERNAL_ROWS,
    internal_csv,
    internal_xlsx,
)
from tests.factories import WatchlistEntryFactory, WatchlistFactory

FIXTURES = Path(__file__).parent / "fixtures"
INTERNAL_LIST = "社内反社リスト"
MOF_LIST = "財務省 経済制裁対象者リスト"


def fixture(name: str) -> io.BytesIO:
    return io.BytesIO((FIXTURES / name).read_bytes())


def internal_list() -> Watchlist:
    return WatchlistFactory(name=INTERNAL_LIST)  # created by the data migration


def mof_list() -> Watchlist:
    return WatchlistFactory(name=MOF_LIST, kind="sanctions")


def rows(*, drop: tuple[str, ...] = (), **changes: dict[str, str]) -> list[list[str]]:
    """Return the sample internal rows; ``changes`` maps a reference to {header: new value}."""
    result = []
    for row in INTERNAL_ROWS:
        cells = list(row)
        if cells[0] in drop:
            continue
        for header, value in changes.get(cells[0].replace("-", "_"), {}).items():
            cells[INTERNAL_HEADERS.index(header)] = value
        result.append(cells)
    return result


def run_import(
    source: Any,
    *,
    watchlist: Watchlist | None = None,
    actor,
    file_format=FORMAT_INTERNAL,
    filename="list.csv",
    **options,
) -> WatchlistImport:
    return import_watchlist(
        watchlist=watchlist or internal_list(),
        source=source,
        actor=actor,
        file_format=file_format,
        filename=filename,
        **options,
    )


def errors_of(preview) -> set[tuple[int, str]]:
    return {(error.row, error.column) for error in preview.errors}


@pytest.fixture
def officer(make_user):
    return make_user("compliance")


@pytest.fixture
def no_rescreen(monkeypatch):
    """Keep the re-screening check out of the registry (its engine is tested elsewhere)."""
    monkeypatch.delitem(jobs._registry, "rescreening", raising=False)


@pytest.mark.django_db
class TestInternalImport:
    def test_csv_import_creates_entries_with_match_keys(self, officer):
        watchlist = internal_list()
        record = run_import(io.BytesIO(internal_csv()), actor=officer)
        assert (
            record.rows_total,
            record.rows_added,
            record.rows_updated,
            record.rows_delisted,
        ) == (4, 4, 0, 0)
        entries = {entry.reference or entry.name: entry for entry in watchlist.entries.all()}
        taro = entries["AS-0001"]
        assert taro.entry_type == EntryType.INDIVIDUAL and taro.name == "反社 太郎"
        assert taro.aliases == ["反社太朗", "ハンシャ タロウ"]
        assert taro.name_kana == "ハンシャ タロウ"  # hiragana in the file
        assert (taro.date_of_birth, taro.birth_year) == (date(1970, 3, 1), 1970)
        assert taro.listed_on == date(2024, 4, 1)
        assert entries["AS-0002"].entry_type == EntryType.ENTITY
        assert entries["AS-0002"].listed_on == date(2024, 4, 2)  # 2024年4月2日
        assert (entries["AS-0003"].date_of_birth, entries["AS-0003"].birth_year) == (None, 1965)
        assert entries["見本 一郎"].date_of_birth == date(1970, 3, 1)  # 昭和45年3月1日
        for entry in entries.values():
            assert entry.match_keys and entry.fingerprint == entry.content_fingerprint()
        watchlist.refresh_from_db()
        assert watchlist.version == 1 and record.version == 1
        assert record.file_format == FORMAT_INTERNAL and record.imported_by == officer

    def test_xlsx_with_a_title_row_reads_the_same_entries_as_csv(self, officer):
        csv_preview = parse_watchlist(
            io.BytesIO(internal_csv()), "l.csv", file_format=FORMAT_INTERNAL
        )
        xlsx_preview = parse_watchlist(
            io.BytesIO(internal_xlsx()), "l.xlsx", file_format=FORMAT_INTERNAL
        )
        assert not xlsx_preview.has_errors
        assert [row.fields for row in xlsx_preview.rows] == [row.fields for row in csv_preview.rows]
        assert [row.row for row in xlsx_preview.rows] == [3, 4, 5, 6]  # Excel's numbering
        record = run_import(io.BytesIO(internal_xlsx()), actor=officer, filename="list.xlsx")
        assert record.rows_added == 4
        assert all(entry.match_keys for entry in WatchlistEntry.objects.all())

    def test_reads_shift_jis_csv(self):
        preview = parse_watchlist(
            io.BytesIO(internal_csv(encoding="cp932")), "l.csv", file_format=FORMAT_INTERNAL
        )
        assert not preview.has_errors and preview.rows[0].fields["name"] == "反社 太郎"

    def test_headers_are_matched_across_widths_spaces_and_synonyms(self):
        text = (
            "番号,区分,氏　名,別称,ﾌﾘｶﾞﾅ,生 年 月 日 *\r\nX-1,個人,山田 次郎,,ﾔﾏﾀﾞ ｼﾞﾛｳ,1980/1/2\r\n"
        )
        preview = parse_watchlist(
            io.BytesIO(text.encode("utf-8")), "l.csv", file_format=FORMAT_INTERNAL
        )
        assert not preview.has_errors, preview.errors
        fields = preview.rows[0].fields
        assert (fields["reference"], fields["name"], fields["name_kana"]) == (
            "X-1",
            "山田 次郎",
            "ヤマダ ジロウ",
        )
        assert fields["date_of_birth"] == date(1980, 1, 2)

    @pytest.mark.parametrize(
        ("cell", "expected"),
        [
            ("1970-03-01", (date(1970, 3, 1), 1970)),
            ("1970/3/1", (date(1970, 3, 1), 1970)),
            ("１９７０年３月１日", (date(1970, 3, 1), 1970)),
            ("昭和45年3月1日", (date(1970, 3, 1), 1970)),
            ("S45.3.1", (date(1970, 3, 1), 1970)),
            ("平成元年1月8日", (date(1989, 1, 8), 1989)),
            ("1965", (None, 1965)),
            ("1965年", (None, 1965)),
            ("1965年頃", (None, 1965)),
            ("不明", (None, None)),
            ("", (None, None)),
        ],
    )
    def test_reads_dates_of_birth_in_common_notations(self, cell, expected):
        preview = parse_watchlist(
            io.BytesIO(internal_csv(rows(AS_0001={"生年月日": cell})[:1])),
            "l.csv",
            file_format=FORMAT_INTERNAL,
        )
        assert not preview.has_errors, preview.errors
        assert (
            preview.rows[0].fields["date_of_birth"],
            preview.rows[0].fields["birth_year"],
        ) == expected

    @pytest.mark.parametrize("cell", ["生年不詳の頃", "1970-02-30", "2999-01-01", "12/31"])
    def test_an_unreadable_date_of_birth_is_an_error_of_its_cell(self, cell):
        preview = parse_watchlist(
            io.BytesIO(internal_csv(rows(AS_0002={"生年月日": cell}))),
            "l.csv",
            file_format=FORMAT_INTERNAL,
        )
        assert errors_of(preview) == {(3, "生年月日")}

    def test_reports_other_cells_in_error_by_row_and_header(self):
        bad = rows(
            AS_0001={"種別": "会員"}, AS_0002={"フリガナ": "Kakuu"}, AS_0003={"掲載日": "近日"}
        )
        preview = parse_watchlist(
            io.BytesIO(internal_csv(bad)), "l.csv", file_format=FORMAT_INTERNAL
        )
        assert errors_of(preview) == {(2, "種別"), (3, "フリガナ"), (4, "掲載日")}

    def test_a_repeated_reference_or_unreferenced_name_is_an_error(self):
        data = rows()
        data.append(list(data[0]))  # AS-0001 again
        data.append(list(data[3]))  # 見本 一郎, no reference, same date of birth
        preview = parse_watchlist(
            io.BytesIO(internal_csv(data)), "l.csv", file_format=FORMAT_INTERNAL
        )
        assert errors_of(preview) == {(6, "参照番号"), (7, "氏名・名称")}

    def test_a_file_without_the_name_column_is_refused(self):
        text = "参照番号,種別\r\nA,個人\r\n"
        preview = parse_watchlist(io.BytesIO(text.encode()), "l.csv", file_format=FORMAT_INTERNAL)
        assert preview.file_errors and not preview.rows

    def test_the_downloadable_template_reads_back_with_its_example(self):
        workbook = load_workbook(io.BytesIO(internal_template()))
        assert [cell.value for cell in workbook["反社リスト"][1]] == list(HEADERS)
        example = io.BytesIO()
        sheet = workbook["記入例"]
        copy = Workbook()
        for values in sheet.iter_rows(values_only=True):
            copy.active.append(values)
        copy.save(example)
        preview = parse_watchlist(example, "t.xlsx", file_format=FORMAT_INTERNAL)
        assert not preview.has_errors and len(preview.rows) == 2


@pytest.mark.django_db
class TestRejectedRows:
    def test_a_bad_date_of_birth_writes_nothing_and_names_row_and_column(self, officer):
        watchlist = internal_list()
        data = rows(AS_0002={"生年月日": "生年不詳の頃"})
        with pytest.raises(WatchlistImportRejected) as rejected:
            run_import(io.BytesIO(internal_csv(data)), actor=officer)
        [error] = rejected.value.errors
        assert (error.row, error.column) == (3, "生年月日")
        with translation.override("ja"):
            assert error.text.startswith("3行目 生年月日: ")
        watchlist.refresh_from_db()
        assert watchlist.version == 0
        assert not WatchlistEntry.objects.exists() and not WatchlistImport.objects.exists()
        assert not AuditEvent.objects.filter(action="compliance.watchlist_imported").exists()

    def test_valid_rows_only_imports_the_rest_and_delists_nothing(self, officer):
        watchlist = internal_list()
        stale = WatchlistEntryFactory(watchlist=watchlist, reference="OLD-1", name="旧掲載 者")
        data = rows(AS_0002={"生年月日": "生年不詳の頃"})
        record = run_import(io.BytesIO(internal_csv(data)), actor=officer, valid_rows_only=True)
        assert record.rows_added == 3 and record.rows_delisted == 0
        assert record.skipped_rows == ["3"] and record.delisting_skipped
        assert not watchlist.entries.filter(reference="AS-0002").exists()
        stale.refresh_from_db()
        assert stale.is_active  # a left-out row may be a listed party: nothing is delisted

    def test_an_identical_file_is_refused_and_records_nothing(self, officer, no_rescreen):
        watchlist = internal_list()
        run_import(io.BytesIO(internal_csv()), actor=officer)
        with pytest.raises(WatchlistImportRejected) as rejected:
            run_import(io.BytesIO(internal_csv()), actor=officer)
        [error] = rejected.value.errors
        assert error.row == 0 and INTERNAL_LIST in error.message
        watchlist.refresh_from_db()
        assert watchlist.version == 1 and watchlist.imports.count() == 1


@pytest.mark.django_db
class TestReimport:
    def test_a_changed_file_updates_the_changed_entry_and_delists_the_missing_one(
        self, officer, no_rescreen
    ):
        watchlist = internal_list()
        run_import(io.BytesIO(internal_csv()), actor=officer)
        before = {entry.reference or entry.name: entry for entry in watchlist.entries.all()}
        changed = rows(
            drop=("AS-0003",),
            AS_0002={
                "住所": "大阪府大阪市中央区1-2-3",
                "別名": "架空興業;カクウコウギョウ;架空商事",
            },
        )
        record = run_import(
            io.BytesIO(internal_csv(changed)), actor=officer, filename="list-v2.csv"
        )
        assert (record.rows_added, record.rows_updated, record.rows_delisted) == (0, 1, 1)
        after = {entry.reference or entry.name: entry for entry in watchlist.entries.all()}
        kakuu = after["AS-0002"]
        assert kakuu.address == "大阪府大阪市中央区1-2-3" and "架空商事" in kakuu.aliases
        assert kakuu.fingerprint != before["AS-0002"].fingerprint
        assert kakuu.fingerprint == kakuu.content_fingerprint()
        assert not after["AS-0003"].is_active  # delisted, never deleted
        for key in ("AS-0001", "見本 一郎"):  # unchanged: untouched, same fingerprint
            assert after[key].fingerprint == before[key].fingerprint
            assert after[key].history.count() == 1
        watchlist.refresh_from_db()
        assert watchlist.version == 2 and record.version == 2
        assert list(
            watchlist.imports.order_by("version").values_list("version", "rows_delisted")
        ) == [(1, 0), (2, 1)]

    def test_a_partial_file_delists_nothing(self, officer, no_rescreen):
        watchlist = internal_list()
        run_import(io.BytesIO(internal_csv()), actor=officer)
        record = run_import(
            io.BytesIO(internal_csv(rows()[:1])), actor=officer, complete_list=False
        )
        assert record.rows_delisted == 0 and watchlist.entries.filter(is_active=True).count() == 4

    def test_a_delisted_entry_in_a_later_file_is_listed_again(self, officer, no_rescreen):
        watchlist = internal_list()
        run_import(io.BytesIO(internal_csv()), actor=officer)
        run_import(io.BytesIO(internal_csv(rows(drop=("AS-0003",)))), actor=officer)
        record = run_import(io.BytesIO(internal_xlsx()), actor=officer, filename="list.xlsx")
        assert (record.rows_added, record.rows_updated) == (0, 1)
        assert watchlist.entries.get(reference="AS-0003").is_active

    def test_the_same_content_in_another_file_changes_nothing_but_records_a_version(
        self, officer, no_rescreen
    ):
        watchlist = internal_list()
        run_import(io.BytesIO(internal_csv()), actor=officer)
        fingerprints = dict(watchlist.entries.values_list("pk", "fingerprint"))
        record = run_import(io.BytesIO(internal_xlsx()), actor=officer, filename="list.xlsx")
        assert (record.rows_added, record.rows_updated, record.rows_delisted) == (0, 0, 0)
        assert (
            record.version == 2
            and dict(watchlist.entries.values_list("pk", "fingerprint")) == fingerprints
        )

    def test_rows_without_reference_match_by_name_and_date_of_birth(self, officer, no_rescreen):
        watchlist = internal_list()
        existing = WatchlistEntryFactory(
            watchlist=watchlist,
            reference="",
            name="見本　一郎",
            date_of_birth=date(1970, 3, 1),
            birth_year=1970,
        )
        preview = parse_watchlist(
            io.BytesIO(internal_csv()), "l.csv", file_format=FORMAT_INTERNAL, watchlist=watchlist
        )
        [row] = [row for row in preview.rows if row.fields["name"] == "見本 一郎"]
        assert row.entry == existing and row.status == "changed"

    def test_writes_one_audit_event_with_the_counts(self, officer, no_rescreen):
        record = run_import(io.BytesIO(internal_csv()), actor=officer)
        event = AuditEvent.objects.get(action="compliance.watchlist_imported")
        assert event.actor == officer and event.subject_id == str(record.pk)
        assert {key: event.data[key] for key in ("version", "added", "updated", "delisted", "rows")} == {
            "version": 1, "added": 4, "updated": 0, "delisted": 0, "rows": 4,
        }  # fmt: skip
        assert event.data["sha256"] == record.file_hash and event.data["watchlist"] == INTERNAL_LIST


class _FakeTask:
    def __init__(self) -> None:
        self.queued: list[str] = []

    def delay(self, name: str) -> None:
        self.queued.append(name)


@pytest.mark.django_db
class TestRescreenQueue:
    @pytest.fixture
    def task(self, monkeypatch) -> _FakeTask:
        fake = _FakeTask()
        monkeypatch.setattr("core.tasks.run_nightly_check", fake)
        return fake

    def test_queues_the_rescreening_check_after_commit(
        self, officer, task, monkeypatch, django_capture_on_commit_callbacks
    ):
        check = jobs.NightlyCheck("rescreening", "re-screen", lambda **_: jobs.CheckOutcome())
        monkeypatch.setitem(jobs._registry, "rescreening", check)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            run_import(io.BytesIO(internal_csv()), actor=officer)
            assert task.queued == []  # nothing before the commit
        assert len(callbacks) == 1 and task.queued == ["rescreening"]

    def test_a_failure_to_queue_never_undoes_the_import(
        self, officer, monkeypatch, django_capture_on_commit_callbacks
    ):
        class Broken:
            def delay(self, name: str) -> None:
                raise ConnectionError("broker down")

        monkeypatch.setattr("core.tasks.run_nightly_check", Broken())
        monkeypatch.setitem(
            jobs._registry, "rescreening", jobs.NightlyCheck("rescreening", "", lambda **_: None)
        )
        with django_capture_on_commit_callbacks(execute=True):
            record = run_import(io.BytesIO(internal_csv()), actor=officer)
        assert WatchlistImport.objects.filter(pk=record.pk).exists()

    def test_queues_nothing_when_the_check_is_not_registered(
        self, officer, task, no_rescreen, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            run_import(io.BytesIO(internal_csv()), actor=officer)
        assert task.queued == []

    def test_queues_nothing_when_nothing_changed(
        self, officer, task, monkeypatch, django_capture_on_commit_callbacks
    ):
        run_import(io.BytesIO(internal_csv()), actor=officer)
        monkeypatch.setitem(
            jobs._registry, "rescreening", jobs.NightlyCheck("rescreening", "", lambda **_: None)
        )
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            run_import(io.BytesIO(internal_xlsx()), actor=officer, filename="l.xlsx")
        assert callbacks == [] and task.queued == []


@pytest.mark.django_db
class TestMofImport:
    def test_imports_individuals_and_entities_with_aliases_and_dates_of_birth(
        self, officer, no_rescreen
    ):
        watchlist = mof_list()
        record = run_import(
            fixture("mof_sample.xlsx"),
            watchlist=watchlist,
            actor=officer,
            file_format=FORMAT_MOF,
            filename="mof.xlsx",
        )
        assert (record.rows_total, record.rows_added) == (8, 7)  # キム・テスト is listed twice
        entries = {entry.name: entry for entry in watchlist.entries.all()}
        kim = entries["キム・テスト"]
        assert kim.entry_type == EntryType.INDIVIDUAL and kim.reference == ""
        assert kim.name_romaji == "KIM Test" and kim.date_of_birth == date(1960, 5, 1)
        assert kim.aliases == ["キム・テストー", "KIM Testo", "Kim Tesuto"]
        assert kim.nationality == "北朝鮮" and kim.listed_on == date(2017, 12, 15)
        assert "旅券番号: PD123456" in kim.remarks and "第二号" in kim.remarks  # both programmes
        park = entries["パク・サンプル"]
        assert park.aliases == ["パク・サンプルー", "PAK Sampuru"]
        assert (park.date_of_birth, park.birth_year) == (None, None)  # (a) 1958 (b) 1959
        assert "生年月日（原文）: （a）1958年（b）1959年" in park.remarks
        assert (
            entries["サンプル・アハマド"].birth_year == 1965
            and entries["サンプル・アハマド"].nationality == ""
        )
        for name in ("架空防衛工業", "見本銀行", "架空救援基金"):
            assert entries[name].entry_type == EntryType.ENTITY
        assert entries["架空防衛工業"].aliases == ["カクウ・ディフェンス", "KDI"]
        assert entries["架空救援基金"].address == "カブール"
        assert all(entry.match_keys for entry in entries.values())

    def test_preview_names_sheets_and_skips_the_notes_sheet(self):
        preview = parse_watchlist(fixture("mof_sample.xlsx"), "mof.xlsx", file_format=FORMAT_MOF)
        assert preview.sheets == ["北朝鮮（個人）", "ロシア（団体）", "テロリスト等"]
        assert any("留意事項" in warning for warning in preview.warnings)
        merged = [row for row in preview.rows if row.display_status == "merged"]
        assert [(row.sheet, row.row) for row in merged] == [("テロリスト等", 6)]

    def test_a_reimport_matches_by_name_and_date_of_birth(self, officer, no_rescreen):
        watchlist = mof_list()
        run_import(
            fixture("mof_sample.xlsx"),
            watchlist=watchlist,
            actor=officer,
            file_format=FORMAT_MOF,
            filename="a.xlsx",
        )
        from tests.compliance.fixtures.make_fixtures import MOF_SHEETS, mof_xlsx

        sheets = [dict(spec) for spec in MOF_SHEETS]
        sheets[1]["rows"] = sheets[1]["rows"][:1]  # 見本銀行 removed from the list
        record = run_import(
            io.BytesIO(mof_xlsx(sheets)),
            watchlist=watchlist,
            actor=officer,
            file_format=FORMAT_MOF,
            filename="b.xlsx",
        )
        assert (record.rows_added, record.rows_updated, record.rows_delisted) == (0, 0, 1)
        assert not watchlist.entries.get(name="見本銀行").is_active


@pytest.mark.django_db
class TestCustomMapping:
    TEXT = "Full name,Kind,Born,Also known as\r\nJohn SAMPLE,,1975-06-01,Johnny S.;J. Sample\r\nSample Trading LLC,entity,,\r\n"

    def test_guesses_nothing_it_cannot_and_asks_for_the_name_column(self):
        preview = parse_watchlist(
            io.BytesIO(self.TEXT.encode()), "x.csv", file_format=FORMAT_CUSTOM
        )
        assert preview.headers == ["Full name", "Kind", "Born", "Also known as"]
        assert preview.file_errors and not preview.rows

    def test_imports_with_the_chosen_columns_and_default_type(self, officer, no_rescreen):
        mapping = {
            "name": "Full name",
            "entry_type": "Kind",
            "date_of_birth": "Born",
            "aliases": "Also known as",
            "default_entry_type": "individual",
        }
        record = run_import(
            io.BytesIO(self.TEXT.encode()),
            actor=officer,
            file_format=FORMAT_CUSTOM,
            mapping=mapping,
        )
        assert record.rows_added == 2 and record.file_format == FORMAT_CUSTOM
        john = WatchlistEntry.objects.get(name="John SAMPLE")
        assert john.entry_type == EntryType.INDIVIDUAL and john.date_of_birth == date(1975, 6, 1)
        assert john.aliases == ["Johnny S.", "J. Sample"]
        assert WatchlistEntry.objects.get(name="Sample Trading LLC").entry_type == EntryType.ENTITY

    def test_a_mapped_column_missing_from_the_file_is_a_file_error(self):
        preview = parse_watchlist(
            io.BytesIO(self.TEXT.encode()),
            "x.csv",
            file_format=FORMAT_CUSTOM,
            mapping={"name": "Nom"},
        )
        assert preview.file_errors and not preview.rows


# Views ---------------------------------------------------------------------------------------


def _url(name: str = "compliance:watchlist_import") -> str:
    return reverse(name)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path / "imports"


def _upload(
    client,
    data: bytes,
    *,
    name: str = "list.csv",
    watchlist: Watchlist | None = None,
    file_format=FORMAT_INTERNAL,
    **extra,
):
    file = io.BytesIO(data)
    file.name = name
    payload = {
        "watchlist": (watchlist or internal_list()).pk,
        "file_format": file_format,
        "file": file,
        "complete_list": "on",
        **extra,
    }
    return client.post(_url(), payload)


@pytest.mark.django_db
class TestImportViews:
    def test_compliance_may_open_the_upload_page(self, role_client, media):
        response = role_client("compliance").get(_url())
        body = response.content.decode()
        assert response.status_code == 200
        for field in (
            'name="watchlist"',
            'name="file_format"',
            'name="file"',
            'name="complete_list"',
            'name="valid_rows_only"',
        ):
            assert field in body
        assert re.search(r'<input[^>]*name="complete_list"[^>]*checked', body)  # on by default

    @pytest.mark.parametrize(
        "role",
        ["sales", "underwriter", "approver", "operations", "collections", "manager", "admin"],
    )
    def test_other_roles_are_refused(self, role_client, role, media):
        client = role_client(role)
        assert client.get(_url()).status_code == 403
        assert _upload(client, internal_csv()).status_code == 403
        assert not WatchlistEntry.objects.exists()

    def test_upload_shows_the_preview_with_counts_and_writes_nothing(self, role_client, media):
        watchlist = internal_list()
        WatchlistEntryFactory(watchlist=watchlist, reference="OLD-1")
        response = _upload(role_client("compliance"), internal_csv())
        assert response.status_code == 200
        plan = response.context["plan"]
        assert (len(plan.added), len(plan.changed), len(plan.delisted)) == (4, 0, 1)
        body = response.content.decode()
        assert 'data-testid="count-new"' in body and "反社 太郎" in body
        assert watchlist.entries.count() == 1 and len(list(media.iterdir())) == 1

    def test_preview_marks_the_bad_cell_and_confirm_writes_nothing(self, role_client, media):
        client = role_client("compliance")
        response = _upload(client, internal_csv(rows(AS_0002={"生年月日": "生年不詳の頃"})))
        body = response.content.decode()
        assert 'id="row-3"' in body and "生年月日" in body and "text-danger" in body
        token = response.context["form"]["token"].value()
        response = client.post(_url(), {"token": token, "action": "confirm"})
        assert response.status_code == 200 and not WatchlistEntry.objects.exists()
        response = client.post(
            _url(), {"token": token, "action": "confirm", "valid_rows_only": "on"}
        )
        assert response.status_code == 302 and WatchlistEntry.objects.count() == 3

    def test_confirm_imports_and_redirects_to_the_watchlists(self, role_client, media, no_rescreen):
        client = role_client("compliance")
        token = _upload(client, internal_csv()).context["form"]["token"].value()
        response = client.post(_url(), {"token": token, "action": "confirm"})
        assert response.status_code == 302 and response.url == _url("compliance:watchlists")
        watchlist = internal_list()
        watchlist.refresh_from_db()
        assert watchlist.version == 1 and watchlist.entries.count() == 4
        assert list(media.iterdir()) == []

    def test_mof_upload_shows_every_sheet(self, role_client, media):
        response = _upload(
            role_client("compliance"),
            fixture("mof_sample.xlsx").read(),
            name="mof.xlsx",
            watchlist=mof_list(),
            file_format=FORMAT_MOF,
        )
        body = response.content.decode()
        assert response.status_code == 200 and "ロシア（団体）" in body and "架空防衛工業" in body

    def test_custom_layout_is_mapped_then_imported(self, role_client, media, no_rescreen):
        client = role_client("compliance")
        response = _upload(client, TestCustomMapping.TEXT.encode(), file_format=FORMAT_CUSTOM)
        assert response.status_code == 200 and response.context["mapping_form"] is not None
        assert not response.context["can_import"]
        token = response.context["form"]["token"].value()
        mapping = {
            "map-name": "Full name",
            "map-entry_type": "Kind",
            "map-date_of_birth": "Born",
            "map-default_entry_type": "individual",
        }
        response = client.post(_url(), {"token": token, "action": "remap", **mapping})
        assert response.status_code == 200 and response.context["can_import"]
        assert len(response.context["plan"].added) == 2
        previewed = response.context["form"]["previewed_mapping"].value()
        response = client.post(
            _url(), {"token": token, "action": "confirm", "previewed_mapping": previewed, **mapping}
        )
        assert response.status_code == 302 and WatchlistEntry.objects.count() == 2

    @pytest.mark.parametrize("token", ["../../etc/passwd", "not-a-uuid", "0" * 32])
    def test_confirm_refuses_a_token_this_session_did_not_upload(self, role_client, token, media):
        response = role_client("compliance").post(_url(), {"token": token, "action": "confirm"})
        assert response.status_code == 302 and response.url == _url()
        assert not WatchlistEntry.objects.exists()

    def test_template_download(self, role_client, media):
        try:
            url = _url("compliance:watchlist_template")
        except NoReverseMatch:
            pytest.skip("compliance:watchlist_template is not routed yet")
        response = role_client("compliance").get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith(
            "application/vnd.openxml"
        )
        assert role_client("sales").get(url).status_code == 403
