"""The KPI dashboard's reads: every figure for one set of filters, and the deal or
receivable list behind each figure (its drill-down).

Every figure is an SQL aggregate (conditional counts and sums, GROUP BY, EXISTS, business
days in SQL) over the segment's deals and collections, so the number of queries is fixed
whatever the size of the book; see ``dashboard.definitions`` for what each one means.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from collection.models import ExpectedCollection
from collection.overdue import bucket_cutoffs
from collection.selectors import (
    DELAYED,
    REPURCHASE_COUNTED,
    bucket_q,
    outstanding_expression,
    with_lateness,
)
from core.calendar import bank_holidays
from core.models import AuditEvent
from deals.models import Deal
from deals.selectors import stall_q, stall_thresholds

from .assumptions import Assumptions
from .filters import DashboardFilters, Period
from .kpis import collections as coll
from .kpis import pipeline as pipe
from .kpis.segments import (
    created_in,
    executed_in,
    first_quoted_in,
    lost_in,
    segment_deals,
)
from .kpis.types import (
    Bottleneck,
    BucketRow,
    DashboardData,
    DebtorRisk,
    DelayRisk,
    ExpectedLoss,
    Figure,
    Forecast,
    ForecastRow,
    LossRow,
    QuoteWin,
    ReasonRow,
    SegmentRow,
    StageRow,
    TrendPoint,
)

__all__ = [
    "KGI_DRILLS",
    "Bottleneck",
    "BucketRow",
    "DashboardData",
    "DebtorRisk",
    "DelayRisk",
    "DrillError",
    "ExpectedLoss",
    "Figure",
    "Forecast",
    "ForecastRow",
    "LossRow",
    "QuoteWin",
    "ReasonRow",
    "SegmentRow",
    "StageRow",
    "TrendPoint",
    "dashboard_data",
    "drill_deals",
    "drill_receivables",
    "is_receivable_drill",
]  # fmt: skip

TREND_MONTHS = 12

#: The drill-down behind each headline figure.
KGI_DRILLS = {
    "executed_amount": "executed", "fee_revenue": "fees", "delay_rate": "delayed",
    "revenue_per_deal": "executed", "quote_rate": "quoted", "win_rate": "won",
    "lead_time_days": "executed", "delay_days_avg": "delayed", "repurchase_rate": "repurchased",
    "expected_loss": "exposure",
}  # fmt: skip

RECEIVABLE_DRILLS = ("bucket", "debtor", "delayed", "due", "repurchased", "exposure")


class DrillError(ValueError):
    """An unknown drill-down key."""


def _holidays(filters: DashboardFilters, today: date, first_month: date) -> list[date]:
    """Return the closed weekdays from the first deal's creation (or ``first_month``, the
    earliest month a collection figure reads, or the previous period, whichever is
    earliest) to the latest day any figure counts to (one query)."""
    first_created = Deal.objects.aggregate(first=Min("created_at"))["first"]
    low = min(filters.period.previous().start, first_month)
    if first_created is not None:
        low = min(low, timezone.localdate(first_created))
    high = max(today, filters.period.end, Period.month(today).end)
    return bank_holidays(low - timedelta(days=1), high)


def dashboard_data(filters: DashboardFilters, assumptions: Assumptions, *,
                   today: date) -> DashboardData:  # fmt: skip
    """Return every figure of the dashboard for ``filters`` (a fixed number of queries)."""
    thresholds = stall_thresholds()
    trend_months = coll.trend_months(filters.period, TREND_MONTHS)
    covered = coll.lateness_months(filters, trend_months)
    holidays = _holidays(filters, today, covered[0])
    deals = pipe.deal_totals(filters, holidays)
    monthly = coll.lateness_by_month(filters, covered, today=today, holidays=holidays)
    delays = coll.delay_totals(filters, today=today, holidays=holidays, monthly=monthly,
                               covered=covered)  # fmt: skip
    unpaid = coll.unpaid_summary(filters, today)
    loss = coll.expected_loss(unpaid, assumptions)
    cur, prev = deals["cur"], deals["prev"]

    def figure(code: str, value, previous) -> Figure:
        return Figure(code, value, previous, KGI_DRILLS[code])

    kgi = [
        figure("executed_amount", cur["executed_amount"], prev["executed_amount"]),
        figure("fee_revenue", cur["fee_revenue"], prev["fee_revenue"]),
        figure("delay_rate", delays["cur"]["delay_rate"], delays["prev"]["delay_rate"]),
        figure("revenue_per_deal", cur["revenue_per_deal"], prev["revenue_per_deal"]),
        figure("quote_rate", cur["quote_win"].quote_rate, prev["quote_win"].quote_rate),
        figure("win_rate", cur["quote_win"].win_rate, prev["quote_win"].win_rate),
        figure("lead_time_days", cur["lead_time_days"], prev["lead_time_days"]),
        figure("delay_days_avg", delays["cur"]["delay_days_avg"],
               delays["prev"]["delay_days_avg"]),
        figure("repurchase_rate", delays["cur"]["repurchase_rate"],
               delays["prev"]["repurchase_rate"]),
        figure("expected_loss", loss.total, None),
    ]  # fmt: skip
    stages = pipe.stage_rows(filters, today=today, thresholds=thresholds)
    by_channel = deals["by_channel"]
    if filters.group_by == "channel":
        segments = [replace(row, drill=f"segment:{row.key}") for row in by_channel]
    elif filters.group_by:
        segments = pipe.segment_rows(filters, filters.group_by, "segment")
    else:
        segments = []
    return DashboardData(
        filters=filters,
        assumptions=assumptions,
        today=today,
        kgi=kgi,
        delay_trend=coll.trend(filters, trend_months, monthly),
        stages=stages,
        funnel=deals["funnel"],
        quote_win=cur["quote_win"],
        lost_reasons=pipe.lost_reason_rows(filters),
        by_channel=by_channel,
        segments=segments,
        bottleneck=pipe.bottleneck(filters, stages, today=today, thresholds=thresholds),
        forecast=pipe.forecast(filters, assumptions, today=today),
        delay_risk=coll.delay_risk(filters, unpaid),
        expected_loss=loss,
        previous_quote_win=prev["quote_win"],
        extra={
            "executed_count": cur["executed"],
            "executed_count_previous": prev["executed"],
            "collections_due": delays["cur"]["due"],
            "collections_delayed": delays["cur"]["delayed"],
        },
    )


CACHE_SECONDS = 600


def data_version() -> int:
    """Return the newest audit event's id: every write that changes a figure goes through a
    service that leaves one, so a new id means the figures may have changed."""
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def cached_dashboard_data(filters: DashboardFilters, assumptions: Assumptions, *,
                          today: date) -> DashboardData:  # fmt: skip
    """Return ``dashboard_data``, from the cache while nothing was written since it was
    computed (the key holds the filters, assumptions, day and ``data_version``); managers
    reloading or flipping between periods do not recompute the whole book each time. The
    expiry bounds the age of figures that writes outside the services could leave behind."""
    key = (
        "dashboard:"
        + hashlib.sha256(
            repr((filters, assumptions.to_session(), today, data_version())).encode()
        ).hexdigest()
    )
    data = cache.get(key)
    if data is None:
        data = dashboard_data(filters, assumptions, today=today)
        cache.set(key, data, CACHE_SECONDS)
    return data


# ------------------------------------------------------------------------- drill-downs


def is_receivable_drill(key: str) -> bool:
    """Return True when ``key`` drills into receivables (expected collections)."""
    return key.split(":", 1)[0] in RECEIVABLE_DRILLS


def _split(key: str) -> tuple[str, str]:
    kind, _sep, arg = key.partition(":")
    return kind, arg


def drill_deals(filters: DashboardFilters, key: str, *, today: date) -> QuerySet[Deal]:
    """Return exactly the deals a deal figure counts (its count and sums match)."""
    kind, arg = _split(key)
    period = filters.period
    deals = segment_deals(filters)
    if kind in ("executed", "fees", "lead_time"):
        rows = deals.filter(executed_in(period)).order_by("-executed_on", "-pk")
    elif kind == "new":
        rows = deals.filter(created_in(period))
    elif kind in ("quoted", "won", "lost"):
        rows = deals.filter(first_quoted_in(period))
        if kind == "won":
            rows = rows.filter(executed_on__isnull=False)
        elif kind == "lost":
            rows = rows.filter(stage="lost")
    elif kind == "lost_reason" and arg:
        rows = deals.filter(lost_in(period), lost_reasons__code=arg)
    elif kind == "stage" and arg:
        rows = deals.filter(stage=arg).order_by("stage_entered_at", "pk")
    elif kind == "stalled" and arg:
        rows = deals.filter(stall_q(today, stall_thresholds(), stage=arg)).order_by(
            "stage_entered_at", "pk"
        )
    elif kind == "reached" and arg:
        condition = pipe.reached(arg)
        rows = deals.filter(created_in(period))
        rows = rows.filter(condition) if condition else rows
    elif kind == "channel":
        rows = pipe.deals_for_segment_key(filters, "channel", arg).filter(created_in(period))
    elif kind == "segment" and filters.group_by:
        rows = pipe.deals_for_segment_key(filters, filters.group_by, arg)
        rows = rows.filter(created_in(period))
    elif kind == "forecast" and arg in pipe.FORECAST_ROWS:
        rows = deals.filter(pipe.forecast_q(arg, Period.month(today)))
    else:
        raise DrillError(key)
    if not rows.query.order_by:
        rows = rows.order_by("-pk")
    return rows.select_related("client", "owner")


def drill_receivables(filters: DashboardFilters, key: str, *,
                      today: date) -> QuerySet[ExpectedCollection]:  # fmt: skip
    """Return exactly the expected collections a collection figure counts, each with
    ``outstanding_amount``."""
    kind, arg = _split(key)
    period = filters.period
    if kind == "bucket" and arg in bucket_cutoffs(today):
        rows = coll.overdue_rows(filters, today).filter(bucket_q(arg, today))
    elif kind == "debtor" and arg.isdigit():
        rows = coll.overdue_rows(filters, today).filter(debtor_id=int(arg))
    elif kind == "delayed":
        holidays = bank_holidays(period.start - timedelta(days=1), max(today, period.end))
        rows = with_lateness(coll.segment_collections(filters), today, holidays).filter(
            coll.due_in(period, today) & DELAYED
        )
    elif kind == "due":
        rows = coll.segment_collections(filters).filter(coll.due_in(period, today))
    elif kind == "repurchased":
        rows = coll.segment_collections(filters).filter(
            coll.due_in(period, today) & Q(repurchase__status__in=REPURCHASE_COUNTED)
        )
    elif kind == "exposure":
        rows = coll.unpaid_rows(filters)
    else:
        raise DrillError(key)
    return (
        rows.annotate(outstanding_amount=outstanding_expression())
        .select_related("receivable__debtor", "deal__client", "deal__owner", "payer")
        .order_by("due_date", "pk")
    )
