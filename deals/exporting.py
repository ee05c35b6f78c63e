"""The deal register (案件台帳) as an Excel workbook.

Sheet 案件台帳 has one row per deal with every field a user looks for; sheet 対象債権 one row
per purchased invoice. The export streams: openpyxl's write-only mode, and the deals read
in chunks with their client, owners and remittance account joined and their lost reasons
and receivables prefetched per chunk — three queries per 2,000 deals however many rows.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from core.audit import audit_log
from core.calendar import business_days_between
from credit.choices import ClientSize, Scheme, Utilization

from .choices import Channel, NoticeMethod, Stage, VerificationMethod
from .models import Deal, LostReason, Receivable

SHEET_NAME = "案件台帳"
RECEIVABLE_SHEET_NAME = "対象債権"
CHUNK_SIZE = 2000

YEN_FORMAT = '"¥"#,##0;[Red]-"¥"#,##0'
RATE_FORMAT = "0.00%"
DATE_FORMAT = "yyyy/mm/dd"
DATETIME_FORMAT = "yyyy/mm/dd hh:mm"
TEXT_FORMAT = "@"
FORMATS = {"yen": YEN_FORMAT, "rate": RATE_FORMAT, "date": DATE_FORMAT,
           "datetime": DATETIME_FORMAT, "text": TEXT_FORMAT}  # fmt: skip
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")


@dataclass(frozen=True)
class Column:
    """One column: its header (a gettext msgid), how to read the value, its cell format."""

    header: Any
    value: Callable[[Any], Any]
    kind: str = ""  # a key of FORMATS, or "" for a cell as it comes
    width: int = 14


def _flag(value: bool) -> str:
    return "○" if value else ""


def _label(choices: Any, value: str) -> str:
    """Return the display label of ``value`` in ``choices`` (the raw value when retired)."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _person(user: Any) -> str:
    return str(user) if user is not None else ""


def _credit_status(deal: Deal) -> str:
    return _label(Utilization, deal.credit_status or "")  # annotated by _export_queryset


def _cleared(deal: Deal) -> str:
    """Return ○ when every party in the clearance snapshot was cleared, × when one was not."""
    snapshot = deal.clearance_snapshot or {}
    if not snapshot:
        return ""
    return "○" if all(party.get("cleared") for party in snapshot.values()) else "×"


