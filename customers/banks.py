"""Bank and branch codes checked and named with zengin-code (全銀協 codes)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from zengin_code import Bank


def bank_name(bank_code: str) -> str:
    """Return the bank's name for a 4-digit code, or raise ValidationError."""
    bank = Bank.all.get(bank_code or "")
    if bank is None:
        raise ValidationError(
            {"bank_code": _("No bank has the code %(code)s.") % {"code": bank_code}}
        )
    return bank.name


def branch_name(bank_code: str, branch_code: str) -> str:
    """Return the branch's name for a bank code and 3-digit branch code, or raise ValidationError."""
    bank = Bank.all.get(bank_code or "")
    if bank is None:
        raise ValidationError(
            {"bank_code": _("No bank has the code %(code)s.") % {"code": bank_code}}
        )
    branch = bank.branches.get(branch_code or "")
    if branch is None:
        raise ValidationError(
            {
                "branch_code": _("%(bank)s has no branch with the code %(code)s.")
                % {"bank": bank.name, "code": branch_code}
            }
        )
    return branch.name
