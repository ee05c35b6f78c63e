"""Choices of the credit app, with the badge colour the UI shows for each."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Scheme(models.TextChoices):
    TWO_PARTY = "two_party", _("Two-party (2社間)")
    THREE_PARTY = "three_party", _("Three-party (3社間)")


class ClientSize(models.TextChoices):
    LARGE = "large", _("Large / stable")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small / weak")


class Grade(models.TextChoices):
    A = "A", _("A (very stable)")
    B = "B", _("B (stable)")
    C = "C", _("C (caution: small amounts only)")
    D = "D", _("D (no new business)")
    E = "E", _("E (stop)")

    @property
    def colour(self) -> str:
        return {"A": "success", "B": "primary", "C": "warning", "D": "danger", "E": "dark"}[
            self.value
        ]


class LimitKind(models.TextChoices):
    CLIENT = "client", _("Client limit")
    DEBTOR = "debtor", _("Debtor limit")
    GROUP = "group", _("Group limit")


class LimitStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", pgettext_lazy("credit limit", "Active")
    SUSPENDED = "suspended", _("Suspended")
    EXPIRED = "expired", _("Expired")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")

    @property
    def colour(self) -> str:
        return {
            "proposed": "info",
            "active": "success",
            "suspended": "danger",
            "expired": "secondary",
            "rejected": "secondary",
            "superseded": "light",
        }[self.value]


class EntryKind(models.TextChoices):
    RESERVE = "reserve", _("Reserve")
    CONSUME = "consume", _("Consume")
    RELEASE = "release", _("Release")
    ADJUST = "adjust", _("Adjust")


class Utilization(models.TextChoices):
    GREEN = "green", _("Green (under 80%)")
    YELLOW = "yellow", _("Yellow (80–100%)")
    RED = "red", _("Red (over 100%)")

    @property
    def colour(self) -> str:
        return {"green": "success", "yellow": "warning", "red": "danger"}[self.value]


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", pgettext_lazy("rate policy", "Active")
    RETIRED = "retired", _("Retired")


class LimitMethod(models.TextChoices):
    MONTHLY_SALES = "monthly_sales", _("Monthly-sales method")
    RECEIVABLE_BALANCE = "receivable_balance", _("Receivable-balance method")
    NET_ASSETS = "net_assets", _("Net-assets basis")
    ANNUAL_SALES = "annual_sales", _("Annual-sales basis")
    RATING = "rating", _("Rating coefficient")
    SHARE_CAP = "share_cap", _("Share of total exposure")
    LOSS_TOLERANCE = "loss_tolerance", _("Loss-tolerance allocation")
