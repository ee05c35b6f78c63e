"""FilterSets for the alert inbox and the audit log; shared by the pages, the API and selectors."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import AlertKind, AlertSeverity, AlertStatus
from .models import Alert, AuditEvent


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=AlertStatus.choices, empty_label=_("All")
    )
    severity = django_filters.ChoiceFilter(
        label=_("Severity"), choices=AlertSeverity.choices, empty_label=_("All")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=AlertKind.choices, empty_label=_("All")
    )
    mine = django_filters.BooleanFilter(
        label=_("Assigned to me"), method="filter_mine", widget=forms.CheckboxInput
    )
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")

    class Meta:
        model = Alert
        fields = ["status", "severity", "kind"]

    def filter_mine(self, queryset, name, value):
        if value and self.request is not None:
            return queryset.filter(assignee=self.request.user)
        return queryset

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(message__icontains=value))


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(label=_("Action"), lookup_expr="istartswith")
    actor = django_filters.CharFilter(
        label=_("Actor"), field_name="actor_label", lookup_expr="icontains"
    )
    subject = django_filters.CharFilter(
        label=_("Subject"), field_name="subject_repr", lookup_expr="icontains"
    )
    since = django_filters.DateFilter(
        label=_("From"), field_name="occurred_at", lookup_expr="date__gte"
    )
    until = django_filters.DateFilter(
        label=_("To"), field_name="occurred_at", lookup_expr="date__lte"
    )

    class Meta:
        model = AuditEvent
        fields = ["action"]
