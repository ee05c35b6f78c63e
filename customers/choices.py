"""Choices of the customer register, with badge colours where the UI shows one."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    CORPORATION = "corporation", _("Corporation")
    SOLE_PROPRIETOR = "sole_proprietor", _("Sole proprietor")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged")

    @property
    def colour(self) -> str:
        return {"active": "success", "dormant": "secondary", "closed": "dark", "merged": "warning"}[
            self.value
        ]


class Industry(models.TextChoices):
    """Major divisions (大分類) of the Japan Standard Industrial Classification."""

    A = "A", _("Agriculture and forestry")
    B = "B", _("Fisheries")
    C = "C", _("Mining and quarrying")
    D = "D", _("Construction")
    E = "E", _("Manufacturing")
    F = "F", _("Electricity, gas, heat supply and water")
    G = "G", _("Information and communications")
    H = "H", _("Transport and postal activities")
    I = "I", _("Wholesale and retail trade")  # noqa: E741
    J = "J", _("Finance and insurance")
    K = "K", _("Real estate and goods rental and leasing")
    L = "L", _("Scientific research, professional and technical services")
    M = "M", _("Accommodations, eating and drinking services")
    N = "N", _("Living-related and personal services and amusement services")
    O = "O", _("Education, learning support")  # noqa: E741
    P = "P", _("Medical, health care and welfare")
    Q = "Q", _("Compound services")
    R = "R", _("Services, not elsewhere classified")
    S = "S", _("Government, except elsewhere classified")
    T = "T", _("Industries unable to classify")


class PersonRole(models.TextChoices):
    REPRESENTATIVE = "representative", _("Representative")
    BENEFICIAL_OWNER = "beneficial_owner", _("Beneficial owner")
    SHAREHOLDER = "shareholder", _("Main shareholder")
    CONTACT = "contact", _("Contact person")


# Adding or changing these needs a second person's approval (maker-checker).
DOUBLE_CHECKED_ROLES = (PersonRole.REPRESENTATIVE, PersonRole.BENEFICIAL_OWNER)


class AccountType(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary (普通)")
    CURRENT = "current", _("Current (当座)")


class AccountVerification(models.TextChoices):
    UNVERIFIED = "unverified", _("Unverified")
    TEST_DEPOSIT = "test_deposit", _("Verified by small test deposit")
    DOCUMENT = "document", _("Verified by bank document")
    FAILED = "failed", _("Verification failed")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("Email")
    ONLINE = "online", _("Online meeting")
    OTHER = "other", _("Other")


class DocumentType(models.TextChoices):
    REGISTRY = "registry", _("Certificate of registered matters (登記簿謄本)")
    FINANCIALS = "financials", _("Financial statements (決算書)")
    TAX = "tax", _("Tax payment certificate (納税証明書)")
    BANK_BOOK = "bank_book", _("Bank book copy (通帳コピー)")
    ID = "id", _("Identity document")
    CONTRACT = "contract", _("Contract")
    OTHER = "other", _("Other")


class ChangeKind(models.TextChoices):
    ADD_ACCOUNT = "add_account", _("Add bank account")
    CHANGE_ACCOUNT = "change_account", _("Change bank account")
    ADD_PERSON = "add_person", _("Add representative or beneficial owner")
    CHANGE_PERSON = "change_person", _("Change representative or beneficial owner")


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")

    @property
    def colour(self) -> str:
        return {"pending": "warning", "approved": "success", "rejected": "danger"}[self.value]


PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip
PREFECTURE_CHOICES = [(name, name) for name in PREFECTURES]
