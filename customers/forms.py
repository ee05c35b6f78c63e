"""Forms of the customer screens; validation lives on the models and in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import AccountType, AccountVerification, DocumentType
from .models import ContactLog, Customer, KeyPerson
from .services.merge import MERGEABLE_FIELDS


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class CustomerForm(forms.ModelForm):
    """Create and edit a customer; the htmx duplicate check listens to the identifying fields."""

    established = forms.DateField(
        label=_("established (year and month)"),
        required=False,
        input_formats=["%Y-%m", "%Y/%m", "%Y-%m-%d"],
        widget=MonthInput(),
    )
    transfer_names = forms.CharField(
        label=_("Transfer names (kana)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, as they appear on bank statements, e.g. カ)ヤマダシヨウジ"),
    )

    class Meta:
        model = Customer
        fields = [
            "kind", "name", "name_kana", "name_en", "corporate_number", "invoice_number",
            "is_client", "is_debtor", "industry", "established", "capital", "employees",
            "annual_sales", "net_assets", "fiscal_year_end_month", "postal_code", "prefecture",
            "city", "street", "building", "phone", "parent", "status",
        ]  # fmt: skip
        widgets = {"parent": forms.NumberInput(attrs={"placeholder": "ID"})}

    WIDE_FIELDS = ("name", "name_kana", "street", "transfer_names")
    SIMILAR_FIELDS = (
        "name",
        "name_kana",
        "corporate_number",
        "invoice_number",
        "phone",
        "prefecture",
        "city",
        "street",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            del self.fields["transfer_names"]
        else:
            del self.fields["status"]
        self.fields["parent"].help_text = _("ID of the parent company in the register, if any.")
        for name in self.SIMILAR_FIELDS:
            self.fields[name].widget.attrs.update(
                {
                    "hx-post": "",  # set in the template to the similar-check URL
                    "hx-trigger": "input changed delay:400ms, change",
                    "hx-target": "#similar-customers",
                    "hx-include": "closest form",
                }
            )

    def validate_unique(self) -> None:
        """Leave uniqueness to the service, which names the existing record and links to it."""

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        names = data.pop("transfer_names", "") or ""
        if self.instance.pk is None:
            data["transfer_names"] = [line.strip() for line in names.splitlines() if line.strip()]
        return data


class PersonForm(forms.ModelForm):
    class Meta:
        model = KeyPerson
        fields = [
            "role",
            "name",
            "name_kana",
            "title",
            "date_of_birth",
            "ownership_pct",
            "department",
            "phone",
            "email",
        ]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}


class BankAccountRequestForm(forms.Form):
    bank_code = forms.RegexField(label=_("bank code"), regex=r"^\d{4}$", max_length=4)
    branch_code = forms.RegexField(label=_("branch code"), regex=r"^\d{3}$", max_length=3)
    account_type = forms.ChoiceField(label=_("account type"), choices=AccountType.choices)
    number = forms.RegexField(
        label=_("account number"),
        regex=r"^\d{7}$",
        max_length=7,
        error_messages={"invalid": _("An account number is 7 digits.")},
    )
    holder_kana = forms.CharField(label=_("account holder (kana)"), max_length=100)
    verification = forms.ChoiceField(label=_("verification"), choices=AccountVerification.choices)


class ContactLogForm(forms.ModelForm):
    class Meta:
        model = ContactLog
        fields = ["occurred_at", "channel", "counterpart", "summary", "agreements"]
        widgets = {
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "summary": forms.Textarea(attrs={"rows": 2}),
            "agreements": forms.Textarea(attrs={"rows": 2}),
        }


class DocumentForm(forms.Form):
    doc_type = forms.ChoiceField(label=_("document type"), choices=DocumentType.choices)
    file = forms.FileField(label=_("file"))
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class TransferNameForm(forms.Form):
    name = forms.CharField(label=_("transfer name (kana)"), max_length=100)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(forms.Form):
    """One choice per field that differs: keep the survivor's value or take the merged one's."""

    def __init__(self, *args, survivor: Customer, merged: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for name in MERGEABLE_FIELDS:
            field = Customer._meta.get_field(name.removesuffix("_id"))
            mine, theirs = getattr(survivor, name), getattr(merged, name)
            if mine == theirs or theirs in (None, ""):
                continue
            self.fields[name] = forms.ChoiceField(
                label=field.verbose_name,
                choices=[("survivor", _("Keep")), ("merged", _("Take"))],
                initial="survivor" if mine not in (None, "") else "merged",
                widget=forms.RadioSelect,
                required=False,  # not chosen means keep the survivor's value
            )
            self.rows.append((self[name], _display(survivor, field), _display(merged, field)))

    def taken_fields(self) -> list[str]:
        return [name for name, choice in self.cleaned_data.items() if choice == "merged"]


def _display(customer: Customer, field) -> str:
    if field.choices:
        return str(getattr(customer, f"get_{field.name}_display")())
    value = getattr(customer, field.name)
    return "" if value is None else str(value)
