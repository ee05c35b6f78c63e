"""与信: advance-rate policy versions, ratings, credit limits and the exposure ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import RateField, YenField
from customers.models import Customer

from .calculations import RatePolicy
from .choices import EntryKind, Grade, LimitKind, LimitStatus, PolicyStatus


class AdvanceRatePolicy(models.Model):
    """One version of the advance-rate table. Active and retired versions never change, so a
    deal's stored policy version always explains the rate it got."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    two_party_min = RateField(_("two-party band: minimum"), default=Decimal("0.7000"))
    two_party_max = RateField(_("two-party band: maximum"), default=Decimal("0.8000"))
    three_party_min = RateField(_("three-party band: minimum"), default=Decimal("0.8000"))
    three_party_max = RateField(_("three-party band: maximum"), default=Decimal("0.9000"))
    two_party_base = RateField(_("two-party base rate"), default=Decimal("0.7000"))
    three_party_base = RateField(_("three-party base rate"), default=Decimal("0.8000"))
    registered_bonus = RateField(_("registration (債権譲渡登記) bonus"), default=Decimal("0.0200"))
    unregistered_two_party_cap = RateField(
        _("cap for two-party without registration"), default=Decimal("0.7200")
    )
    rating_a = RateField(_("debtor rating A"), default=Decimal("0.0300"))
    rating_b = RateField(_("debtor rating B"), default=Decimal("0.0200"))
    rating_c = RateField(_("debtor rating C"), default=Decimal("0.0000"))
    rating_d = RateField(_("debtor rating D"), default=Decimal("-0.0500"))
    rating_e = RateField(_("debtor rating E"), default=Decimal("-0.1000"))
    size_large = RateField(_("client size: large"), default=Decimal("0.0200"))
    size_medium = RateField(_("client size: medium"), default=Decimal("0.0100"))
    size_small = RateField(_("client size: small"), default=Decimal("0.0000"))
    repeat_from = models.PositiveSmallIntegerField(_("repeat client from (deals)"), default=1)
    repeat_bonus = RateField(_("repeat client bonus"), default=Decimal("0.0100"))
    regular_from = models.PositiveSmallIntegerField(_("regular client from (deals)"), default=3)
    regular_bonus = RateField(_("regular client bonus"), default=Decimal("0.0200"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("advance-rate policy")
        verbose_name_plural = _("advance-rate policies")
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="credit_one_active_rate_policy",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.get_status_display()})"

    def as_policy(self) -> RatePolicy:
        """Return this version as the plain table the calculations take."""
        return RatePolicy(
            version=self.version,
            bands={
                "two_party": (self.two_party_min, self.two_party_max),
                "three_party": (self.three_party_min, self.three_party_max),
            },
            base={"two_party": self.two_party_base, "three_party": self.three_party_base},
            registered_bonus=self.registered_bonus,
            unregistered_two_party_cap=self.unregistered_two_party_cap,
            rating={
                "A": self.rating_a,
                "B": self.rating_b,
                "C": self.rating_c,
                "D": self.rating_d,
                "E": self.rating_e,
            },
            size={"large": self.size_large, "medium": self.size_medium, "small": self.size_small},
            prior_deal_tiers=(
                (0, Decimal("0.0000")),
                (self.repeat_from, self.repeat_bonus),
                (self.regular_from, self.regular_bonus),
            ),
        )

    def clean(self) -> None:
        problems = self.as_policy().problems()
        if problems:
            raise ValidationError(
                _("The table breaks the policy: %(problems)s") % {"problems": "; ".join(problems)}
            )


