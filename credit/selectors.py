"""Reads of credit: policy, grades, limits, exposure and the ledger, in constant queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from customers.models import Customer

from .calculations import YELLOW_FROM_PERCENT, RatePolicy, utilization_percent, utilization_status
from .checks import LIVE_STATUSES, LimitCheck, ancestor_ids
from .choices import LimitKind, LimitStatus, PolicyStatus
from .models import AdvanceRatePolicy, CreditLimit, Exposure, ExposureEntry, Rating
from .services.ledger import check_limit

__all__ = ["LimitCheck", "check_limit"]


def active_policy() -> AdvanceRatePolicy:
    """Return the advance-rate policy version in force."""
    return AdvanceRatePolicy.objects.get(status=PolicyStatus.ACTIVE)


def active_rate_policy() -> RatePolicy:
    """Return the table in force as the plain values the calculations take."""
    return active_policy().as_policy()


def grade_subquery(outer: str = "pk") -> Subquery:
    """SQL for the current grade (the latest rating) of the party at ``outer``."""
    return Subquery(
        Rating.objects.filter(counterparty=OuterRef(outer))
        .order_by("-rated_at", "-pk")
        .values("grade")[:1],
        output_field=CharField(),
    )


def current_grades(counterparty_ids: list[int]) -> dict[int, str]:
    """Return ``{customer id: current grade}`` for the ids that have a rating (one query)."""
    rows = Customer.objects.filter(pk__in=counterparty_ids).annotate(grade=grade_subquery())
    return {pk: grade for pk, grade in rows.values_list("pk", "grade") if grade}


def current_rating(counterparty: Customer) -> Rating | None:
    return (
        Rating.objects.filter(counterparty=counterparty)
        .select_related("rated_by")
        .order_by("-rated_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class LimitRow:
    """A live limit with the exposure it caps and the traffic light."""

    limit: CreditLimit
    exposure: int

    @property
    def headroom(self) -> int:
        return self.limit.amount - self.exposure

    @property
    def percent(self) -> Decimal | None:
        return utilization_percent(self.limit.amount, self.exposure)

    @property
    def status(self) -> str:
        if self.limit.status == LimitStatus.SUSPENDED:
            return "red"
        return utilization_status(self.limit.amount, self.exposure)


def _exposure_for(kind: str, exposure: Exposure) -> int:
    return {
        LimitKind.CLIENT: exposure.client_total,
        LimitKind.DEBTOR: exposure.debtor_total,
        LimitKind.GROUP: exposure.group_total,
    }[kind]


@dataclass(frozen=True)
class GroupMember:
    customer_id: int
    name: str
    depth: int
    exposure: int
    grade: str


@dataclass(frozen=True)
class Concentration:
    counterparty_id: int
    name: str
    amount: int
    share: Decimal


@dataclass
class CounterpartyCredit:
    """Everything the counterparty credit page shows."""

    customer: Customer
    exposure: Exposure
    rating: Rating | None
    ratings: list[Rating]
    limits: list[LimitRow]
    proposals: list[CreditLimit]
    history: list[CreditLimit]
    group_root: Customer | None
    group: list[GroupMember] = field(default_factory=list)
    group_limit: LimitRow | None = None
    by_debtor: list[Concentration] = field(default_factory=list)
    by_client: list[Concentration] = field(default_factory=list)

    @property
    def status(self) -> str:
        statuses = [row.status for row in self.limits]
        for status in ("red", "yellow"):
            if status in statuses:
                return status
        return "green" if statuses else ""


def descendant_rows(root_id: int) -> list[tuple[int, str, int]]:
    """Return ``(id, name, depth)`` of a group: the root and every descendant (one query)."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    sql = (
        f"WITH RECURSIVE tree(id, name, depth) AS ("
        f" SELECT id, name, 0 FROM {table} WHERE id = %s"
        f" UNION ALL SELECT c.id, c.name, tree.depth + 1 FROM {table} c"
        f" JOIN tree ON c.parent_id = tree.id WHERE tree.depth < 20)"
        f" SELECT id, name, depth FROM tree ORDER BY depth, name"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [root_id])
        return list(cursor.fetchall())


def _concentration(rows: list[tuple[int, str, int]]) -> list[Concentration]:
    total = sum(amount for _pk, _name, amount in rows) or 1
    return [
        Concentration(pk, name, amount, (Decimal(amount) * 100 / total).quantize(Decimal("0.1")))
        for pk, name, amount in sorted(rows, key=lambda r: -r[2])
    ]


