"""How screens tell the user a service refused: on the form's fields when the error names
them, otherwise as messages at the top of the page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError


def show_error(request, error: Exception, form=None) -> None:
    """Show a service's ``ValidationError`` or ``DomainError`` to the user in Japanese."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict") and form is not None:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    if isinstance(error, ValidationError):
        for message in error.messages:
            messages.error(request, message)
        return
    messages.error(request, str(getattr(error, "message", error)))
