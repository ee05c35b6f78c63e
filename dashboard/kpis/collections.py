"""Collection figures of the segment: delay rate, average days late and repurchase rate
(the definitions of ``collection.selectors``, counted in SQL with bank business days), the
twelve-month trend, overdue buckets, the riskiest debtors and the expected loss."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext as _

from collection.models import CollectionStatus, ExpectedCollection, RepurchaseStatus
from collection.overdue import BUCKETS, bucket_cutoffs
from collection.selectors import SETTLED_STATUSES, outstanding_expression
from core.money import apply_rate
from credit.calculations import utilization_percent, utilization_status
from credit.choices import Grade, LimitKind, LimitStatus
from credit.models import CreditLimit, Rating
from customers.models import Customer
from deals.models import Deal

from ..assumptions import Assumptions
from ..filters import DashboardFilters, Period
from .segments import executed_in, segment_collections, segment_deals
from .sql import business_day_number
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
REPURCHASED = [RepurchaseStatus.OPEN, RepurchaseStatus.SETTLED]


def _until(today: date) -> Case:
    """SQL for the day a collection stopped being late (as ``collection.selectors``)."""
    return Case(
        When(status=CollectionStatus.PAID, then=Coalesce("paid_on", "due_date")),
        When(status=CollectionStatus.REPURCHASED,
             then=Coalesce("repurchase__settled_on", Value(today, output_field=DateField()))),
        default=Value(today, output_field=DateField()),
        output_field=DateField(),
    )  # fmt: skip


def _with_lateness(rows: QuerySet, today: date, holidays: list[date]) -> QuerySet:
    """Annotate ``late``: bank business days from the due date to ``_until``."""
    return rows.annotate(
        late=business_day_number(_until(today), holidays)
        - business_day_number(F("due_date"), holidays)
    )


WRITTEN_OFF = Q(status=CollectionStatus.WRITTEN_OFF)
DELAYED = WRITTEN_OFF | Q(late__gt=0)
TIMED = ~WRITTEN_OFF & Q(late__gt=0)


def due_in(period: Period, today: date) -> Q:
    return Q(due_date__gte=period.start, due_date__lte=period.end, due_date__lt=today)


def delay_totals(filters: DashboardFilters, *, today: date,
                 holidays: list[date]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Return delay rate, average days late and repurchase rate for the period ("cur") and
    the one before ("prev"), in one aggregate query."""
    periods = {"cur": filters.period, "prev": filters.period.previous()}
    rows = _with_lateness(segment_collections(filters), today, holidays)
    aggregates: dict[str, Any] = {}
    scope = Q(pk__in=[])
    for key, period in periods.items():
        due = due_in(period, today)
        scope |= due
        aggregates |= {
            f"{key}_due": Count("pk", filter=due),
            f"{key}_delayed": Count("pk", filter=due & DELAYED),
            f"{key}_timed": Count("pk", filter=due & TIMED),
            f"{key}_days": Sum("late", filter=due & TIMED),
            f"{key}_repurchased": Count("pk", filter=due & Q(repurchase__status__in=REPURCHASED)),
        }
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
        for r in _with_lateness(segment_collections(filters), today, holidays)
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
    return (
        segment_collections(filters)
        .exclude(status__in=SETTLED_STATUSES)
        .filter(expected_amount__gt=F("paid_amount") + F("fee_amount"), due_date__lt=today)
    )


def bucket_q(code: str, today: date) -> Q:
    start, end = bucket_cutoffs(today)[code]
    return Q(due_date__lt=end) & (Q(due_date__gte=start) if start else Q())


def delay_risk(filters: DashboardFilters, *, today: date) -> DelayRisk:
    """Return overdue collections by bucket and the debtors with the largest overdue amount
    or a red debtor-limit utilisation (three queries)."""
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
    top = list(
        overdue.values("receivable__debtor_id")
        .annotate(amount=Sum(outstanding_expression()))
        .order_by("-amount", "receivable__debtor_id")[:TOP_DEBTORS]
    )
    top_ids = [r["receivable__debtor_id"] for r in top]
    unpaid_debtors = (
        segment_collections(filters)
        .exclude(status__in=SETTLED_STATUSES)
        .filter(expected_amount__gt=F("paid_amount") + F("fee_amount"))
        .values("receivable__debtor_id")
    )
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
    overdue_sum = Subquery(
        overdue.filter(receivable__debtor_id=OuterRef("pk"))
        .values("receivable__debtor_id")
        .annotate(s=Sum(outstanding_expression()))
        .values("s"),
        output_field=BigIntegerField(),
    )
    parties = list(
        Customer.objects.annotate(
            debtor_limit=limit,
            debtor_exposure=Coalesce(
                F("exposure__debtor_reserved") + F("exposure__debtor_consumed"), 0
            ),
            suspended=suspended,
        )
        .filter(
            Q(pk__in=top_ids)
            | (
                Q(pk__in=unpaid_debtors)
                & (Q(suspended=True) | Q(debtor_limit__lt=F("debtor_exposure")))
            )
        )
        .annotate(overdue_amount=Coalesce(overdue_sum, 0))
        .order_by("-overdue_amount", "pk")
        .values("pk", "name", "debtor_limit", "debtor_exposure", "suspended", "overdue_amount")[
            : TOP_DEBTORS * 2
        ]
    )
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


def _grade_of(outer: str) -> Subquery:
    return Subquery(
        Rating.objects.filter(counterparty=OuterRef(outer))
        .order_by("-rated_at", "-pk")
        .values("grade")[:1],
        output_field=CharField(),
    )


def unpaid_rows(filters: DashboardFilters) -> QuerySet[ExpectedCollection]:
    """Return the segment's collections with money still to come (the exposure at risk)."""
    return (
        segment_collections(filters)
        .exclude(status__in=SETTLED_STATUSES)
        .filter(expected_amount__gt=F("paid_amount") + F("fee_amount"))
    )


def expected_loss(filters: DashboardFilters, assumptions: Assumptions) -> ExpectedLoss:
    """Return outstanding exposure × PD × LGD by the debtor's current rating: the unpaid
    amounts are summed per debtor in SQL, then per rating (one query)."""
    # One row per debtor (grouped in SQL, its current grade looked up once per group), then
    # rolled up by grade: the groups are bounded by the debtors, not the receivables.
    exposures: dict[str, int] = {}
    per_debtor = (
        unpaid_rows(filters)
        .values("receivable__debtor_id")
        .annotate(total=Sum(outstanding_expression()))
        .annotate(grade=_grade_of("receivable__debtor_id"))
        .order_by()
    )
    for r in per_debtor.values_list("grade", "total"):
        exposures[r[0] or ""] = exposures.get(r[0] or "", 0) + int(r[1] or 0)
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
