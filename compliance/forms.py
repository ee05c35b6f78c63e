"""Compliance forms; rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import KeyPerson

from .choices import HitStatus, IdDocumentType, KycMethod, KycResult, RiskRating
from .models import ConnectionApproval


class KycForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("key person"), queryset=KeyPerson.objects.none(), required=False,
        help_text=_("Leave empty for the company itself."),
    )  # fmt: skip
    method = forms.ChoiceField(label=_("method"), choices=KycMethod.choices)
    document_type = forms.ChoiceField(label=_("document checked"), choices=IdDocumentType.choices)
    document_number = forms.CharField(
        label=_("document number"),
        max_length=40,
        required=False,
        help_text=_("Only the last 4 characters are kept."),
    )
    document_copy = forms.FileField(label=_("copy of the document"), required=False)
    verified_on = forms.DateField(
        label=_("verified on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    result = forms.ChoiceField(label=_("result"), choices=KycResult.choices)
    risk = forms.ChoiceField(
        label=_("risk rating"), choices=RiskRating.choices, initial=RiskRating.NORMAL
    )
    beneficial_owners_identified = forms.BooleanField(
        label=_("beneficial owners identified"), required=False
    )
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = KeyPerson.objects.filter(customer=customer, is_active=True)


class HitReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (HitStatus.FALSE_POSITIVE, _("False positive")),
            (HitStatus.TRUE_MATCH, _("True match")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.CharField(
        label=_("evidence"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What was checked: registry, date of birth, address, police enquiry …"),
    )  # fmt: skip


class ConnectionForm(forms.ModelForm):
    class Meta:
        model = ConnectionApproval
        fields = [
            "name", "kind", "counterparty", "method", "purpose", "data_scope", "permitted_scopes",
            "allowed_ips", "certificate_subject", "certificate_expires_on", "credentials_ref",
            "approval_number", "valid_until", "responsible",
        ]  # fmt: skip
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 2}),
            "data_scope": forms.Textarea(attrs={"rows": 2}),
            "permitted_scopes": forms.Textarea(attrs={"rows": 2}),
            "allowed_ips": forms.Textarea(attrs={"rows": 2}),
            "certificate_expires_on": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
        }


class TransitionForm(forms.Form):
    transition = forms.CharField()
    comment = forms.CharField(required=False)
