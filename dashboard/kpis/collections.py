"""Collection figures of the segment: delay rate, average days late and repurchase rate
(the definitions of ``collection.selectors``, counted in SQL with bank business days), the
twelve-month trend, overdue buckets, the riskiest debtors and the expected loss."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext as _

from collection.models import ExpectedCollection
from collection.overdue import BUCKETS
from collection.selectors import (
    DELAYED,
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


def delay_totals(filters: DashboardFilters, *, today: date,
                 holidays: list[date]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Return delay rate, average days late and repurchase rate for the period ("cur") and
    the one before ("prev"), in one aggregate query."""
    periods = {"cur": filters.period, "prev": filters.period.previous()}
    rows = with_lateness(segment_collections(filters), today, holidays)
    aggregates: dict[str, Any] = {}
    scope = Q(pk__in=[])
    for key, period in periods.items():
        due = due_in(period, today)
        scope |= due
        aggregates |= lateness_aggregates(due, f"{key}_")
    row = rows.filter(scope).aggregate(**aggregates)
    zero_rate, zero_days = Decimal("0.0000"), Decimal("0.0")
    return {
        key: {
            "due": row[f"{key}_due"],
            "delayed": row[f"{key}_delayed"],
            "delay_rate": ratio(row[f"{key}_delayed"], row[f"{key}_due"]) or zero_rate,
            "delay_days_avg": ratio(row[f"{key}_days"] or 0, row[f"{key}_timed"], ONE_PLACE)
            or zero_days,
            "repurchase_rate": ratio(row[f"{key}_repurchased"], row[f"{key}_due"]) or zero_rate,
        }
        for key in periods
    }


def _months_back(end: date, count: int) -> list[date]:
    index = end.year * 12 + end.month - 1
    return [date((index - i) // 12, (index - i) % 12 + 1, 1) for i in reversed(range(count))]


def trend(filters: DashboardFilters, *, today: date, holidays: list[date],
          months: int = 12) -> list[TrendPoint]:  # fmt: skip
    """Return the delay rate by month of due date and executed amount and fees by month of
    execution, for the ``months`` months ending with the period's (two GROUP BY queries)."""
    from .segments import amount_paid_out

    starts = _months_back(filters.period.end, months)
    first, last = starts[0], filters.period.end.replace(day=1)
    window = Period("custom", first, Period.month(last).end)
    delays = {
        _as_date(r["month"]): r
        for r in with_lateness(segment_collections(filters), today, holidays)
        .filter(due_in(window, today))
        .annotate(month=TruncMonth("due_date", output_field=DateField()))
        .values("month")
        .annotate(due=Count("pk"), delayed=Count("pk", filter=DELAYED))
        .order_by()
    }
    executed = {
        _as_date(r["month"]): r
        for r in segment_deals(filters)
        .filter(executed_in(window))
        .annotate(month=TruncMonth("executed_on", output_field=DateField()))
        .values("month")
        .annotate(amount=Sum(amount_paid_out()), fee=Sum("fee"))
        .order_by()
    }
    points = []
    for start in starts:
        d, e = delays.get(start, {}), executed.get(start, {})
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


def delay_risk(filters: DashboardFilters, *, today: date) -> DelayRisk:
    """Return overdue collections by bucket and the debtors with the largest overdue amount
    or a red debtor-limit utilisation (four queries)."""
    overdue = overdue_rows(filters, today)
    aggregates: dict[str, Any] = {}
    for i, b in enumerate(BUCKETS):
        condition = bucket_q(b.code, today)
        aggregates[f"n{i}"] = Count("pk", filter=condition)
        aggregates[f"s{i}"] = Sum(outstanding_expression(), filter=condition)
    row = overdue.aggregate(**aggregates)
    buckets = [
        BucketRow(b.code, str(b.label), row[f"n{i}"], int(row[f"s{i}"] or 0), f"bucket:{b.code}")
        for i, b in enumerate(BUCKETS)
    ]
    red = _red_debtors(filters)
    overdue_by = _overdue_of_top_and(overdue, red)
    parties = _debtor_credit(set(overdue_by) | set(red)).values(
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


def _red_debtors(filters: DashboardFilters) -> list[int]:
    """Return debtors whose limit is suspended or exceeded (red), with money still to come
    from the segment (any red debtor has some when the segment is the whole book)."""
    red = _debtor_credit(
        CreditLimit.objects.filter(kind=LimitKind.DEBTOR).values("counterparty_id")
    ).filter(Q(suspended=True) | Q(debtor_limit__lt=F("debtor_exposure")))
    if filters.has_segment:
        red = red.filter(Exists(unpaid_rows(filters).filter(debtor_id=OuterRef("pk"))))
    return list(red.values_list("pk", flat=True))


def _overdue_of_top_and(overdue: QuerySet, also: list[int]) -> dict[int, int]:
    """Return the overdue amount of the ``TOP_DEBTORS`` debtors owing most and of ``also``:
    one grouped pass over the overdue collections, ranked with a window function."""
    grouped = overdue.values("debtor_id").annotate(amount=Sum(outstanding_expression())).order_by()
    inner, params = grouped.query.sql_with_params()
    extra = ""
    if also:
        extra = " OR debtor IN (" + ", ".join(["%s"] * len(also)) + ")"
    sql = (
        "SELECT debtor, amount FROM (SELECT g.debtor_id AS debtor, g.amount,"
        " ROW_NUMBER() OVER (ORDER BY g.amount DESC, g.debtor_id) AS place"
        f" FROM ({inner}) AS g) AS ranked WHERE place <= %s{extra}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, TOP_DEBTORS, *also])
        return {debtor: int(amount or 0) for debtor, amount in cursor.fetchall()}


def unpaid_rows(filters: DashboardFilters) -> QuerySet[ExpectedCollection]:
    """Return the segment's collections with money still to come (the exposure at risk)."""
    return segment_collections(filters).filter(unpaid_q())


def _unpaid_by_grade(filters: DashboardFilters) -> dict[str, int]:
    """Return the money still to come by the debtor's current grade ("" unrated): summed per
    debtor first, then each debtor's grade looked up once (not once per receivable)."""
    per_debtor, params = (
        unpaid_rows(filters)
        .values("debtor_id")
        .annotate(total=Sum(outstanding_expression()))
        .order_by()
        .query.sql_with_params()
    )
    rating = Rating._meta.db_table
    sql = (
        f"SELECT (SELECT r.grade FROM {rating} r WHERE r.counterparty_id = g.debtor_id"
        f" ORDER BY r.rated_at DESC, r.id DESC LIMIT 1) AS grade, SUM(g.total)"
        f" FROM ({per_debtor}) AS g GROUP BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {grade or "": int(total or 0) for grade, total in cursor.fetchall()}


def expected_loss(filters: DashboardFilters, assumptions: Assumptions) -> ExpectedLoss:
    """Return outstanding exposure × PD × LGD by the debtor's current rating: the unpaid
    amounts are summed per debtor, then per current rating, in one query."""
    exposures = _unpaid_by_grade(filters)
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
