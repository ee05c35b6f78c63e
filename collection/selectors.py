"""Collection reads: the overdue list and its buckets, the receivable ledger, repurchases,
reserves to return, and the dashboard's collection figures. Every selector runs a constant
number of queries whatever the number of rows; days overdue count bank business days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Trunc
from django.db.models.lookups import GreaterThan
from django.db.models.query import ModelIterable
from django.utils import timezone
from django.utils.dateparse import parse_date

from core.calendar import bank_holidays
from core.calendar_sql import business_days_between_sql

from .models import (
    Allocation,
    CollectionStatus,
    ExpectedCollection,
    RepurchaseRequest,
    RepurchaseStatus,
    ReserveSettlement,
)
from .overdue import BUCKETS, bucket_cutoffs, days_overdue, overdue_cutoff

#: Statuses that leave nothing to collect from the payer.
SETTLED_STATUSES = (
    CollectionStatus.PAID,
    CollectionStatus.REPURCHASED,
    CollectionStatus.WRITTEN_OFF,
)
PERIODS = ("day", "week", "month", "quarter", "year")


def outstanding_expression() -> ExpressionWrapper:
    """Return the SQL twin of ``ExpectedCollection.outstanding`` (never below zero when the
    rows are consistent: allocations never exceed what is open)."""
    return ExpressionWrapper(
        F("expected_amount") - F("paid_amount") - F("fee_amount"), output_field=BigIntegerField()
    )


def unpaid_q(prefix: str = "") -> Q:
    """Condition for expected collections with money still to come from the payer; ``prefix``
    (such as ``expected__``) applies it to the collection of a related row."""
    return ~Q(**{f"{prefix}status__in": SETTLED_STATUSES}) & Q(
        **{f"{prefix}expected_amount__gt": F(f"{prefix}paid_amount") + F(f"{prefix}fee_amount")}
    )


def unpaid_collections() -> QuerySet[ExpectedCollection]:
    """Return the expected collections with money still to come from the payer."""
    return ExpectedCollection.objects.filter(unpaid_q())


def _bucket_case(today: date) -> Case:
    """Return the bucket code of each row as SQL: one comparison per bucket boundary."""
    whens = [
        When(due_date__lt=overdue_cutoff(today, b.low), then=Value(b.code))
        for b in reversed(BUCKETS)  # the oldest bucket first: the first match wins
    ]
    return Case(*whens, default=Value(""), output_field=CharField())


def bucket_q(code: str, today: date) -> Q:
    """Condition for collections due in the overdue bucket ``code`` as of ``today``."""
    start, end = bucket_cutoffs(today)[code]
    return Q(due_date__lt=end) & (Q(due_date__gte=start) if start else Q())


class _DaysOverdueIterable(ModelIterable):
    """Yield the rows with ``days_overdue`` set from the ``as_of`` date the query carries
    (bank business days cannot be counted in portable SQL; this costs no query)."""

    def __iter__(self):
        for row in super().__iter__():
            row.days_overdue = days_overdue(row.due_date, row.as_of)
            yield row


def overdue_list(today: date, bucket: str | None = None) -> QuerySet[ExpectedCollection]:
    """Return the unpaid expected collections due before ``today``, oldest first.

    Each row carries ``outstanding_amount`` and ``overdue_bucket`` (SQL, usable in filters and
    ordering) and ``days_overdue`` (bank business days, set as the rows are read). A due date
    that passed over a weekend may be listed with 0 days and bucket ``""``. ``bucket`` keeps
    one bucket ("1-3", "4-30", "31-60", "61+"); an unknown code raises ``KeyError``.
    """
    rows = (
        unpaid_collections()
        .filter(due_date__lt=today)
        .annotate(
            outstanding_amount=outstanding_expression(),
            overdue_bucket=_bucket_case(today),
            as_of=Value(today, output_field=DateField()),
        )
        .select_related("receivable__debtor", "deal__owner", "deal__client", "payer")
        .order_by("due_date", "pk")
    )
    if bucket:
        rows = rows.filter(bucket_q(bucket, today))
    rows._iterable_class = _DaysOverdueIterable
    return rows


@dataclass(frozen=True)
class BucketTotal:
    """How many unpaid collections fall in one ageing bucket, and how much they owe."""

    code: str
    label: str
    count: int
    outstanding: int


def bucket_totals(today: date) -> list[BucketTotal]:
    """Return the count and outstanding yen of each ageing bucket on ``today``, in bucket
    order (rows late by 0 business days are in none), from one query."""
    aggregates: dict[str, Any] = {}
    for i, b in enumerate(BUCKETS):
        condition = bucket_q(b.code, today)
        aggregates[f"n{i}"] = Count("pk", filter=condition)
        aggregates[f"s{i}"] = Sum(outstanding_expression(), filter=condition)
    row = unpaid_collections().filter(due_date__lt=today).aggregate(**aggregates)
    return [
        BucketTotal(b.code, str(b.label), int(row[f"n{i}"] or 0), int(row[f"s{i}"] or 0))
        for i, b in enumerate(BUCKETS)
    ]


def _as_date(value: Any) -> date | None:
    if isinstance(value, date) or value is None:
        return value
    return parse_date(str(value)) if str(value).strip() else None


def receivable_ledger(filters: Mapping[str, Any] | None = None) -> QuerySet[ExpectedCollection]:
    """Return the receivable ledger (債権台帳): every expected collection with its invoice,
    deal, payer and ``outstanding_amount``, by due date.

    ``filters`` (all optional, blanks ignored): ``status``, ``deal`` (deal id such as
    2026-0012), ``payer`` / ``debtor`` / ``client`` (customer pk), ``due_from`` / ``due_to``
    (dates or ISO strings, inclusive), ``unpaid`` (truthy: only money still to come), ``q``
    (invoice number or deal id, contains).
    """
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", [], ())}
    rows = ExpectedCollection.objects.annotate(outstanding_amount=outstanding_expression())
    if "unpaid" in filters:
        rows = rows.exclude(status__in=SETTLED_STATUSES).filter(outstanding_amount__gt=0)
    if "status" in filters:
        rows = rows.filter(status=filters["status"])
    if "deal" in filters:
        rows = rows.filter(deal__number=filters["deal"])
    for key, lookup in (
        ("payer", "payer_id"),
        ("debtor", "debtor_id"),
        ("client", "deal__client_id"),
    ):
        if key in filters:
            rows = rows.filter(**{lookup: filters[key]})
    if due_from := _as_date(filters.get("due_from")):
        rows = rows.filter(due_date__gte=due_from)
    if due_to := _as_date(filters.get("due_to")):
        rows = rows.filter(due_date__lte=due_to)
    if "q" in filters:
        text = str(filters["q"]).strip()
        rows = rows.filter(
            Q(receivable__invoice_number__icontains=text) | Q(deal__number__icontains=text)
        )
    return rows.select_related(
        "receivable__debtor", "deal__owner", "deal__client", "payer", "repurchase"
    ).order_by("due_date", "pk")


def repurchases(status: str | None = None) -> QuerySet[RepurchaseRequest]:
    """Return the repurchase requests (買戻し), newest first, optionally of one status."""
    rows = RepurchaseRequest.objects.select_related(
        "client", "expected__receivable__debtor", "expected__deal__owner", "expected__payer"
    ).order_by("-opened_on", "-pk")
    return rows.filter(status=status) if status else rows


def reserve_settlements(unpaid_only: bool = False) -> QuerySet[ReserveSettlement]:
    """Return the reserves to return to clients (返還額): unpaid ones first (oldest first),
    then paid ones (most recently paid first)."""
    rows = ReserveSettlement.objects.select_related("deal__client", "deal__owner", "paid_by")
    if unpaid_only:
        rows = rows.filter(paid_on__isnull=True)
    return rows.order_by(F("paid_on").desc(nulls_first=True), "computed_on", "pk")


# ---------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class Lateness:
    """Expected collections due in a period and already due, and how late they were."""

    due: int = 0
    delayed: int = 0
    timed: int = 0  # delayed rows with a known end (all but written-off ones)
    days: int = 0  # business days late, summed over ``timed``


REPURCHASE_COUNTED = [RepurchaseStatus.OPEN, RepurchaseStatus.SETTLED]
WRITTEN_OFF = Q(status=CollectionStatus.WRITTEN_OFF)
# On rows annotated by ``with_lateness``: delayed (late or written off), and delayed with a
# known end (the rows average days late are taken over).
DELAYED = WRITTEN_OFF | Q(late__gt=0)
TIMED = ~WRITTEN_OFF & Q(late__gt=0)


def late_until(today: date) -> Case:
    """SQL for the day a collection stopped being late: paid in full (``paid_on``), the
    repurchase settled, or still running today."""
    return Case(
        When(status=CollectionStatus.PAID, then=Coalesce("paid_on", "due_date")),
        When(status=CollectionStatus.REPURCHASED,
             then=Coalesce("repurchase__settled_on", Value(today, output_field=DateField()))),
        default=Value(today, output_field=DateField()),
        output_field=DateField(),
    )  # fmt: skip


def with_lateness(rows: QuerySet, today: date, holidays: list[date]) -> QuerySet:
    """Annotate ``late``: bank business days from the due date to ``late_until`` (0 when
    settled by the due date or only over closed days). ``holidays`` must cover the due
    dates up to ``today``."""
    until = late_until(today)
    days = business_days_between_sql(F("due_date"), until, holidays)
    # Counting business days costs most of a row; rows settled by their due date (most of
    # them) are on time without counting.
    late = Case(When(GreaterThan(until, F("due_date")), then=days), default=Value(0),
                output_field=IntegerField())  # fmt: skip
    return rows.annotate(late=late)


def due_between(start: date, end: date, today: date) -> Q:
    """Collections due from ``start`` to ``end`` (inclusive) and already due before today."""
    return Q(due_date__gte=start, due_date__lte=end, due_date__lt=today)


def lateness_aggregates(due: Q, prefix: str = "") -> dict[str, Any]:
    """Return the aggregates of ``Lateness`` (and repurchases) over the rows matching ``due``,
    for a queryset annotated by ``with_lateness``.

    Lateness is the costly part of each row, so it is read twice, not four times: delayed
    is written off plus timed (the database computes the identical timed count once), and
    the days summed over timed rows are the days late above zero of rows not written off."""
    timed = Count("pk", filter=due & TIMED)
    return {
        f"{prefix}due": Count("pk", filter=due),
        f"{prefix}delayed": Count("pk", filter=due & WRITTEN_OFF) + timed,
        f"{prefix}timed": timed,
        f"{prefix}days": Sum(Greatest("late", Value(0)), filter=due & ~WRITTEN_OFF),
        f"{prefix}repurchased": Count(
            "pk", filter=due & Q(repurchase__status__in=REPURCHASE_COUNTED)
        ),
    }


def _lateness(start: date, end: date, today: date) -> Lateness:
    """Count the period's collections and how late they were, in one aggregate query."""
    holidays = bank_holidays(start - timedelta(days=1), max(today, end))
    rows = with_lateness(ExpectedCollection.objects.all(), today, holidays)
    row = rows.filter(due_between(start, end, today)).aggregate(**lateness_aggregates(Q(), ""))
    return Lateness(due=row["due"], delayed=row["delayed"], timed=row["timed"],
                    days=int(row["days"] or 0))  # fmt: skip


