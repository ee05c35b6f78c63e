"""The written definition of every figure on the dashboard: shown as its tooltip, in the
API, and copied into the README — one source, so a number always means the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class KpiDefinition:
    code: str
    label: Any
    definition: Any


_ALL = (
    KpiDefinition(
        "executed_amount",
        _("Executed amount"),
        _(
            "Sum of the amounts paid out (the executed amount, else the upfront payment) of "
            "deals whose execution date falls in the period."
        ),
    ),
    KpiDefinition(
        "fee_revenue",
        _("Fee revenue"),
        _("Sum of the fees of deals whose execution date falls in the period."),
    ),
    KpiDefinition(
        "revenue_per_deal",
        _("Revenue per executed deal"),
        _("Fee revenue divided by the number of deals executed in the period (yen, rounded down)."),
    ),
    KpiDefinition(
        "new_deals",
        _("New deals"),
        _("Deals first contacted (created) in the period."),
    ),
    KpiDefinition(
        "quote_rate",
        _("Quote rate"),
        _(
            "Deals first quoted in the period divided by the deals first contacted (created) "
            "in the period."
        ),
    ),
    KpiDefinition(
        "win_rate",
        _("Win rate"),
        _(
            "Of the deals first quoted in the period, the share executed so far (e.g. 24 "
            "quoted, 9 executed: 37.5 %)."
        ),
    ),
    KpiDefinition(
        "lead_time_days",
        _("Lead time"),
        _(
            "Average bank business days from first contact (the day the deal was created) to "
            "execution, over the deals executed in the period. Weekends, national holidays and "
            "the year-end closure (31 Dec – 3 Jan) do not count."
        ),
    ),
    KpiDefinition(
        "delay_rate",
        _("Delay rate"),
        _(
            "Share of the expected collections due in the period (and before today) not paid "
            "in full on time: paid at least one bank business day late, still unpaid though "
            "late, repurchased or written off."
        ),
    ),
    KpiDefinition(
        "delay_days_avg",
        _("Average days late"),
        _(
            "Mean bank business days late of the delayed collections of the delay rate: to the "
            "day paid in full, to the repurchase settlement, or to today while unpaid. "
            "Written-off rows are left out."
        ),
    ),
    KpiDefinition(
        "repurchase_rate",
        _("Repurchase rate"),
        _(
            "Share, by count, of the expected collections due in the period (and before "
            "today) for which a repurchase was requested and not waived."
        ),
    ),
    KpiDefinition(
        "expected_loss",
        _("Expected loss"),
        _(
            "Outstanding amount still to be collected today × PD of the debtor's current "
            "rating × LGD, summed by rating (unrated debtors take the PD of C). PD and LGD "
            "are editable assumptions."
        ),
    ),
    KpiDefinition(
        "delay_trend",
        _("Delay-rate trend"),
        _(
            "Delay rate by month of due date, with executed amount and fee revenue by month "
            "of execution, over the twelve months ending with the period."
        ),
    ),
    KpiDefinition(
        "pipeline",
        _("Pipeline by stage"),
        _(
            "Deals in each stage today and the sum of their face values; the period does not "
            "apply (it is a snapshot), the segment filters do."
        ),
    ),
    KpiDefinition(
        "stalled",
        _("Stalled deals"),
        _(
            "Deals in their stage longer than the stage's stall threshold (bank business days, "
            "set by the administrator)."
        ),
    ),
    KpiDefinition(
        "conversion",
        _("Stage conversion"),
        _(
            "Of the deals that left a stage in the period, the share that moved on to the next "
            "stage (rather than being lost, cancelled or sent back)."
        ),
    ),
    KpiDefinition(
        "stage_days",
        _("Days in stage"),
        _(
            "Average bank business days spent in the stage by the deals that left it in the "
            "period, from the stage-change log."
        ),
    ),
    KpiDefinition(
        "funnel",
        _("Funnel"),
        _("Of the deals first contacted in the period, how many have reached each stage so far."),
    ),
    KpiDefinition(
        "lost_reasons",
        _("Lost reasons"),
        _(
            "Reasons recorded on the deals lost in the period; a deal may give several "
            "reasons, so shares are of all reasons given."
        ),
    ),
    KpiDefinition(
        "by_channel",
        _("By channel"),
        _(
            "Per source channel: new deals in the period, win rate of the deals first quoted "
            "in the period, executed amount and fee revenue of the deals executed in it."
        ),
    ),
    KpiDefinition(
        "bottleneck",
        _("Bottleneck"),
        _(
            "The open stage with the most stalled deals today (ties: the lowest conversion), "
            "with the longest-waiting deals behind it."
        ),
    ),
    KpiDefinition(
        "forecast",
        _("Expected execution this month"),
        _(
            "Open deals whose expected payment date falls in the current month, by stage: the "
            "amount to pay out, and that amount weighted by the stage's execution probability "
            "(editable). Deals already executed this month count in full."
        ),
    ),
    KpiDefinition(
        "delay_risk",
        _("Delay risk"),
        _(
            "Unpaid collections overdue today by ageing bucket (bank business days), and the "
            "debtors with the largest overdue amount or a red limit utilisation."
        ),
    ),
)

KPI_DEFINITIONS: dict[str, KpiDefinition] = {d.code: d for d in _ALL}

# How each headline figure is shown (screen and Excel alike).
YEN_CODES = {"executed_amount", "fee_revenue", "revenue_per_deal", "expected_loss"}
RATE_CODES = {"delay_rate", "quote_rate", "win_rate", "repurchase_rate"}
DAY_CODES = {"lead_time_days", "delay_days_avg"}


def definition(code: str) -> Any:
    """Return the definition text of ``code`` ("" when the code has none)."""
    found = KPI_DEFINITIONS.get(code)
    return found.definition if found else ""
