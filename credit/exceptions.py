"""Credit's domain errors: views show their Japanese message, the API answers 409/400."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError, InvalidStateError


class LimitExceeded(DomainError):
    """The amount does not fit under every limit it touches; ``check`` says which and why."""

    default_message = _("The amount exceeds a credit limit.")
    status_code = 409

    def __init__(self, check: Any, message=None):
        self.check = check
        if message is None:
            reasons = [line.reason for line in check.lines if line.reason]
            message = "; ".join(str(reason) for reason in reasons) or self.default_message
        super().__init__(message)


class NothingToRelease(InvalidStateError):
    default_message = _("Nothing is outstanding under this reference.")
