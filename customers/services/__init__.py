"""Writes of the customer register; each in one transaction with its audit event."""

from .candidates import candidate_dismiss
from .changes import (
    bank_account_request,
    change_request_approve,
    change_request_reject,
    person_request,
)
from .merge import customer_merge, customer_merge_undo
from .records import (
    contact_log_add,
    customer_create,
    customer_update,
    document_download,
    document_upload,
    person_add,
    personal_data_reveal,
    transfer_name_add,
)

__all__ = [
    "bank_account_request",
    "candidate_dismiss",
    "change_request_approve",
    "change_request_reject",
    "contact_log_add",
    "customer_create",
    "customer_merge",
    "customer_merge_undo",
    "customer_update",
    "document_download",
    "document_upload",
    "person_add",
    "person_request",
    "personal_data_reveal",
    "transfer_name_add",
]
