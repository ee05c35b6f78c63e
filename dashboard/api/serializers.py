"""Plain JSON for the dashboard: dataclasses to dicts, Decimal as strings (exact), dates in
ISO form, deals and receivables as the few fields a drill-down list shows."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from ..definitions import KPI_DEFINITIONS
from ..selectors import DashboardData, Figure


def plain(value: Any) -> Any:
    """Return ``value`` as JSON-ready data."""
    if isinstance(value, Figure):
        return {"code": value.code, "label": str(value.label), "value": plain(value.value),
                "previous": plain(value.previous), "change": plain(value.change),
                "drill": value.drill}  # fmt: skip
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "_meta") and value._meta.model_name == "deal":
        return deal_row(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def deal_row(deal: Any) -> dict[str, Any]:
    return {
        "number": deal.number, "name": deal.name, "stage": deal.stage,
        "client": deal.client.name, "owner": str(deal.owner), "channel": deal.channel,
        "face_value": deal.face_value, "advance_amount": deal.advance_amount,
        "executed_on": plain(deal.executed_on), "executed_amount": deal.executed_amount,
        "fee": deal.fee, "expected_payment_date": plain(deal.expected_payment_date),
        "days_in_stage": getattr(deal, "days_in_stage", None),
    }  # fmt: skip


def receivable_row(row: Any) -> dict[str, Any]:
    return {
        "invoice_number": row.receivable.invoice_number, "deal": row.deal.number,
        "client": row.deal.client.name, "debtor": row.receivable.debtor.name,
        "payer": row.payer.name, "due_date": row.due_date.isoformat(), "status": row.status,
        "expected_amount": row.expected_amount, "paid_amount": row.paid_amount,
        "outstanding_amount": row.outstanding_amount,
    }  # fmt: skip


def dashboard_json(data: DashboardData) -> dict[str, Any]:
    """Return every figure of ``data`` with the filters and definitions that produced it."""
    body = plain(data)
    body["filters"] = {"period": plain(data.filters.period), "label": data.filters.period.label,
                       "previous": plain(data.filters.period.previous()),
                       "params": data.filters.params()}  # fmt: skip
    body["assumptions"] = data.assumptions.to_session()
    body["top3"] = plain(data.top3)
    body["definitions"] = {code: {"label": str(d.label), "definition": str(d.definition)}
                           for code, d in KPI_DEFINITIONS.items()}  # fmt: skip
    return body
