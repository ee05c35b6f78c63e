"""Users of the back office. Custom from the first migration so fields can grow safely."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApprovalLevel(models.IntegerChoices):
    """Authority of an approver (決裁権限); the authority matrix maps deals to one of these."""

    NONE = 0, _("No approval authority")
    TEAM_MANAGER = 1, _("Team manager")
    HEAD_OF_CREDIT = 2, _("Head of credit")
    EXECUTIVE = 3, _("Executive")


class User(AbstractUser):
    """A member of staff; roles are Django groups (see accounts.roles)."""

    department = models.CharField(_("department"), max_length=100, blank=True)
    approval_level = models.PositiveSmallIntegerField(
        _("approval authority"), choices=ApprovalLevel.choices, default=ApprovalLevel.NONE
    )
    is_demo = models.BooleanField(
        _("demo user"),
        default=False,
        help_text=_("Demo users cannot log in under production settings."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("view_kpi_dashboard", _("Can view the KPI dashboard"))]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        """Return the name in Japanese order: family name, then given name."""
        return f"{self.last_name} {self.first_name}".strip()

    @property
    def role_codes(self) -> list[str]:
        """Return the codes of the user's roles, in the order of accounts.roles.ROLES."""
        from .roles import role_codes_of

        return role_codes_of(self)
