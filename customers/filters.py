"""The customer register's FilterSet: one for the list page, the API and the selector."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.text import nfkc

from .choices import PREFECTURE_CHOICES, CustomerStatus, Industry
from .matching import normalize_name
from .models import Customer


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name, kana or number"), method="filter_q")
    party = django_filters.ChoiceFilter(
        label=_("Role"),
        choices=[
            ("client", _("Client")),
            ("debtor", _("Debtor")),
            ("both", _("Client and debtor")),
        ],
        method="filter_party",
        empty_label=_("All"),
    )
    industry = django_filters.ChoiceFilter(
        choices=Industry.choices, label=_("Industry"), empty_label=_("All")
    )
    prefecture = django_filters.ChoiceFilter(
        choices=PREFECTURE_CHOICES, label=_("Prefecture"), empty_label=_("All")
    )
    status = django_filters.ChoiceFilter(
        choices=CustomerStatus.choices,
        label=_("Status"),
        empty_label=_("All but merged"),
        method="filter_status",
    )
    corporate_number = django_filters.CharFilter(label=_("Corporate number"))

    class Meta:
        model = Customer
        fields = ["q", "party", "industry", "prefecture", "status", "corporate_number"]

    def filter_q(self, queryset, name, value):
        """Search through the 名寄せ key, so any spelling of the name finds the customer."""
        key = normalize_name(value)
        digits = "".join(ch for ch in nfkc(value) if ch.isdigit())
        condition = Q()
        if key:
            condition |= Q(name_key__contains=key) | Q(kana_key__contains=key)
        if len(digits) == 13:
            condition |= Q(corporate_number=digits)
        if len(digits) >= 6:
            condition |= Q(phone_key__contains=digits)
        return queryset.filter(condition) if condition else queryset

    def filter_party(self, queryset, name, value):
        return {
            "client": queryset.filter(is_client=True),
            "debtor": queryset.filter(is_debtor=True),
            "both": queryset.filter(is_client=True, is_debtor=True),
        }.get(value, queryset)

    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value)

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.exclude(status=CustomerStatus.MERGED)
        return queryset
