"""Deal domain errors: views show the Japanese message, the API answers 409 / 400."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import DomainError


class TransitionBlocked(DomainError):
    """The deal cannot move: ``missing`` lists exactly which requirements are not met."""

    default_message = gettext_lazy("The deal cannot move to that stage.")
    status_code = 409

    def __init__(self, missing: list[dict], message=None):
        self.missing = missing
        if message is None and missing:
            message = _("Missing: %(items)s") % {"items": "、".join(m["label"] for m in missing)}
        super().__init__(message)


class DoubleSale(DomainError):
    """The receivable is already sold in another live deal (二重譲渡)."""

    status_code = 409

    def __init__(self, other_deal):
        self.other_deal = other_deal
        super().__init__(
            _("This invoice is already sold in deal %(number)s.") % {"number": other_deal.number}
        )
