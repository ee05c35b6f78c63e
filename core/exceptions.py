"""Domain errors of the shared kernel; views turn them into messages, the API into 4xx."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base for errors a user can fix; ``message`` is shown to them in Japanese."""

    default_message = _("The operation could not be completed.")
    status_code = 400

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class PermissionDeniedError(DomainError):
    default_message = _("You do not have permission to do this.")
    status_code = 403


class InvalidStateError(DomainError):
    default_message = _("This record is not in a state that allows this.")
    status_code = 409
