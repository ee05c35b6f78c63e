"""Reads of the pipeline: list, kanban, detail, approval inbox, tasks and stalled deals —
each in a fixed number of queries whatever the number of deals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from core.calendar import add_business_days, business_days_between, day_start

from .choices import OPEN_STAGES, PIPELINE, ApprovalStatus, Stage, next_stage
from .filters import DealFilter
from .models import ApprovalRequest, Deal, Receivable, StageChange, StallThreshold

CARDS_PER_COLUMN = 20


def deal_list(*, user: Any, filters: dict | None = None) -> QuerySet[Deal]:
    """Return deals filtered by the list's FilterSet, with what a list row shows."""
    queryset = Deal.objects.select_related("client", "owner").order_by("-pk")
    return DealFilter(filters or {}, queryset=queryset).qs


def stalled_days(deal: Deal, today: date | None = None) -> int:
    """Return the bank business days the deal has spent in its current stage."""
    today = today or timezone.localdate()
    return max(business_days_between(timezone.localdate(deal.stage_entered_at), today), 0)


@dataclass
class Column:
    stage: str
    label: str
    count: int = 0
    amount: int = 0
    cards: list[Deal] = field(default_factory=list)

    @property
    def next(self) -> str | None:
        return next_stage(self.stage)

    @property
    def more(self) -> int:
        return self.count - len(self.cards)


def kanban(*, user: Any, filters: dict | None = None) -> list[Column]:
    """Return one column per open pipeline stage: count, amount and the longest-waiting
    cards (three queries: one aggregate, one windowed page of cards, the thresholds)."""
    base = deal_list(user=user, filters=filters).filter(stage__in=PIPELINE[:-1])
    columns = {stage.value: Column(stage.value, str(stage.label)) for stage in PIPELINE[:-1]}
    for row in base.order_by().values("stage").annotate(n=Count("pk"), total=Sum("face_value")):
        columns[row["stage"]].count = row["n"]
        columns[row["stage"]].amount = int(row["total"] or 0)
    cards = _cards(base, list(columns))
    today = timezone.localdate()
    limits = dict(StallThreshold.objects.values_list("stage", "business_days"))
    for deal in cards:
        deal.days_in_stage = stalled_days(deal, today)
        deal.stalled = deal.days_in_stage > limits.get(deal.stage, 5)
        columns[deal.stage].cards.append(deal)
    return list(columns.values())


CARD_FIELDS = ("number", "name", "stage", "stage_entered_at", "face_value", "client__name",
               "owner__username", "owner__first_name", "owner__last_name")  # fmt: skip


def _cards(base: QuerySet[Deal], stages: list[str]) -> list[Deal]:
    """Return the longest-waiting cards of each stage in one query: a UNION ALL of 20-row
    slices, each read from the (stage, stage_entered_at) index instead of sorting every open
    deal. Databases that cannot order inside a compound query get one slice per stage."""
    if not stages:
        return []
    slices = [
        base.filter(stage=stage)
        .only(*CARD_FIELDS)
        .order_by("stage_entered_at", "pk")[:CARDS_PER_COLUMN]
        for stage in stages
    ]
    if connection.features.supports_slicing_ordering_in_compound and len(slices) > 1:
        return list(slices[0].union(*slices[1:], all=True))
    return [deal for part in slices for deal in part]


def page_of(queryset: QuerySet[Deal], number: Any, per_page: int) -> Page:
    """Return a page of ``queryset`` by paging ids first: a deep OFFSET then walks only the
    index, not the joined rows; the page's rows are fetched by id in the list's order."""
    ids = queryset.values_list("pk", flat=True)
    page = Paginator(ids, per_page).get_page(number)
    rows = queryset.model.objects.filter(pk__in=list(page.object_list))
    rows = {deal.pk: deal for deal in rows.select_related("client", "owner")}
    page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
    return page


def deal_get(*, number: str) -> Deal:
    """Return one deal with everything its page shows, in a fixed number of queries."""
    return (
        Deal.objects.select_related(
            "client", "owner", "created_by", "next_action_owner", "remittance_account"
        )
        .prefetch_related(
            Prefetch("receivables", queryset=Receivable.objects.select_related("debtor")),
            Prefetch("stage_changes", queryset=StageChange.objects.select_related("actor")),
            Prefetch(
                "approvals",
                queryset=ApprovalRequest.objects.select_related(
                    "requested_by", "decided_by", "on_behalf_of"
                ),
            ),
            "lost_reasons",
        )
        .get(number=number)
    )


def approval_inbox(*, user: Any) -> QuerySet[ApprovalRequest]:
    """Return pending 稟議 this approver's level covers, never on deals they own or made."""
    return (
        ApprovalRequest.objects.filter(
            status=ApprovalStatus.PENDING, required_level__lte=getattr(user, "approval_level", 0)
        )
        .exclude(Q(deal__owner=user) | Q(deal__created_by=user) | Q(requested_by=user))
        .select_related("deal", "deal__client", "deal__owner", "requested_by")
        .order_by("requested_at")
    )


def my_tasks(*, user: Any) -> QuerySet[Deal]:
    """Return open deals whose next action is the user's, the most urgent first."""
    return (
        Deal.objects.filter(next_action_owner=user, stage__in=[*OPEN_STAGES, Stage.EXECUTED,
                                                               Stage.COLLECTING])
        .select_related("client", "owner")
        .order_by(F("next_action_due").asc(nulls_last=True), "pk")
    )  # fmt: skip


def stall_thresholds() -> list[tuple[str, int]]:
    """Return ``[(stage, business days)]``: how long a deal may wait in each stage."""
    return list(StallThreshold.objects.values_list("stage", "business_days"))


def stall_q(today: date, thresholds: list[tuple[str, int]], *, stage: str | None = None,
            multiple: int = 1) -> Q:  # fmt: skip
    """Return the condition for deals in their stage longer than ``multiple`` × its threshold
    (bank business days; ``stage`` alone when given): entered before local midnight of the
    cutoff day, a range on the column rather than every deal's local date."""
    q = Q(pk__in=[])
    for code, days in thresholds:
        if stage is None or code == stage:
            cutoff = add_business_days(today, -days * multiple)
            q |= Q(stage=code, stage_entered_at__lt=day_start(cutoff))
    return q


def stalled_deals(*, today: date, multiple: int = 1) -> QuerySet[Deal]:
    """Return open deals in their stage longer than ``multiple`` × the stage's threshold
    (bank business days), with one condition per stage — set-based, no per-deal loop."""
    condition = stall_q(today, stall_thresholds(), multiple=multiple)
    return Deal.objects.filter(condition).select_related("owner", "client")


def customer_deals(*, customer_id: int) -> QuerySet[Deal]:
    """Return the deals where the customer is the client or a debtor."""
    as_debtor = Receivable.objects.filter(debtor_id=customer_id).values("deal_id")
    return (
        Deal.objects.filter(Q(client_id=customer_id) | Q(pk__in=as_debtor))
        .select_related("client", "owner")
        .order_by("-pk")
    )
