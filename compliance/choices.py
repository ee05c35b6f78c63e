"""Choices of compliance records, with badge colours where the UI shows one."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class KycMethod(models.TextChoices):
    IN_PERSON = "in_person", _("In person (対面)")
    ONLINE = "online", _("Online")
    EKYC = "ekyc", _("eKYC")


class KycResult(models.TextChoices):
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Failed")
    PENDING = "pending", _("Pending")


class RiskRating(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class IdDocumentType(models.TextChoices):
    REGISTRY = "registry", _("Certificate of registered matters")
    DRIVER_LICENCE = "driver_licence", _("Driver's licence")
    MY_NUMBER_CARD = "my_number_card", _("My Number card")
    PASSPORT = "passport", _("Passport")
    RESIDENCE_CARD = "residence_card", _("Residence card")
    SEAL_CERTIFICATE = "seal_certificate", _("Seal registration certificate")
    OTHER = "other", _("Other")


class WatchlistKind(models.TextChoices):
    ANTISOCIAL = "antisocial", _("Anti-social forces (internal)")
    SANCTIONS = "sanctions", _("Sanctions list")


class EntryType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ENTITY = "entity", _("Entity")


class HitStatus(models.TextChoices):
    OPEN = "open", _("To review")
    TRUE_MATCH = "true_match", _("True match")
    FALSE_POSITIVE = "false_positive", _("False positive")

    @property
    def colour(self) -> str:
        return {"open": "warning", "true_match": "danger", "false_positive": "secondary"}[
            self.value
        ]


class ConnectionKind(models.TextChoices):
    BANK_API = "bank_api", _("Bank statement API")
    BANK_SFTP = "bank_sftp", _("Bank statement SFTP")
    TRANSFER_DATA = "transfer_data", _("Transfer data")
    CREDIT_BUREAU = "credit_bureau", _("Credit bureau")
    EKYC_VENDOR = "ekyc_vendor", _("eKYC vendor")
    SCREENING_VENDOR = "screening_vendor", _("Screening vendor")
    ACCOUNTING = "accounting", _("Accounting system")
    API_CLIENT = "api_client", _("API client of this system")


class ConnectionMethod(models.TextChoices):
    API = "api", _("API")
    SFTP = "sftp", _("SFTP")
    VPN = "vpn", _("VPN")
    CLOSED_NETWORK = "closed_network", _("Closed network (閉域網)")


class ConnectionStatus(models.TextChoices):
    APPLIED = "applied", _("Applied (申請中)")
    TECHNICAL_REVIEW = "technical_review", _("Technical review (技術審査)")
    CONNECTIVITY = "connectivity", _("Connectivity test (疎通確認)")
    UAT = "uat", _("UAT")
    PRODUCTION = "production", _("Approved for production (本番許可)")
    RENEWING = "renewing", _("Renewing (更新中)")
    EXPIRED = "expired", _("Expired (失効)")

    @property
    def colour(self) -> str:
        return {
            "applied": "secondary",
            "technical_review": "info",
            "connectivity": "info",
            "uat": "primary",
            "production": "success",
            "renewing": "warning",
            "expired": "dark",
        }[self.value]
