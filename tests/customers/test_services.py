import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from customers.choices import PersonRole
from customers.exceptions import DuplicateCustomerError
from customers.models import Customer, TransferName
from customers.services import (
    contact_log_add,
    customer_create,
    customer_update,
    document_download,
    document_upload,
    person_add,
    personal_data_reveal,
)
from tests.factories import CustomerFactory, KeyPersonFactory, corporate_number


@pytest.fixture
def sales(make_user):
    return make_user("sales")


@pytest.mark.django_db
class TestCustomerCreate:
    def test_registers_the_customer_with_transfer_names_and_an_audit_event(self, sales):
        number = corporate_number(123)
        customer = customer_create(
            actor=sales,
            name="株式会社テスト商事",
            name_kana="テストシヨウジ",
            corporate_number=number,
            invoice_number=f"T{number}",
            is_client=True,
            transfer_names=["カ)テストシヨウジ"],
        )
        assert customer.created_by == sales
        assert list(
            TransferName.objects.filter(customer=customer).values_list("key", flat=True)
        ) == ["テストシヨウジ"]
        event = AuditEvent.objects.get(action="customer.created")
        assert event.actor == sales and event.data["corporate_number"] == number

    def test_refuses_an_existing_corporate_number_and_names_the_record(self, sales):
        existing = CustomerFactory(name="株式会社既存")
        with pytest.raises(DuplicateCustomerError) as error:
            customer_create(actor=sales, name="別名", corporate_number=existing.corporate_number)
        assert error.value.existing == existing
        assert error.value.field == "corporate_number"
        assert "株式会社既存" in str(error.value.message)

    def test_refuses_an_existing_invoice_number(self, sales):
        existing = CustomerFactory(
            kind="sole_proprietor", corporate_number=None, invoice_number="T1234567890123"
        )
        with pytest.raises(DuplicateCustomerError) as error:
            customer_create(
                actor=sales,
                kind="sole_proprietor",
                name="山田太郎",
                invoice_number="T1234567890123",
            )
        assert error.value.existing == existing

    def test_writes_nothing_when_validation_fails(self, sales):
        with pytest.raises(ValidationError):
            customer_create(actor=sales, name="株式会社X", corporate_number="1234567890123")
        assert not Customer.objects.exists()
        assert not AuditEvent.objects.filter(action="customer.created").exists()

    def test_two_customers_without_numbers_do_not_collide(self, sales):
        customer_create(actor=sales, name="A社", corporate_number="", invoice_number="")
        customer_create(actor=sales, name="B社", corporate_number="", invoice_number="")
        assert Customer.objects.filter(corporate_number__isnull=True).count() == 2


@pytest.mark.django_db
class TestCustomerUpdate:
    def test_audits_what_changed_from_what_to_what(self, sales):
        customer = CustomerFactory(city="千代田区")
        customer_update(customer=customer, actor=sales, city="港区")
        event = AuditEvent.objects.get(action="customer.updated")
        assert event.data == {"city": ["千代田区", "港区"]}

    def test_keeps_a_history_of_every_change(self, sales):
        customer = CustomerFactory()
        customer_update(customer=customer, actor=sales, phone="03-0000-0000")
        assert customer.history.count() == 2


@pytest.mark.django_db
class TestPersonsAndRecords:
    def test_a_representative_cannot_be_added_without_a_second_person(self, sales):
        with pytest.raises(ValidationError):
            person_add(
                customer=CustomerFactory(),
                actor=sales,
                role=PersonRole.REPRESENTATIVE,
                name="山田太郎",
            )

    def test_a_contact_person_is_added_directly(self, sales):
        person = person_add(
            customer=CustomerFactory(), actor=sales, role=PersonRole.CONTACT, name="佐藤花子"
        )
        assert person.pk and AuditEvent.objects.filter(action="customer.person_added").exists()

    def test_revealing_personal_data_is_logged(self, make_user):
        compliance = make_user("compliance")
        person = KeyPersonFactory()
        data = personal_data_reveal(person=person, actor=compliance)
        assert data["date_of_birth"] == person.date_of_birth
        event = AuditEvent.objects.get(action="customer.personal_data_viewed")
        assert event.actor == compliance and event.data["person_id"] == person.pk

    def test_contact_log_entry_is_recorded(self, sales):
        entry = contact_log_add(
            customer=CustomerFactory(),
            actor=sales,
            channel="visit",
            counterpart="経理部長",
            summary="支払サイト確認",
        )
        assert entry.recorded_by == sales

    def test_documents_are_versioned_and_downloads_logged(self, sales, settings, tmp_path):
        from django.core.files.uploadedfile import SimpleUploadedFile

        settings.MEDIA_ROOT = tmp_path
        customer = CustomerFactory()
        first = document_upload(
            customer=customer,
            actor=sales,
            doc_type="registry",
            file=SimpleUploadedFile("a.pdf", b"%PDF-1"),
        )
        second = document_upload(
            customer=customer,
            actor=sales,
            doc_type="registry",
            file=SimpleUploadedFile("a.pdf", b"%PDF-2"),
        )
        assert (first.version, second.version) == (1, 2)
        document_download(document=second, actor=sales)
        assert AuditEvent.objects.filter(action="customer.document_downloaded").count() == 1
