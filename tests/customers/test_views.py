"""Customer screens: permissions per role, search by any spelling, masking, constant queries."""

import pytest

from accounts.roles import ROLE_CODES
from core.models import AuditEvent
from customers.models import BankAccount, Customer
from customers.services import bank_account_request
from tests.factories import (
    ContactLogFactory,
    CustomerFactory,
    KeyPersonFactory,
    corporate_number,
)

EDITORS = {"sales", "underwriter"}
CHECKERS = {"underwriter", "operations", "compliance"}
STEWARDS = {"underwriter", "compliance"}


@pytest.mark.django_db
class TestPermissions:
    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_every_role_reads_the_register(self, role_client, role):
        assert role_client(role).get("/customers/").status_code == 200

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_sales_and_underwriters_create_customers(self, role_client, role):
        assert role_client(role).get("/customers/new/").status_code == (
            200 if role in EDITORS else 403
        )

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_checkers_see_the_approval_queue(self, role_client, role):
        assert role_client(role).get("/customers/changes/").status_code == (
            200 if role in CHECKERS else 403
        )

    @pytest.mark.parametrize("role", ROLE_CODES)
    def test_only_stewards_merge(self, role_client, role):
        a, b = CustomerFactory(), CustomerFactory()
        expected = 200 if role in STEWARDS else 403
        assert role_client(role).get(f"/customers/merge/{a.pk}/{b.pk}/").status_code == expected

    def test_api_and_pages_refuse_a_user_without_a_role(self, client, make_user):
        client.force_login(make_user())
        assert client.get("/customers/").status_code == 403


@pytest.mark.django_db
class TestList:
    @pytest.mark.parametrize(
        "query", ["山田商事", "㈱山田商事", "ヤマダショウジ", "やまだしょうじ", "ﾔﾏﾀﾞｼｮｳｼﾞ"]
    )
    def test_finds_a_customer_by_any_spelling(self, role_client, query):
        CustomerFactory(name="株式会社山田商事", name_kana="カブシキガイシャ ヤマダショウジ")
        CustomerFactory(name="株式会社田中工業", name_kana="タナカコウギョウ")
        body = role_client("sales").get("/customers/", {"q": query}).content.decode()
        assert "株式会社山田商事" in body and "株式会社田中工業" not in body

    def test_finds_by_corporate_number(self, role_client):
        customer = CustomerFactory()
        body = (
            role_client("sales")
            .get("/customers/", {"q": customer.corporate_number})
            .content.decode()
        )
        assert customer.name in body

    def test_has_a_constant_number_of_queries(self, role_client, django_assert_max_num_queries):
        client = role_client("sales")
        parent = CustomerFactory()
        CustomerFactory.create_batch(3, parent=parent)
        with django_assert_max_num_queries(20) as few:
            client.get("/customers/")
        CustomerFactory.create_batch(30, parent=parent)
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get("/customers/")

    def test_hides_merged_records_unless_asked(self, role_client):
        survivor = CustomerFactory(name="存続会社")
        CustomerFactory(name="統合済み会社", status="merged", merged_into=survivor)
        client = role_client("sales")
        assert "統合済み会社" not in client.get("/customers/").content.decode()
        assert "統合済み会社" in client.get("/customers/", {"status": "merged"}).content.decode()


