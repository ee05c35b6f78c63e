"""Creating and editing customers and the records that hang off them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.audit import audit_log

from ..choices import DOUBLE_CHECKED_ROLES
from ..exceptions import DuplicateCustomerError
from ..models import ContactLog, Customer, CustomerDocument, KeyPerson, TransferName

AUDITED_FIELDS = (
    "kind", "name", "name_kana", "name_en", "corporate_number", "invoice_number", "industry",
    "established", "capital", "employees", "annual_sales", "net_assets", "fiscal_year_end_month",
    "postal_code", "prefecture", "city", "street", "building", "phone", "parent_id",
    "is_client", "is_debtor", "status",
)  # fmt: skip


def _refuse_exact_duplicates(customer: Customer) -> None:
    """Refuse a 法人番号 or インボイス番号 another live record already holds, naming it."""
    for field, label in (
        ("corporate_number", _("corporate number")),
        ("invoice_number", _("invoice registration number")),
    ):
        value = getattr(customer, field)
        if not value:
            continue
        existing = Customer.objects.filter(**{field: value}).exclude(pk=customer.pk).first()
        if existing is not None:
            raise DuplicateCustomerError(
                existing,
                field,
                _("%(label)s %(value)s is already registered to %(name)s.")
                % {"label": label, "value": value, "name": existing.name},
            )


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {field: getattr(customer, field) for field in AUDITED_FIELDS}


def _blank_to_none(customer: Customer) -> None:
    # Unique keys are NULL when absent, so two customers without one never collide.
    customer.corporate_number = customer.corporate_number or None
    customer.invoice_number = customer.invoice_number or None


@transaction.atomic
def customer_create(*, actor: Any, **fields: Any) -> Customer:
    """Register a customer after validation; an exact 法人番号 / インボイス番号 match is refused."""
    transfer_names = fields.pop("transfer_names", None) or []
    customer = Customer(**fields)
    _blank_to_none(customer)
    customer.created_by = actor
    _refuse_exact_duplicates(customer)
    customer.full_clean()
    customer.save()
    for name in transfer_names:
        TransferName.objects.create(customer=customer, name=name)
    audit_log(actor=actor, action="customer.created", subject=customer, data=_snapshot(customer))
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor: Any, **fields: Any) -> Customer:
    """Change a customer's fields; the audit event lists what changed from what to what."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = _snapshot(customer)
    for name, value in fields.items():
        setattr(customer, name, value)
    _blank_to_none(customer)
    _refuse_exact_duplicates(customer)
    customer.full_clean()
    customer.save()
    after = _snapshot(customer)
    changes = {k: [before[k], after[k]] for k in AUDITED_FIELDS if before[k] != after[k]}
    if changes:
        audit_log(actor=actor, action="customer.updated", subject=customer, data=changes)
    return customer


@transaction.atomic
def transfer_name_add(*, customer: Customer, actor: Any, name: str) -> TransferName:
    """Register a name the customer's payments arrive under (振込名義カナ)."""
    transfer = TransferName(customer=customer, name=name.strip())
    transfer.full_clean()
    transfer.save()
    audit_log(
        actor=actor, action="customer.transfer_name_added", subject=customer, data={"name": name}
    )
    return transfer


@transaction.atomic
def person_add(*, customer: Customer, actor: Any, **fields: Any) -> KeyPerson:
    """Add a shareholder or contact; representatives and owners go through person_request."""
    if fields.get("role") in DOUBLE_CHECKED_ROLES:
        raise ValidationError(
            {"role": _("Representatives and beneficial owners need a second person's approval.")}
        )
    person = KeyPerson(customer=customer, **fields)
    person.full_clean()
    person.save()
    audit_log(
        actor=actor,
        action="customer.person_added",
        subject=customer,
        data={"person_id": person.pk, "role": person.role, "name": person.name},
    )
    return person


@transaction.atomic
def contact_log_add(*, customer: Customer, actor: Any, **fields: Any) -> ContactLog:
    """Record one contact with the customer (日時, 手段, 相手, 要点, 合意事項)."""
    entry = ContactLog(customer=customer, recorded_by=actor, **fields)
    entry.full_clean()
    entry.save()
    audit_log(
        actor=actor, action="customer.contact_logged", subject=customer, data={"entry_id": entry.pk}
    )
    return entry


@transaction.atomic
def document_upload(
    *, customer: Customer, actor: Any, doc_type: str, file: UploadedFile, note: str = ""
) -> CustomerDocument:
    """File a document as the next version of its type; earlier versions stay."""
    latest = (
        CustomerDocument.objects.select_for_update()
        .filter(customer=customer, doc_type=doc_type)
        .aggregate(latest=Max("version"))["latest"]
    )
    document = CustomerDocument(
        customer=customer,
        doc_type=doc_type,
        version=(latest or 0) + 1,
        note=note,
        uploaded_by=actor,
    )
    document.file = file
    document.full_clean()
    document.save()
    audit_log(
        actor=actor,
        action="customer.document_uploaded",
        subject=customer,
        data={"document_id": document.pk, "type": doc_type, "version": document.version},
    )
    return document


def document_download(*, document: CustomerDocument, actor: Any) -> CustomerDocument:
    """Log that ``actor`` downloads ``document`` (every download is in the audit trail)."""
    audit_log(
        actor=actor,
        action="customer.document_downloaded",
        subject=document.customer,
        data={"document_id": document.pk, "type": document.doc_type, "version": document.version},
    )
    return document


def personal_data_reveal(*, person: KeyPerson, actor: Any) -> dict[str, Any]:
    """Return a person's unmasked personal data and log that ``actor`` saw it."""
    audit_log(
        actor=actor,
        action="customer.personal_data_viewed",
        subject=person.customer,
        data={"person_id": person.pk, "name": person.name},
    )
    return {
        "date_of_birth": person.date_of_birth,
        "phone": person.phone,
        "email": person.email,
    }
