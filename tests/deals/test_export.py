"""The deal register (案件台帳): both sheets, Excel formats, constant queries, audit."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import load_workbook

from core.calendar import business_days_between
from core.downloads import XLSX_CONTENT_TYPE
from core.models import AuditEvent
from deals import exporting
from deals.choices import Stage
from deals.exporting import (
    RATE_FORMAT,
    RECEIVABLE_SHEET_NAME,
    SHEET_NAME,
    YEN_FORMAT,
    deal_register,
)
from deals.models import Deal
from deals.services import deal_transition
from tests.factories import CustomerFactory, DealFactory, ReceivableFactory

pytestmark = pytest.mark.django_db
TODAY = date.today()


def _read(data: bytes):
    return load_workbook(io.BytesIO(data))


def _column(sheet, msgid: str) -> int:
    """Return the 1-based column of the header ``msgid`` (as translated in the file)."""
    headers = [cell.value for cell in sheet[1]]
    return headers.index(gettext(msgid)) + 1


def _deals_with_receivables(sizes: list[int]) -> list[Deal]:
    deals = []
    for size in sizes:
        deal = DealFactory(face_value=size * 1_000_000)
        ReceivableFactory.create_batch(size, deal=deal)
        deals.append(deal)
    return deals


class TestDealRegister:
    def test_writes_one_row_per_deal_and_one_per_receivable(self):
        _deals_with_receivables([2, 1, 0])
        book = _read(deal_register(Deal.objects.all()))
        assert book.sheetnames == [SHEET_NAME, RECEIVABLE_SHEET_NAME]
        assert book[SHEET_NAME].max_row == 1 + 3
        assert book[RECEIVABLE_SHEET_NAME].max_row == 1 + 3

    def test_money_dates_rates_and_ids_carry_their_excel_formats(self):
        deal = DealFactory(
            fee_rate=Decimal("0.0250"), advance_rate=Decimal("0.8000"), face_value=10_000_000,
            advance_amount=8_000_000, fee=200_000, upfront_payment=7_800_000, reserve=2_000_000,
            expected_payment_date=TODAY, client=CustomerFactory(corporate_number="1010401089234"),
        )  # fmt: skip
        ReceivableFactory(deal=deal, face_amount=10_000_000)
        book = _read(deal_register(Deal.objects.all()))
        sheet = book[SHEET_NAME]
        face = sheet.cell(2, _column(sheet, "Face value"))
        assert face.value == 10_000_000 and face.number_format == YEN_FORMAT
        total = sheet.cell(2, _column(sheet, "Total to client"))
        assert total.value == 9_800_000 and total.number_format == YEN_FORMAT
        rate = sheet.cell(2, _column(sheet, "Advance rate (掛け目)"))
        assert rate.value == pytest.approx(0.8) and rate.number_format == RATE_FORMAT
        paid = sheet.cell(2, _column(sheet, "Expected payment date"))
        assert paid.value.date() == TODAY and paid.number_format == "yyyy/mm/dd"
        corporate = sheet.cell(2, _column(sheet, "Client corporate number (法人番号)"))
        assert corporate.value == "1010401089234" and corporate.data_type == "s"
        assert sheet.cell(2, _column(sheet, "Deal id")).value == deal.number
        assert sheet.cell(2, _column(sheet, "Stage")).value == str(Stage.LEAD.label)
        invoice = book[RECEIVABLE_SHEET_NAME]
        assert invoice.cell(2, 1).value == deal.number
        amount = invoice.cell(2, _column(invoice, "Face amount"))
        assert amount.value == 10_000_000 and amount.number_format == YEN_FORMAT

    def test_lists_lost_reasons_credit_status_and_clearance_as_words(self, make_user):
        deal = DealFactory(
            credit_result={"check": {"status": "yellow"}},
            clearance_snapshot={"1": {"cleared": True}, "2": {"cleared": False}},
        )
        deal_transition(deal=deal, actor=make_user("sales"), to=Stage.LOST,
                        lost_reasons=["price", "speed"], comment="他社が安い")  # fmt: skip
        sheet = _read(deal_register(Deal.objects.all()))[SHEET_NAME]
        assert sheet.cell(2, _column(sheet, "Lost reasons")).value == "価格、スピード"
        assert sheet.cell(2, _column(sheet, "Lost: details")).value == "他社が安い"
        assert sheet.cell(2, _column(sheet, "Credit check status")).value == gettext(
            "Yellow (80–100%)"
        )
        assert sheet.cell(2, _column(sheet, "Compliance clearance")).value == "×"
        assert sheet.cell(2, _column(sheet, "Days in stage (business days)")).value == 0

    def test_formula_like_text_stays_text(self):
        DealFactory(name='=HYPERLINK("http://example.com","x")', memo_background="a\x0bb")
        sheet = _read(deal_register(Deal.objects.all()))[SHEET_NAME]
        name = sheet.cell(2, _column(sheet, "Deal name"))
        assert name.data_type == "s" and name.value.startswith("=HYPERLINK")
        assert sheet.cell(2, _column(sheet, "Background (背景)")).value == "ab"

    def test_runs_the_same_queries_for_two_deals_or_six(self, make_user):
        counts = []
        for sizes in ([1, 2], [0, 3, 1, 2, 1, 1]):
            deals = _deals_with_receivables(sizes)
            deal_transition(deal=deals[0], actor=make_user("sales"), to=Stage.LOST,
                            lost_reasons=["price"])  # fmt: skip
            queryset = Deal.objects.filter(pk__in=[d.pk for d in deals])
            with CaptureQueriesContext(connection) as queries:
                deal_register(queryset)
            counts.append(len(queries))
        assert counts[0] == counts[1] == 3  # deals with joins, lost reasons, receivables

    def test_reads_in_chunks_and_loses_no_row(self, monkeypatch):
        monkeypatch.setattr(exporting, "CHUNK_SIZE", 2)
        _deals_with_receivables([1, 2, 1, 0, 3])
        with CaptureQueriesContext(connection) as queries:
            book = _read(deal_register(Deal.objects.order_by("pk")))
        assert book[SHEET_NAME].max_row == 1 + 5 and book[RECEIVABLE_SHEET_NAME].max_row == 1 + 7
        # One query (or server-side cursor) for the deals, then two prefetches per chunk.
        assert len(queries) == 1 + 3 * 2

    def test_counts_the_days_in_stage_in_bank_business_days(self):
        entered = timezone.now() - timedelta(days=7)
        DealFactory(stage_entered_at=entered)
        sheet = _read(deal_register(Deal.objects.all()))[SHEET_NAME]
        days = sheet.cell(2, _column(sheet, "Days in stage (business days)")).value
        assert days == business_days_between(timezone.localdate(entered), timezone.localdate())
        assert 2 <= days <= 5  # five in a plain week, fewer around holidays and New Year


class TestExportEndpoint:
    def test_downloads_the_filtered_register_and_logs_the_export(self, role_client):
        quoted = DealFactory(stage=Stage.QUOTED)
        DealFactory(stage=Stage.LEAD)
        ReceivableFactory(deal=quoted)
        client = role_client("manager")
        response = client.get("/api/deals/export/", {"stage": "quoted"})
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX_CONTENT_TYPE
        assert "attachment" in response["Content-Disposition"]
        book = _read(response.content)
        sheet = book[SHEET_NAME]
        assert sheet.max_row == 2 and sheet.cell(2, 1).value == quoted.number
        event = AuditEvent.objects.get(action="deal.exported")
        assert event.actor == client.user
        assert event.data["rows"] == 1 and event.data["filters"] == {"stage": "quoted"}

    def test_answers_when_the_client_asks_for_xlsx(self, role_client):
        DealFactory()
        response = role_client("approver").get("/api/deals/export/", HTTP_ACCEPT=XLSX_CONTENT_TYPE)
        assert response.status_code == 200 and response.content[:2] == b"PK"

    def test_a_refused_export_is_not_logged(self, role_client):
        assert role_client("sales").get("/api/deals/export/").status_code == 403
        assert not AuditEvent.objects.filter(action="deal.exported").exists()
