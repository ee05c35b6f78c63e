"""Deal forms. The edit form is built per stage from the requirements table, so a user sees
only the fields the current stage asks for; rules stay in the services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from credit.forms import percent_to_rate
from customers.models import BankAccount, Customer

from .choices import ApprovalException, Decision, Stage, next_stage
from .models import Deal, LostReason, Receivable
from .requirements import fields_for
from .services.records import UPDATABLE

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXTAREA = forms.Textarea(attrs={"rows": 2})
# Always at hand, whatever the stage: the memo and the next action keep a deal from stalling.
ALWAYS = ("next_action", "next_action_owner", "next_action_due", "memo_background",
          "memo_judgement", "memo_next")  # fmt: skip
# Set through their own screens (pricing) or fixed at creation.
NOT_IN_EDIT = {"fee_rate", "advance_rate", "advance_override_reason", "client"}


def _staff():
    return User.objects.filter(is_active=True).order_by("username")


def _style(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.DateInput) and not isinstance(widget, forms.DateTimeInput):
            field.widget = DATE
        elif isinstance(widget, forms.DateTimeInput):
            field.widget = DATETIME
            field.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        elif isinstance(widget, forms.Textarea):
            field.widget = TEXTAREA


class DealCreateForm(forms.ModelForm):
    class Meta:
        model = Deal
        fields = [
            "name", "client", "channel", "referrer_company", "referrer_person", "campaign",
            "scheme", "notice_required", "registration_required", "client_size",
            "expected_payment_date", "next_action", "next_action_owner", "next_action_due",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Customer.objects.filter(
            is_client=True, merged_into__isnull=True
        ).order_by("name_kana", "name")
        self.fields["next_action_owner"].queryset = _staff()
        _style(self)


def stage_fields(deal: Deal) -> list[str]:
    """Return the fields the deal's edit form shows: this stage's and the next stage's needs."""
    names: list[str] = []
    for stage in (deal.stage, next_stage(deal.stage)):
        if stage:
            names.extend(n for n in fields_for(stage, deal) if n not in names)
    names.extend(n for n in ALWAYS if n not in names)
    return [n for n in names if n in UPDATABLE and n not in NOT_IN_EDIT]


class DealStageForm(forms.ModelForm):
    """The fields the deal's current and next stage need, and nothing else."""

    class Meta:
        model = Deal
        fields = list(UPDATABLE - NOT_IN_EDIT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wanted = stage_fields(self.instance)
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        self.order_fields(wanted)
        if "remittance_account" in self.fields:
            self.fields["remittance_account"].queryset = BankAccount.objects.filter(
                customer_id=self.instance.client_id, is_active=True
            )
        if "next_action_owner" in self.fields:
            self.fields["next_action_owner"].queryset = _staff()
        _style(self)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class PriceForm(forms.Form):
    fee_rate = forms.DecimalField(label=_("Fee rate (percent of advance amount)"), min_value=0,
                                  max_value=100, decimal_places=2)  # fmt: skip
    advance_override = forms.DecimalField(
        label=_("Advance rate override (%)"), min_value=0, max_value=100, decimal_places=2,
        required=False, help_text=_("Leave empty to use the policy's rate."),
    )  # fmt: skip
    override_reason = forms.CharField(label=_("Reason for overriding the rate"), required=False,
                                      widget=TEXTAREA)  # fmt: skip

    def rates(self) -> dict:
        return {
            "fee_rate": percent_to_rate(self.cleaned_data["fee_rate"]),
            "advance_override": percent_to_rate(self.cleaned_data.get("advance_override")),
            "override_reason": self.cleaned_data.get("override_reason", ""),
        }


class ReceivableForm(forms.ModelForm):
    class Meta:
        model = Receivable
        fields = ["debtor", "invoice_number", "issue_date", "due_date", "face_amount",
                  "evidence_received", "verification_method", "verification_note"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["debtor"].queryset = Customer.objects.filter(
            is_debtor=True, merged_into__isnull=True
        ).order_by("name_kana", "name")
        _style(self)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Stage.choices, widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Comment"), required=False, widget=TEXTAREA)
    lost_reasons = forms.ModelMultipleChoiceField(
        label=_("Lost reasons (1–3)"), queryset=LostReason.objects.none(), required=False,
        to_field_name="code", widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lost_reasons"].queryset = LostReason.objects.filter(is_active=True)

    def reason_codes(self) -> list[str]:
        return [reason.code for reason in self.cleaned_data.get("lost_reasons") or []]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices,
                                 widget=forms.RadioSelect)  # fmt: skip
    comment = forms.CharField(label=_("Comment / reason"), required=False, widget=TEXTAREA)
    conditions = forms.CharField(label=_("Conditions"), required=False, widget=TEXTAREA)
    send_back_to = forms.ChoiceField(
        label=_("Send back to"), required=False,
        choices=[("", "---------"), (Stage.UNDERWRITING, Stage.UNDERWRITING.label),
                 (Stage.QUOTED, Stage.QUOTED.label)],
    )  # fmt: skip
    exception = forms.ChoiceField(label=_("Recorded exception"), required=False,
                                  choices=ApprovalException.choices)  # fmt: skip
    exception_reason = forms.CharField(label=_("Exception reason"), required=False,
                                       widget=TEXTAREA)  # fmt: skip
    on_behalf_of = forms.ModelChoiceField(
        label=_("On behalf of (proxy)"), required=False,
        queryset=User.objects.filter(approval_level__gt=0, is_active=True).order_by("username"),
    )  # fmt: skip


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name of this filter"), max_length=50)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)


def rate_percent_initial(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else (rate * 100).quantize(Decimal("0.01"))