def _ratio(part: int, whole: int, places: str) -> Decimal:
    if not whole:
        return Decimal(0).quantize(Decimal(places))
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def delay_rate(start: date, end: date, *, today: date | None = None) -> Decimal:
    """Return the share (0.0000–1.0000) of expected collections due from ``start`` to ``end``
    (inclusive) — counting only those due before ``today`` — that were not paid in full on
    time: paid in full at least one bank business day after the due date (``paid_on``, the
    day the last payment was applied), not paid in full yet though late, repurchased, or
    written off. Rows paid late by 0 business days (over a weekend) count as on time."""
    today = today or timezone.localdate()
    figures = _lateness(start, end, today)
    return _ratio(figures.delayed, figures.due, "0.0001")


def average_days_late(start: date, end: date, *, today: date | None = None) -> Decimal:
    """Return the mean bank business days late (one decimal) over the delayed rows of
    ``delay_rate``: from the due date to ``paid_on`` when paid, to the repurchase's
    settlement date when repurchased, to ``today`` while still unpaid. Written-off rows have
    no end date and are left out; 0.0 when nothing was late."""
    today = today or timezone.localdate()
    figures = _lateness(start, end, today)
    return _ratio(figures.days, figures.timed, "0.1")


def repurchase_rate(start: date, end: date, *, today: date | None = None) -> Decimal:
    """Return the share (0.0000–1.0000), by count, of expected collections due from ``start``
    to ``end`` (inclusive, due before ``today``) for which a repurchase was requested and
    not waived (open or settled)."""
    today = today or timezone.localdate()
    row = ExpectedCollection.objects.filter(due_between(start, end, today)).aggregate(
        due=Count("pk"),
        repurchased=Count("pk", filter=Q(repurchase__status__in=REPURCHASE_COUNTED)),
    )
    return _ratio(row["repurchased"], row["due"], "0.0001")


