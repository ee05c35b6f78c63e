"""Collection figures of the segment: delay rate, average days late and repurchase rate
(the definitions of ``collection.selectors``, counted in SQL with bank business days), the
twelve-month trend, overdue buckets, the riskiest debtors and the expected loss."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.utils.translation import gettext as _

from collection.models import ExpectedCollection
from collection.overdue import BUCKETS
from collection.selectors import (
    bucket_q,
    due_between,
    lateness_aggregates,
    outstanding_expression,
    unpaid_q,
    with_lateness,
)
from core.calendar import add_months, month_end, month_starts
from core.calendar_sql import MonthStart
from core.money import apply_rate, ratio
from credit.calculations import utilization_percent, utilization_status
from credit.choices import Grade, LimitKind, LimitStatus
from credit.models import CreditLimit
from credit.selectors import current_grades, exposure_total, live_limit_amount
from customers.models import Customer

from ..assumptions import Assumptions
from ..filters import DashboardFilters, Period
from .segments import executed_in, segment_collections, segment_deals
from .types import (
    BucketRow,
    DebtorRisk,
    DelayRisk,
    ExpectedLoss,
    LossRow,
    TrendPoint,
)

ONE_PLACE = Decimal("0.1")
TOP_DEBTORS = 10


def due_in(period: Period, today: date) -> Q:
    return due_between(period.start, period.end, today)


LATENESS_FIELDS = ("due", "delayed", "timed", "days", "repurchased")


def trend_months(period: Period, count: int) -> list[date]:
    """Return the first days of the ``count`` months ending with ``period``'s last month."""
    last = period.end.replace(day=1)
    return month_starts(add_months(last, 1 - count), last)


def lateness_months(filters: DashboardFilters, trend: list[date]) -> list[date]:
    """Return the months the monthly lateness pass covers: the trend's, reaching back to the
    previous period when it is made of whole months (so its totals are read from it too)."""
    previous = filters.period.previous()
    if previous.month_starts and previous.start < trend[0]:
        return month_starts(previous.start, trend[-1])
    return trend


def lateness_by_month(filters: DashboardFilters, months: list[date], *, today: date,
                      holidays: list[date]) -> dict[date, dict[str, int]]:  # fmt: skip
    """Return the lateness aggregates of the segment's collections per month of due date
    over ``months`` (one GROUP BY query): the trend and the totals of any period made of
    whole months are read from it."""
    window = Period("custom", months[0], month_end(months[-1]))
    return {
        _as_date(r["month"]): {name: int(r[name] or 0) for name in LATENESS_FIELDS}
        for r in with_lateness(segment_collections(filters), today, holidays)
        .filter(due_in(window, today))
        .annotate(month=MonthStart("due_date"))
        .values("month")
        .annotate(**lateness_aggregates(Q()))
        .order_by()
    }


def _lateness_of(period: Period, monthly: dict[date, dict[str, int]],
                 covered: set[date]) -> dict[str, int] | None:  # fmt: skip
    """Return ``period``'s lateness summed from ``monthly`` when it is made of months the
    monthly figures cover, else None."""
    months = period.month_starts
    if months is None or not covered.issuperset(months):
        return None
    return {name: sum(monthly.get(m, {}).get(name, 0) for m in months) for name in LATENESS_FIELDS}


