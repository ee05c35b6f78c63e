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
from .deals import DealFactory, ReceivableFactory, cleared, creditworthy
from .times import at

__all__ = [
    "AlertFactory",
    "BankAccountFactory",
    "ConnectionApprovalFactory",
    "ContactLogFactory",
    "CreditLimitFactory",
    "CustomerFactory",
    "DealFactory",
    "KeyPersonFactory",
    "KycRecordFactory",
    "RatingFactory",
    "ReceivableFactory",
    "TransferNameFactory",
    "UserFactory",
    "WatchlistEntryFactory",
    "WatchlistFactory",
    "at",
    "cleared",
    "corporate_number",
    "creditworthy",
]