@dataclass(frozen=True)
class PeriodTotal:
    """Money collected in one period: bank money applied to receivables, and repurchase
    amounts the clients settled."""

    start: date
    collected: int
    repurchased: int


def _period_start(d: date, period: str) -> date:
    if period == "day":
        return d
    if period == "week":
        return d - timedelta(days=d.weekday())
    if period == "month":
        return d.replace(day=1)
    if period == "quarter":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return d.replace(month=1, day=1)


def _next_period(d: date, period: str) -> date:
    if period == "day":
        return d + timedelta(days=1)
    if period == "week":
        return d + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    month = d.month - 1 + months
    return d.replace(year=d.year + month // 12, month=month % 12 + 1, day=1)


def collected_by_period(start: date, end: date, period: str = "month") -> list[PeriodTotal]:
    """Return, for every ``period`` ("day", "week" from Monday, "month", "quarter", "year")
    that overlaps ``start``–``end``, the yen collected in it: ``collected`` sums the live
    (not reversed) allocations by the value date of their bank entry, within ``start``–``end``
    (bank fees absorbed are not money received); ``repurchased`` sums settled repurchase
    requests by settlement date. Empty periods are listed with zeros. Two queries."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    collected = (
        Allocation.objects.filter(
            reversed_at__isnull=True, entry__value_date__gte=start, entry__value_date__lte=end
        )
        .annotate(p=Trunc("entry__value_date", period, output_field=DateField()))
        .values("p")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    repurchased = (
        RepurchaseRequest.objects.filter(
            status=RepurchaseStatus.SETTLED, settled_on__gte=start, settled_on__lte=end
        )
        .annotate(p=Trunc("settled_on", period, output_field=DateField()))
        .values("p")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    by_collected = {_as_date(r["p"]): int(r["total"] or 0) for r in collected}
    by_repurchased = {_as_date(r["p"]): int(r["total"] or 0) for r in repurchased}
    totals = []
    current = _period_start(start, period)
    while current <= end:
        totals.append(
            PeriodTotal(current, by_collected.get(current, 0), by_repurchased.get(current, 0))
        )
        current = _next_period(current, period)
    return totals