def delay_totals(filters: DashboardFilters, *, today: date, holidays: list[date],
                 monthly: dict[date, dict[str, int]] | None = None,
                 covered: list[date] = ()) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Return delay rate, average days late and repurchase rate for the period ("cur") and
    the one before ("prev"): summed from ``monthly`` (``lateness_by_month`` over the months
    ``covered``) for whole-month periods, else one aggregate query."""
    periods = {"cur": filters.period, "prev": filters.period.previous()}
    counts = {key: _lateness_of(period, monthly or {}, set(covered))
              for key, period in periods.items()}  # fmt: skip
    missing = {key: period for key, period in periods.items() if counts[key] is None}
    if missing:
        rows = with_lateness(segment_collections(filters), today, holidays)
        aggregates: dict[str, Any] = {}
        scope = Q(pk__in=[])
        for key, period in missing.items():
            due = due_in(period, today)
            scope |= due
            aggregates |= lateness_aggregates(due, f"{key}_")
        row = rows.filter(scope).aggregate(**aggregates)
        for key in missing:
            counts[key] = {name: int(row[f"{key}_{name}"] or 0) for name in LATENESS_FIELDS}
    zero_rate, zero_days = Decimal("0.0000"), Decimal("0.0")
    result = {}
    for key in periods:
        c = counts[key]
        result[key] = {
            "due": c["due"],
            "delayed": c["delayed"],
            "delay_rate": ratio(c["delayed"], c["due"]) or zero_rate,
            "delay_days_avg": ratio(c["days"], c["timed"], ONE_PLACE) or zero_days,
            "repurchase_rate": ratio(c["repurchased"], c["due"]) or zero_rate,
        }
    return result


def trend(filters: DashboardFilters, starts: list[date],
          monthly: dict[date, dict[str, int]]) -> list[TrendPoint]:  # fmt: skip
    """Return, for the months ``starts`` (``trend_months``), the delay rate by month of due
    date (from ``monthly``) and executed amount and fees by month of execution (one GROUP BY
    query)."""
    from .segments import amount_paid_out

    window = Period("custom", starts[0], month_end(starts[-1]))
    executed = {
        _as_date(r["month"]): r
        for r in segment_deals(filters)
        .filter(executed_in(window))
        .annotate(month=MonthStart("executed_on"))
        .values("month")
        .annotate(amount=Sum(amount_paid_out()), fee=Sum("fee"))
        .order_by()
    }
    points = []
    for start in starts:
        d, e = monthly.get(start, {}), executed.get(start, {})
        points.append(TrendPoint(
            label=f"{start:%Y-%m}", start=start,
            delay_rate=ratio(d.get("delayed", 0), d.get("due", 0)) or Decimal("0.0000"),
            executed_amount=int(e.get("amount") or 0), fee_revenue=int(e.get("fee") or 0),
        ))  # fmt: skip
    return points


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value.replace(day=1) if not hasattr(value, "hour") else value.date()
    return date.fromisoformat(str(value)[:10])


def overdue_rows(filters: DashboardFilters, today: date) -> QuerySet[ExpectedCollection]:
    """Return the segment's unpaid collections due before ``today``."""
    return unpaid_rows(filters).filter(due_date__lt=today)


@dataclass
class UnpaidSummary:
    """What debtors owe the segment, summed in one pass: by the debtor's current grade, by
    overdue bucket ((count, amount) per ``BUCKETS`` entry) and overdue per debtor."""

    by_grade: dict[str, int] = field(default_factory=dict)
    buckets: list[list[int]] = field(default_factory=list)
    overdue_by_debtor: dict[int, int] = field(default_factory=dict)
    owing: set[int] = field(default_factory=set)


def unpaid_summary(filters: DashboardFilters, today: date) -> UnpaidSummary:
    """Return the money still to come from the segment's debtors, in all by current grade,
    overdue by bucket and by debtor: one pass over the unpaid collections grouped by debtor
    (the expected loss and the delay-risk panel are both read from it), then each debtor's
    grade looked up once rather than once per receivable (two queries)."""
    overdue = Q(due_date__lt=today)
    aggregates: dict[str, Any] = {
        "total": Sum(outstanding_expression()),
        "overdue": Sum(outstanding_expression(), filter=overdue),
    }
    for i, b in enumerate(BUCKETS):
        condition = overdue & bucket_q(b.code, today)
        aggregates[f"n{i}"] = Count("pk", filter=condition)
        aggregates[f"s{i}"] = Sum(outstanding_expression(), filter=condition)
    rows = list(unpaid_rows(filters).values_list("debtor_id").annotate(**aggregates).order_by())
    grades = current_grades([row[0] for row in rows])
    summary = UnpaidSummary(buckets=[[0, 0] for _bucket in BUCKETS])
    for debtor, total, late, *by_bucket in rows:
        grade = grades.get(debtor, "")
        summary.by_grade[grade] = summary.by_grade.get(grade, 0) + int(total or 0)
        summary.owing.add(debtor)
        if late:
            summary.overdue_by_debtor[debtor] = int(late)
        for i, bucket in enumerate(summary.buckets):
            bucket[0] += by_bucket[2 * i]
            bucket[1] += int(by_bucket[2 * i + 1] or 0)
    return summary