def _open_by(field_name: str, group_by: str, party: Customer) -> list[tuple[int, str, int]]:
    """Return open exposure of ``party`` split by the other side, from the ledger."""
    rows = (
        ExposureEntry.objects.filter(**{field_name: party}, **{f"{group_by}__isnull": False})
        .values(group_by, f"{group_by}__name")
        .annotate(amount=Sum(F("reserved_change") + F("consumed_change")))
        .filter(~Q(amount=0))
        .order_by()
    )
    return [(r[group_by], r[f"{group_by}__name"], int(r["amount"])) for r in rows]


def counterparty_credit(customer: Customer) -> CounterpartyCredit:
    """Return a counterparty's credit picture: rating, limits, exposure, group, concentration.

    The number of queries is fixed; none of them reads more ledger rows than the party's own.
    """
    exposure = Exposure.objects.filter(pk=customer.pk).first() or Exposure(counterparty=customer)
    ratings = list(Rating.objects.filter(counterparty=customer).select_related("rated_by")[:20])
    all_limits = list(
        CreditLimit.objects.filter(counterparty=customer).select_related(
            "proposed_by", "decided_by"
        )
    )
    live = [limit for limit in all_limits if limit.status in LIVE_STATUSES]
    rows = [LimitRow(limit, _exposure_for(limit.kind, exposure)) for limit in live]
    ancestors = ancestor_ids(customer.pk)
    root_id = ancestors[-1] if ancestors else customer.pk
    tree = (
        descendant_rows(root_id)
        if (ancestors or Customer.objects.filter(parent=customer).exists())
        else []
    )
    credit = CounterpartyCredit(
        customer=customer,
        exposure=exposure,
        rating=ratings[0] if ratings else None,
        ratings=ratings,
        limits=[row for row in rows if row.limit.kind != LimitKind.GROUP],
        proposals=[limit for limit in all_limits if limit.status == LimitStatus.PROPOSED],
        history=[
            limit
            for limit in all_limits
            if limit.status not in (*LIVE_STATUSES, LimitStatus.PROPOSED)
        ],
        group_root=None,
    )
    if tree:
        ids = [pk for pk, _name, _depth in tree]
        exposures = {e.pk: e for e in Exposure.objects.filter(pk__in=ids)}
        grades = current_grades(ids)
        credit.group = [
            GroupMember(pk, name, depth,
                        exposures[pk].client_total if pk in exposures else 0, grades.get(pk, ""))
            for pk, name, depth in tree
        ]  # fmt: skip
        root_limit = (
            CreditLimit.objects.filter(
                counterparty_id=root_id, kind=LimitKind.GROUP, status__in=LIVE_STATUSES
            )
            .select_related("counterparty")
            .first()
        )
        credit.group_root = Customer(pk=root_id, name=tree[0][1])
        if root_limit is not None:
            root_exposure = exposures.get(root_id) or Exposure(counterparty_id=root_id)
            credit.group_limit = LimitRow(root_limit, root_exposure.group_total)
    credit.by_debtor = _concentration(_open_by("counterparty", "debtor", customer))
    if customer.is_debtor:
        credit.by_client = _concentration(_open_by("debtor", "counterparty", customer))
    return credit


class PartyLedger:
    """The ledger lines where a party is the client or the debtor, newest first, for a
    Paginator: each page reads the party's own rows through the per-role indexes instead of
    walking the whole table by date (an OR across both roles cannot use either index)."""

    def __init__(self, customer: Customer):
        self.customer = customer

    def count(self) -> int:
        return (
            ExposureEntry.objects.filter(counterparty=self.customer).count()
            + ExposureEntry.objects.filter(debtor=self.customer)
            .exclude(counterparty=self.customer)
            .count()
        )

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[ExposureEntry]:
        start, stop = window.start or 0, window.stop
        newest = ("-created_at", "-pk")
        ids = list(
            ExposureEntry.objects.filter(counterparty=self.customer)
            .order_by(*newest)
            .values_list("pk", flat=True)[:stop]
        ) + list(
            ExposureEntry.objects.filter(debtor=self.customer)
            .exclude(counterparty=self.customer)
            .order_by(*newest)
            .values_list("pk", flat=True)[:stop]
        )
        rows = (
            ExposureEntry.objects.filter(pk__in=ids)
            .select_related("counterparty", "debtor", "created_by")
            .order_by(*newest)
        )
        return list(rows[start:stop])


