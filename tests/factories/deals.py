"""Deal factories, and helpers that bring parties and deals to a given point through the
real services (clearance, ratings, limits), so tests read like the workflow."""

from datetime import date, timedelta

import factory

from compliance.screening import screen_customer
from deals.choices import Channel
from deals.models import Deal, Receivable

from .accounts import UserFactory
from .compliance import KycRecordFactory
from .credit import CreditLimitFactory, RatingFactory
from .customers import CustomerFactory


class DealFactory(factory.django.DjangoModelFactory):
    """A deal at ``lead`` (numbers from 2099, apart from those the service issues)."""

    class Meta:
        model = Deal

    number = factory.Sequence(lambda n: f"2099-{n + 1:04d}")
    name = factory.Sequence(lambda n: f"売掛債権買取 {n}")
    owner = factory.SubFactory(UserFactory, roles=["sales"])
    created_by = factory.SelfAttribute("owner")
    channel = Channel.WEB
    client = factory.SubFactory(CustomerFactory)
    scheme = "two_party"


class ReceivableFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Receivable

    deal = factory.SubFactory(DealFactory)
    debtor = factory.SubFactory(CustomerFactory, is_client=False, is_debtor=True)
    invoice_number = factory.Sequence(lambda n: f"INV-{n:06d}")
    invoice_key = factory.LazyAttribute(lambda o: o.invoice_number.upper())
    issue_date = factory.LazyFunction(lambda: date.today() - timedelta(days=10))
    due_date = factory.LazyFunction(lambda: date.today() + timedelta(days=50))
    face_amount = 1_000_000
    evidence_received = True
    verification_method = "contract"


def cleared(party):
    """Give ``party`` a verified KYC and a clean screening, so compliance clears it."""
    KycRecordFactory(customer=party)
    screen_customer(customer=party, job="test")
    return party


def creditworthy(party, *, grade="A", kind="client", amount=100_000_000):
    """Rate ``party`` and give it an active limit of ``kind``."""
    RatingFactory(counterparty=party, grade=grade)
    CreditLimitFactory(counterparty=party, kind=kind, amount=amount)
    return party
