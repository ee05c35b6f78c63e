"""factory-boy factories with Japanese fake data (Faker ja_JP)."""

from .accounts import UserFactory
from .core import AlertFactory
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
    "ContactLogFactory",
    "CustomerFactory",
    "KeyPersonFactory",
    "TransferNameFactory",
    "UserFactory",
    "corporate_number",
]