DEAL_COLUMNS: tuple[Column, ...] = (
    Column(_("Deal id"), lambda d: d.number, "text", 11),
    Column(_("Deal name"), lambda d: d.name, width=32),
    Column(_("Stage"), lambda d: _label(Stage, d.stage), width=20),
    Column(_("Owner"), lambda d: _person(d.owner)),
    Column(_("Department"), lambda d: d.department),
    Column(_("Source channel"), lambda d: _label(Channel, d.channel)),
    Column(_("Referrer company"), lambda d: d.referrer_company, width=24),
    Column(_("Referrer person"), lambda d: d.referrer_person),
    Column(_("Campaign"), lambda d: d.campaign),
    Column(_("Client"), lambda d: d.client.name, width=32),
    Column(_("Client corporate number (法人番号)"), lambda d: d.client.corporate_number or "",
           "text", 16),
    Column(_("Scheme"), lambda d: _label(Scheme, d.scheme)),
    Column(_("Notice to debtor required"), lambda d: _flag(d.notice_required), width=8),
    Column(_("Registration required (債権譲渡登記)"), lambda d: _flag(d.registration_required),
           width=8),
    Column(_("Repurchase after days overdue"), lambda d: d.repurchase_trigger_days, width=8),
    Column(_("Client size / condition"), lambda d: _label(ClientSize, d.client_size)),
    Column(_("Fee rate"), lambda d: d.fee_rate, "rate", 10),
    Column(_("Advance rate (掛け目)"), lambda d: d.advance_rate, "rate", 10),
    Column(_("Policy advance rate"), lambda d: d.policy_rate, "rate", 10),
    Column(_("Advance-rate policy version"), lambda d: d.policy_version, width=8),
    Column(_("Reason for overriding the rate"), lambda d: d.advance_override_reason, width=24),
    Column(_("Survey fee (調査費)"), lambda d: d.survey_fee, "yen"),
    Column(_("Registration fee (登記費用)"), lambda d: d.registration_fee, "yen"),
    Column(_("Judicial scrivener fee (司法書士報酬)"), lambda d: d.scrivener_fee, "yen"),
    Column(_("Transfer fee (振込手数料)"), lambda d: d.transfer_fee, "yen"),
    Column(_("Other costs"), lambda d: d.other_costs, "yen"),
    Column(_("Face value"), lambda d: d.face_value, "yen", 16),
    Column(_("Advance amount (買取対象額)"), lambda d: d.advance_amount, "yen", 16),
    Column(_("Fee (手数料)"), lambda d: d.fee, "yen"),
    Column(_("Upfront payment (早期現金化額)"), lambda d: d.upfront_payment, "yen", 16),
    Column(_("Reserve (返還額)"), lambda d: d.reserve, "yen", 16),
    Column(_("Total to client"), lambda d: d.total_to_client, "yen", 16),
    Column(_("Expected payment date"), lambda d: d.expected_payment_date, "date", 12),
    Column(_("Expected collection date"), lambda d: d.expected_collection_date, "date", 12),
    Column(_("Credit check status"), _credit_status, width=18),
    Column(_("Compliance clearance"), _cleared, width=8),
    Column(_("Term sheet date"), lambda d: d.term_sheet_date, "date", 12),
    Column(_("Contract date"), lambda d: d.contract_date, "date", 12),
    Column(_("E-contract id"), lambda d: d.e_contract_id, "text"),
    Column(_("Registration applied on"), lambda d: d.registration_applied_on, "date", 12),
    Column(_("Registration completed at"), lambda d: d.registration_completed_at, "datetime",
           16),
    Column(_("Registration number"), lambda d: d.registration_number, "text"),
    Column(_("Registration expires on"), lambda d: d.registration_expires_on, "date", 12),
    Column(_("Notice / consent date"), lambda d: d.notice_date, "date", 12),
    Column(_("Certified-date method"), lambda d: _label(NoticeMethod, d.notice_method), width=20),
    Column(_("Certified-date reference"), lambda d: d.notice_reference, "text"),
    Column(_("Consent signed by"), lambda d: d.consent_signatory),
    Column(_("Waiver of defences (異議なき承諾)"), lambda d: _flag(d.defences_waived), width=8),
    Column(_("Anti-assignment clause noted"), lambda d: _flag(d.anti_assignment_noted), width=8),
    Column(_("Execution date"), lambda d: d.executed_on, "date", 12),
    Column(_("Executed amount"), lambda d: d.executed_amount, "yen", 16),
    Column(_("Remittance account"), lambda d: str(d.remittance_account or ""), width=32),
    Column(_("Lost reasons"), lambda d: "、".join(r.label for r in d.lost_reasons.all()),
           width=20),
    Column(_("Lost: details"), lambda d: d.lost_note, width=24),
    Column(_("Background (背景)"), lambda d: d.memo_background, width=32),
    Column(_("Judgement (判断理由)"), lambda d: d.memo_judgement, width=32),
    Column(_("Next steps (次アクション)"), lambda d: d.memo_next, width=32),
    Column(_("Next action"), lambda d: d.next_action, width=24),
    Column(_("Next action owner"), lambda d: _person(d.next_action_owner)),
    Column(_("Next action due"), lambda d: d.next_action_due, "date", 12),
    Column(_("Days in stage (business days)"), lambda d: d.days_in_stage, width=8),
    Column(_("Created at"), lambda d: d.created_at, "datetime", 16),
)  # fmt: skip

RECEIVABLE_COLUMNS: tuple[Column, ...] = (
    Column(_("Deal id"), lambda r: r.deal.number, "text", 11),
    Column(_("Debtor"), lambda r: r.debtor.name, width=32),
    Column(_("Invoice number"), lambda r: r.invoice_number, "text", 16),
    Column(_("Issue date"), lambda r: r.issue_date, "date", 12),
    Column(_("Due date"), lambda r: r.due_date, "date", 12),
    Column(_("Face amount"), lambda r: r.face_amount, "yen", 16),
    Column(_("Evidence received"), lambda r: _flag(r.evidence_received), width=8),
    Column(_("Existence verified by"),
           lambda r: _label(VerificationMethod, r.verification_method), width=28),
    Column(_("Verification note"), lambda r: r.verification_note, width=32),
)  # fmt: skip


