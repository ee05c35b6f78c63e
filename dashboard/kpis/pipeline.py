"""Deal figures: executed amount, fees, lead time, quote and win rates, the stages, the
funnel, lost reasons, segments, the bottleneck and this month's forecast — each one SQL
aggregate over the segment's deals (conditional counts and sums, one row per group)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate

from core.calendar import datetime_range
from core.calendar_sql import business_days_between_sql
from core.money import apply_rate, ratio
from deals.choices import OPEN_STAGES, PIPELINE, Stage, next_stage
from deals.milestones import stage_position
from deals.models import Deal, StageChange
from deals.selectors import stall_q

from ..assumptions import Assumptions
from ..filters import DashboardFilters, Period
from .segments import (
    amount_paid_out,
    created_in,
    executed_in,
    first_quoted_in,
    group_key,
    group_labels,
    lost_in,
    segment_deals,
)
from .types import (
    Bottleneck,
    Forecast,
    ForecastRow,
    QuoteWin,
    ReasonRow,
    SegmentRow,
    StageRow,
)

ONE_PLACE = Decimal("0.1")


def _period_aggregates(period: Period, prefix: str, lead: Any | None) -> dict[str, Any]:
    """Return the deal figures of ``period`` as conditional aggregates named ``prefix…``:
    executed count, amount, fees and summed lead time (executed in it), new deals (created
    in it), quoted, won and lost (first quoted in it)."""
    executed = executed_in(period)
    quoted = first_quoted_in(period)
    aggregates = {
        f"{prefix}executed": Count("pk", filter=executed),
        f"{prefix}amount": Sum(amount_paid_out(), filter=executed),
        f"{prefix}fee": Sum("fee", filter=executed),
        f"{prefix}new": Count("pk", filter=created_in(period)),
        f"{prefix}quoted": Count("pk", filter=quoted),
        f"{prefix}won": Count("pk", filter=quoted & Q(executed_on__isnull=False)),
        f"{prefix}lost": Count("pk", filter=quoted & Q(stage=Stage.LOST)),
    }
    if lead is not None:
        aggregates[f"{prefix}lead"] = Sum(lead, filter=executed)
    return aggregates


def _grouped_figures(filters: DashboardFilters, group_by: str, periods: dict[str, Period],
                     lead: Any | None = None, *, by_furthest: bool = False,
                     ) -> list[dict[str, Any]]:  # fmt: skip
    """Return the figures of each period per group of ``group_by`` (and per furthest stage
    reached when ``by_furthest``, with the face value of the deals created in the first
    period, for the funnel): one pass over the segment's deals executed, created or first
    quoted in any of the periods."""
    aggregates: dict[str, Any] = {}
    if by_furthest:
        first = next(iter(periods))
        aggregates["face"] = Sum("face_value", filter=created_in(periods[first]))
    scope = Q(pk__in=[])
    for key, period in periods.items():
        aggregates |= _period_aggregates(period, f"{key}_", lead)
        scope |= executed_in(period) | first_quoted_in(period) | created_in(period)
    return list(
        segment_deals(filters)
        .filter(scope)
        .annotate(group=group_key(group_by))
        .values("group", *(["furthest_stage"] if by_furthest else []))
        .annotate(**aggregates)
        .order_by("group")
    )


GROUP_KEYS = ("group", "furthest_stage")


def _collapse(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Regroup figures grouped by channel and furthest stage by ``key`` alone, summing
    every figure (None counts as 0)."""
    merged: dict[Any, dict[str, Any]] = {}
    for row in rows:
        into = merged.setdefault(row[key], {key: row[key]})
        for name, value in row.items():
            if name not in GROUP_KEYS:
                into[name] = into.get(name, 0) + (value or 0)
    return list(merged.values())


def _segment_rows(rows: list[dict[str, Any]], group_by: str, drill_prefix: str,
                  key: str = "cur") -> list[SegmentRow]:  # fmt: skip
    """Turn grouped figures into segment rows, largest executed amount first."""
    labels = group_labels(group_by, [r["group"] or "" for r in rows])
    result = [
        SegmentRow(
            key=r["group"] or "", label=labels[r["group"] or ""], deals=r[f"{key}_new"],
            won=r[f"{key}_won"], win_rate=ratio(r[f"{key}_won"], r[f"{key}_quoted"]),
            executed_amount=int(r[f"{key}_amount"] or 0), fee_revenue=int(r[f"{key}_fee"] or 0),
            drill=f"{drill_prefix}:{r['group'] or ''}", quoted=r[f"{key}_quoted"],
            executed=r[f"{key}_executed"],
        )
        for r in rows
        if any(r[f"{key}_{name}"] for name in ("new", "quoted", "executed"))
    ]  # fmt: skip
    return sorted(result, key=lambda r: (-r.executed_amount, -r.deals, r.key))


