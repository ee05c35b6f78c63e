"""A deal's milestones, read off its stage log and kept on the deal: when it was first
quoted and the furthest pipeline stage it reached; and the business days each logged move
spent in the stage it left.

The dashboard counts deals first quoted in a period and the deals that reached each stage;
searching half a million log rows for that on every load cost more than the rest of the
figures together. The log stays the source: ``advance`` keeps a deal's milestones up to date
as each move is logged, and ``refresh_milestones`` recomputes them from the log (after bulk
writes, and in the migration that introduced them) — tests hold the two to the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.db.models import Case, IntegerField, Max, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.calendar import business_days_between

from .choices import PIPELINE, Stage


def business_days_in_stage(at: datetime, seconds_in_stage: int) -> int:
    """Return the bank business days from the local day a stage was entered (
    ``seconds_in_stage`` before ``at``) to the local day it was left at ``at``."""
    entered = timezone.localdate(at - timedelta(seconds=seconds_in_stage))
    return max(business_days_between(entered, timezone.localdate(at)), 0)


def stage_position(stage: str) -> int | None:
    """Return ``stage``'s position in the pipeline (None for lost and cancelled)."""
    return PIPELINE.index(stage) if stage in PIPELINE else None


def advance(deal: Any, to_stage: str, at: datetime) -> None:
    """Update ``deal``'s milestones in memory for a move to ``to_stage`` at ``at``."""
    if to_stage == Stage.QUOTED and deal.first_quoted_at is None:
        deal.first_quoted_at = at
    position = stage_position(to_stage)
    if position is not None and position > deal.furthest_stage:
        deal.furthest_stage = position


def milestones_of(moves: Iterable[tuple[str, datetime]]) -> dict[str, Any]:
    """Return the milestones of a deal moved through ``moves`` [(to stage, when), …] in
    order (for rows written in bulk)."""
    deal = SimpleNamespace(first_quoted_at=None, furthest_stage=0)
    for to_stage, at in moves:
        advance(deal, to_stage, at)
    return vars(deal)


def milestone_expressions(change_model: Any) -> dict[str, Any]:
    """Return SQL recomputing a deal's milestones from ``change_model`` (the stage log;
    a parameter so the migration can pass its historical model)."""
    changes = change_model.objects.filter(deal=OuterRef("pk"))
    first_quoted = changes.filter(to_stage=Stage.QUOTED).order_by("at", "pk").values("at")[:1]
    position = Case(
        *[When(to_stage=stage.value, then=Value(i)) for i, stage in enumerate(PIPELINE)],
        default=None, output_field=IntegerField(),
    )  # fmt: skip
    furthest = changes.values("deal").annotate(m=Max(position)).values("m")
    return {
        "first_quoted_at": Subquery(first_quoted),
        "furthest_stage": Coalesce(Subquery(furthest, output_field=IntegerField()), Value(0)),
    }


def refresh_milestones(deal_ids: Iterable[int] | None = None) -> int:
    """Recompute the milestones of ``deal_ids`` (every deal when None) from the stage log;
    return the number of deals written."""
    from .models import Deal, StageChange

    deals = Deal.objects.all() if deal_ids is None else Deal.objects.filter(pk__in=list(deal_ids))
    return deals.update(**milestone_expressions(StageChange))
