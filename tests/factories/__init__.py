"""factory-boy factories with Japanese fake data (Faker ja_JP)."""

from .accounts import UserFactory
from .compliance import (
    ConnectionApprovalFactory,
    KycRecordFactory,
    WatchlistEntryFactory,
    WatchlistFactory,
)
from .core import AlertFactory
from .credit import CreditLimitFactory, RatingFactory
from .customers import (
    BankAccountFactory,
    ContactLogFactory,
    CustomerFactory,
    KeyPersonFactory,
    TransferNameFactory,
    corporate_number,
)

__all__ = [
    "AlertFactory",
    "BankAccountFactory",
    "ConnectionApprovalFactory",
    "ContactLogFactory",
    "CreditLimitFactory",
    "CustomerFactory",
    "KeyPersonFactory",
    "KycRecordFactory",
    "RatingFactory",
    "TransferNameFactory",
    "UserFactory",
    "WatchlistEntryFactory",
    "WatchlistFactory",
    "corporate_number",
]