def deal_totals(filters: DashboardFilters, holidays: list[date]) -> dict[str, Any]:
    """Return, for the period ("cur") and the one before ("prev"): executed count, amount,
    fees, average lead time, new, quoted, won and lost deals; and the period's figures by
    channel ("by_channel") — one query grouped by channel, totalled here."""
    periods = {"cur": filters.period, "prev": filters.period.previous()}
    lead = business_days_between_sql(TruncDate("created_at"), F("executed_on"), holidays)
    rows = _grouped_figures(filters, "channel", periods, lead, by_furthest=True)
    result: dict[str, Any] = {
        "by_channel": _segment_rows(_collapse(rows, "group"), "channel", "channel"),
        "funnel": funnel_rows(_collapse(rows, "furthest_stage")),
    }
    for key in periods:

        def total(name: str, key: str = key) -> int:
            return sum(int(r[f"{key}_{name}"] or 0) for r in rows)

        executed, fee, lead_sum = total("executed"), total("fee"), total("lead")
        quoted, won = total("quoted"), total("won")
        result[key] = {
            "executed": executed,
            "executed_amount": total("amount"),
            "fee_revenue": fee,
            "revenue_per_deal": fee // executed if executed else None,
            "lead_time_days": (Decimal(lead_sum) / executed).quantize(ONE_PLACE)
            if executed else None,
            "quote_win": QuoteWin(
                quoted=quoted, won=won, lost=total("lost"),
                quote_rate=ratio(quoted, total("new")), win_rate=ratio(won, quoted),
                new_deals=total("new"),
            ),
        }  # fmt: skip
    return result


def stage_rows(filters: DashboardFilters, *, today: date,
               thresholds: list[tuple[str, int]]) -> list[StageRow]:  # fmt: skip
    """Return one row per pipeline stage: deals and face value in it today, how many are
    stalled, and of the deals that left it in the period, the share moving on to the next
    stage and their average business days in it (two queries)."""
    snapshot = {
        r["stage"]: r
        for r in segment_deals(filters)
        .filter(stage__in=[s.value for s in PIPELINE])
        .values("stage")
        .annotate(n=Count("pk"), amount=Sum("face_value"),
                  stalled=Count("pk", filter=stall_q(today, thresholds)))
        .order_by()
    }  # fmt: skip
    low, high = datetime_range(filters.period.start, filters.period.end)
    exits = StageChange.objects.filter(at__gte=low, at__lt=high, from_stage__in=PIPELINE)
    if filters.has_segment:
        exits = exits.filter(deal__in=segment_deals(filters).values("pk"))
    # Grouped by where each move went, so moving on is read from the group, not tested
    # per row; the average days in a stage is summed days over the moves out of it.
    moves: dict[str, dict[str, int]] = {}
    for r in (
        exits.values("from_stage", "to_stage")
        .annotate(n=Count("pk"), days=Sum("business_days"))
        .order_by()
    ):
        move = moves.setdefault(r["from_stage"], {"left": 0, "moved": 0, "days": 0})
        move["left"] += r["n"]
        move["days"] += int(r["days"] or 0)
        if r["to_stage"] == next_stage(r["from_stage"]):
            move["moved"] += r["n"]
    rows = []
    for stage in PIPELINE:
        snap = snapshot.get(stage.value, {})
        move = moves.get(stage.value, {})
        left = move.get("left", 0)
        rows.append(StageRow(
            stage=stage.value, label=str(stage.label), count=snap.get("n", 0),
            amount=int(snap.get("amount") or 0), stalled=snap.get("stalled", 0),
            conversion=ratio(move.get("moved", 0), move.get("left", 0)) if next_stage(stage)
            else None,
            avg_days=(Decimal(move["days"]) / left).quantize(ONE_PLACE) if left else None,
            drill=f"stage:{stage.value}", left=move.get("left", 0), moved_on=move.get("moved", 0),
            stalled_drill=f"stalled:{stage.value}",
        ))  # fmt: skip
    return rows


def reached(stage: str) -> Q:
    """Return the condition for deals that reached ``stage`` at some point (the pipeline
    moves one stage on at a time, so a deal reached every stage up to its furthest)."""
    return Q(furthest_stage__gte=stage_position(stage))


def funnel_rows(figures: list[dict[str, Any]]) -> list[StageRow]:
    """Return, of the deals first contacted in the period, how many reached each pipeline
    stage so far and their face value, from the period's new deals and their face value by
    furthest stage reached (``cur_new``, ``face``): a stage's figure is the sum over that
    stage and every one after it."""
    by_furthest = {r["furthest_stage"]: {"n": r["cur_new"], "amount": r["face"]} for r in figures}
    counts, amounts = [0] * len(PIPELINE), [0] * len(PIPELINE)
    for i in reversed(range(len(PIPELINE))):
        row = by_furthest.get(i, {})
        after = i + 1 < len(PIPELINE)
        counts[i] = row.get("n", 0) + (counts[i + 1] if after else 0)
        amounts[i] = int(row.get("amount") or 0) + (amounts[i + 1] if after else 0)
    rows = []
    for i, stage in enumerate(PIPELINE):
        following = counts[i + 1] if i + 1 < len(PIPELINE) else None
        rows.append(StageRow(
            stage=stage.value, label=str(stage.label), count=counts[i], amount=amounts[i],
            stalled=0, conversion=ratio(following, counts[i]) if following is not None else None,
            avg_days=None, drill=f"reached:{stage.value}",
        ))  # fmt: skip
    return rows


