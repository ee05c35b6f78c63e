"""The dashboard's editable assumptions: probability of default by rating and loss given
default (expected loss), and the probability that a deal in each open stage executes
(this month's weighted forecast). Defaults come from settings; a manager's edits live in
their session only — they are what-if inputs, never company policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.money import to_rate
from credit.choices import Grade
from deals.choices import OPEN_STAGES, Stage

RATINGS: tuple[str, ...] = tuple(Grade.values)
#: Stages a forecast weighs (open deals not yet paid out).
FORECAST_STAGES: tuple[str, ...] = tuple(s.value for s in OPEN_STAGES)

DEFAULT_PD_BY_RATING: dict[str, str] = {
    "A": "0.0050", "B": "0.0100", "C": "0.0300", "D": "0.1000", "E": "0.3000",
}  # fmt: skip
DEFAULT_LGD = "0.4500"
DEFAULT_STAGE_PROBABILITY: dict[str, str] = {
    "lead": "0.0500", "documents": "0.1000", "screening": "0.2000", "underwriting": "0.3500",
    "quoted": "0.5000", "approval": "0.7000", "contracted": "0.9000",
}  # fmt: skip
#: Rating whose PD applies to debtors nobody has rated yet (caution, as for C).
UNRATED_AS = "C"


@dataclass(frozen=True)
class Assumptions:
    """PD per rating, LGD and per-stage execution probability, all Decimal rates."""

    pd_by_rating: dict[str, Decimal]
    lgd: Decimal
    stage_probability: dict[str, Decimal] = field(default_factory=dict)

    def pd(self, rating: str) -> Decimal:
        """Return the PD of ``rating`` (unrated debtors take the PD of ``UNRATED_AS``)."""
        return self.pd_by_rating.get(rating or UNRATED_AS, self.pd_by_rating[UNRATED_AS])

    def probability(self, stage: str) -> Decimal:
        return self.stage_probability.get(stage, Decimal("0.0000"))

    def to_session(self) -> dict[str, Any]:
        """Return the assumptions as JSON-safe strings (for the session or the API)."""
        return {
            "pd_by_rating": {k: str(v) for k, v in self.pd_by_rating.items()},
            "lgd": str(self.lgd),
            "stage_probability": {k: str(v) for k, v in self.stage_probability.items()},
        }

    @classmethod
    def from_session(cls, data: dict[str, Any] | None) -> Assumptions:
        """Return assumptions read back from ``to_session`` output; defaults fill gaps."""
        base = default_assumptions()
        if not data:
            return base
        try:
            pd = {**base.pd_by_rating,
                  **{k: to_rate(v) for k, v in data.get("pd_by_rating", {}).items()
                     if k in RATINGS}}  # fmt: skip
            probability = {**base.stage_probability,
                           **{k: to_rate(v) for k, v in data.get("stage_probability", {}).items()
                              if k in FORECAST_STAGES}}  # fmt: skip
            lgd = to_rate(data.get("lgd", base.lgd))
        except (ValueError, TypeError, ArithmeticError):
            return base
        return cls(pd_by_rating=pd, lgd=lgd, stage_probability=probability)


def _rates(values: dict[str, Any], keys: tuple[str, ...], fallback: dict[str, str]) -> dict:
    return {key: to_rate(str(values.get(key, fallback[key]))) for key in keys}


def default_assumptions() -> Assumptions:
    """Return the assumptions of settings ``DASHBOARD_PD_BY_RATING``, ``DASHBOARD_LGD`` and
    ``DASHBOARD_STAGE_PROBABILITY``, each key falling back to the code's default."""
    pd = getattr(settings, "DASHBOARD_PD_BY_RATING", {}) or {}
    probability = getattr(settings, "DASHBOARD_STAGE_PROBABILITY", {}) or {}
    return Assumptions(
        pd_by_rating=_rates(pd, RATINGS, DEFAULT_PD_BY_RATING),
        lgd=to_rate(str(getattr(settings, "DASHBOARD_LGD", DEFAULT_LGD))),
        stage_probability=_rates(probability, FORECAST_STAGES, DEFAULT_STAGE_PROBABILITY),
    )


def _rate_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, min_value=0, max_value=1, max_digits=5,
                              decimal_places=4,
                              widget=forms.NumberInput(attrs={"step": "0.0001"}))  # fmt: skip


class AssumptionsForm(forms.Form):
    """Edit PD by rating (pd_A … pd_E), LGD and the probability per open stage
    (prob_<stage>), as rates from 0 to 1 with four decimals."""

    def __init__(self, *args, initial_assumptions: Assumptions | None = None, **kwargs):
        assumptions = initial_assumptions or default_assumptions()
        kwargs.setdefault("initial", {})
        super().__init__(*args, **kwargs)
        for rating in RATINGS:
            name = f"pd_{rating}"
            self.fields[name] = _rate_field(_("PD, rating %(rating)s") % {"rating": rating})
            self.initial.setdefault(name, assumptions.pd_by_rating[rating])
        self.fields["lgd"] = _rate_field(_("LGD (loss given default)"))
        self.initial.setdefault("lgd", assumptions.lgd)
        for stage in FORECAST_STAGES:
            name = f"prob_{stage}"
            self.fields[name] = _rate_field(
                _("Execution probability: %(stage)s") % {"stage": Stage(stage).label}
            )
            self.initial.setdefault(name, assumptions.stage_probability[stage])

    def to_assumptions(self) -> Assumptions:
        """Return the submitted assumptions (call after ``is_valid()``)."""
        data = self.cleaned_data
        return Assumptions(
            pd_by_rating={r: to_rate(data[f"pd_{r}"]) for r in RATINGS},
            lgd=to_rate(data["lgd"]),
            stage_probability={s: to_rate(data[f"prob_{s}"]) for s in FORECAST_STAGES},
        )
