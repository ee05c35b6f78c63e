"""Choices shared across apps, with the badge colour the UI shows for each."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    KYC_EXPIRING = "kyc_expiring", _("KYC expiring")
    KYC_EXPIRED = "kyc_expired", _("KYC expired")
    RESCREENING_DUE = "rescreening_due", _("Anti-social forces re-screening due")
    SCREENING_TRUE_MATCH = "screening_true_match", _("Screening true match")
    RECEIVABLE_OVERDUE = "receivable_overdue", _("Receivable overdue")
    REPURCHASE_OPENED = "repurchase_opened", _("Repurchase requested (買戻し)")
    PROMISE_BROKEN = "promise_broken", _("Promise to pay broken")
    DEAL_STALLED = "deal_stalled", _("Deal stalled in stage")
    CREDIT_REVIEW_DUE = "credit_review_due", _("Credit review due")
    CREDIT_LIMIT_SUSPENDED = "credit_limit_suspended", _("Credit limit suspended")
    CONNECTION_CERT_EXPIRING = "connection_cert_expiring", _("Connection certificate expiring")
    AUDIT_CHAIN_BROKEN = "audit_chain_broken", _("Audit log tampering detected")
    OTHER = "other", _("Other")


class AlertSeverity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")

    @property
    def colour(self) -> str:
        return {"info": "secondary", "warning": "warning", "high": "danger", "critical": "dark"}[
            self.value
        ]


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")

    @property
    def colour(self) -> str:
        return {"open": "danger", "acknowledged": "warning", "resolved": "success"}[self.value]