@pytest.mark.django_db
class TestCreate:
    def test_creates_and_redirects_to_the_new_record(self, role_client):
        number = corporate_number(4242)
        response = role_client("sales").post(
            "/customers/new/",
            {"kind": "corporation", "name": "株式会社新規", "corporate_number": number, "invoice_number": f"T{number}",
             "is_client": "on", "transfer_names": "カ)シンキ"},
        )  # fmt: skip
        customer = Customer.objects.get(name="株式会社新規")
        assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/"

    def test_refuses_an_existing_corporate_number_with_a_link(self, role_client):
        existing = CustomerFactory()
        response = role_client("sales").post(
            "/customers/new/",
            {
                "kind": "corporation",
                "name": "別会社",
                "corporate_number": existing.corporate_number,
            },
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert f'href="/customers/{existing.pk}/"' in body and "既に登録されています" in body

    def test_field_errors_are_japanese(self, role_client):
        response = role_client("sales").post(
            "/customers/new/",
            {"kind": "corporation", "name": "X", "corporate_number": "1234567890123"},
        )
        assert "法人番号のチェックデジットが正しくありません" in response.content.decode()

    def test_similar_check_lists_a_variant_name_with_reasons(self, role_client):
        existing = CustomerFactory(name="株式会社山田商事", name_kana="ヤマダショウジ")
        response = role_client("sales").post("/customers/similar/", {"name": "山田商事(株)"})
        body = response.content.decode()
        assert existing.name in body and f"/customers/{existing.pk}/" in body


@pytest.mark.django_db
class TestDetail:
    def test_has_a_constant_number_of_queries(self, role_client, django_assert_max_num_queries):
        client = role_client("compliance")
        customer = CustomerFactory()
        KeyPersonFactory(customer=customer)
        ContactLogFactory(customer=customer)
        with django_assert_max_num_queries(60) as few:
            assert client.get(f"/customers/{customer.pk}/").status_code == 200
        KeyPersonFactory.create_batch(5, customer=customer)
        ContactLogFactory.create_batch(5, customer=customer)
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(f"/customers/{customer.pk}/")

    def test_masks_dates_of_birth_for_sales(self, role_client):
        person = KeyPersonFactory()
        body = role_client("sales").get(f"/customers/{person.customer_id}/").content.decode()
        assert person.date_of_birth.isoformat() not in body
        assert person.email not in body
        assert "reveal" not in body

    def test_compliance_reveals_and_the_view_is_logged(self, role_client):
        person = KeyPersonFactory()
        client = role_client("compliance")
        assert (
            person.date_of_birth.isoformat()
            not in client.get(f"/customers/{person.customer_id}/").content.decode()
        )
        response = client.post(f"/customers/persons/{person.pk}/reveal/")
        assert person.date_of_birth.isoformat() in response.content.decode()
        assert (
            AuditEvent.objects.filter(
                action="customer.personal_data_viewed", actor=client.user
            ).count()
            == 1
        )

    def test_sales_cannot_reveal(self, role_client):
        person = KeyPersonFactory()
        assert (
            role_client("sales").post(f"/customers/persons/{person.pk}/reveal/").status_code == 403
        )
        assert not AuditEvent.objects.filter(action="customer.personal_data_viewed").exists()

    def test_shows_the_group_tree(self, role_client):
        parent = CustomerFactory(name="親会社ホールディングス")
        child = CustomerFactory(name="子会社一号", parent=parent)
        body = role_client("sales").get(f"/customers/{child.pk}/?tab=group").content.decode()
        assert "親会社ホールディングス" in body and "子会社一号" in body


@pytest.mark.django_db
class TestApprovalScreens:
    def test_a_checker_approves_from_the_queue(self, role_client, make_user):
        maker = make_user("sales")
        customer = CustomerFactory()
        change = bank_account_request(
            customer=customer, actor=maker, bank_code="0001", branch_code="001", account_type="ordinary",
            number="1234567", holder_kana="カ)テスト", verification="unverified",
        )  # fmt: skip
        client = role_client("operations")
        assert "カ)テスト" in client.get("/customers/changes/").content.decode()
        client.post(f"/customers/changes/{change.pk}/approve/")
        assert BankAccount.objects.filter(customer=customer, number="1234567").exists()

    def test_the_maker_is_told_they_cannot_approve(self, role_client):
        client = role_client("underwriter")
        change = bank_account_request(
            customer=CustomerFactory(), actor=client.user, bank_code="0001", branch_code="001",
            account_type="ordinary", number="1234567", holder_kana="カ)テスト", verification="unverified",
        )  # fmt: skip
        response = client.post(f"/customers/changes/{change.pk}/approve/", follow=True)
        assert "承認できません" in response.content.decode()
        assert not BankAccount.objects.exists()


@pytest.mark.django_db
class TestMergeScreen:
    def test_a_steward_merges_choosing_fields(self, role_client):
        survivor = CustomerFactory(name="株式会社山田商事", phone="")
        merged = CustomerFactory(name="山田商事株式会社", phone="03-9999-0000")
        ContactLogFactory(customer=merged)
        response = role_client("compliance").post(
            f"/customers/merge/{survivor.pk}/{merged.pk}/", {"phone": "merged", "name": "survivor"}
        )
        assert response.status_code == 302
        survivor.refresh_from_db()
        assert survivor.phone == "03-9999-0000" and survivor.contacts.count() == 1


@pytest.mark.django_db
class TestTabForms:
    def test_a_representative_added_on_the_page_waits_for_a_checker(self, role_client):
        from customers.models import ChangeRequest, KeyPerson

        customer = CustomerFactory()
        response = role_client("sales").post(
            f"/customers/{customer.pk}/persons/",
            {"role": "representative", "name": "山田太郎"},
            follow=True,
        )
        assert "承認待ち" in response.content.decode()
        assert ChangeRequest.objects.filter(customer=customer, kind="add_person").exists()
        assert not KeyPerson.objects.filter(customer=customer).exists()

    def test_a_contact_is_recorded_from_the_page(self, role_client):
        customer = CustomerFactory()
        role_client("collections").post(
            f"/customers/{customer.pk}/contacts/",
            {"occurred_at": "2026-11-20T10:00", "channel": "phone", "counterpart": "経理 佐藤様", "summary": "入金予定日の確認"},
        )  # fmt: skip
        assert customer.contacts.get().summary == "入金予定日の確認"

    def test_an_invalid_account_request_is_reported_by_field(self, role_client):
        customer = CustomerFactory()
        response = role_client("sales").post(
            f"/customers/{customer.pk}/accounts/",
            {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "number": "12", "holder_kana": "カ)テスト", "verification": "unverified"},
            follow=True,
        )  # fmt: skip
        assert "口座番号: 口座番号は7桁の数字です。" in response.content.decode()

    def test_a_document_is_uploaded_and_downloaded_with_a_log(
        self, role_client, settings, tmp_path
    ):
        from django.core.files.uploadedfile import SimpleUploadedFile

        settings.MEDIA_ROOT = tmp_path
        customer = CustomerFactory()
        client = role_client("sales")
        client.post(
            f"/customers/{customer.pk}/documents/",
            {
                "doc_type": "registry",
                "file": SimpleUploadedFile("touki.pdf", b"%PDF-1.4"),
                "note": "",
            },
        )
        document = customer.documents.get()
        response = client.get(f"/customers/documents/{document.pk}/download/")
        assert b"".join(response.streaming_content) == b"%PDF-1.4"
        assert AuditEvent.objects.filter(action="customer.document_downloaded").exists()
