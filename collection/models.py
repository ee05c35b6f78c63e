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


class CollectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIAL = "partial", _("Partially paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    REPURCHASED = "repurchased", _("Repurchased")
    WRITTEN_OFF = "written_off", _("Written off")


class ExpectedCollection(models.Model):
    """What we expect for one purchased invoice: due date (moved to the next bank business
    day), amount and who pays. ``paid_amount`` and ``status`` are derived from allocations by
    the services and the nightly check — never typed by hand."""

    receivable = models.OneToOneField(
        "deals.Receivable", verbose_name=_("receivable"), on_delete=models.PROTECT,
        primary_key=True, related_name="collection",
    )  # fmt: skip
    deal = models.ForeignKey("deals.Deal", verbose_name=_("deal"), on_delete=models.PROTECT,
                             related_name="collections")  # fmt: skip
    payer = models.ForeignKey("customers.Customer", verbose_name=_("payer"),
                              on_delete=models.PROTECT, related_name="expected_payments")  # fmt: skip
    # The receivable's debtor, kept here so overdue and risk figures group by debtor without
    # joining the (ten times larger) receivables table.
    debtor = models.ForeignKey("customers.Customer", verbose_name=_("debtor"),
                               on_delete=models.PROTECT, related_name="+")  # fmt: skip
    due_date = models.DateField(_("due date (bank business day)"), db_index=True)
    expected_amount = YenField(_("expected amount"))
    paid_amount = YenField(_("paid amount"), default=0)
    fee_amount = YenField(_("bank fees absorbed"), default=0)
    status = models.CharField(_("status"), max_length=12, choices=CollectionStatus.choices,
                              default=CollectionStatus.OPEN, db_index=True)  # fmt: skip
    paid_on = models.DateField(_("paid in full on"), null=True, blank=True)
    exposure_released = models.BooleanField(_("exposure released"), default=False)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("expected collection")
        verbose_name_plural = _("expected collections")
        indexes = [
            models.Index(fields=["payer", "status"]),
            models.Index(fields=["debtor", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.receivable_id} {self.due_date} ¥{self.expected_amount:,}"

    @property
    def outstanding(self) -> int:
        return max(self.expected_amount - self.paid_amount - self.fee_amount, 0)


class Allocation(models.Model):
    """Part of a bank entry applied to one expected collection (消込). Reversed, never deleted."""

    entry = models.ForeignKey(BankEntry, verbose_name=_("bank entry"), on_delete=models.PROTECT,
                              related_name="allocations")  # fmt: skip
    expected = models.ForeignKey(ExpectedCollection, verbose_name=_("expected collection"),
                                 on_delete=models.PROTECT, related_name="allocations")  # fmt: skip
    amount = YenField(_("amount applied"))
    fee = YenField(_("bank fee booked"), default=0)
    confidence = models.DecimalField(_("confidence"), max_digits=4, decimal_places=3, default=1)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    automatic = models.BooleanField(_("matched automatically"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")  # fmt: skip
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reversed by"),
                                    on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")  # fmt: skip
    reversal_reason = models.CharField(_("reversal reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        indexes = [models.Index(fields=["expected", "reversed_at"]),
                   models.Index(fields=["entry", "reversed_at"])]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.entry_id} → {self.expected_id} ¥{self.amount:,}"


class RepurchaseStatus(models.TextChoices):
    OPEN = "open", _("Requested")
    SETTLED = "settled", _("Settled")
    WAIVED = "waived", _("Waived")


class RepurchaseRequest(models.Model):
    """買戻し: the client buys back an invoice overdue past the deal's repurchase trigger."""

    expected = models.OneToOneField(ExpectedCollection, verbose_name=_("expected collection"),
                                    on_delete=models.PROTECT, related_name="repurchase")  # fmt: skip
    client = models.ForeignKey("customers.Customer", verbose_name=_("client"),
                               on_delete=models.PROTECT, related_name="repurchases")  # fmt: skip
    amount = YenField(_("amount due from the client"))
    status = models.CharField(_("status"), max_length=10, choices=RepurchaseStatus.choices,
                              default=RepurchaseStatus.OPEN)  # fmt: skip
    opened_on = models.DateField(_("opened on"))
    days_overdue = models.PositiveIntegerField(_("days overdue when opened"))
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-opened_on", "-pk"]
        verbose_name = _("repurchase request")
        verbose_name_plural = _("repurchase requests")

    def __str__(self) -> str:
        return f"{self.expected_id} ¥{self.amount:,}"


class ReserveSettlement(models.Model):
    """返還額: what is returned to the client once every invoice of a deal is collected."""

    deal = models.OneToOneField("deals.Deal", verbose_name=_("deal"), on_delete=models.PROTECT,
                                related_name="reserve_settlement")  # fmt: skip
    amount = YenField(_("amount to return"))
    computed_on = models.DateField(_("computed on"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("paid by"),
                                on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")  # fmt: skip

    class Meta:
        ordering = ["paid_on", "-computed_on"]
        verbose_name = _("reserve settlement")
        verbose_name_plural = _("reserve settlements")

    def __str__(self) -> str:
        return f"{self.deal_id} ¥{self.amount:,}"


class DunningMethod(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")


class DunningLog(models.Model):
    """督促履歴: one contact about an overdue invoice, with any promise to pay."""

    expected = models.ForeignKey(ExpectedCollection, verbose_name=_("expected collection"),
                                 on_delete=models.PROTECT, related_name="dunning")  # fmt: skip
    contacted_on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=10, choices=DunningMethod.choices)
    person = models.CharField(_("person contacted"), max_length=100)
    agreed = models.TextField(_("what was agreed"), blank=True)
    promise_date = models.DateField(_("promised payment date"), null=True, blank=True)
    promise_amount = YenField(_("promised amount"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")  # fmt: skip
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-contacted_on", "-pk"]
        verbose_name = _("dunning entry")
        verbose_name_plural = _("dunning log")

    def __str__(self) -> str:
        return f"{self.expected_id} {self.contacted_on} {self.method}"


class CsvMapping(models.Model):
    """How one bank account's CSV statement is laid out (saved once, used for every file).

    Columns are 1-based. Deposits and withdrawals come either in one signed amount column or
    in two columns (``withdrawal_column``), as Japanese internet banking exports differ.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    bank_code = models.CharField(_("bank code"), max_length=4)
    branch_code = models.CharField(_("branch code"), max_length=3)
    account_number = models.CharField(_("account number"), max_length=10)
    encoding = models.CharField(_("encoding"), max_length=10, default="cp932",
                                choices=[("cp932", "Shift_JIS"), ("utf-8-sig", "UTF-8")])  # fmt: skip
    header_rows = models.PositiveSmallIntegerField(_("header rows to skip"), default=1)
    date_column = models.PositiveSmallIntegerField(_("date column"))
    date_format = models.CharField(_("date format"), max_length=20, default="%Y/%m/%d",
                                   help_text=_("Python strftime codes, e.g. %Y/%m/%d."))  # fmt: skip
    amount_column = models.PositiveSmallIntegerField(_("deposit (or signed amount) column"))
    withdrawal_column = models.PositiveSmallIntegerField(_("withdrawal column"), null=True,
                                                         blank=True)  # fmt: skip
    payer_column = models.PositiveSmallIntegerField(_("payer name column"))
    description_column = models.PositiveSmallIntegerField(_("description column"), null=True,
                                                          blank=True)  # fmt: skip

    class Meta:
        ordering = ["name"]
        verbose_name = _("bank CSV layout")
        verbose_name_plural = _("bank CSV layouts")

    def __str__(self) -> str:
        return self.name
