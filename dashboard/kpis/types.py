"""The shapes the dashboard hands to its screens, export and API (plain dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from core.money import ratio

from ..assumptions import Assumptions
from ..filters import DashboardFilters


@dataclass
class Figure:
    """One headline number with the previous period's and the key of its drill-down."""

    code: str
    value: int | Decimal | None
    previous: int | Decimal | None
    drill: str

    @property
    def change(self) -> Decimal | None:
        """Return the relative change against the previous period (0.2500 = +25 %)."""
        if self.value is None or not self.previous:
            return None
        return ratio(Decimal(self.value) - Decimal(self.previous), abs(Decimal(self.previous)))

    @property
    def label(self) -> Any:
        from ..definitions import KPI_DEFINITIONS

        found = KPI_DEFINITIONS.get(self.code)
        return found.label if found else self.code

    @property
    def definition(self) -> Any:
        from ..definitions import definition

        return definition(self.code)


@dataclass
class TrendPoint:
    label: str
    start: date
    delay_rate: Decimal
    executed_amount: int
    fee_revenue: int


@dataclass
class StageRow:
    stage: str
    label: str
    count: int
    amount: int
    stalled: int
    conversion: Decimal | None
    avg_days: Decimal | None
    drill: str
    left: int = 0  # deals that left the stage in the period (the conversion's base)
    moved_on: int = 0  # of those, moved to the next stage
    stalled_drill: str = ""


@dataclass
class QuoteWin:
    quoted: int
    won: int
    lost: int
    quote_rate: Decimal | None
    win_rate: Decimal | None
    new_deals: int = 0


@dataclass
class ReasonRow:
    code: str
    label: str
    count: int
    share: Decimal
    drill: str


@dataclass
class SegmentRow:
    key: str
    label: str
    deals: int
    won: int
    win_rate: Decimal | None
    executed_amount: int
    fee_revenue: int
    drill: str
    quoted: int = 0
    executed: int = 0


@dataclass
class Bottleneck:
    stage: str
    label: str
    stalled: int
    conversion: Decimal | None
    deals: list[Any]
    drill: str


@dataclass
class ForecastRow:
    stage: str
    label: str
    count: int
    amount: int
    probability: Decimal
    weighted: int
    drill: str


@dataclass
class Forecast:
    month_label: str
    unweighted: int
    weighted: int
    rows: list[ForecastRow]
    start: date | None = None
    end: date | None = None


@dataclass
class BucketRow:
    code: str
    label: str
    count: int
    amount: int
    drill: str


@dataclass
class DebtorRisk:
    customer_id: int
    name: str
    overdue_amount: int
    utilisation: Decimal | None
    light: str
    drill: str
    limit: int | None = None
    exposure: int = 0


@dataclass
class DelayRisk:
    buckets: list[BucketRow]
    debtors: list[DebtorRisk]

    @property
    def total_count(self) -> int:
        return sum(b.count for b in self.buckets)

    @property
    def total_amount(self) -> int:
        return sum(b.amount for b in self.buckets)


@dataclass
class LossRow:
    rating: str
    exposure: int
    pd: Decimal
    lgd: Decimal
    loss: int
    label: str = ""


@dataclass
class ExpectedLoss:
    total: int
    rows: list[LossRow]

    @property
    def exposure(self) -> int:
        return sum(r.exposure for r in self.rows)


@dataclass
class DashboardData:
    """Everything the dashboard shows, for one set of filters and assumptions."""

    filters: DashboardFilters
    assumptions: Assumptions
    today: date
    kgi: list[Figure]
    delay_trend: list[TrendPoint]
    stages: list[StageRow]
    funnel: list[StageRow]
    quote_win: QuoteWin
    lost_reasons: list[ReasonRow]
    by_channel: list[SegmentRow]
    segments: list[SegmentRow]
    bottleneck: Bottleneck
    forecast: Forecast
    delay_risk: DelayRisk
    expected_loss: ExpectedLoss
    previous_quote_win: QuoteWin | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def top3(self) -> list[ReasonRow]:
        return self.lost_reasons[:3]

    @property
    def kgi_by_code(self) -> dict[str, Figure]:
        return {f.code: f for f in self.kgi}

    def figure(self, code: str) -> Figure:
        return self.kgi_by_code[code]

    @property
    def lead_time(self) -> Figure:
        return self.figure("lead_time_days")