class Rating(models.Model):
    """A counterparty's credit grade at one moment; the newest row is the current grade."""

    counterparty = models.ForeignKey(
        Customer, verbose_name=_("counterparty"), on_delete=models.PROTECT, related_name="ratings"
    )
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    previous_grade = models.CharField(
        _("previous grade"), max_length=1, choices=Grade.choices, blank=True
    )
    internal_score = models.PositiveSmallIntegerField(
        _("internal score"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("0–100 from the internal scoring sheet."),
    )
    agency = models.CharField(_("external agency"), max_length=50, blank=True)
    agency_score = models.PositiveSmallIntegerField(
        _("agency score"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    agency_scored_on = models.DateField(_("agency score date"), null=True, blank=True)
    rationale = models.TextField(_("rationale"))
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rated by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        ordering = ["-rated_at", "-pk"]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        indexes = [models.Index(fields=["counterparty", "-rated_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.counterparty} {self.grade}"

    @property
    def is_downgrade(self) -> bool:
        return bool(self.previous_grade) and self.grade > self.previous_grade


class CreditLimit(models.Model):
    """A ceiling on a counterparty's exposure, proposed by one user and approved by another
    whose authority covers the amount. Kinds: client (what we buy from it), debtor (its
    invoices across every client), group (on a parent: the sum over its group)."""

    counterparty = models.ForeignKey(
        Customer,
        verbose_name=_("counterparty"),
        on_delete=models.PROTECT,
        related_name="credit_limits",
    )
    kind = models.CharField(_("limit kind"), max_length=10, choices=LimitKind.choices)
    amount = YenField(_("limit amount"), validators=[MinValueValidator(0)])
    max_share = RateField(
        _("cap on share of total exposure"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("0.9999"))],
        help_text=_("Optional, e.g. 0.1000 = at most 10 percent of the whole book."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    review_date = models.DateField(_("review date"))
    status = models.CharField(
        _("status"), max_length=10, choices=LimitStatus.choices, default=LimitStatus.PROPOSED
    )
    rationale = models.TextField(_("rationale"))
    recommended_amount = YenField(_("recommended amount"), null=True, blank=True)
    recommended_by_method = models.CharField(_("bound by"), max_length=20, blank=True)
    required_level = models.PositiveSmallIntegerField(_("approver level required"), default=1)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspension_reason = models.CharField(_("suspension reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("credit limit")
        verbose_name_plural = _("credit limits")
        permissions = [
            ("approve_creditlimit", _("Can approve credit limits")),
            ("export_creditsheet", _("Can export the monthly credit management sheet")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["counterparty", "kind"],
                condition=Q(status__in=["active", "suspended"]),
                name="credit_one_live_limit_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="credit_limit_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("proposed_by")),
                name="credit_limit_maker_is_not_checker",
            ),
        ]
        indexes = [models.Index(fields=["status", "review_date"])]

    def __str__(self) -> str:
        return f"{self.counterparty} {self.get_kind_display()} ¥{self.amount:,}"

    def get_absolute_url(self) -> str:
        return reverse("credit:counterparty", args=[self.counterparty_id])


class Exposure(models.Model):
    """A counterparty's running exposure balances, the row every reservation locks.

    The ledger is the record; these balances are kept in step with it inside the same
    transaction under ``SELECT … FOR UPDATE`` so a limit check reads one row, not a million.
    ``client_*`` is exposure on deals where the party sells; ``debtor_*`` on invoices it owes;
    ``group_*`` the sum over the party's descendants' client exposure (for group limits).
    """

    counterparty = models.OneToOneField(
        Customer,
        verbose_name=_("counterparty"),
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="exposure",
    )
    client_reserved = YenField(_("reserved as client"), default=0)
    client_consumed = YenField(_("outstanding as client"), default=0)
    debtor_reserved = YenField(_("reserved as debtor"), default=0)
    debtor_consumed = YenField(_("outstanding as debtor"), default=0)
    group_reserved = YenField(_("reserved in group"), default=0)
    group_consumed = YenField(_("outstanding in group"), default=0)
    worst_delay_days = models.PositiveIntegerField(_("worst current delay (days)"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("exposure")
        verbose_name_plural = _("exposures")
        constraints = [
            models.CheckConstraint(
                condition=Q(client_reserved__gte=0, client_consumed__gte=0, debtor_reserved__gte=0,
                            debtor_consumed__gte=0, group_reserved__gte=0, group_consumed__gte=0),
                name="credit_exposure_never_negative",
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.counterparty_id}: {self.client_total:,}"

    @property
    def client_total(self) -> int:
        return self.client_reserved + self.client_consumed

    @property
    def debtor_total(self) -> int:
        return self.debtor_reserved + self.debtor_consumed

    @property
    def group_total(self) -> int:
        """The group's client exposure, the party's own included."""
        return self.group_reserved + self.group_consumed + self.client_total


class ExposureEntry(models.Model):
    """One append-only movement of exposure: who, when, for which reference, how much.

    ``amount`` is what the user asked for; ``reserved_change`` and ``consumed_change`` are the
    signed effect on the balances, so the balances always equal the sum of the entries.
    """

    counterparty = models.ForeignKey(
        Customer,
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="exposure_entries",
    )
    debtor = models.ForeignKey(
        Customer,
        verbose_name=_("debtor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="debtor_exposure_entries",
    )
    reference = models.CharField(_("reference"), max_length=50, help_text=_("e.g. a deal id"))
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    amount = YenField(_("amount"))
    reserved_change = YenField(_("change in reserved"), default=0)
    consumed_change = YenField(_("change in outstanding"), default=0)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("by (system)"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("exposure entry")
        verbose_name_plural = _("exposure entries")
        indexes = [
            models.Index(fields=["reference", "counterparty"]),
            models.Index(fields=["counterparty", "-created_at"]),
            models.Index(fields=["debtor", "-created_at"]),
            # Concentration sums read only these columns (index-only scans on PostgreSQL).
            models.Index(fields=["debtor", "counterparty"], include=["reserved_change",
                         "consumed_change"], name="credit_entry_by_debtor_cover"),
            models.Index(fields=["counterparty", "debtor"], include=["reserved_change",
                         "consumed_change"], name="credit_entry_by_client_cover"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.reference} {self.kind} {self.amount:,}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Exposure entries are append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Exposure entries are append-only."))

    @property
    def exposure_change(self) -> int:
        return self.reserved_change + self.consumed_change
