"""Collection figures of the segment: delay rate, average days late and repurchase rate
(the definitions of ``collection.selectors``, counted in SQL with bank business days), the
twelve-month trend, overdue buckets, the riskiest debtors and the expected loss."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
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
from core.money import apply_rate
from credit.calculations import utilization_percent, utilization_status
from credit.choices import Grade, LimitKind, LimitStatus
from credit.models import CreditLimit, Rating
from customers.models import Customer
from deals.models import Deal

from ..assumptions import Assumptions
from ..filters import DashboardFilters, Period
from .segments import executed_in, segment_collections, segment_deals
from .sql import MonthStart
from .types import (
    BucketRow,
    DebtorRisk,
    DelayRisk,
    ExpectedLoss,
    LossRow,
    TrendPoint,
    ratio,
)

ONE_PLACE = Decimal("0.1")
TOP_DEBTORS = 10


def due_in(period: Period, today: date) -> Q:
    return due_between(period.start, period.end, today)


LATENESS_FIELDS = ("due", "delayed", "timed", "days", "repurchased")


def lateness_by_month(filters: DashboardFilters, first: date, last: date, *, today: date,
                      holidays: list[date]) -> dict[date, dict[str, int]]:  # fmt: skip
    """Return the lateness aggregates of the segment's collections per month of due date,
    from ``first``'s month to ``last``'s (one GROUP BY query): the trend and the totals of
    any period made of whole months are read from it."""
    window = Period("custom", first.replace(day=1), Period.month(last).end)
    return {
        _as_date(r["month"]): {name: int(r[name] or 0) for name in LATENESS_FIELDS}
        for r in with_lateness(segment_collections(filters), today, holidays)
        .filter(due_in(window, today))
        .annotate(month=MonthStart("due_date"))
        .values("month")
        .annotate(**lateness_aggregates(Q()))
        .order_by()
    }


def _lateness_of(period: Period, monthly: dict[date, dict[str, int]] | None,
                 covered: set[date]) -> dict[str, int] | None:  # fmt: skip
    """Return ``period``'s lateness summed from ``monthly`` when it is made of months the
    monthly figures cover, else None."""
    months = period.month_starts
    if monthly is None or months is None or not covered.issuperset(months):
        return None
    return {name: sum(monthly.get(m, {}).get(name, 0) for m in months) for name in LATENESS_FIELDS}


def delay_totals(filters: DashboardFilters, *, today: date, holidays: list[date],
                 monthly: dict[date, dict[str, int]] | None = None,
                 covered: tuple[date, date] | None = None) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Return delay rate, average days late and repurchase rate for the period ("cur") and
    the one before ("prev"): summed from ``monthly`` (``lateness_by_month`` over the months
    ``covered``, first and last) for whole-month periods, else one aggregate query."""
    periods = {"cur": filters.period, "prev": filters.period.previous()}
    months = set(_months_between(*covered)) if covered else set()
    counts = {key: _lateness_of(period, monthly, months) for key, period in periods.items()}
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


