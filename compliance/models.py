"""KYC, watchlists and screening, and the connection-approval ledger (接続許可).

Records here are never deleted (kept at least 7 years): they are superseded, closed or
expired, and django-simple-history keeps every change.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from customers.models import Customer, KeyPerson

from .choices import (
    ConnectionKind,
    ConnectionMethod,
    ConnectionStatus,
    EntryType,
    HitStatus,
    IdDocumentType,
    KycMethod,
    KycResult,
    RiskRating,
    WatchlistKind,
)


class KycPolicy(models.Model):
    """How long a KYC verification stays valid, by risk rating (editable by admin)."""

    risk = models.CharField(
        _("risk rating"), max_length=10, choices=RiskRating.choices, unique=True
    )
    validity_months = models.PositiveSmallIntegerField(_("valid for (months)"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("KYC policy")
        verbose_name_plural = _("KYC policies")

    def __str__(self) -> str:
        return f"{self.get_risk_display()}: {self.validity_months}"


def kyc_copy_path(instance: KycRecord, filename: str) -> str:
    return f"kyc/{instance.customer_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class KycRecord(models.Model):
    """One verification of a customer (person empty) or of one of its key persons."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="kyc_records")
    person = models.ForeignKey(
        KeyPerson,
        verbose_name=_("key person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="kyc_records",
    )
    method = models.CharField(_("method"), max_length=12, choices=KycMethod.choices)
    document_type = models.CharField(
        _("document checked"), max_length=20, choices=IdDocumentType.choices
    )
    document_number_masked = models.CharField(
        _("document number (masked)"),
        max_length=30,
        blank=True,
        help_text=_("Only the last 4 characters are kept."),
    )
    document_copy = models.FileField(_("copy of the document"), upload_to=kyc_copy_path, blank=True)
    verified_on = models.DateField(_("verified on"))
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    result = models.CharField(_("result"), max_length=10, choices=KycResult.choices)
    risk = models.CharField(_("risk rating"), max_length=10, choices=RiskRating.choices)
    expires_on = models.DateField(_("expires on"), editable=False)
    beneficial_owners_identified = models.BooleanField(
        _("beneficial owners identified"), default=False
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("KYC record")
        verbose_name_plural = _("KYC records")
        ordering = ["-verified_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "person", "-verified_on"]),
            models.Index(fields=["expires_on"]),
        ]

    def __str__(self) -> str:
        subject = self.person.name if self.person_id else self.customer.name
        return f"KYC {subject} {self.verified_on:%Y-%m-%d}"


class Watchlist(models.Model):
    """A list screened against: the internal 反社 list or an external sanctions list."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=WatchlistKind.choices)
    source = models.CharField(_("source"), max_length=200, blank=True)
    is_active = models.BooleanField(_("screened"), default=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("watchlist")
        verbose_name_plural = _("watchlists")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class WatchlistEntry(models.Model):
    """A listed person or entity, with every form of its name the screening compares."""

    watchlist = models.ForeignKey(Watchlist, on_delete=models.PROTECT, related_name="entries")
    reference = models.CharField(_("reference in the list"), max_length=50, blank=True)
    entry_type = models.CharField(_("type"), max_length=10, choices=EntryType.choices)
    name = models.CharField(_("name"), max_length=300)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    name_kana = models.CharField(_("name (kana)"), max_length=300, blank=True)
    name_romaji = models.CharField(_("name (romaji)"), max_length=300, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    nationality = models.CharField(_("nationality"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    listed_on = models.DateField(_("listed on"), null=True, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    is_active = models.BooleanField(_("listed"), default=True)
    # Every comparable form of every name, normalised: filled by the screening engine.
    match_keys = models.JSONField(default=list, editable=False)
    fingerprint = models.CharField(max_length=64, editable=False, db_index=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("watchlist entry")
        verbose_name_plural = _("watchlist entries")
        ordering = ["watchlist", "reference", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "reference"],
                condition=~models.Q(reference=""),
                name="watchlist_entry_reference_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def content_fingerprint(self) -> str:
        """Return a hash of what identifies the entry; a change re-opens remembered false positives."""
        parts = [
            self.name, "|".join(self.aliases or []), self.name_kana, self.name_romaji,
            str(self.date_of_birth or ""), str(self.birth_year or ""), self.nationality, self.address,
        ]  # fmt: skip
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class WatchlistImport(models.Model):
    """One import of a list file: the version it produced and what changed."""

    watchlist = models.ForeignKey(Watchlist, on_delete=models.PROTECT, related_name="imports")
    version = models.PositiveIntegerField(_("version"))
    file_name = models.CharField(_("file"), max_length=255)
    file_hash = models.CharField(max_length=64)
    file_format = models.CharField(_("format"), max_length=30)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    rows_total = models.PositiveIntegerField(default=0)
    rows_added = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_delisted = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("watchlist import")
        verbose_name_plural = _("watchlist imports")
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["watchlist", "version"], name="watchlist_import_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.watchlist} v{self.version}"


class ScreeningRun(models.Model):
    """One screening of a customer and its key persons against every active list."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="screening_runs")
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    run_label = models.CharField(_("run by"), max_length=100, help_text=_("User name or job name."))
    started_at = models.DateTimeField(_("screened at"), default=timezone.now, db_index=True)
    list_versions = models.JSONField(_("list versions"), default=dict)
    subjects = models.PositiveIntegerField(_("names screened"), default=0)
    hits_opened = models.PositiveIntegerField(_("hits opened"), default=0)
    suppressed = models.PositiveIntegerField(_("known false positives skipped"), default=0)

    class Meta:
        verbose_name = _("screening run")
        verbose_name_plural = _("screening runs")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["customer", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.customer} {self.started_at:%Y-%m-%d %H:%M}"


class ScreeningState(models.Model):
    """Where each customer stands: its last screening and the list versions it was run against.

    Kept so the nightly re-screen finds what is due with one set-based query: never
    screened, screened too long ago, or screened before a list was imported.
    """

    customer = models.OneToOneField(
        Customer, on_delete=models.PROTECT, related_name="screening_state"
    )
    last_run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField(db_index=True)
    versions_key = models.CharField(max_length=200, db_index=True)

    class Meta:
        verbose_name = _("screening state")
        verbose_name_plural = _("screening states")

    def __str__(self) -> str:
        return f"{self.customer} {self.screened_at:%Y-%m-%d}"


class ScreeningHit(models.Model):
    """A possible match between a screened name and a list entry, waiting for a decision."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="hits")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="screening_hits")
    person = models.ForeignKey(
        KeyPerson, null=True, blank=True, on_delete=models.PROTECT, related_name="screening_hits"
    )
    subject_name = models.CharField(_("screened name"), max_length=300)
    subject_fingerprint = models.CharField(max_length=64)
    entry = models.ForeignKey(WatchlistEntry, on_delete=models.PROTECT, related_name="hits")
    entry_fingerprint = models.CharField(max_length=64)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=4)
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=15, choices=HitStatus.choices, default=HitStatus.OPEN
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_reason = models.TextField(_("reason"), blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("screening hit")
        verbose_name_plural = _("screening hits")
        ordering = ["status", "-score", "id"]
        indexes = [
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["subject_fingerprint", "entry", "status"]),
        ]
        permissions = [
            ("review_screeninghit", "Can decide whether a screening hit is a true match")
        ]

    def __str__(self) -> str:
        return f"{self.subject_name} ≈ {self.entry.name}"

    @property
    def status_colour(self) -> str:
        return HitStatus(self.status).colour


def validate_networks(value: str) -> None:
    """Each line must be an IP address or a CIDR network."""
    for line in filter(None, (part.strip() for part in value.splitlines())):
        try:
            ipaddress.ip_network(line, strict=False)
        except ValueError:
            raise ValidationError(
                _("%(value)s is not an IP address or network.") % {"value": line}
            ) from None


def validate_credentials_reference(value: str) -> None:
    """Keep secrets out: a reference names a vault entry, it never holds the secret."""
    if value and not value.startswith(("vault:", "secret:", "env:", "kms:")):
        raise ValidationError(
            _("Enter a reference such as vault:path/to/secret, never the secret itself.")
        )


class ConnectionApproval(models.Model):
    """A permitted connection to an external system, with its approval lifecycle (接続許可)."""

    name = models.CharField(_("connection"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=ConnectionKind.choices)
    purpose = models.TextField(_("purpose"))
    data_scope = models.TextField(_("data exchanged"))
    counterparty = models.CharField(_("counterparty"), max_length=150)
    method = models.CharField(_("method"), max_length=20, choices=ConnectionMethod.choices)
    permitted_scopes = models.TextField(_("permitted scopes"), blank=True)
    allowed_ips = models.TextField(
        _("allowed source IPs"),
        blank=True,
        validators=[validate_networks],
        help_text=_("One address or CIDR per line."),
    )
    certificate_subject = models.CharField(_("certificate"), max_length=200, blank=True)
    certificate_expires_on = models.DateField(_("certificate expires on"), null=True, blank=True)
    credentials_ref = models.CharField(
        _("credentials reference"),
        max_length=200,
        blank=True,
        validators=[validate_credentials_reference],
    )
    approval_number = models.CharField(_("approval number"), max_length=50, blank=True)
    status = FSMField(
        _("status"),
        default=ConnectionStatus.APPLIED,
        choices=ConnectionStatus.choices,
        protected=True,
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("connection approval")
        verbose_name_plural = _("connection approvals")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def status_colour(self) -> str:
        return ConnectionStatus(self.status).colour

    # The lifecycle: 申請中 → 技術審査 → 疎通確認 → UAT → 本番許可 → 更新中 → 本番許可; any → 失効.
    @transition(
        field=status, source=ConnectionStatus.APPLIED, target=ConnectionStatus.TECHNICAL_REVIEW
    )
    def start_technical_review(self):
        pass

    @transition(
        field=status, source=ConnectionStatus.TECHNICAL_REVIEW, target=ConnectionStatus.CONNECTIVITY
    )
    def pass_technical_review(self):
        pass

    @transition(field=status, source=ConnectionStatus.CONNECTIVITY, target=ConnectionStatus.UAT)
    def confirm_connectivity(self):
        pass

    @transition(
        field=status,
        source=[ConnectionStatus.UAT, ConnectionStatus.RENEWING],
        target=ConnectionStatus.PRODUCTION,
        conditions=[lambda c: bool(c.approval_number and c.valid_until)],
    )
    def approve_production(self):
        pass

    @transition(field=status, source=ConnectionStatus.PRODUCTION, target=ConnectionStatus.RENEWING)
    def start_renewal(self):
        pass

    @transition(field=status, source="*", target=ConnectionStatus.EXPIRED)
    def expire(self):
        pass


class ConnectionReview(models.Model):
    """One step of a connection's review history: who moved it, from what, to what, why."""

    connection = models.ForeignKey(
        ConnectionApproval, on_delete=models.PROTECT, related_name="reviews"
    )
    from_status = models.CharField(max_length=20, choices=ConnectionStatus.choices)
    to_status = models.CharField(max_length=20, choices=ConnectionStatus.choices)
    comment = models.TextField(_("comment"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("connection review")
        verbose_name_plural = _("connection reviews")
        ordering = ["-reviewed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.connection}: {self.from_status} → {self.to_status}"
