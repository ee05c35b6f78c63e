"""The dashboard's filters: a reporting period (month, quarter, fiscal year or custom range)
compared with the one before it, and the segments every deal-based figure is cut by."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.calendar import add_months, month_end, month_starts
from credit.choices import Grade, Scheme
from customers.choices import Industry
from deals.choices import Channel
from deals.filters import AMOUNT_BANDS

PERIOD_KINDS = (
    ("month", _("Month")),
    ("quarter", _("Quarter")),
    ("fiscal_year", _("Fiscal year (April–March)")),
    ("custom", _("Custom range")),
)
#: The fiscal year starts in April (Japanese practice).
FISCAL_YEAR_START_MONTH = 4

GROUP_BY_CHOICES = (
    ("channel", _("Source channel")),
    ("industry", _("Industry")),
    ("scheme", _("Scheme")),
    ("amount_band", _("Amount band")),
    ("debtor_rating", _("Debtor rating")),
    ("owner", _("Owner")),
    ("department", _("Department")),
)


def fiscal_year_of(d: date) -> int:
    """Return the fiscal year (named by its starting calendar year) that ``d`` falls in."""
    return d.year if d.month >= FISCAL_YEAR_START_MONTH else d.year - 1


@dataclass(frozen=True)
class Period:
    """A reporting period, ``end`` inclusive."""

    kind: str
    start: date
    end: date

    @classmethod
    def month(cls, d: date) -> Period:
        """Return the calendar month containing ``d``."""
        return cls("month", d.replace(day=1), month_end(d))

    @classmethod
    def quarter(cls, d: date) -> Period:
        """Return the calendar quarter containing ``d`` (also the fiscal quarter: April
        starts both Q1 of the fiscal year and Q2 of the calendar year)."""
        start = date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
        return cls("quarter", start, month_end(add_months(start, 2)))

    @classmethod
    def fiscal_year(cls, d: date) -> Period:
        """Return the April–March fiscal year containing ``d``."""
        year = fiscal_year_of(d)
        return cls("fiscal_year", date(year, FISCAL_YEAR_START_MONTH, 1),
                   month_end(date(year + 1, FISCAL_YEAR_START_MONTH - 1, 1)))  # fmt: skip

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        if end < start:
            start, end = end, start
        return cls("custom", start, end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """Return the period of the same kind and length immediately before this one."""
        if self.kind == "month":
            return Period.month(self.start - timedelta(days=1))
        if self.kind == "quarter":
            return Period.quarter(self.start - timedelta(days=1))
        if self.kind == "fiscal_year":
            return Period.fiscal_year(self.start - timedelta(days=1))
        end = self.start - timedelta(days=1)
        return Period("custom", end - timedelta(days=self.days - 1), end)

    @property
    def month_starts(self) -> list[date] | None:
        """Return the first days of the whole months the period consists of, or None when
        it does not begin and end on month boundaries (a custom range)."""
        if self.start.day != 1 or self.end != month_end(self.end):
            return None
        return month_starts(self.start, self.end)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return gettext("%(start)s to %(end)s") % {
                "start": f"{self.start:%Y-%m}",
                "end": f"{self.end:%Y-%m}",
            }
        if self.kind == "fiscal_year":
            return gettext("FY%(year)s") % {"year": self.start.year}
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class DashboardFilters:
    """The period and the segment filters every figure of the dashboard applies."""

    period: Period
    channel: str = ""
    industry: str = ""
    scheme: str = ""
    amount_band: str = ""
    debtor_rating: str = ""
    owner_id: int | None = None
    department: str = ""
    group_by: str = ""

    @property
    def has_segment(self) -> bool:
        return any(
            (self.channel, self.industry, self.scheme, self.amount_band, self.debtor_rating,
             self.owner_id, self.department)
        )  # fmt: skip

    def params(self) -> dict[str, str]:
        """Return the GET parameters that reproduce these filters (blanks left out)."""
        period = self.period
        params = {"period": period.kind, "anchor": f"{period.start:%Y-%m}"}
        if period.kind == "custom":
            params = {"period": "custom", "start": period.start.isoformat(),
                      "end": period.end.isoformat()}  # fmt: skip
        values = asdict(self)
        for name in ("channel", "industry", "scheme", "amount_band", "debtor_rating",
                     "department", "group_by"):  # fmt: skip
            if values[name]:
                params[name] = str(values[name])
        if self.owner_id is not None:
            params["owner"] = str(self.owner_id)
        return params

    def query_string(self, **overrides: object) -> str:
        """Return the filters url-encoded, with ``overrides`` applied (None or "" drops)."""
        params: dict[str, object] = dict(self.params())
        for key, value in overrides.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = value
        return urlencode(params)


def _owner_queryset():
    from accounts.models import User

    return User.objects.filter(is_active=True).order_by("username")


class DashboardFilterForm(forms.Form):
    """The dashboard's GET form. Invalid or missing values fall back to the defaults, so a
    hand-edited URL still shows a dashboard (this month, no segment)."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_KINDS, required=False)
    anchor = forms.CharField(
        label=_("Month"), required=False, widget=forms.TextInput(attrs={"type": "month"}),
        help_text=_("Any month in the quarter or fiscal year to show."),
    )  # fmt: skip
    start = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    end = forms.DateField(label=_("To"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    channel = forms.ChoiceField(label=_("Source channel"), required=False,
                                choices=[("", _("All")), *Channel.choices])  # fmt: skip
    industry = forms.ChoiceField(label=_("Industry"), required=False,
                                 choices=[("", _("All")), *Industry.choices])  # fmt: skip
    scheme = forms.ChoiceField(label=_("Scheme"), required=False,
                               choices=[("", _("All")), *Scheme.choices])  # fmt: skip
    amount_band = forms.ChoiceField(
        label=_("Amount band"), required=False,
        choices=[("", _("All")), *((code, label) for code, label, _lo, _hi in AMOUNT_BANDS)],
    )  # fmt: skip
    debtor_rating = forms.ChoiceField(label=_("Debtor rating"), required=False,
                                      choices=[("", _("All")), *Grade.choices])  # fmt: skip
    owner = forms.ModelChoiceField(label=_("Owner"), required=False, queryset=None,
                                   empty_label=_("All"))  # fmt: skip
    department = forms.CharField(label=_("Department"), required=False, max_length=100)
    group_by = forms.ChoiceField(label=_("Group by"), required=False,
                                 choices=[("", _("None")), *GROUP_BY_CHOICES])  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owner_queryset()

    @staticmethod
    def parse_month(value: str) -> date | None:
        """Return the first day of ``YYYY-MM`` (or of a full ISO date), None when invalid."""
        try:
            parts = [int(part) for part in value.strip().split("-")[:2]]
            return date(parts[0], parts[1], 1)
        except (ValueError, IndexError):
            return None

    def clean_anchor(self) -> str:
        value = self.cleaned_data.get("anchor") or ""
        if value and self.parse_month(value) is None:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom" and not (data.get("start") and data.get("end")):
            self.add_error("start", _("A custom range needs a start and an end date."))
        return data

    def _period(self, data: dict, today: date) -> Period:
        kind = data.get("period") or "month"
        anchor = self.parse_month(data.get("anchor") or "") or today
        if kind == "custom" and data.get("start") and data.get("end"):
            return Period.custom(data["start"], data["end"])
        if kind == "quarter":
            return Period.quarter(anchor)
        if kind == "fiscal_year":
            return Period.fiscal_year(anchor)
        return Period.month(anchor)

    def to_filters(self, today: date) -> DashboardFilters:
        """Return the filters the form describes; invalid fields take their default."""
        if self.is_bound:
            self.is_valid()
        data = getattr(self, "cleaned_data", {}) or {}
        owner = data.get("owner")
        return DashboardFilters(
            period=self._period(data, today),
            channel=data.get("channel") or "",
            industry=data.get("industry") or "",
            scheme=data.get("scheme") or "",
            amount_band=data.get("amount_band") or "",
            debtor_rating=data.get("debtor_rating") or "",
            owner_id=owner.pk if owner is not None else None,
            department=(data.get("department") or "").strip(),
            group_by=data.get("group_by") or "",
        )