def _months_back(end: date, count: int) -> list[date]:
    index = end.year * 12 + end.month - 1
    return [date((index - i) // 12, (index - i) % 12 + 1, 1) for i in reversed(range(count))]


def _months_between(first: date, last: date) -> list[date]:
    return Period("custom", first.replace(day=1), Period.month(last).end).month_starts or []


def trend_window(filters: DashboardFilters, months: int) -> tuple[date, date]:
    """Return the first and last month the trend and the period totals need together: the
    ``months`` months ending with the period's, reaching back to the previous period when
    it is made of whole months."""
    first, last = _months_back(filters.period.end, months)[0], filters.period.end.replace(day=1)
    previous = filters.period.previous()
    if previous.month_starts:
        first = min(first, previous.start)
    return first, last


def trend(filters: DashboardFilters, monthly: dict[date, dict[str, int]], *,
          months: int = 12) -> list[TrendPoint]:  # fmt: skip
    """Return the delay rate by month of due date (from ``monthly``) and executed amount and
    fees by month of execution, for the ``months`` months ending with the period's (one
    GROUP BY query)."""
    from .segments import amount_paid_out

    starts = _months_back(filters.period.end, months)
    window = Period("custom", starts[0], Period.month(starts[-1]).end)
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


@dataclass(frozen=True)
class DebtorUnpaid:
    """What a debtor still owes the segment: in all, overdue, and overdue by bucket."""

    debtor_id: int
    grade: str  # current rating, "" when unrated
    total: int
    overdue: int
    buckets: tuple[tuple[int, int], ...]  # (count, amount) per ``BUCKETS`` entry


def unpaid_by_debtor(filters: DashboardFilters, today: date) -> list[DebtorUnpaid]:
    """Return, per debtor owing the segment money, its current grade and the money still to
    come, overdue and by overdue bucket: one grouped pass over the unpaid collections (the
    expected loss and the delay-risk panel are both read from it), each debtor's grade
    looked up once rather than once per receivable."""
    overdue = Q(due_date__lt=today)
    aggregates: dict[str, Any] = {
        "total": Sum(outstanding_expression()),
        "overdue": Sum(outstanding_expression(), filter=overdue),
    }
    for i, b in enumerate(BUCKETS):
        condition = overdue & bucket_q(b.code, today)
        aggregates[f"n{i}"] = Count("pk", filter=condition)
        aggregates[f"s{i}"] = Sum(outstanding_expression(), filter=condition)
    per_debtor, params = (
        unpaid_rows(filters)
        .values("debtor_id")
        .annotate(**aggregates)
        .order_by()
        .query.sql_with_params()
    )
    rating = Rating._meta.db_table
    columns = ", ".join(f"g.n{i}, g.s{i}" for i in range(len(BUCKETS)))
    sql = (
        f"SELECT g.debtor_id, (SELECT r.grade FROM {rating} r WHERE r.counterparty_id ="
        f" g.debtor_id ORDER BY r.rated_at DESC, r.id DESC LIMIT 1), g.total, g.overdue,"
        f" {columns} FROM ({per_debtor}) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            DebtorUnpaid(
                debtor_id=row[0], grade=row[1] or "", total=int(row[2] or 0),
                overdue=int(row[3] or 0),
                buckets=tuple((int(row[4 + 2 * i] or 0), int(row[5 + 2 * i] or 0))
                              for i in range(len(BUCKETS))),
            )
            for row in cursor.fetchall()
        ]  # fmt: skip


def delay_risk(filters: DashboardFilters, unpaid: list[DebtorUnpaid]) -> DelayRisk:
    """Return overdue collections by bucket and the debtors with the largest overdue amount
    or a red debtor-limit utilisation, from ``unpaid_by_debtor`` (two more queries)."""
    buckets = [
        BucketRow(b.code, str(b.label), sum(d.buckets[i][0] for d in unpaid),
                  sum(d.buckets[i][1] for d in unpaid), f"bucket:{b.code}")
        for i, b in enumerate(BUCKETS)
    ]  # fmt: skip
    owing = {d.debtor_id for d in unpaid}
    red = [pk for pk in _red_debtors() if not filters.has_segment or pk in owing]
    overdue_by = {d.debtor_id: d.overdue for d in unpaid}
    top = sorted((d for d in unpaid if d.overdue), key=lambda d: (-d.overdue, d.debtor_id))
    shown = {d.debtor_id for d in top[:TOP_DEBTORS]} | set(red)
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


def _debtor_credit(ids: Iterable[int] | None = None) -> QuerySet[Customer]:
    """Customers with their live debtor limit, debtor exposure and whether it is suspended."""
    live = [LimitStatus.ACTIVE, LimitStatus.SUSPENDED]
    limit = Subquery(
        CreditLimit.objects.filter(counterparty=OuterRef("pk"), kind=LimitKind.DEBTOR,
                                   status__in=live).values("amount")[:1],
        output_field=BigIntegerField(),
    )  # fmt: skip
    suspended = Exists(
        CreditLimit.objects.filter(counterparty=OuterRef("pk"), kind=LimitKind.DEBTOR,
                                   status=LimitStatus.SUSPENDED)
    )  # fmt: skip
    rows = Customer.objects.all() if ids is None else Customer.objects.filter(pk__in=ids)
    return rows.annotate(
        debtor_limit=limit,
        debtor_exposure=Coalesce(
            F("exposure__debtor_reserved") + F("exposure__debtor_consumed"), 0
        ),
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


def expected_loss(unpaid: list[DebtorUnpaid], assumptions: Assumptions) -> ExpectedLoss:
    """Return outstanding exposure × PD × LGD by the debtor's current rating, from
    ``unpaid_by_debtor``."""
    exposures: dict[str, int] = {}
    for d in unpaid:
        exposures[d.grade] = exposures.get(d.grade, 0) + d.total
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


def collections_of_deals(deals: QuerySet[Deal]) -> QuerySet[ExpectedCollection]:
    return ExpectedCollection.objects.filter(deal__in=deals.values("pk"))