def ledger_entries(customer: Customer) -> PartyLedger:
    """Return the party's ledger (client or debtor side), newest first, ready to paginate."""
    return PartyLedger(customer)


def pending_limits(*, user: Any) -> QuerySet[CreditLimit]:
    """Return proposals this user may decide: within their authority and not their own."""
    return (
        CreditLimit.objects.filter(
            status=LimitStatus.PROPOSED, required_level__lte=getattr(user, "approval_level", 0)
        )
        .exclude(proposed_by=user)
        .select_related("counterparty", "proposed_by")
        .order_by("proposed_at")
    )


def reviews_due(*, today: date, within_days: int) -> QuerySet[CreditLimit]:
    """Return active limits whose review date falls within ``within_days`` (or has passed)."""
    return (
        CreditLimit.objects.filter(
            status=LimitStatus.ACTIVE, review_date__lte=today + timedelta(days=within_days)
        )
        .select_related("counterparty")
        .order_by("review_date", "pk")
    )


def live_limit_amount(kind: str) -> Subquery:
    """SQL for the amount of the party's live (active or suspended) limit of ``kind``."""
    return Subquery(
        CreditLimit.objects.filter(
            counterparty=OuterRef("pk"), kind=kind, status__in=LIVE_STATUSES
        ).values("amount")[:1],
        output_field=IntegerField(),
    )


def exposure_total(side: str) -> Coalesce:
    """SQL for the party's exposure as ``side`` ("client" or "debtor"): reserved + consumed."""
    return Coalesce(F(f"exposure__{side}_reserved") + F(f"exposure__{side}_consumed"), 0)


def _percent(exposure: F | ExpressionWrapper, limit: str) -> Case:
    """SQL for exposure as a whole percentage of a limit (NULL without a limit)."""
    return Case(
        When(**{f"{limit}__gt": 0}, then=ExpressionWrapper(
            exposure * 100 / F(limit), output_field=IntegerField())),
        default=Value(None),
        output_field=IntegerField(),
    )  # fmt: skip


def _light() -> Case:
    """SQL for the worst traffic light of a party's client and debtor limits."""
    over = Q(client_limit__isnull=False, client_exposure__gt=F("client_limit")) | Q(
        debtor_limit__isnull=False, debtor_exposure__gt=F("debtor_limit")
    )
    amber = Q(client_percent__gte=YELLOW_FROM_PERCENT) | Q(debtor_percent__gte=YELLOW_FROM_PERCENT)
    return Case(
        When(Q(suspended__isnull=False) | over, then=Value("red")),
        When(amber, then=Value("yellow")),
        default=Value("green"),
    )


def counterparty_list(*, filters: dict | None = None) -> QuerySet[Customer]:
    """Return parties with a limit or exposure, annotated with limits, exposure, utilisation
    and grade (one query per page), filtered by the credit list's FilterSet."""
    from .filters import CounterpartyFilter

    queryset = (
        Customer.objects.filter(
            Exists(
                CreditLimit.objects.filter(
                    counterparty=OuterRef("pk"),
                    status__in=[*LIVE_STATUSES, LimitStatus.PROPOSED],
                )
            )
            | Q(exposure__client_consumed__gt=0)
            | Q(exposure__client_reserved__gt=0)
            | Q(exposure__debtor_consumed__gt=0)
            | Q(exposure__debtor_reserved__gt=0)
        )
        .annotate(
            client_limit=live_limit_amount(LimitKind.CLIENT),
            debtor_limit=live_limit_amount(LimitKind.DEBTOR),
            group_limit=live_limit_amount(LimitKind.GROUP),
            client_exposure=exposure_total("client"),
            debtor_exposure=exposure_total("debtor"),
            worst_delay=Coalesce(F("exposure__worst_delay_days"), 0),
            grade=grade_subquery(),
            suspended=Subquery(
                CreditLimit.objects.filter(
                    counterparty=OuterRef("pk"), status=LimitStatus.SUSPENDED
                ).values("pk")[:1]
            ),
        )
        .annotate(
            client_percent=_percent(F("client_exposure"), "client_limit"),
            debtor_percent=_percent(F("debtor_exposure"), "debtor_limit"),
        )
        .annotate(light=_light())
        .order_by("name_kana", "pk")
    )
    return CounterpartyFilter(filters or {}, queryset=queryset).qs
