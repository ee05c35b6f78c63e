"""回収: imported bank statements and their entries (the first part of the collection app;
reconciliation, overdue and dunning build on these)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import YenField


class EntryStatus(models.TextChoices):
    UNMATCHED = "unmatched", _("Not yet matched")
    MATCHED = "matched", _("Matched")
    SUSPENSE = "suspense", _("Suspense (unidentified)")
    IGNORED = "ignored", _("Not a collection (withdrawal or cancelled)")


class StatementImport(models.Model):
    """One imported statement file; the same file (by hash) is never imported twice."""

    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("file hash"), max_length=64, unique=True)
    format = models.CharField(_("format"), max_length=30)
    bank_code = models.CharField(_("bank code"), max_length=4)
    branch_code = models.CharField(_("branch code"), max_length=3)
    account_number = models.CharField(_("account number"), max_length=10)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    entries_in_file = models.PositiveIntegerField(_("entries in the file"), default=0)
    entries_added = models.PositiveIntegerField(_("entries added"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    actor_label = models.CharField(_("imported by (system)"), max_length=100, blank=True)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("statement import")
        verbose_name_plural = _("statement imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.period_start}–{self.period_end})"


class BankEntry(models.Model):
    """One deposit or withdrawal from a statement, kept once however often it is imported."""

    statement = models.ForeignKey(StatementImport, verbose_name=_("statement"),
                                  on_delete=models.PROTECT, related_name="entries")  # fmt: skip
    fingerprint = models.CharField(_("fingerprint"), max_length=64, unique=True)
    record_number = models.PositiveIntegerField(_("record number"))
    bank_code = models.CharField(_("bank code"), max_length=4)
    branch_code = models.CharField(_("branch code"), max_length=3)
    account_number = models.CharField(_("account number"), max_length=10)
    value_date = models.DateField(_("value date"), db_index=True)
    booking_date = models.DateField(_("booking date"))
    amount = YenField(_("amount"))
    direction = models.CharField(_("direction"), max_length=3)
    payer_name = models.CharField(_("payer name"), max_length=100)
    raw_payer_name = models.CharField(_("payer name as written"), max_length=100)
    payer_code = models.CharField(_("remitter code"), max_length=10, blank=True)
    remitting_bank = models.CharField(_("remitting bank"), max_length=50, blank=True)
    description = models.CharField(_("description"), max_length=50, blank=True)
    edi_info = models.CharField(_("EDI information"), max_length=50, blank=True)
    cancelled = models.BooleanField(_("cancellation notice"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=EntryStatus.choices,
                              default=EntryStatus.UNMATCHED, db_index=True)  # fmt: skip

    class Meta:
        ordering = ["-value_date", "-pk"]
        verbose_name = _("bank entry")
        verbose_name_plural = _("bank entries")

    def __str__(self) -> str:
        return f"{self.value_date} {self.payer_name} ¥{self.amount:,}"
