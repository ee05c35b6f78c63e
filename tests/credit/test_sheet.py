"""The monthly credit management sheet: month-end exposure from the ledger, and the workbook."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from accounts.models import ApprovalLevel
from credit import services
from credit.choices import LimitKind, LimitStatus
from credit.models import ExposureEntry
from credit.sheet import monthly_sheet, sheet_rows, sheet_title
from tests.factories import CreditLimitFactory, CustomerFactory, RatingFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
# The last complete month: the factories' limits (valid a year either side of today) cover it,
# and entries the services post now fall after it unless a test backdates them.
MONTH_END = date.today().replace(day=1) - timedelta(days=1)
CUTOFF = datetime.combine(MONTH_END + timedelta(days=1), time.min, TOKYO)
IN_MONTH = datetime.combine(MONTH_END, time(12, 0), TOKYO)
DECIDED = IN_MONTH - timedelta(days=40)
HEADERS_EN = [
    "Counterparty",
    "Corporate number",
    "Limit kind",
    "Credit limit",
    "Month-end exposure",
    "Headroom",
    "Utilisation",
    "Traffic light",
    "Rating",
    "Review date",
    "Status",
    "Worst delay (days)",
]
COL = {name: index for index, name in enumerate(HEADERS_EN, start=1)}
YEN = '"¥"#,##0;[Red]-"¥"#,##0'


@pytest.fixture
def actor():
    return UserFactory(roles=["underwriter"])


def client_with_limit(amount: int = 10_000_000, **fields):
    """Return a client holding an active client limit decided well before the month end."""
    client = CustomerFactory(**fields)
    CreditLimitFactory(counterparty=client, amount=amount, decided_at=DECIDED)
    return client


def debtor_with_limit(amount: int = 50_000_000):
    debtor = CustomerFactory(is_client=False, is_debtor=True)
    CreditLimitFactory(
        counterparty=debtor, kind=LimitKind.DEBTOR, amount=amount, decided_at=DECIDED
    )
    return debtor


def post(client, amount: int, reference: str, actor, *, when=IN_MONTH, debtor=None, **kwargs):
    """Reserve through the service, then date the entries of ``reference`` at ``when``."""
    services.reserve(
        counterparty=client,
        amount=amount,
        reference=reference,
        actor=actor,
        debtor=debtor,
        **kwargs,
    )
    backdate(reference, when)


def backdate(reference: str, when: datetime | None) -> None:
    # ExposureEntry.save refuses to change a row; a queryset update is how a test moves time.
    if when is not None:
        ExposureEntry.objects.filter(reference=reference).update(created_at=when)


def escalation():
    approver = UserFactory(roles=["approver"], approval_level=ApprovalLevel.EXECUTIVE)
    return services.Escalation(approver=approver, conditions="担保差入れを条件とする。")


def row_for(rows, party, kind=LimitKind.CLIENT):
    (row,) = [r for r in rows if r.counterparty_id == party.pk and r.kind == kind]
    return row


def workbook_sheet(**kwargs):
    data = monthly_sheet(month_end=MONTH_END, **kwargs)
    return load_workbook(BytesIO(data)).active


def sheet_line(sheet, party):
    """Return the cells of the data row naming ``party``."""
    for cells in sheet.iter_rows(min_row=3):
        if cells[0].value == party.name:
            return {name: cells[index - 1] for name, index in COL.items()}
    raise AssertionError(f"{party.name} is not on the sheet")


class TestSheetRows:
    def test_lists_one_row_per_limit_in_force_at_the_month_end(self, actor):
        client = client_with_limit()
        debtor = debtor_with_limit()
        post(client, 1_000_000, "2025-0001", actor, debtor=debtor)
        proposed = CustomerFactory()
        CreditLimitFactory(counterparty=proposed, status=LimitStatus.PROPOSED, decided_by=None)
        rejected = CustomerFactory()
        CreditLimitFactory(counterparty=rejected, status=LimitStatus.REJECTED, decided_at=DECIDED)
        decided_later = CustomerFactory()
        CreditLimitFactory(counterparty=decided_later, decided_at=CUTOFF)
        starts_later = CustomerFactory()
        CreditLimitFactory(
            counterparty=starts_later, decided_at=DECIDED, valid_from=MONTH_END + timedelta(days=1)
        )
        lapsed = CustomerFactory()
        CreditLimitFactory(
            counterparty=lapsed,
            status=LimitStatus.EXPIRED,
            decided_at=DECIDED,
            valid_until=MONTH_END - timedelta(days=1),
        )

        rows = sheet_rows(month_end=MONTH_END)

        assert {(r.counterparty_id, r.kind) for r in rows} == {
            (client.pk, LimitKind.CLIENT),
            (debtor.pk, LimitKind.DEBTOR),
        }

    def test_keeps_the_newest_decided_limit_of_a_kind_even_if_superseded_since(self):
        client = CustomerFactory()
        CreditLimitFactory(
            counterparty=client, amount=5_000_000, status=LimitStatus.SUPERSEDED,
            decided_at=DECIDED - timedelta(days=30),
        )  # fmt: skip
        CreditLimitFactory(
            counterparty=client, amount=8_000_000, status=LimitStatus.SUPERSEDED,
            decided_at=DECIDED,
        )  # fmt: skip
        CreditLimitFactory(counterparty=client, amount=12_000_000, decided_at=CUTOFF)

        (row,) = sheet_rows(month_end=MONTH_END)

        assert row.limit_amount == 8_000_000
        assert row.limit_status == LimitStatus.SUPERSEDED

    def test_counts_only_entries_before_the_day_after_the_month_end_in_tokyo(self, actor):
        client = client_with_limit()
        post(client, 3_000_000, "2025-0001", actor, when=CUTOFF - timedelta(seconds=1))
        post(client, 2_000_000, "2025-0002", actor, when=CUTOFF)
        post(client, 1_000_000, "2025-0003", actor, when=None)  # posted today

        row = row_for(sheet_rows(month_end=MONTH_END), client)

        assert row.exposure == 3_000_000
        assert row.headroom == 7_000_000
        assert row.utilization == Decimal("30.0")
        assert row.traffic_light == "green"

    def test_follows_reserve_consume_and_release_up_to_the_month_end(self, actor):
        client = client_with_limit()
        debtor = debtor_with_limit()
        post(client, 4_000_000, "2025-0001", actor, debtor=debtor)
        services.consume(
            counterparty=client, amount=3_000_000, reference="2025-0001", actor=actor,
            debtor=debtor,
        )  # fmt: skip
        backdate("2025-0001", IN_MONTH)  # 3M outstanding, the other 1M released
        services.release(
            counterparty=client, reference="2025-0001", actor=actor, amount=1_000_000
        )  # collected after the month end: still exposure on the sheet

        rows = sheet_rows(month_end=MONTH_END)

        assert row_for(rows, client).exposure == 3_000_000
        assert row_for(rows, debtor, LimitKind.DEBTOR).exposure == 3_000_000

    def test_sums_the_parent_and_all_its_descendants_under_a_group_limit(self, actor):
        parent = client_with_limit()
        CreditLimitFactory(
            counterparty=parent, kind=LimitKind.GROUP, amount=20_000_000, decided_at=DECIDED
        )
        child = client_with_limit(parent=parent)
        grandchild = client_with_limit(parent=child)
        outsider = client_with_limit()
        post(parent, 1_000_000, "2025-0001", actor)
        post(child, 2_000_000, "2025-0002", actor)
        post(grandchild, 4_000_000, "2025-0003", actor)
        post(outsider, 8_000_000, "2025-0004", actor)

        rows = sheet_rows(month_end=MONTH_END)

        group = row_for(rows, parent, LimitKind.GROUP)
        assert group.exposure == 7_000_000
        assert group.headroom == 13_000_000
        assert row_for(rows, parent).exposure == 1_000_000
        assert row_for(rows, child).exposure == 2_000_000

    def test_lists_exposure_without_a_limit_in_force_as_red(self, actor):
        client = CustomerFactory()
        debtor = CustomerFactory(is_client=False, is_debtor=True)
        services.adjust(
            counterparty=client, amount=500_000, reference="2025-0001", actor=actor,
            note="移行データの補正", debtor=debtor,
        )  # fmt: skip
        backdate("2025-0001", IN_MONTH)

        rows = sheet_rows(month_end=MONTH_END)

        for party, kind in ((client, LimitKind.CLIENT), (debtor, LimitKind.DEBTOR)):
            row = row_for(rows, party, kind)
            assert row.limit_amount is None
            assert row.limit_status == ""
            assert row.traffic_light == "red"
            assert row.headroom == -500_000
            assert row.utilization is None

    def test_shows_the_rating_as_of_the_month_end(self):
        rated = client_with_limit()
        RatingFactory(counterparty=rated, grade="A", rated_at=IN_MONTH - timedelta(days=90))
        RatingFactory(counterparty=rated, grade="B", rated_at=CUTOFF - timedelta(seconds=1))
        RatingFactory(counterparty=rated, grade="D", rated_at=CUTOFF)
        unrated = client_with_limit()
        RatingFactory(counterparty=unrated, grade="C", rated_at=CUTOFF + timedelta(days=1))

        rows = sheet_rows(month_end=MONTH_END)

        assert row_for(rows, rated).rating == "B"
        assert row_for(rows, unrated).rating == ""

    def test_shows_the_worst_current_delay_or_zero(self, actor):
        late = client_with_limit()
        services.payment_delay_report(counterparty=late, days=12, actor=actor)
        on_time = client_with_limit()

        rows = sheet_rows(month_end=MONTH_END)

        assert row_for(rows, late).worst_delay_days == 12
        assert row_for(rows, on_time).worst_delay_days == 0

    def test_sorts_red_first_then_by_utilisation_descending(self, actor):
        half = client_with_limit()
        ninety = client_with_limit()
        eighty_five = client_with_limit()
        over = client_with_limit()
        post(half, 5_000_000, "2025-0001", actor)
        post(ninety, 9_000_000, "2025-0002", actor)
        post(eighty_five, 8_500_000, "2025-0003", actor)
        post(over, 12_000_000, "2025-0004", actor, escalation=escalation())

        rows = sheet_rows(month_end=MONTH_END)

        assert [r.counterparty_id for r in rows] == [over.pk, ninety.pk, eighty_five.pk, half.pk]
        assert [r.traffic_light for r in rows] == ["red", "yellow", "yellow", "green"]
        assert rows[0].headroom == -2_000_000

    def test_runs_the_same_number_of_queries_for_two_or_six_counterparties(self, actor):
        def book(size: int, prefix: str) -> None:
            debtor = debtor_with_limit(amount=500_000_000)
            parent = client_with_limit()
            CreditLimitFactory(
                counterparty=parent, kind=LimitKind.GROUP, amount=90_000_000, decided_at=DECIDED
            )
            for n in range(size):
                client = client_with_limit(parent=parent)
                RatingFactory(counterparty=client, rated_at=DECIDED)
                post(client, 1_000_000, f"{prefix}-{n}", actor, debtor=debtor)
                post(client, 500_000, f"{prefix}-{n}b", actor)
                services.payment_delay_report(counterparty=client, days=n, actor=actor)

        book(2, "A")
        with CaptureQueriesContext(connection) as small:
            small_rows = sheet_rows(month_end=MONTH_END)
            monthly_sheet(month_end=MONTH_END)
        book(4, "B")
        with CaptureQueriesContext(connection) as large:
            large_rows = sheet_rows(month_end=MONTH_END)
            monthly_sheet(month_end=MONTH_END)

        assert len(large_rows) > len(small_rows)
        assert len(large.captured_queries) == len(small.captured_queries) <= 10


class TestMonthlySheet:
    def test_writes_the_header_in_the_active_language_under_a_dated_caption(self):
        client_with_limit()

        with translation.override("en"):
            sheet = workbook_sheet()

        assert sheet.title == sheet_title(MONTH_END) == f"月次与信管理表 {MONTH_END:%Y-%m}"
        assert MONTH_END.isoformat() in sheet["A1"].value
        assert [cell.value for cell in sheet[2]] == HEADERS_EN
        assert all(cell.font.bold for cell in sheet[2])

    def test_writes_one_line_per_row_with_labels_and_values(self, actor):
        client = client_with_limit(amount=10_000_000)
        RatingFactory(counterparty=client, grade="B", rated_at=DECIDED)
        post(client, 4_000_000, "2025-0001", actor)
        debtor = debtor_with_limit()

        with translation.override("en"):
            sheet = workbook_sheet()

        assert sheet.max_row == 4
        line = sheet_line(sheet, client)
        assert line["Corporate number"].value == client.corporate_number
        assert line["Corporate number"].data_type == "s"
        assert line["Limit kind"].value == "Client limit"
        assert line["Credit limit"].value == 10_000_000
        assert line["Month-end exposure"].value == 4_000_000
        assert line["Headroom"].value == 6_000_000
        assert line["Utilisation"].value == pytest.approx(0.4)
        assert line["Traffic light"].value == "Green (under 80%)"
        assert line["Rating"].value == "B"
        assert line["Review date"].value.date() == date.today() + timedelta(days=180)
        assert line["Status"].value == "Active"
        assert line["Worst delay (days)"].value == 0
        assert sheet_line(sheet, debtor)["Limit kind"].value == "Debtor limit"

    def test_formats_money_as_yen_utilisation_as_percent_and_the_review_date(self, actor):
        client = client_with_limit()
        post(client, 1_000_000, "2025-0001", actor)

        line = sheet_line(workbook_sheet(), client)

        for name in ("Credit limit", "Month-end exposure", "Headroom"):
            assert line[name].number_format == YEN
        assert line["Utilisation"].number_format == "0.0%"
        assert line["Review date"].is_date
        assert line["Review date"].number_format == "yyyy/mm/dd"

    def test_fills_negative_headroom_red(self, actor):
        client = client_with_limit(amount=1_000_000)
        post(client, 1_200_000, "2025-0001", actor, escalation=escalation())

        headroom = sheet_line(workbook_sheet(), client)["Headroom"]

        assert headroom.value == -200_000
        assert headroom.fill.fill_type == "solid"
        assert headroom.fill.fgColor.rgb.endswith("FFC7CE")

    def test_fills_headroom_yellow_from_80_percent_and_leaves_green_rows_plain(self, actor):
        full = client_with_limit()
        post(full, 8_000_000, "2025-0001", actor)
        roomy = client_with_limit()
        post(roomy, 7_900_000, "2025-0002", actor)

        sheet = workbook_sheet()

        yellow = sheet_line(sheet, full)["Headroom"]
        assert yellow.value == 2_000_000
        assert yellow.fill.fill_type == "solid"
        assert yellow.fill.fgColor.rgb.endswith("FFEB9C")
        assert sheet_line(sheet, roomy)["Headroom"].fill.fill_type is None

    def test_freezes_the_header_and_filters_the_whole_table(self, actor):
        for n in range(3):
            post(client_with_limit(), 1_000_000, f"2025-000{n}", actor)

        sheet = workbook_sheet()

        assert sheet.freeze_panes == "B3"
        assert sheet.auto_filter.ref == "A2:L5"
        assert sheet.column_dimensions["A"].width >= 30

    def test_writes_a_name_that_looks_like_a_formula_as_text(self):
        client = client_with_limit(name='=HYPERLINK("http://example.com","x")')

        cell = sheet_line(workbook_sheet(), client)["Counterparty"]

        assert cell.data_type == "s"
        assert cell.value == client.name

    def test_writes_just_the_header_when_nothing_was_in_force(self):
        sheet = workbook_sheet()

        assert sheet.max_row == 2
        assert sheet.auto_filter.ref == "A2:L2"