def lost_reason_rows(filters: DashboardFilters) -> list[ReasonRow]:
    """Return the reasons given for the deals lost in the period, most frequent first."""
    through = Deal.lost_reasons.through
    lost = segment_deals(filters).filter(lost_in(filters.period)).values("pk")
    rows = list(
        through.objects.filter(deal_id__in=lost)
        .values("lostreason__code", "lostreason__label", "lostreason__order")
        .annotate(n=Count("pk"))
        .order_by("-n", "lostreason__order", "lostreason__code")
    )
    total = sum(r["n"] for r in rows)
    return [
        ReasonRow(
            r["lostreason__code"],
            r["lostreason__label"],
            r["n"],
            ratio(r["n"], total) or Decimal("0.0000"),
            f"lost_reason:{r['lostreason__code']}",
        )
        for r in rows
    ]


def segment_rows(filters: DashboardFilters, group_by: str, drill_prefix: str) -> list[SegmentRow]:
    """Return per group: new deals, quoted and won (first quoted in the period), executed
    count, amount and fees (executed in the period) — one GROUP BY query."""
    rows = _grouped_figures(filters, group_by, {"cur": filters.period})
    return _segment_rows(rows, group_by, drill_prefix)


def bottleneck(filters: DashboardFilters, stages: list[StageRow], *, today: date,
               thresholds: list[tuple[str, int]]) -> Bottleneck:  # fmt: skip
    """Return the open stage with the most stalled deals (ties: the lowest conversion) and
    its longest-waiting stalled deals (one query)."""
    from deals.selectors import stalled_days

    candidates = [row for row in stages if row.stage in OPEN_STAGES]

    def badness(row: StageRow) -> tuple:
        conversion = row.conversion if row.conversion is not None else Decimal(2)
        return (-row.stalled, conversion, PIPELINE.index(Stage(row.stage)))

    worst = min(candidates, key=badness)
    deals = list(
        segment_deals(filters)
        .filter(stall_q(today, thresholds, stage=worst.stage))
        .select_related("client", "owner")
        .order_by("stage_entered_at", "pk")[:20]
    )
    for deal in deals:
        deal.days_in_stage = stalled_days(deal, today)
    return Bottleneck(worst.stage, worst.label, worst.stalled, worst.conversion, deals,
                      f"stalled:{worst.stage}")  # fmt: skip


def forecast_q(stage: str, month: Period) -> Q:
    """Return the condition for the deals a forecast row counts."""
    if stage == Stage.EXECUTED:
        return executed_in(month)
    return Q(stage=stage, expected_payment_date__gte=month.start,
             expected_payment_date__lte=month.end)  # fmt: skip


FORECAST_ROWS = (*(s.value for s in OPEN_STAGES), Stage.EXECUTED.value)


def forecast(filters: DashboardFilters, assumptions: Assumptions, *, today: date) -> Forecast:
    """Return this month's expected execution: open deals expected to be paid out this
    month by stage, weighted by the stage's probability, plus those already executed this
    month at 100 % (one query)."""
    month = Period.month(today)
    aggregates: dict[str, Any] = {}
    scope = Q(pk__in=[])
    for stage in FORECAST_ROWS:
        condition = forecast_q(stage, month)
        aggregates[f"n_{stage}"] = Count("pk", filter=condition)
        aggregates[f"a_{stage}"] = Sum(amount_paid_out(), filter=condition)
        scope |= condition
    row = segment_deals(filters).filter(scope).aggregate(**aggregates)
    rows = []
    for stage in FORECAST_ROWS:
        amount = int(row[f"a_{stage}"] or 0)
        probability = (
            Decimal("1.0000") if stage == Stage.EXECUTED else assumptions.probability(stage)
        )
        rows.append(ForecastRow(
            stage=stage, label=str(Stage(stage).label), count=row[f"n_{stage}"], amount=amount,
            probability=probability, weighted=apply_rate(amount, probability),
            drill=f"forecast:{stage}",
        ))  # fmt: skip
    return Forecast(month_label=month.label, unweighted=sum(r.amount for r in rows),
                    weighted=sum(r.weighted for r in rows), rows=rows, start=month.start,
                    end=month.end)  # fmt: skip


def deals_for_segment_key(filters: DashboardFilters, group_by: str, key: str) -> QuerySet[Deal]:
    """Return the segment's deals in group ``key`` of ``group_by``."""
    rows = segment_deals(filters).annotate(group=group_key(group_by))
    if group_by == "debtor_rating" and not key:
        return rows.filter(Q(group="") | Q(group__isnull=True))
    return rows.filter(group=key)
