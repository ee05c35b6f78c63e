"""The deal list's FilterSet: one for the page, the API, the export and the selector."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.calendar import add_business_days
from credit.choices import Grade, Scheme
from credit.selectors import grade_subquery
from customers.models import Customer

from .choices import Channel, Stage
from .models import Deal, Receivable

#: Amount bands on the advance amount: (code, label, low inclusive, high exclusive). The
#: dashboard cuts by the same bands, so its drill-downs can be reproduced here.
AMOUNT_BANDS: tuple[tuple[str, Any, int | None, int | None], ...] = (
    ("lt1m", _("Under ¥1M"), None, 1_000_000),
    ("1m_5m", _("¥1M–5M"), 1_000_000, 5_000_000),
    ("5m_10m", _("¥5M–10M"), 5_000_000, 10_000_000),
    ("gte10m", _("¥10M and more"), 10_000_000, None),
)


def amount_band_q(code: str, field: str = "advance_amount") -> Q:
    """Return the condition for deals in amount band ``code`` (``field`` may reach the
    advance amount from another model); no deal for an unknown code."""
    for band, _label, low, high in AMOUNT_BANDS:
        if band == code:
            q = Q()
            if low is not None:
                q &= Q(**{f"{field}__gte": low})
            if high is not None:
                q &= Q(**{f"{field}__lt": high})
            return q
    return Q(pk__in=[])


def debtor_rating_deals(grade: str) -> QuerySet:
    """Return the ids of deals with a receivable owed by a debtor currently rated ``grade``."""
    graded = Customer.objects.annotate(current=grade_subquery("pk")).filter(current=grade)
    return Receivable.objects.filter(debtor__in=graded.values("pk")).values("deal_id")


class DealFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Deal id, name or client"), method="filter_q")
    # One stage per deal row: no DISTINCT needed (it would sort every column).
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, label=_("Stage"),
                                                distinct=False)  # fmt: skip
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True).order_by("username"), label=_("Owner"),
        empty_label=_("All"),
    )  # fmt: skip
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Source channel"),
                                          empty_label=_("All"))  # fmt: skip
    scheme = django_filters.ChoiceFilter(choices=Scheme.choices, label=_("Scheme"),
                                         empty_label=_("All"))  # fmt: skip
    amount = django_filters.ChoiceFilter(
        label=_("Amount band"), method="filter_amount", empty_label=_("All"),
        choices=[(code, label) for code, label, _low, _high in AMOUNT_BANDS],
    )  # fmt: skip
    debtor_rating = django_filters.ChoiceFilter(
        choices=Grade.choices, label=_("Debtor rating"), method="filter_debtor_rating",
        empty_label=_("All"),
    )  # fmt: skip
    stalled_days = django_filters.NumberFilter(
        label=_("Stalled for at least (business days)"), method="filter_stalled", min_value=1
    )
    execution_month = django_filters.CharFilter(
        label=_("Expected execution month"), method="filter_month",
        widget=django_filters.widgets.forms.DateInput(attrs={"type": "month"}),
    )  # fmt: skip

    class Meta:
        model = Deal
        fields = ["q", "stage", "owner", "channel", "scheme", "amount", "debtor_rating",
                  "stalled_days", "execution_month"]  # fmt: skip

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__startswith=value)
            | Q(name__icontains=value)
            | Q(client__name__icontains=value)
        )

    def filter_amount(self, queryset, name, value):
        return queryset.filter(amount_band_q(value))

    def filter_debtor_rating(self, queryset, name, value):
        return queryset.filter(pk__in=debtor_rating_deals(value))

    def filter_stalled(self, queryset, name, value):
        # Count back from tomorrow so that today counts only when banks are open (as in
        # selectors.stalled_days): on a Saturday, a deal from Friday has waited no day yet.
        cutoff = add_business_days(timezone.localdate() + timedelta(days=1), -int(value))
        return queryset.filter(stage__in=OPEN_FOR_STALL, stage_entered_at__date__lt=cutoff)

    def filter_month(self, queryset, name, value):
        try:
            year, month = (int(part) for part in value.split("-")[:2])
            start = date(year, month, 1)
        except ValueError:
            return queryset.none()
        end = date(year + (month == 12), month % 12 + 1, 1)
        return queryset.filter(expected_payment_date__gte=start, expected_payment_date__lt=end)


OPEN_FOR_STALL = [s.value for s in Stage if s not in (Stage.CLOSED, Stage.LOST, Stage.CANCELLED)]
