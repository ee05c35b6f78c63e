import pytest

from core.models import AuditEvent
from customers.models import BankAccount, ChangeRequest, Customer
from tests.factories import CustomerFactory, KeyPersonFactory, corporate_number


@pytest.fixture
def api(role_client):
    def login(role):
        return role_client(role)

    return login


@pytest.mark.django_db
class TestCustomerApi:
    def test_searches_by_normalised_name(self, api):
        CustomerFactory(name="株式会社山田商事", name_kana="ヤマダショウジ")
        CustomerFactory(name="株式会社田中工業")
        data = api("approver").get("/api/customers/", {"q": "ﾔﾏﾀﾞｼｮｳｼﾞ(ｶ"}).json()
        assert [row["name"] for row in data["results"]] == ["株式会社山田商事"]

    def test_creates_through_the_service_with_an_audit_event(self, api):
        number = corporate_number(99)
        response = api("sales").post(
            "/api/customers/",
            {
                "kind": "corporation",
                "name": "株式会社API",
                "corporate_number": number,
                "invoice_number": f"T{number}",
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert AuditEvent.objects.filter(
            action="customer.created", subject_id=str(response.json()["id"])
        ).exists()

    def test_an_existing_corporate_number_answers_409_with_the_record(self, api):
        existing = CustomerFactory()
        response = api("sales").post(
            "/api/customers/",
            {"kind": "corporation", "name": "重複", "corporate_number": existing.corporate_number},
            content_type="application/json",
        )
        assert response.status_code == 409 and response.json()["existing_id"] == existing.pk

    def test_a_wrong_check_digit_answers_400_in_japanese(self, api):
        response = api("sales").post(
            "/api/customers/", {"kind": "corporation", "name": "X", "corporate_number": "1234567890123"},
            content_type="application/json",
        )  # fmt: skip
        assert response.status_code == 400
        assert "チェックデジット" in str(response.json())

    def test_read_only_roles_cannot_create_and_nobody_deletes(self, api):
        customer = CustomerFactory()
        assert api("approver").post("/api/customers/", {"name": "x"}).status_code == 403
        assert api("sales").delete(f"/api/customers/{customer.pk}/").status_code in (403, 405)
        assert Customer.objects.filter(pk=customer.pk).exists()

    def test_bank_accounts_are_requested_not_created(self, api):
        customer = CustomerFactory()
        response = api("sales").post(
            f"/api/customers/{customer.pk}/bank-accounts/",
            {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "number": "1234567", "holder_kana": "カ)テスト"},
            content_type="application/json",
        )  # fmt: skip
        assert response.status_code == 202
        assert (
            ChangeRequest.objects.filter(customer=customer).exists()
            and not BankAccount.objects.exists()
        )


@pytest.mark.django_db
class TestKeyPersonApi:
    def test_masks_personal_data_for_sales_and_shows_it_to_compliance(self, api):
        person = KeyPersonFactory()
        masked = api("sales").get(f"/api/key-persons/{person.pk}/").json()
        assert masked["date_of_birth"] == "***"
        assert not AuditEvent.objects.filter(action="customer.personal_data_viewed").exists()
        shown = api("compliance").get(f"/api/key-persons/{person.pk}/").json()
        assert shown["date_of_birth"] == person.date_of_birth.isoformat()
        event = AuditEvent.objects.get(action="customer.personal_data_viewed")
        assert event.data["person_ids"] == [person.pk]
