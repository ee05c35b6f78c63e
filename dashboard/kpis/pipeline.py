"""Deal figures: executed amount, fees, lead time, quote and win rates, the stages, the
funnel, lost reasons, segments, the bottleneck and this month's forecast — each one SQL
aggregate over the segment's deals (conditional counts and sums, one row per group)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from core.calendar_sql import business_days_between_sql
from core.money import apply_rate
from deals.choices import OPEN_STAGES, PIPELINE, Stage, next_stage
from deals.models import Deal, StageChange

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
    stall_q,
)
from .sql import MinusSeconds, datetime_range
from .types import (
    Bottleneck,
    Forecast,
    ForecastRow,
    QuoteWin,
    ReasonRow,
    SegmentRow,
    StageRow,
    ratio,
)

ONE_PLACE = Decimal("0.1")


def deal_totals(filters: DashboardFilters, holidays: list[date]) -> dict[str, dict[str, Any]]:
    """Return, for the period ("cur") and the one before ("prev"): executed count, amount,
    fees, summed lead time, new, quoted, won and lost deals — one aggregate query."""
    periods = {"cur": filters.period, "prev": filters.period.previous()}
    lead = Case(
        When(executed_on__isnull=False,
             then=business_days_between_sql(TruncDate("created_at"), F("executed_on"), holidays)),
        default=None, output_field=IntegerField(),
    )  # fmt: skip
    # Each period's first-quoted set is computed once, as a column of an inner query (the
    # DISTINCT makes Django aggregate over it); as FILTERs it was re-run for every figure.
    flags: dict[str, Any] = {}
    aggregates: dict[str, Any] = {}
    scope = Q()
    for key, period in periods.items():
        executed = executed_in(period)
        flags[f"{key}_q"] = Case(When(pk__in=first_quoted_in(period), then=Value(1)),
                                 default=Value(0), output_field=IntegerField())  # fmt: skip
        quoted = Q(**{f"{key}_q": 1})
        aggregates |= {
            f"{key}_executed": Count("pk", filter=executed),
            f"{key}_amount": Sum("paid_out", filter=executed),
            f"{key}_fee": Sum("fee", filter=executed),
            f"{key}_lead": Avg("lead", filter=executed),
            f"{key}_new": Count("pk", filter=created_in(period)),
            f"{key}_quoted": Count("pk", filter=quoted),
            f"{key}_won": Count("pk", filter=quoted & Q(executed_on__isnull=False)),
            f"{key}_lost": Count("pk", filter=quoted & Q(stage=Stage.LOST)),
        }
        scope |= executed | Q(pk__in=first_quoted_in(period)) | created_in(period)
    row = (
        segment_deals(filters)
        .filter(scope)
        .annotate(lead=lead, paid_out=amount_paid_out(), **flags)
        .values("pk", "executed_on", "created_at", "stage", "fee", "lead", "paid_out", *flags)
        .distinct()
        .aggregate(**aggregates)
    )
    result = {}
    for key in periods:
        executed = row[f"{key}_executed"]
        fee = int(row[f"{key}_fee"] or 0)
        lead_avg = row[f"{key}_lead"]
        result[key] = {
            "executed": executed,
            "executed_amount": int(row[f"{key}_amount"] or 0),
            "fee_revenue": fee,
            "revenue_per_deal": fee // executed if executed else None,
            "lead_time_days": (
                Decimal(str(lead_avg)).quantize(ONE_PLACE) if lead_avg is not None else None
            ),
            "quote_win": QuoteWin(
                quoted=row[f"{key}_quoted"],
                won=row[f"{key}_won"],
                lost=row[f"{key}_lost"],
                quote_rate=ratio(row[f"{key}_quoted"], row[f"{key}_new"]),
                win_rate=ratio(row[f"{key}_won"], row[f"{key}_quoted"]),
                new_deals=row[f"{key}_new"],
            ),
        }
    return result


def stage_rows(filters: DashboardFilters, *, today: date, thresholds: list[tuple[str, int]],
               holidays: list[date]) -> list[StageRow]:  # fmt: skip
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
    forward = Q(pk__in=[])
    for stage in PIPELINE:
        if nxt := next_stage(stage):
            forward |= Q(from_stage=stage, to_stage=nxt)
    exits = StageChange.objects.filter(at__gte=low, at__lt=high, from_stage__in=PIPELINE)
    if filters.has_segment:
        exits = exits.filter(deal__in=segment_deals(filters).values("pk"))
    entered = TruncDate(MinusSeconds("at", "seconds_in_stage"))
    days = business_days_between_sql(entered, TruncDate("at"), holidays)
    moves = {
        r["from_stage"]: r
        for r in exits.values("from_stage")
        .annotate(left=Count("pk"), moved=Count("pk", filter=forward), days=Avg(days))
        .order_by()
    }
    rows = []
    for stage in PIPELINE:
        snap = snapshot.get(stage.value, {})
        move = moves.get(stage.value, {})
        avg = move.get("days")
        rows.append(StageRow(
            stage=stage.value, label=str(stage.label), count=snap.get("n", 0),
            amount=int(snap.get("amount") or 0), stalled=snap.get("stalled", 0),
            conversion=ratio(move.get("moved", 0), move.get("left", 0)) if next_stage(stage)
            else None,
            avg_days=Decimal(str(avg)).quantize(ONE_PLACE) if avg is not None else None,
            drill=f"stage:{stage.value}", left=move.get("left", 0), moved_on=move.get("moved", 0),
            stalled_drill=f"stalled:{stage.value}",
        ))  # fmt: skip
    return rows


def reached(stage: str) -> Exists | Q:
    """Return the condition for deals that reached ``stage`` at some point."""
    if stage == Stage.LEAD:
        return Q()
    return Exists(StageChange.objects.filter(deal=OuterRef("pk"), to_stage=stage))


def furthest_stage() -> Coalesce:
    """SQL for the furthest pipeline stage a deal reached (its index in PIPELINE): the
    pipeline only moves one stage on at a time, so a deal reached every stage up to it."""
    order = Case(
        *[When(to_stage=stage.value, then=Value(i)) for i, stage in enumerate(PIPELINE)],
        default=None, output_field=IntegerField(),
    )  # fmt: skip
    furthest = (
        StageChange.objects.filter(deal=OuterRef("pk"))
        .values("deal")
        .annotate(m=Max(order))
        .values("m")
    )
    return Coalesce(Subquery(furthest, output_field=IntegerField()), Value(0))


def funnel_rows(filters: DashboardFilters) -> list[StageRow]:
    """Return, of the deals first contacted in the period, how many reached each pipeline
    stage so far and their face value (one query grouped by the furthest stage reached;
    a stage's figure is the sum over that stage and every one after it)."""
    by_furthest = {
        r["furthest"]: r
        for r in segment_deals(filters)
        .filter(created_in(filters.period))
        .annotate(furthest=furthest_stage())
        .values("furthest")
        .annotate(n=Count("pk"), amount=Sum("face_value"))
        .order_by()
    }
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
    period = filters.period
    executed = executed_in(period)
    quoted = Q(pk__in=first_quoted_in(period))
    new = created_in(period)
    rows = list(
        segment_deals(filters)
        .filter(executed | quoted | new)
        .annotate(group=group_key(group_by))
        .values("group")
        .annotate(
            deals=Count("pk", filter=new),
            quoted=Count("pk", filter=quoted),
            won=Count("pk", filter=quoted & Q(executed_on__isnull=False)),
            executed=Count("pk", filter=executed),
            amount=Sum(amount_paid_out(), filter=executed),
            fee=Sum("fee", filter=executed),
        )
        .order_by("group")
    )
    labels = group_labels(group_by, [r["group"] or "" for r in rows])
    result = [
        SegmentRow(
            key=r["group"] or "", label=labels[r["group"] or ""], deals=r["deals"],
            won=r["won"], win_rate=ratio(r["won"], r["quoted"]),
            executed_amount=int(r["amount"] or 0), fee_revenue=int(r["fee"] or 0),
            drill=f"{drill_prefix}:{r['group'] or ''}", quoted=r["quoted"],
            executed=r["executed"],
        )
        for r in rows
    ]  # fmt: skip
    return sorted(result, key=lambda r: (-r.executed_amount, -r.deals, r.key))


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
        .filter(stall_q(today, thresholds, worst.stage))
        .select_related("client", "owner")
        .order_by("stage_entered_at", "pk")[:20]
    )
    for deal in deals:
        deal.days_in_stage = stalled_days(deal, today)
    return Bottleneck(worst.stage, worst.label, worst.stalled, worst.conversion, deals,
                      f"stalled:{worst.stage}")  # fmt: skip


def forecast_month(today: date) -> Period:
    return Period.month(today)


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
    month = forecast_month(today)
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
