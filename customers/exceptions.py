"""Domain errors of the customer register."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError, InvalidStateError, PermissionDeniedError


class DuplicateCustomerError(DomainError):
    """The same 法人番号 or インボイス番号 is already registered: refuse, and point at it."""

    status_code = 409
    default_message = _("This customer is already registered.")

    def __init__(self, existing, field: str, message=None):
        self.existing = existing
        self.field = field
        super().__init__(message)


class MakerCheckerError(PermissionDeniedError):
    default_message = _("The person who requested a change cannot approve it.")


class MergeError(InvalidStateError):
    default_message = _("These customers cannot be merged.")
