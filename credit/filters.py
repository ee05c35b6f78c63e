"""The credit list's FilterSet: one for the page, the API and the selector."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from customers.filters import CustomerFilter
from customers.models import Customer

from .choices import Grade, Utilization


class CounterpartyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name, kana or number"), method="filter_q")
    party = CustomerFilter.base_filters["party"]
    grade = django_filters.ChoiceFilter(
        choices=Grade.choices, label=_("Rating"), method="filter_grade", empty_label=_("All")
    )
    light = django_filters.ChoiceFilter(
        choices=Utilization.choices,
        label=_("Utilisation"),
        method="filter_light",
        empty_label=_("All"),
    )

    class Meta:
        model = Customer
        fields = ["q", "party", "grade", "light"]

    def filter_q(self, queryset, name, value):
        return CustomerFilter.filter_q(self, queryset, name, value)

    def filter_party(self, queryset, name, value):
        return CustomerFilter.filter_party(self, queryset, name, value)

    def filter_grade(self, queryset, name, value):
        return queryset.filter(grade=value)

    def filter_light(self, queryset, name, value):
        return queryset.filter(light=value)
