"""Credit factories: ratings and limits. Active limits are built approved by someone else."""

from datetime import date, timedelta

import factory
from django.utils import timezone

from credit.choices import LimitKind, LimitStatus
from credit.models import CreditLimit, Rating

from .accounts import UserFactory
from .customers import CustomerFactory


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rating

    counterparty = factory.SubFactory(CustomerFactory)
    grade = "B"
    internal_score = 70
    rationale = "決算書3期分を確認。"
    rated_by = factory.SubFactory(UserFactory, roles=["underwriter"])


class CreditLimitFactory(factory.django.DjangoModelFactory):
    """An active limit valid from a year ago for two years (review in six months)."""

    class Meta:
        model = CreditLimit

    counterparty = factory.SubFactory(CustomerFactory)
    kind = LimitKind.CLIENT
    amount = 10_000_000
    valid_from = factory.LazyFunction(lambda: date.today() - timedelta(days=365))
    valid_until = factory.LazyFunction(lambda: date.today() + timedelta(days=365))
    review_date = factory.LazyFunction(lambda: date.today() + timedelta(days=180))
    status = LimitStatus.ACTIVE
    rationale = "月商法・売掛残高法の小さい方。"
    required_level = 1
    proposed_by = factory.SubFactory(UserFactory, roles=["underwriter"])
    decided_by = factory.SubFactory(UserFactory, roles=["approver"], approval_level=3)
    decided_at = factory.LazyFunction(timezone.now)
