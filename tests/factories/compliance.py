import datetime

import factory

from compliance.choices import (
    ConnectionKind,
    ConnectionMethod,
    EntryType,
    KycMethod,
    KycResult,
    RiskRating,
)
from compliance.models import ConnectionApproval, KycRecord, Watchlist, WatchlistEntry
from compliance.screening import refresh_entry_keys


class WatchlistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Watchlist
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"テストリスト{n}")
    kind = "antisocial"
    version = 1


class WatchlistEntryFactory(factory.django.DjangoModelFactory):
    """A listed person; its match keys and fingerprint are computed as the importer does."""

    class Meta:
        model = WatchlistEntry

    watchlist = factory.SubFactory(WatchlistFactory)
    reference = factory.Sequence(lambda n: f"E{n:05d}")
    entry_type = EntryType.INDIVIDUAL
    name = factory.Faker("name", locale="ja_JP")
    name_kana = factory.Faker("kana_name", locale="ja_JP")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        entry = model_class(*args, **kwargs)
        refresh_entry_keys(entry)
        entry.save()
        return entry


class KycRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KycRecord

    customer = factory.SubFactory("tests.factories.customers.CustomerFactory")
    method = KycMethod.IN_PERSON
    document_type = "registry"
    verified_on = factory.LazyFunction(datetime.date.today)
    verified_by = factory.SubFactory("tests.factories.accounts.UserFactory")
    result = KycResult.VERIFIED
    risk = RiskRating.NORMAL
    expires_on = factory.LazyAttribute(lambda o: o.verified_on + datetime.timedelta(days=730))


class ConnectionApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConnectionApproval

    name = factory.Sequence(lambda n: f"全銀EB接続{n}")
    kind = ConnectionKind.BANK_API
    purpose = "入出金明細の取得"
    data_scope = "入出金取引明細"
    counterparty = "みずほ銀行"
    method = ConnectionMethod.API
    responsible = factory.SubFactory("tests.factories.accounts.UserFactory")
