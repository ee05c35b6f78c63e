"""The dashboard's tables as an Excel workbook: one sheet per panel, yen formatted, header
frozen — what a manager forwards or pastes into the weekly report."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from .definitions import RATE_CODES, YEN_CODES
from .selectors import DashboardData

YEN = '"¥"#,##0'
PERCENT = "0.0%"
NUMBER = "#,##0.0"


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # Excel stores doubles; the figure was rounded already
    if value is None:
        return ""
    return value if isinstance(value, int | float | str) else str(value)


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list[Any]],
           formats: dict[int, str] | None = None) -> None:  # fmt: skip
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for column, number_format in (formats or {}).items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = number_format
    sheet.freeze_panes = "A2"
    for i, _title in enumerate(header, start=1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = 18


def dashboard_workbook(data: DashboardData) -> bytes:
    """Return the dashboard as xlsx bytes (sheets: KGI, stages, conversion & lead time, lost
    reasons, channels, bottleneck, forecast, delay risk, expected loss, trend)."""
    book = Workbook()
    book.remove(book.active)
    period = data.filters.period
    kgi_rows = []
    for figure in data.kgi:
        kgi_rows.append([str(figure.label), figure.value, figure.previous, figure.change,
                         str(figure.definition)])  # fmt: skip
    _sheet(book, _("KGI"), [_("Figure"), period.label, period.previous().label, _("Change vs previous period"),
                           _("Definition")], kgi_rows, {4: PERCENT})  # fmt: skip
    sheet = book[_("KGI")[:31]]
    for row_index, figure in enumerate(data.kgi, start=2):
        fmt = YEN if figure.code in YEN_CODES else PERCENT if figure.code in RATE_CODES else NUMBER
        sheet.cell(row_index, 2).number_format = fmt
        sheet.cell(row_index, 3).number_format = fmt
    _sheet(book, _("Stages"), [_("Stage"), _("Deals"), _("Amount"), _("Stalled")],
           [[r.label, r.count, r.amount, r.stalled] for r in data.stages], {3: YEN})  # fmt: skip
    _sheet(book, _("Conversion & lead time"),
           [_("Stage"), _("Left in period"), _("Moved on"), _("Conversion"),
            _("Average business days in stage"), _("Reached (funnel)")],
           [[s.label, s.left, s.moved_on, s.conversion, s.avg_days, f.count]
            for s, f in zip(data.stages, data.funnel, strict=True)]
           + [[_("Lead time (business days)"), "", "", "", data.lead_time.value, ""],
              [_("Quoted"), data.quote_win.quoted, data.quote_win.won, data.quote_win.win_rate,
               "", ""]],
           {4: PERCENT, 5: NUMBER})  # fmt: skip
    _sheet(book, _("Lost reasons"), [_("Reason"), _("Deals"), _("Share")],
           [[r.label, r.count, r.share] for r in data.lost_reasons], {3: PERCENT})  # fmt: skip
    _sheet(book, _("Channels"),
           [_("Source channel"), _("New deals"), _("Quoted"), _("Won"), _("Win rate"),
            _("Executed amount"), _("Fee revenue")],
           [[r.label, r.deals, r.quoted, r.won, r.win_rate, r.executed_amount, r.fee_revenue]
            for r in data.by_channel],
           {5: PERCENT, 6: YEN, 7: YEN})  # fmt: skip
    if data.segments:
        _sheet(book, _("Segments"),
               [_("Group"), _("New deals"), _("Quoted"), _("Won"), _("Win rate"),
                _("Executed amount"), _("Fee revenue")],
               [[r.label, r.deals, r.quoted, r.won, r.win_rate, r.executed_amount,
                 r.fee_revenue] for r in data.segments],
               {5: PERCENT, 6: YEN, 7: YEN})  # fmt: skip
    bottleneck = data.bottleneck
    _sheet(book, _("Bottleneck"),
           [_("Deal id"), _("Deal name"), _("Client"), _("Stage"), _("Business days in stage"),
            _("Face value")],
           [[d.number, d.name, d.client.name, bottleneck.label,
             getattr(d, "days_in_stage", ""), d.face_value] for d in bottleneck.deals],
           {6: YEN})  # fmt: skip
    forecast = data.forecast
    _sheet(book, _("Forecast"),
           [_("Stage"), _("Deals"), _("Amount"), _("Probability"), _("Weighted")],
           [[r.label, r.count, r.amount, r.probability, r.weighted] for r in forecast.rows]
           + [[_("Total"), sum(r.count for r in forecast.rows), forecast.unweighted, "",
               forecast.weighted]],
           {3: YEN, 4: PERCENT, 5: YEN})  # fmt: skip
    risk = data.delay_risk
    _sheet(book, _("Delay risk"),
           [_("Bucket / debtor"), _("Receivables"), _("Overdue amount"), _("Utilisation %"),
            _("Light")],
           [[b.label, b.count, b.amount, "", ""] for b in risk.buckets]
           + [[d.name, "", d.overdue_amount, d.utilisation, d.light] for d in risk.debtors],
           {3: YEN})  # fmt: skip
    _sheet(book, _("Expected loss"), [_("Rating"), _("Exposure"), _("PD"), _("LGD"),
                                      _("Expected loss")],
           [[r.label or r.rating, r.exposure, r.pd, r.lgd, r.loss]
            for r in data.expected_loss.rows]
           + [[_("Total"), data.expected_loss.exposure, "", "", data.expected_loss.total]],
           {2: YEN, 3: PERCENT, 4: PERCENT, 5: YEN})  # fmt: skip
    _sheet(book, _("Trend"), [_("Month"), _("Delay rate"), _("Executed amount"),
                              _("Fee revenue")],
           [[p.label, p.delay_rate, p.executed_amount, p.fee_revenue]
            for p in data.delay_trend], {2: PERCENT, 3: YEN, 4: YEN})  # fmt: skip
    out = BytesIO()
    book.save(out)
    return out.getvalue()
