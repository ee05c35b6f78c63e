import pytest
from django.core.exceptions import ValidationError

from customers.choices import CustomerKind
from tests.factories import CustomerFactory, corporate_number

VALID = "5835678256246"


@pytest.mark.django_db
class TestCorporateNumber:
    def test_accepts_a_number_with_a_correct_check_digit(self):
        CustomerFactory.build(corporate_number=VALID, invoice_number=f"T{VALID}").full_clean()

    @pytest.mark.parametrize(
        "number", ["1835678256246", "583567825624", "58356782562467", "58356782562a6"]
    )
    def test_refuses_a_wrong_check_digit_or_length(self, number):
        customer = CustomerFactory.build(corporate_number=number, invoice_number=None)
        with pytest.raises(ValidationError) as error:
            customer.full_clean()
        assert "corporate_number" in error.value.message_dict

    def test_is_unique(self):
        CustomerFactory(corporate_number=VALID, invoice_number=None)
        with pytest.raises(ValidationError):
            CustomerFactory.build(corporate_number=VALID, invoice_number=None).full_clean()


@pytest.mark.django_db
class TestInvoiceNumber:
    def test_must_be_t_plus_the_corporate_number_for_a_corporation(self):
        customer = CustomerFactory.build(
            corporate_number=VALID, invoice_number=f"T{corporate_number(1)}"
        )
        with pytest.raises(ValidationError) as error:
            customer.full_clean()
        assert "invoice_number" in error.value.message_dict

    def test_must_be_t_and_13_digits(self):
        customer = CustomerFactory.build(corporate_number=VALID, invoice_number=VALID)
        with pytest.raises(ValidationError) as error:
            customer.full_clean()
        assert "invoice_number" in error.value.message_dict

    def test_a_sole_proprietor_has_its_own_invoice_number(self):
        CustomerFactory.build(
            kind=CustomerKind.SOLE_PROPRIETOR,
            corporate_number=None,
            invoice_number="T1234567890123",
        ).full_clean()


@pytest.mark.django_db
class TestGroupTree:
    def test_refuses_a_cycle(self):
        top = CustomerFactory()
        middle = CustomerFactory(parent=top)
        bottom = CustomerFactory(parent=middle)
        top.parent = bottom
        with pytest.raises(ValidationError) as error:
            top.full_clean()
        assert "parent" in error.value.message_dict

    def test_refuses_being_its_own_parent(self):
        customer = CustomerFactory()
        customer.parent = customer
        with pytest.raises(ValidationError):
            customer.full_clean()


@pytest.mark.django_db
def test_keys_are_kept_in_step_with_the_name():
    customer = CustomerFactory(
        name="株式会社 山田商事", name_kana="カブシキガイシャ ヤマダショウジ", phone="03-1234-5678"
    )
    assert customer.name_key == "山田商事"
    assert customer.kana_key == "ヤマダシヨウジ"
    assert customer.phone_key == "0312345678"


def test_address_key_folds_block_numbers_written_in_different_ways():
    from customers.models import address_key

    key = address_key("東京都", "千代田区", "丸の内1丁目2番3号")
    assert key == address_key("東京都", "千代田区", "丸の内一丁目2-3")
    assert key == address_key("東京都", "千代田区", "丸の内１－２－３")
