"""The deal list's FilterSet: one for the page, the API, the export and the selector."""

from __future__ import annotations

from datetime import date, timedelta

import django_filters
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.calendar import add_business_days
from credit.choices import Grade, Scheme
from credit.models import Rating
from customers.models import Customer

from .choices import Channel, Stage
from .models import Deal, Receivable

AMOUNT_BANDS = {
    "lt1m": (None, 1_000_000),
    "1m_5m": (1_000_000, 5_000_000),
    "5m_10m": (5_000_000, 10_000_000),
    "gte10m": (10_000_000, None),
}


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
        choices=[("lt1m", _("Under ¥1M")), ("1m_5m", _("¥1M–5M")), ("5m_10m", _("¥5M–10M")),
                 ("gte10m", _("¥10M and more"))],
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
        low, high = AMOUNT_BANDS[value]
        if low is not None:
            queryset = queryset.filter(advance_amount__gte=low)
        if high is not None:
            queryset = queryset.filter(advance_amount__lt=high)
        return queryset

    def filter_debtor_rating(self, queryset, name, value):
        current = Subquery(
            Rating.objects.filter(counterparty=OuterRef("pk")).order_by("-rated_at", "-pk")
            .values("grade")[:1]
        )  # fmt: skip
        graded = Customer.objects.annotate(current=current).filter(current=value).values("pk")
        deals = Receivable.objects.filter(debtor__in=graded).values("deal_id")
        return queryset.filter(pk__in=deals)

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
