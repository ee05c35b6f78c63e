"""factory-boy factories with Japanese fake data (Faker ja_JP)."""

from .accounts import UserFactory
from .core import AlertFactory

__all__ = ["AlertFactory", "UserFactory"]
