"""顧客: one record per party (client 利用会社 and/or debtor 売掛先), with its people and accounts."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from stdnum.jp import cn as corporate_number_check

from core.money import YenField
from core.text import nfkc, strip_punctuation

from .choices import (
    PREFECTURE_CHOICES,
    AccountType,
    AccountVerification,
    ChangeKind,
    ChangeStatus,
    ContactChannel,
    CustomerKind,
    CustomerStatus,
    DocumentType,
    Industry,
    PersonRole,
)
from .matching import normalize_name


def validate_corporate_number(value: str) -> None:
    """Refuse anything but 13 digits with a correct 法人番号 check digit."""
    if not re.fullmatch(r"\d{13}", value or ""):
        raise ValidationError(_("A corporate number is 13 digits."), code="format")
    if not corporate_number_check.is_valid(value):
        raise ValidationError(
            _("The check digit of this corporate number is wrong."), code="checksum"
        )


invoice_number_validator = RegexValidator(
    r"^T\d{13}$", _("An invoice registration number is T followed by 13 digits."), code="format"
)
postal_code_validator = RegexValidator(
    r"^\d{3}-?\d{4}$", _("Enter a postal code such as 100-0005.")
)
kana_validator = RegexValidator(
    r"^[\u30A0-\u30FF\uFF65-\uFF9F\s　()（）.・ー\-A-Za-z0-9]*$",
    _("Enter the reading in katakana."),
)


def digits_only(value: str) -> str:
    return re.sub(r"\D", "", nfkc(value or ""))


_KANJI_DIGITS = str.maketrans("〇一二三四五六七八九", "0123456789")
_BLOCK_MARKS = re.compile(r"丁目|番地|番|号")


def address_key(*parts: str) -> str:
    """Return an address folded for comparison: width, kanji digits, 丁目/番地/号, punctuation.

    So 1丁目2番3号, 一丁目2-3 and １－２－３ give the same key.
    """
    folded = nfkc("".join(part or "" for part in parts)).translate(_KANJI_DIGITS)
    return strip_punctuation(_BLOCK_MARKS.sub("-", folded)).upper()


class Customer(models.Model):
    """A party the company deals with: a client selling invoices, a debtor owing them, or both."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.CORPORATION
    )
    name = models.CharField(_("legal name"), max_length=200)
    name_kana = models.CharField(
        _("name (kana)"), max_length=200, blank=True, validators=[kana_validator]
    )
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    corporate_number = models.CharField(
        _("corporate number"),
        max_length=13,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_corporate_number],
    )
    invoice_number = models.CharField(
        _("invoice registration number"),
        max_length=14,
        null=True,
        blank=True,
        unique=True,
        validators=[invoice_number_validator],
    )
    industry = models.CharField(_("industry"), max_length=1, choices=Industry.choices, blank=True)
    established = models.DateField(
        _("established (year and month)"), null=True, blank=True, help_text=_("Day is ignored.")
    )
    capital = YenField(_("capital"), null=True, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_sales = YenField(_("annual sales"), null=True, blank=True)
    net_assets = YenField(_("net assets"), null=True, blank=True)
    fiscal_year_end_month = models.PositiveSmallIntegerField(
        _("fiscal year end (month)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    postal_code = models.CharField(
        _("postal code"), max_length=8, blank=True, validators=[postal_code_validator]
    )
    prefecture = models.CharField(
        _("prefecture"), max_length=4, choices=PREFECTURE_CHOICES, blank=True
    )
    city = models.CharField(_("city"), max_length=100, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    building = models.CharField(_("building"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent company"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_client = models.BooleanField(_("client (利用会社)"), default=False)
    is_debtor = models.BooleanField(_("debtor (売掛先)"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_records",
    )
    # Derived keys for 名寄せ and search, kept in step by save().
    name_key = models.CharField(max_length=200, db_index=True, editable=False)
    kana_key = models.CharField(max_length=200, db_index=True, editable=False, blank=True)
    phone_key = models.CharField(max_length=20, db_index=True, editable=False, blank=True)
    address_key = models.CharField(max_length=300, db_index=True, editable=False, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name_kana", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(corporate_number__isnull=True) | Q(corporate_number__regex=r"^\d{13}$"),
                name="customer_corporate_number_13_digits",
            ),
            models.CheckConstraint(
                condition=~Q(status="merged") | Q(merged_into__isnull=False),
                name="customer_merged_has_survivor",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "is_client", "is_debtor"]),
            # Lists sort by reading (the model's ordering) and page with LIMIT.
            models.Index(fields=["name_kana", "id"], name="customer_by_reading"),
        ]
        permissions = [
            ("view_personal_data", "Can see dates of birth and personal contact data"),
            ("merge_customer", "Can merge duplicate customers"),
            ("approve_change", "Can approve bank account and key person changes"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.refresh_keys()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    def refresh_keys(self) -> None:
        """Recompute the normalised keys used by search and 名寄せ."""
        self.name_key = normalize_name(self.name)
        self.kana_key = normalize_name(self.name_kana)
        self.phone_key = digits_only(self.phone)
        self.address_key = address_key(self.prefecture, self.city, self.street)

    def clean(self) -> None:
        errors = {}
        if self.invoice_number and self.kind == CustomerKind.CORPORATION:
            if not self.corporate_number:
                errors["corporate_number"] = _(
                    "A corporation with an invoice number needs its corporate number."
                )
            elif self.invoice_number != f"T{self.corporate_number}":
                errors["invoice_number"] = _(
                    "For a corporation the invoice number is T followed by its corporate number."
                )
        if self.parent_id and self.pk:
            ancestor, seen = self.parent, set()
            while ancestor is not None and ancestor.pk not in seen:
                if ancestor.pk == self.pk:
                    errors["parent"] = _("This parent would make the group tree a cycle.")
                    break
                seen.add(ancestor.pk)
                ancestor = ancestor.parent
        if self.established:
            self.established = self.established.replace(day=1)
        if errors:
            raise ValidationError(errors)

    @property
    def status_colour(self) -> str:
        return CustomerStatus(self.status).colour

    @property
    def address(self) -> str:
        return " ".join(p for p in (self.prefecture, self.city, self.street, self.building) if p)


class Branch(models.Model):
    """A branch office (支店・営業所) of a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="branches")
    name = models.CharField(_("branch name"), max_length=100)
    postal_code = models.CharField(
        _("postal code"), max_length=8, blank=True, validators=[postal_code_validator]
    )
    prefecture = models.CharField(
        _("prefecture"), max_length=4, choices=PREFECTURE_CHOICES, blank=True
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return self.name


class TransferName(models.Model):
    """A name the customer's payments arrive under (振込名義カナ); matched by 消込."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="transfer_names")
    name = models.CharField(_("transfer name (kana)"), max_length=100)
    key = models.CharField(max_length=100, db_index=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("transfer name")
        verbose_name_plural = _("transfer names")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.key = normalize_name(self.name)
        super().save(*args, **kwargs)


class KeyPerson(models.Model):
    """A representative, beneficial owner, main shareholder or contact of a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="persons")
    role = models.CharField(_("role"), max_length=20, choices=PersonRole.choices)
    name = models.CharField(_("name"), max_length=100)
    name_kana = models.CharField(
        _("name (kana)"), max_length=100, blank=True, validators=[kana_validator]
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    ownership_pct = models.DecimalField(
        _("ownership %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    department = models.CharField(_("department"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("current"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("key person")
        verbose_name_plural = _("key persons")
        ordering = ["role", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class BankAccount(models.Model):
    """A customer's bank account; takes effect only once a second person approved it."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="bank_accounts")
    bank_code = models.CharField(
        _("bank code"), max_length=4, validators=[RegexValidator(r"^\d{4}$")]
    )
    bank_name = models.CharField(_("bank"), max_length=100)
    branch_code = models.CharField(
        _("branch code"), max_length=3, validators=[RegexValidator(r"^\d{3}$")]
    )
    branch_name = models.CharField(_("branch"), max_length=100)
    account_type = models.CharField(_("account type"), max_length=10, choices=AccountType.choices)
    number = models.CharField(
        _("account number"),
        max_length=7,
        validators=[RegexValidator(r"^\d{7}$", _("An account number is 7 digits."))],
    )
    holder_kana = models.CharField(_("account holder (kana)"), max_length=100)
    verification = models.CharField(
        _("verification"),
        max_length=15,
        choices=AccountVerification.choices,
        default=AccountVerification.UNVERIFIED,
    )
    is_active = models.BooleanField(_("in use"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        indexes = [models.Index(fields=["bank_code", "branch_code", "number"])]

    def __str__(self) -> str:
        return (
            f"{self.bank_name} {self.branch_name} {self.get_account_type_display()} {self.number}"
        )


class ChangeRequest(models.Model):
    """A pending add or change of a bank account or key person, waiting for a second person."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="change_requests")
    kind = models.CharField(_("change"), max_length=20, choices=ChangeKind.choices)
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    payload = models.JSONField(_("requested values"))
    status = models.CharField(
        _("status"), max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING
    )
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    made_at = models.DateTimeField(_("requested at"), default=timezone.now)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-made_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checker__isnull=True) | ~Q(checker=models.F("maker")),
                name="change_request_checker_is_not_maker",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.customer}"

    @property
    def status_colour(self) -> str:
        return ChangeStatus(self.status).colour


class ContactLog(models.Model):
    """One contact with the customer: when, how, with whom, what was said and agreed."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contacts")
    occurred_at = models.DateTimeField(_("date and time"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    counterpart = models.CharField(_("with whom"), max_length=100)
    summary = models.TextField(_("points discussed"))
    agreements = models.TextField(_("agreed"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact log entry")
        verbose_name_plural = _("contact log")
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d} {self.counterpart}"


def document_path(instance: CustomerDocument, filename: str) -> str:
    return f"customers/{instance.customer_id}/{instance.doc_type}/v{instance.version}-{filename}"


class CustomerDocument(models.Model):
    """A filed document; a new upload of the same type is a new version, never an overwrite."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="documents")
    doc_type = models.CharField(_("document type"), max_length=20, choices=DocumentType.choices)
    file = models.FileField(_("file"), upload_to=document_path)
    version = models.PositiveIntegerField(_("version"), default=1)
    note = models.CharField(_("note"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["doc_type", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "doc_type", "version"], name="document_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} v{self.version}"


class CustomerMerge(models.Model):
    """A merge of one customer into another, with what moved, so it can be undone."""

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    before = models.JSONField(_("fields before the merge"))
    moved = models.JSONField(_("moved relations"))
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged} → {self.survivor}"


class DuplicateCandidate(models.Model):
    """A pair of customers that may be the same party, found by 名寄せ, waiting for review."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        DISMISSED = "dismissed", _("Not the same party")
        MERGED = "merged", _("Merged")

    first = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=4)
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    found_at = models.DateTimeField(_("found at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=Q(first__lt=models.F("second")), name="duplicate_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first} ≈ {self.second} ({self.score})"