class _SheetWriter:
    """Append rows to a write-only sheet, each formatted cell copying its column's style."""

    def __init__(self, sheet: WriteOnlyWorksheet, columns: tuple[Column, ...], freeze: str):
        self.sheet = sheet
        self.columns = columns
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        sheet.freeze_panes = freeze
        # One style array per format, shared by every cell of that format: a write-only cell
        # is serialised when its row is appended and never restyled, so sharing is safe and
        # far cheaper than looking the number format up again for each of 100,000 rows.
        self.styles: dict[str, Any] = {}
        for kind, number_format in FORMATS.items():
            template = WriteOnlyCell(sheet)
            template.number_format = number_format
            self.styles[kind] = template._style
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=str(column.header))
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
            header.append(cell)
        sheet.append(header)

    def _cell(self, value: Any, kind: str) -> Any:
        if isinstance(value, datetime):
            value = timezone.localtime(value).replace(tzinfo=None)  # Excel has no time zones
        elif isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if not value:
                return None  # openpyxl skips None: a blank costs nothing in the file
            if value.startswith("="):
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.data_type = "s"  # a deal named "=HYPERLINK(...)" stays a name in Excel
                return cell
        if not kind or value is None:
            return value
        cell = WriteOnlyCell(self.sheet, value=value)
        cell._style = self.styles[kind]
        return cell

    def append(self, obj: Any) -> None:
        self.sheet.append([self._cell(column.value(obj), column.kind) for column in self.columns])


def _export_queryset(queryset: QuerySet[Deal]) -> QuerySet[Deal]:
    """Return ``queryset`` with the joins and per-chunk prefetches the register reads."""
    receivables = (
        Receivable.objects.select_related("debtor")
        .only("deal", "debtor__name", "invoice_number", "issue_date", "due_date", "face_amount",
              "evidence_received", "verification_method", "verification_note")
        .order_by("due_date", "pk")
    )  # fmt: skip
    return (
        queryset.select_related(None)
        .prefetch_related(None)
        .select_related("client", "owner", "next_action_owner", "remittance_account")
        # The status is all the register shows of the credit result: read it in SQL rather
        # than decoding every deal's limit-check snapshot.
        .defer("credit_result", "send_back_reasons")
        .annotate(credit_status=KT("credit_result__check__status"))
        .prefetch_related(
            Prefetch("lost_reasons", queryset=LostReason.objects.order_by("order", "code")),
            Prefetch("receivables", queryset=receivables),
        )
    )


def write_deal_register(queryset: QuerySet[Deal]) -> tuple[bytes, int]:
    """Write the deals of ``queryset`` and their receivables to .xlsx; return the file and
    the number of deals."""
    workbook = Workbook(write_only=True)
    deals = _SheetWriter(workbook.create_sheet(SHEET_NAME), DEAL_COLUMNS, freeze="C2")
    receivables = _SheetWriter(
        workbook.create_sheet(RECEIVABLE_SHEET_NAME), RECEIVABLE_COLUMNS, freeze="B2"
    )
    today = timezone.localdate()
    days: dict[date, int] = {}  # business days since each entry date, counted once per date
    count = 0
    for deal in _export_queryset(queryset).iterator(chunk_size=CHUNK_SIZE):
        entered = timezone.localdate(deal.stage_entered_at)
        if entered not in days:
            days[entered] = max(business_days_between(entered, today), 0)
        deal.days_in_stage = days[entered]
        deals.append(deal)
        for receivable in deal.receivables.all():
            receivables.append(receivable)
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count


def deal_register(queryset: QuerySet[Deal]) -> bytes:
    """Return the 案件台帳 of ``queryset`` as .xlsx (sheets 案件台帳 and 対象債権)."""
    return write_deal_register(queryset)[0]


def export_deals_logged(
    *, actor: Any, queryset: QuerySet[Deal], filters: Mapping[str, Any]
) -> bytes:
    """Export and write the ``deal.exported`` audit event: every export is logged (§5)."""
    data, count = write_deal_register(queryset)
    pairs = filters.lists() if hasattr(filters, "lists") else ((k, [v]) for k, v in filters.items())
    used = {key: values if len(values) > 1 else values[0]
            for key, values in pairs if any(values) and key != "page"}  # fmt: skip
    audit_log(
        actor=actor,
        action="deal.exported",
        data={"filters": used, "rows": count, "format": "xlsx"},
    )
    return data