def delay_risk(filters: DashboardFilters, unpaid: UnpaidSummary) -> DelayRisk:
    """Return overdue collections by bucket and the debtors with the largest overdue amount
    or a red debtor-limit utilisation, from ``unpaid_summary`` (two more queries)."""
    buckets = [
        BucketRow(b.code, str(b.label), count, amount, f"bucket:{b.code}")
        for b, (count, amount) in zip(BUCKETS, unpaid.buckets, strict=True)
    ]
    red = [pk for pk in _red_debtors() if not filters.has_segment or pk in unpaid.owing]
    overdue_by = unpaid.overdue_by_debtor
    top = sorted(overdue_by, key=lambda debtor: (-overdue_by[debtor], debtor))[:TOP_DEBTORS]
    shown = set(top) | set(red)
    parties = _debtor_credit(shown).values(
        "pk", "name", "debtor_limit", "debtor_exposure", "suspended"
    )
    parties = sorted(
        ({**p, "overdue_amount": overdue_by.get(p["pk"], 0)} for p in parties),
        key=lambda p: (-p["overdue_amount"], p["pk"]),
    )[: TOP_DEBTORS * 2]
    debtors = []
    for p in parties:
        limit_amount = p["debtor_limit"]
        if p["suspended"]:
            light = "red"
        elif limit_amount is not None:
            light = utilization_status(limit_amount, p["debtor_exposure"])
        else:
            light = ""
        debtors.append(DebtorRisk(
            customer_id=p["pk"], name=p["name"], overdue_amount=int(p["overdue_amount"] or 0),
            utilisation=utilization_percent(limit_amount, p["debtor_exposure"])
            if limit_amount is not None else None,
            light=light, drill=f"debtor:{p['pk']}", limit=limit_amount,
            exposure=int(p["debtor_exposure"] or 0),
        ))  # fmt: skip
    return DelayRisk(buckets=buckets, debtors=debtors)


def _debtor_credit(ids: Iterable[int] | QuerySet) -> QuerySet[Customer]:
    """Customers with their live debtor limit, debtor exposure and whether it is suspended."""
    suspended = Exists(
        CreditLimit.objects.filter(counterparty=OuterRef("pk"), kind=LimitKind.DEBTOR,
                                   status=LimitStatus.SUSPENDED)
    )  # fmt: skip
    return Customer.objects.filter(pk__in=ids).annotate(
        debtor_limit=live_limit_amount(LimitKind.DEBTOR),
        debtor_exposure=exposure_total("debtor"),
        suspended=suspended,
    )


def _red_debtors() -> list[int]:
    """Return debtors whose limit is suspended or exceeded (red); the caller keeps those
    owing the segment money when the segment is not the whole book."""
    red = _debtor_credit(
        CreditLimit.objects.filter(kind=LimitKind.DEBTOR).values("counterparty_id")
    ).filter(Q(suspended=True) | Q(debtor_limit__lt=F("debtor_exposure")))
    return list(red.values_list("pk", flat=True))


def unpaid_rows(filters: DashboardFilters) -> QuerySet[ExpectedCollection]:
    """Return the segment's collections with money still to come (the exposure at risk)."""
    return segment_collections(filters).filter(unpaid_q())


def expected_loss(unpaid: UnpaidSummary, assumptions: Assumptions) -> ExpectedLoss:
    """Return outstanding exposure × PD × LGD by the debtor's current rating, from
    ``unpaid_summary``."""
    exposures = unpaid.by_grade
    rows = []
    for grade in [*Grade.values, ""]:
        exposure = exposures.get(grade, 0)
        if grade == "" and not exposure:
            continue
        pd = assumptions.pd(grade)
        loss = apply_rate(apply_rate(exposure, pd), assumptions.lgd)
        rows.append(LossRow(grade, exposure, pd, assumptions.lgd, loss,
                            label=grade or _("Unrated")))  # fmt: skip
    return ExpectedLoss(total=sum(r.loss for r in rows), rows=rows)
