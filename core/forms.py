from django import forms
from django.utils.translation import gettext_lazy as _


class ResolveAlertForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
