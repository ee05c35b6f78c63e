"""Credit forms: the funding calculator, limit proposals, ratings, decisions. Rules live in
the calculations and services; forms only parse what the user typed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

from .choices import ClientSize, Grade, LimitKind, Scheme

PERCENT = Decimal(100)


def _yen(label, *, required=True, initial=None, help_text=""):
    return forms.IntegerField(
        label=label, min_value=0, required=required, initial=initial, help_text=help_text,
        widget=forms.NumberInput(attrs={"step": 1, "inputmode": "numeric"}),
    )  # fmt: skip


def _percent(label, *, required=True, initial=None, help_text=""):
    return forms.DecimalField(
        label=label, min_value=0, max_value=100, decimal_places=2, required=required,
        initial=initial, help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )  # fmt: skip


def percent_to_rate(value: Decimal | None) -> Decimal | None:
    """Return a percentage typed by a user (70 or 70.5) as a 4-place rate (0.7000)."""
    return None if value is None else (value / PERCENT).quantize(Decimal("0.0001"))


class FundingCalculatorForm(forms.Form):
    """The five advance-rate factors plus the fee and itemised other costs of DESIGN §5."""

    face_value = _yen(_("Face value (yen)"), initial=10_000_000)
    scheme = forms.ChoiceField(label=_("Scheme"), choices=Scheme.choices, initial=Scheme.TWO_PARTY)
    registered = forms.BooleanField(label=_("Assignment registered (債権譲渡登記)"), required=False)
    debtor_rating = forms.ChoiceField(label=_("Debtor rating"), choices=Grade.choices, initial="C")
    client_size = forms.ChoiceField(
        label=_("Client size / condition"), choices=ClientSize.choices, initial=ClientSize.SMALL
    )
    prior_deals = forms.IntegerField(
        label=_("Earlier deals with this client"), min_value=0, initial=0
    )
    advance_override = _percent(
        _("Advance rate override (%)"),
        required=False,
        help_text=_("Leave empty to use the policy's rate."),
    )
    fee_rate = _percent(_("Fee rate (percent of advance amount)"), initial=Decimal("10"))
    survey_fee = _yen(_("Survey fee (調査費)"), required=False)
    registration_fee = _yen(_("Registration fee (登記費用)"), required=False)
    scrivener_fee = _yen(_("Judicial scrivener fee (司法書士報酬)"), required=False)
    transfer_fee = _yen(_("Transfer fee (振込手数料)"), required=False)

    COST_FIELDS = ("survey_fee", "registration_fee", "scrivener_fee", "transfer_fee")

    def costs(self) -> list[tuple[str, int]]:
        """Return the itemised other costs that were entered, with their labels."""
        return [
            (str(self.fields[name].label), self.cleaned_data[name])
            for name in self.COST_FIELDS
            if self.cleaned_data.get(name)
        ]


class RecommendationForm(forms.Form):
    """Inputs of the limit methods; each method applies only when its inputs are given."""

    rating = forms.ChoiceField(label=_("Rating"), choices=Grade.choices)
    monthly_sales = _yen(_("Party's monthly sales"), required=False)
    monthly_trade = _yen(_("Expected monthly purchases"), required=False)
    collection_days = forms.IntegerField(
        label=_("Collection days"), min_value=0, max_value=365, required=False
    )
    net_assets = forms.IntegerField(label=_("Net assets"), required=False)
    annual_sales = _yen(_("Annual sales"), required=False)
    max_share = _percent(_("Cap on share of total exposure (%)"), required=False)
    loss_allocation = _yen(
        _("Loss-tolerance allocation"),
        required=False,
        help_text=_("The exposure this party may carry within the company's loss tolerance."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "rec-input"


class LimitProposalForm(forms.Form):
    kind = forms.ChoiceField(label=_("Limit kind"), choices=LimitKind.choices)
    amount = _yen(_("Limit amount (yen)"))
    max_share = _percent(_("Cap on share of total exposure (%)"), required=False)
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    review_date = forms.DateField(
        label=_("Review date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    rationale = forms.CharField(
        label=_("Rationale"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Background, judgement and conditions (背景・判断理由)."),
    )

    def __init__(self, *args, customer: Customer, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = []
        if customer.is_client:
            kinds.append(LimitKind.CLIENT)
        if customer.is_debtor:
            kinds.append(LimitKind.DEBTOR)
        if customer.children.exists():
            kinds.append(LimitKind.GROUP)
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]
        self.fields["valid_from"].initial = today
        self.fields["valid_until"].initial = today.replace(year=today.year + 1)
        self.fields["review_date"].initial = today + timedelta(days=182)

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The validity must end after it starts."))
        return data


class RatingForm(forms.Form):
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)
    internal_score = forms.IntegerField(
        label=_("Internal score (0–100)"), min_value=0, max_value=100, required=False
    )
    agency = forms.CharField(label=_("External agency"), max_length=50, required=False)
    agency_score = forms.IntegerField(
        label=_("Agency score (0–100)"), min_value=0, max_value=100, required=False
    )
    agency_scored_on = forms.DateField(
        label=_("Agency score date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    rationale = forms.CharField(label=_("Rationale"), widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("agency_score") is not None and not data.get("agency"):
            self.add_error("agency", _("Name the agency that gave the score."))
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LimitCheckForm(forms.Form):
    amount = _yen(_("Amount to buy (yen)"))
    debtor = forms.ModelChoiceField(
        label=_("Debtor"), queryset=Customer.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only debtors with a live debtor limit can be bought at all.
        self.fields["debtor"].queryset = (
            Customer.objects.filter(
                is_debtor=True, credit_limits__kind="debtor",
                credit_limits__status__in=["active", "suspended"],
            ).distinct().order_by("name")
        )  # fmt: skip
