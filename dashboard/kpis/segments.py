"""The segment every deal-based figure is cut by, and the keys the dashboard groups by."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _

from collection.models import ExpectedCollection
from core.calendar import datetime_range
from credit.choices import Grade, Scheme
from credit.selectors import grade_subquery
from customers.choices import Industry
from deals.choices import Channel
from deals.filters import AMOUNT_BANDS, amount_band_q, debtor_rating_deals
from deals.models import Deal, Receivable

from ..filters import DashboardFilters, Period


def amount_paid_out() -> Expression:
    """SQL for the amount a deal pays out: the executed amount once known, else the
    upfront payment the funding calculation gives."""
    return Coalesce(F("executed_amount"), F("upfront_payment"))


def worst_debtor_grade() -> Subquery:
    """SQL for the worst current rating among a deal's debtors (E is the worst)."""
    return Subquery(
        Receivable.objects.filter(deal=OuterRef("pk"))
        .annotate(g=grade_subquery("debtor_id"))
        .exclude(g=None)
        .order_by("-g")
        .values("g")[:1],
        output_field=CharField(),
    )


def segment_q(filters: DashboardFilters, prefix: str = "") -> Q:
    """Return the segment as a condition on deals (``prefix`` reaches them from another
    model, e.g. ``deal__``)."""
    q = Q()
    for name, lookup in (("channel", "channel"), ("scheme", "scheme"),
                         ("industry", "client__industry"), ("department", "department")):  # fmt: skip
        value = getattr(filters, name)
        if value:
            q &= Q(**{prefix + lookup: value})
    if filters.owner_id is not None:
        q &= Q(**{prefix + "owner_id": filters.owner_id})
    if filters.amount_band:
        q &= amount_band_q(filters.amount_band, prefix + "advance_amount")
    if filters.debtor_rating:
        q &= Q(**{prefix + "pk__in": debtor_rating_deals(filters.debtor_rating)})
    return q


def segment_deals(filters: DashboardFilters) -> QuerySet[Deal]:
    """Return the deals of the segment (every period, every stage)."""
    return Deal.objects.filter(segment_q(filters))


def segment_collections(filters: DashboardFilters) -> QuerySet[ExpectedCollection]:
    """Return the expected collections of the segment's deals."""
    rows = ExpectedCollection.objects.all()
    if filters.has_segment:
        rows = rows.filter(deal__in=segment_deals(filters).values("pk"))
    return rows


# -------------------------------------------------------------------- period conditions


def created_in(period: Period, prefix: str = "") -> Q:
    low, high = datetime_range(period.start, period.end)
    return Q(**{f"{prefix}created_at__gte": low, f"{prefix}created_at__lt": high})


def executed_in(period: Period | tuple[date, date], prefix: str = "") -> Q:
    start, end = (period.start, period.end) if isinstance(period, Period) else period
    return Q(**{f"{prefix}executed_on__gte": start, f"{prefix}executed_on__lte": end})


def first_quoted_in(period: Period) -> Q:
    """Return the condition for deals first quoted in ``period`` (their first move to
    quoted, kept on the deal by ``deals.milestones``)."""
    low, high = datetime_range(period.start, period.end)
    return Q(first_quoted_at__gte=low, first_quoted_at__lt=high)


def lost_in(period: Period) -> Q:
    """Return the condition for deals lost (and still lost) in ``period``."""
    from deals.models import StageChange

    low, high = datetime_range(period.start, period.end)
    moves = StageChange.objects.filter(to_stage="lost", at__gte=low, at__lt=high)
    return Q(stage="lost", pk__in=moves.values("deal_id"))


# ---------------------------------------------------------------------- grouping keys


def group_key(group_by: str) -> Expression:
    """Return SQL for a deal's group under ``group_by`` (a string, "" when unknown)."""
    if group_by == "channel":
        return F("channel")
    if group_by == "scheme":
        return F("scheme")
    if group_by == "industry":
        return F("client__industry")
    if group_by == "department":
        return F("department")
    if group_by == "owner":
        return Cast("owner_id", output_field=CharField())
    if group_by == "amount_band":
        whens = [When(amount_band_q(code), then=Value(code)) for code, *_rest in AMOUNT_BANDS]
        return Case(*whens, default=Value(""), output_field=CharField())
    if group_by == "debtor_rating":
        return Coalesce(worst_debtor_grade(), Value(""), output_field=CharField())
    raise ValueError(f"unknown group: {group_by}")


def group_labels(group_by: str, keys: list[str]) -> dict[str, str]:
    """Return display labels of ``keys`` (owners need one query for their names)."""
    if group_by == "channel":
        choices: dict[str, Any] = dict(Channel.choices)
    elif group_by == "scheme":
        choices = dict(Scheme.choices)
    elif group_by == "industry":
        choices = dict(Industry.choices)
    elif group_by == "amount_band":
        choices = {code: label for code, label, *_rest in AMOUNT_BANDS}
    elif group_by == "debtor_rating":
        choices = dict(Grade.choices)
    elif group_by == "owner":
        from accounts.models import User

        ids = [int(k) for k in keys if k and k.isdigit()]
        choices = {str(u.pk): str(u) or u.username for u in User.objects.filter(pk__in=ids)}
    else:
        choices = {}
    unknown = _("Unrated") if group_by == "debtor_rating" else _("(none)")
    return {key: str(choices.get(key, key)) if key else str(unknown) for key in keys}
