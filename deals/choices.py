"""Choices of the deals app, with the badge colour the UI shows for each."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Stage(models.TextChoices):
    LEAD = "lead", _("New (新規)")
    DOCUMENTS = "documents", _("Documents received (書類受領)")
    SCREENING = "screening", _("KYC / screening (KYC・反社)")
    UNDERWRITING = "underwriting", _("Underwriting (与信審査)")
    QUOTED = "quoted", _("Quoted (見積提示)")
    APPROVAL = "approval", _("Approval (稟議)")
    CONTRACTED = "contracted", _("Contract, registration, notice (契約・登記・通知)")
    EXECUTED = "executed", _("Executed (実行)")
    COLLECTING = "collecting", _("Collecting (回収中)")
    CLOSED = "closed", _("Closed (完了)")
    LOST = "lost", _("Lost (失注)")
    CANCELLED = "cancelled", pgettext_lazy("deal stage", "Cancelled")

    @property
    def colour(self) -> str:
        return {
            "lead": "secondary", "documents": "info", "screening": "info",
            "underwriting": "primary", "quoted": "primary", "approval": "warning",
            "contracted": "warning", "executed": "success", "collecting": "success",
            "closed": "dark", "lost": "danger", "cancelled": "secondary",
        }[self.value]  # fmt: skip


PIPELINE = (
    Stage.LEAD, Stage.DOCUMENTS, Stage.SCREENING, Stage.UNDERWRITING, Stage.QUOTED,
    Stage.APPROVAL, Stage.CONTRACTED, Stage.EXECUTED, Stage.COLLECTING, Stage.CLOSED,
)  # fmt: skip


def next_stage(stage: str) -> str | None:
    """Return the stage after ``stage`` in the pipeline (None at the end or off it)."""
    if stage not in PIPELINE:
        return None
    index = PIPELINE.index(stage)
    return PIPELINE[index + 1] if index + 1 < len(PIPELINE) else None


# Until money is paid out a deal can still be lost or cancelled.
OPEN_STAGES = PIPELINE[:7]
# Stages in which the deal's receivables are sold to us (the double-sale guard looks here).
LIVE_STAGES = tuple(s.value for s in PIPELINE if s != Stage.CLOSED)
TERMINAL_STAGES = (Stage.CLOSED, Stage.LOST, Stage.CANCELLED)
# Approval reserved exposure: losing or cancelling the deal from here releases it.
RESERVED_STAGES = (Stage.CONTRACTED,)


class Channel(models.TextChoices):
    REFERRAL = "referral", _("Referral (紹介)")
    ADVERT = "advert", _("Advertising (広告)")
    WEB = "web", _("Web (ウェブ)")
    EXISTING = "existing", _("Existing client (既存)")


class VerificationMethod(models.TextChoices):
    """How the existence of the underlying trade was confirmed (取引実在性の確認方法)."""

    DEBTOR_CALL = "debtor_call", _("Confirmed with the debtor by phone")
    CONTRACT = "contract", _("Order / contract documents")
    DELIVERY = "delivery", _("Delivery or inspection records")
    BANK_HISTORY = "bank_history", _("Past payments in the bank history")
    DEBTOR_CONSENT = "debtor_consent", _("Debtor's written acknowledgement")


class NoticeMethod(models.TextChoices):
    """How the notice or consent got its certified date (確定日付)."""

    CERTIFIED_MAIL = "certified_mail", _("Content-certified mail (内容証明郵便)")
    NOTARY_STAMP = "notary_stamp", _("Notary's certified date stamp (確定日付印)")
    NOTARIAL_DEED = "notarial_deed", _("Notarial deed (公正証書)")
    ELECTRONIC = "electronic", _("Electronic certified date (電子確定日付)")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    CONDITIONAL = "conditional", _("Approved with conditions")
    SENT_BACK = "sent_back", _("Sent back")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn (deal lost or cancelled)")

    @property
    def colour(self) -> str:
        return {"pending": "warning", "approved": "success", "conditional": "success",
                "sent_back": "secondary", "rejected": "danger",
                "withdrawn": "secondary"}[self.value]  # fmt: skip


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    APPROVE_WITH_CONDITIONS = "conditional", _("Approve with conditions")
    SEND_BACK = "send_back", _("Send back")
    REJECT = "reject", _("Reject")


class ApprovalException(models.TextChoices):
    """Departures from the normal decision, allowed only when recorded with a reason."""

    NONE = "", _("None")
    PROXY = "proxy", _("Proxy approval (代理決裁)")
    AFTER_THE_FACT = "after_the_fact", _("After-the-fact approval (事後承認)")


class RiskTier(models.TextChoices):
    """Risk of a deal for the authority matrix: from the ratings and the utilisation light."""

    NORMAL = "normal", _("Normal (rating A/B, green)")
    ELEVATED = "elevated", _("Elevated (rating C or yellow)")
    HIGH = "high", _("High (rating D/E or red)")
