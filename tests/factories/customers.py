import factory
from faker import Faker
from stdnum.jp import cn

from customers.choices import AccountType, CustomerKind, Industry, PersonRole
from customers.models import BankAccount, ContactLog, Customer, KeyPerson, TransferName

_fake = Faker("ja_JP")


def corporate_number(seed: int) -> str:
    """Return a valid 法人番号 (check digit first) derived from ``seed``."""
    body = f"{seed:012d}"[-12:]
    return cn.calc_check_digit(body) + body


class CustomerFactory(factory.django.DjangoModelFactory):
    """A corporation with a valid 法人番号 and matching インボイス登録番号."""

    class Meta:
        model = Customer

    kind = CustomerKind.CORPORATION
    name = factory.Sequence(
        lambda n: (
            f"株式会社{_fake.last_name()}{_fake.random_element(['商事', '工業', '建設', '物産'])}{n}"
        )
    )
    name_kana = factory.Sequence(lambda n: f"カブシキガイシャ{_fake.last_kana_name()}{n}")
    corporate_number = factory.Sequence(lambda n: corporate_number(700000000000 + n))
    invoice_number = factory.LazyAttribute(
        lambda o: f"T{o.corporate_number}" if o.corporate_number else None
    )
    industry = Industry.I
    prefecture = "東京都"
    city = factory.Faker("city", locale="ja_JP")
    street = factory.Faker("town", locale="ja_JP")
    phone = factory.Faker("phone_number", locale="ja_JP")
    is_client = True


class KeyPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyPerson

    customer = factory.SubFactory(CustomerFactory)
    role = PersonRole.REPRESENTATIVE
    name = factory.Faker("name", locale="ja_JP")
    name_kana = factory.Faker("kana_name", locale="ja_JP")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=30, maximum_age=75)
    phone = factory.Faker("phone_number", locale="ja_JP")
    email = factory.Faker("email", locale="ja_JP")


class BankAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BankAccount

    customer = factory.SubFactory(CustomerFactory)
    bank_code = "0001"
    bank_name = "みずほ"
    branch_code = "001"
    branch_name = "東京営業部"
    account_type = AccountType.ORDINARY
    number = factory.Sequence(lambda n: f"{1000000 + n:07d}")
    holder_kana = "カ)テスト"


class TransferNameFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransferName

    customer = factory.SubFactory(CustomerFactory)
    name = "カ)テスト"


class ContactLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactLog

    customer = factory.SubFactory(CustomerFactory)
    channel = "phone"
    counterpart = factory.Faker("name", locale="ja_JP")
    summary = "請求書の発行状況を確認"
    recorded_by = factory.SubFactory("tests.factories.accounts.UserFactory")
