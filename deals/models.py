"""案件: deals with their purchased receivables, stage history, approvals (稟議), the
authority matrix, lost reasons, stall thresholds and saved list filters."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.money import RateField, YenField
from credit.choices import ClientSize, Scheme
from customers.models import BankAccount, Customer

from .choices import (
    OPEN_STAGES,
    ApprovalException,
    ApprovalStatus,
    Channel,
    Decision,
    NoticeMethod,
    RiskTier,
    Stage,
    VerificationMethod,
)
from .milestones import business_days_in_stage

_USER = settings.AUTH_USER_MODEL


class DealSequence(models.Model):
    """The last deal number issued per year; incremented under a row lock (gap-free)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("deal number sequence")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class LostReason(models.Model):
    """The managed list of 失注理由 codes (価格, スピード, 他社採用, …)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=50)
    is_active = models.BooleanField(_("in use"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")

    def __str__(self) -> str:
        return self.label


class Deal(FSMModelMixin, models.Model):
    """One factoring deal (案件) from lead to closing. Stage changes only via services."""

    number = models.CharField(_("deal id"), max_length=12, unique=True, editable=False)
    name = models.CharField(_("deal name"), max_length=200)
    owner = models.ForeignKey(_USER, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="owned_deals")  # fmt: skip
    department = models.CharField(_("department"), max_length=100, blank=True)
    channel = models.CharField(_("source channel"), max_length=10, choices=Channel.choices)
    referrer_company = models.CharField(_("referrer company"), max_length=200, blank=True)
    referrer_person = models.CharField(_("referrer person"), max_length=100, blank=True)
    campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    client = models.ForeignKey(Customer, verbose_name=_("client"), on_delete=models.PROTECT,
                               related_name="deals")  # fmt: skip
    scheme = models.CharField(_("scheme"), max_length=12, choices=Scheme.choices)
    notice_required = models.BooleanField(_("notice to debtor required"), default=False)
    registration_required = models.BooleanField(_("registration (債権譲渡登記) required"),
                                                default=False)  # fmt: skip
    repurchase_trigger_days = models.PositiveSmallIntegerField(
        _("repurchase after days overdue"), default=30
    )
    client_size = models.CharField(_("client size / condition"), max_length=10,
                                   choices=ClientSize.choices, default=ClientSize.MEDIUM)  # fmt: skip
    # Pricing: the rate comes from credit's policy (version kept) unless overridden with reason.
    fee_rate = RateField(_("fee rate"), null=True, blank=True,
                         validators=[MinValueValidator(0), MaxValueValidator(1)])  # fmt: skip
    advance_rate = RateField(_("advance rate"), null=True, blank=True,
                             validators=[MinValueValidator(0), MaxValueValidator(1)])  # fmt: skip
    policy_rate = RateField(_("policy advance rate"), null=True, blank=True)
    policy_version = models.PositiveIntegerField(_("advance-rate policy version"), null=True,
                                                 blank=True)  # fmt: skip
    advance_override_reason = models.CharField(_("reason for overriding the rate"),
                                               max_length=300, blank=True)  # fmt: skip
    survey_fee = YenField(_("survey fee (調査費)"), default=0, validators=[MinValueValidator(0)])
    registration_fee = YenField(_("registration fee (登記費用)"), default=0,
                                validators=[MinValueValidator(0)])  # fmt: skip
    scrivener_fee = YenField(_("judicial scrivener fee (司法書士報酬)"), default=0,
                             validators=[MinValueValidator(0)])  # fmt: skip
    transfer_fee = YenField(_("transfer fee (振込手数料)"), default=0,
                            validators=[MinValueValidator(0)])  # fmt: skip
    # Computed by credit.calculations.funding_breakdown whenever pricing or receivables change.
    face_value = YenField(_("face value"), default=0, editable=False)
    advance_amount = YenField(_("advance amount"), default=0, editable=False)
    fee = YenField(_("fee"), default=0, editable=False)
    upfront_payment = YenField(_("upfront payment"), default=0, editable=False)
    reserve = YenField(_("reserve"), default=0, editable=False)
    expected_payment_date = models.DateField(_("expected payment date"), null=True, blank=True)
    expected_collection_date = models.DateField(_("expected collection date"), null=True,
                                                blank=True)  # fmt: skip
    # Evidence snapshots, traceable by deal id.
    credit_result = models.JSONField(_("credit result"), default=dict, blank=True, editable=False)
    credit_checked_at = models.DateTimeField(_("credit checked at"), null=True, blank=True,
                                             editable=False)  # fmt: skip
    clearance_snapshot = models.JSONField(_("clearance snapshot"), default=dict, blank=True,
                                          editable=False)  # fmt: skip
    clearance_checked_at = models.DateTimeField(_("clearance checked at"), null=True,
                                                blank=True, editable=False)  # fmt: skip
    term_sheet_date = models.DateField(_("term sheet date"), null=True, blank=True)
    contract_date = models.DateField(_("contract date"), null=True, blank=True)
    e_contract_id = models.CharField(_("e-contract id"), max_length=100, blank=True)
    send_back_reasons = models.TextField(_("send-back reasons"), blank=True, editable=False)
    registration_applied_on = models.DateField(_("registration applied on"), null=True,
                                               blank=True)  # fmt: skip
    registration_completed_at = models.DateTimeField(_("registration completed at"), null=True,
                                                     blank=True)  # fmt: skip
    registration_number = models.CharField(_("registration number"), max_length=50, blank=True)
    registration_expires_on = models.DateField(_("registration expires on"), null=True,
                                               blank=True)  # fmt: skip
    notice_date = models.DateField(_("notice / consent date"), null=True, blank=True)
    notice_method = models.CharField(_("certified-date method"), max_length=20,
                                     choices=NoticeMethod.choices, blank=True)  # fmt: skip
    notice_reference = models.CharField(_("certified-date reference"), max_length=100,
                                        blank=True)  # fmt: skip
    consent_signatory = models.CharField(_("consent signed by"), max_length=100, blank=True)
    defences_waived = models.BooleanField(_("waiver of defences (異議なき承諾)"), default=False)
    anti_assignment_noted = models.BooleanField(_("anti-assignment clause noted"), default=False)
    executed_on = models.DateField(_("execution date"), null=True, blank=True)
    remittance_account = models.ForeignKey(
        BankAccount, verbose_name=_("remittance account"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    executed_amount = YenField(_("executed amount"), null=True, blank=True,
                               validators=[MinValueValidator(0)])  # fmt: skip
    lost_reasons = models.ManyToManyField(LostReason, verbose_name=_("lost reasons"),
                                          blank=True, related_name="+")  # fmt: skip
    lost_note = models.TextField(_("lost: details"), blank=True)
    memo_background = models.TextField(_("background (背景)"), blank=True)
    memo_judgement = models.TextField(_("judgement (判断理由)"), blank=True)
    memo_next = models.TextField(_("next steps (次アクション)"), blank=True)
    next_action = models.CharField(_("next action"), max_length=200, blank=True)
    next_action_owner = models.ForeignKey(
        _USER, verbose_name=_("next action owner"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="deal_actions",
    )  # fmt: skip
    next_action_due = models.DateField(_("next action due"), null=True, blank=True)
    stage = FSMField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.LEAD,
                     protected=True)  # fmt: skip
    stage_entered_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    created_by = models.ForeignKey(_USER, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")  # fmt: skip
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Milestones read off the stage log, kept on the deal so the dashboard's period figures
    # read one row per deal instead of searching the log (see deals.milestones).
    first_quoted_at = models.DateTimeField(_("first quoted at"), null=True, blank=True,
                                           editable=False)  # fmt: skip
    furthest_stage = models.PositiveSmallIntegerField(
        _("furthest stage reached"), default=0, editable=False,
        help_text=_("Position in the pipeline of the furthest stage the deal has reached."),
    )  # fmt: skip

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        permissions = [
            ("transition_deal", _("Can move deals through the pipeline")),
            ("override_advance_rate", _("Can override the advance rate")),
            ("decide_approval", _("Can decide approval requests (稟議)")),
            ("export_deal", _("Can export the deal register")),
        ]
        indexes = [
            # Covering: the dashboard's snapshot by stage reads the index alone.
            models.Index(
                fields=["stage", "stage_entered_at"],
                include=["face_value", "id"],
                name="deals_deal_stage_cover_idx",
            ),
            models.Index(fields=["owner", "stage"]),
            models.Index(fields=["expected_payment_date"]),
            models.Index(fields=["executed_on"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["first_quoted_at"]),
            models.Index(fields=["next_action_owner", "next_action_due"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("deals:detail", args=[self.number])

    @property
    def other_costs(self) -> int:
        return self.survey_fee + self.registration_fee + self.scrivener_fee + self.transfer_fee

    @property
    def total_to_client(self) -> int:
        return self.upfront_payment + self.reserve

    # The pipeline (DESIGN §5). Conditions and gates run in deals.services before these.
    @transition(field=stage, source=Stage.LEAD, target=Stage.DOCUMENTS)
    def to_documents(self) -> None: ...

    @transition(field=stage, source=Stage.DOCUMENTS, target=Stage.SCREENING)
    def to_screening(self) -> None: ...

    @transition(field=stage, source=Stage.SCREENING, target=Stage.UNDERWRITING)
    def to_underwriting(self) -> None: ...

    @transition(field=stage, source=Stage.UNDERWRITING, target=Stage.QUOTED)
    def to_quoted(self) -> None: ...

    @transition(field=stage, source=Stage.QUOTED, target=Stage.APPROVAL)
    def to_approval(self) -> None: ...

    @transition(field=stage, source=Stage.APPROVAL, target=Stage.CONTRACTED)
    def to_contracted(self) -> None: ...

    @transition(field=stage, source=Stage.CONTRACTED, target=Stage.EXECUTED)
    def to_executed(self) -> None: ...

    @transition(field=stage, source=Stage.EXECUTED, target=Stage.COLLECTING)
    def to_collecting(self) -> None: ...

    @transition(field=stage, source=Stage.COLLECTING, target=Stage.CLOSED)
    def to_closed(self) -> None: ...

    @transition(field=stage, source=Stage.APPROVAL, target=Stage.UNDERWRITING)
    def send_back_to_underwriting(self) -> None: ...

    @transition(field=stage, source=Stage.APPROVAL, target=Stage.QUOTED)
    def send_back_to_quoted(self) -> None: ...

    @transition(field=stage, source=list(OPEN_STAGES), target=Stage.LOST)
    def to_lost(self) -> None: ...

    @transition(field=stage, source=list(OPEN_STAGES), target=Stage.CANCELLED)
    def to_cancelled(self) -> None: ...


class Receivable(models.Model):
    """One purchased invoice (対象債権) of a deal."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.PROTECT,
                             related_name="receivables")  # fmt: skip
    debtor = models.ForeignKey(Customer, verbose_name=_("debtor"), on_delete=models.PROTECT,
                               related_name="receivables_owed")  # fmt: skip
    invoice_number = models.CharField(_("invoice number"), max_length=50)
    invoice_key = models.CharField(max_length=50, editable=False, db_index=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    face_amount = YenField(_("face amount"), validators=[MinValueValidator(1)])
    evidence_received = models.BooleanField(_("evidence received"), default=False)
    verification_method = models.CharField(_("existence verified by"), max_length=20,
                                           choices=VerificationMethod.choices, blank=True)  # fmt: skip
    verification_note = models.CharField(_("verification note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("receivable")
        verbose_name_plural = _("receivables")
        constraints = [
            models.UniqueConstraint(
                fields=["deal", "debtor", "invoice_key"], name="deals_receivable_once_per_deal"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("issue_date")),
                name="deals_receivable_due_after_issue",
            ),
        ]
        indexes = [models.Index(fields=["debtor", "invoice_key"])]

    def __str__(self) -> str:
        return f"{self.invoice_number} ¥{self.face_amount:,}"


class StageChange(models.Model):
    """One row of a deal's history: who moved it, when, from where to where, and why."""

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="stage_changes")
    from_stage = models.CharField(_("from"), max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=12, choices=Stage.choices)
    actor = models.ForeignKey(_USER, verbose_name=_("by"), on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")  # fmt: skip
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)
    seconds_in_stage = models.PositiveBigIntegerField(_("seconds in previous stage"), default=0)
    # Bank business days spent in the previous stage, counted when the move is logged (from
    # the local day it was entered to the local day it was left), so the dashboard's
    # per-stage days sum a column instead of counting calendars for every move it reads.
    business_days = models.PositiveIntegerField(_("business days in previous stage"),
                                                default=0, editable=False)  # fmt: skip

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            # Covering: the dashboard's moves out of each stage in a period read the index.
            models.Index(
                fields=["from_stage", "at"],
                include=["to_stage", "business_days", "id"],
                name="deals_move_from_cover_idx",
            ),
            # The dashboard: moves into a stage within a period, and a deal's own moves.
            models.Index(fields=["to_stage", "at"]),
            models.Index(fields=["deal", "to_stage", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage} → {self.to_stage}"

    def save(self, *args, **kwargs):
        self.set_business_days()
        super().save(*args, **kwargs)

    def set_business_days(self) -> None:
        self.business_days = business_days_in_stage(self.at, self.seconds_in_stage)


class AuthorityRule(models.Model):
    """One cell of the authority matrix (決裁権限表): deals up to ``amount_upto`` (None = no
    ceiling) of ``risk`` need an approver of ``required_level`` or higher."""

    amount_upto = YenField(_("advance amount up to"), null=True, blank=True)
    risk = models.CharField(_("risk"), max_length=10, choices=RiskTier.choices)
    required_level = models.PositiveSmallIntegerField(
        _("approver level required"), validators=[MinValueValidator(1), MaxValueValidator(3)]
    )

    class Meta:
        ordering = [models.F("amount_upto").asc(nulls_last=True), "risk"]
        verbose_name = _("authority rule")
        verbose_name_plural = _("authority matrix")
        constraints = [
            models.UniqueConstraint(fields=["amount_upto", "risk"], name="deals_authority_cell"),
        ]

    def __str__(self) -> str:
        upto = f"≤¥{self.amount_upto:,}" if self.amount_upto is not None else "∞"
        return f"{upto} {self.risk}: {self.required_level}"


class ApprovalRequest(models.Model):
    """A 稟議: the deal's summary at the moment of asking, and the decision on it."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.PROTECT,
                             related_name="approvals")  # fmt: skip
    summary = models.JSONField(_("summary"), default=dict)
    amount = YenField(_("advance amount"))
    risk = models.CharField(_("risk"), max_length=10, choices=RiskTier.choices)
    limit_status = models.CharField(_("limit status"), max_length=10)
    required_level = models.PositiveSmallIntegerField(_("approver level required"))
    status = models.CharField(_("status"), max_length=12, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.PENDING)  # fmt: skip
    requested_by = models.ForeignKey(_USER, verbose_name=_("requested by"),
                                     on_delete=models.PROTECT, related_name="+")  # fmt: skip
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decision = models.CharField(_("decision"), max_length=12, choices=Decision.choices,
                                blank=True)  # fmt: skip
    decided_by = models.ForeignKey(_USER, verbose_name=_("decided by"), on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    send_back_to = models.CharField(_("sent back to"), max_length=12, choices=Stage.choices,
                                    blank=True)  # fmt: skip
    exception = models.CharField(_("exception"), max_length=16,
                                 choices=ApprovalException.choices, blank=True)  # fmt: skip
    exception_reason = models.TextField(_("exception reason"), blank=True)
    on_behalf_of = models.ForeignKey(_USER, verbose_name=_("on behalf of"),
                                     on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")  # fmt: skip

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        constraints = [
            models.UniqueConstraint(
                fields=["deal"], condition=Q(status="pending"), name="deals_one_pending_approval"
            ),
        ]
        indexes = [models.Index(fields=["status", "required_level"])]

    def __str__(self) -> str:
        return f"{self.deal_id} {self.get_status_display()}"


class StallThreshold(models.Model):
    """How many bank business days a deal may sit in a stage before it counts as stalled."""

    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, unique=True)
    business_days = models.PositiveSmallIntegerField(_("business days"), default=5,
                                                     validators=[MinValueValidator(1)])  # fmt: skip

    class Meta:
        ordering = ["stage"]
        verbose_name = _("stall threshold")
        verbose_name_plural = _("stall thresholds")

    def __str__(self) -> str:
        return f"{self.stage}: {self.business_days}"


class SavedFilter(models.Model):
    """A user's named set of deal-list filters."""

    user = models.ForeignKey(_USER, on_delete=models.CASCADE, related_name="saved_deal_filters")
    name = models.CharField(_("name"), max_length=50)
    query = models.CharField(_("filters"), max_length=500)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="deals_saved_filter_name")
        ]

    def __str__(self) -> str:
        return self.name
